"""The engine never imports Streamlit: jobs and the CLI must run without the UI."""

import subprocess
import sys


def test_analytics_and_cli_do_not_import_streamlit():
    code = (
        "import sys, pkgutil, importlib, analytics\n"
        "for m in pkgutil.walk_packages(analytics.__path__, 'analytics.'):\n"
        "    importlib.import_module(m.name)\n"
        "import analytics.cli\n"
        "assert 'streamlit' not in sys.modules, 'streamlit imported by analytics'\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"
