"""pyspark and SQLGlot are imported on the Spark path only: every analytics module and the CLI
load without them (a DuckDB-only install does not pay the JVM client's import)."""

import subprocess
import sys


def test_analytics_and_cli_do_not_import_pyspark_or_sqlglot():
    code = (
        "import sys, pkgutil, importlib, analytics\n"
        "for m in pkgutil.walk_packages(analytics.__path__, 'analytics.'):\n"
        "    importlib.import_module(m.name)\n"
        "import analytics.cli\n"
        "loaded = sorted(n for n in ('pyspark', 'py4j', 'sqlglot') if n in sys.modules)\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
