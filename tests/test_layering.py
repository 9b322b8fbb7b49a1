"""The engine never imports Streamlit, and imports Spark's libraries only on the Spark path: jobs
and the CLI run without the UI, and without the ``[spark]`` extra's heavy imports (a JVM bridge)."""

import subprocess
import sys

# Streamlit belongs to dashboard/; pyspark (and its py4j bridge) and SQLGlot to analytics.engines'
# Spark path, imported lazily there.
NEVER_IMPORTED = ("streamlit", "pyspark", "py4j", "sqlglot")


def test_analytics_and_cli_import_neither_streamlit_nor_spark():
    code = (
        "import sys, pkgutil, importlib, analytics\n"
        "for m in pkgutil.walk_packages(analytics.__path__, 'analytics.'):\n"
        "    importlib.import_module(m.name)\n"
        "import analytics.cli\n"
        f"print(sorted(n for n in {NEVER_IMPORTED!r} if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
