"""One Spark session for the Spark tests (``local[2]``, session scope).

Every Spark test module carries ``pytest.mark.xdist_group("spark")``: with ``make test``'s
``--dist loadgroup`` they all run in one worker, so one JVM starts per test run. Without pyspark
or Java they skip on a developer's machine and fail in CI (``CI`` set), where ``make test``
installs both, as the browser tests do for Chromium.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

#: Settings for a small machine and small data: two cores, two shuffle partitions, no web UI,
#: no code generation or adaptive re-planning (at this size they cost more than they save:
#: 266 s instead of 323 s for the sample's precomputation on a loaded machine).
TEST_CONF = {
    "spark.ui.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.sql.codegen.factoryMode": "NO_CODEGEN",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.memory": "1g",
}


def require_spark() -> None:
    """Skip without pyspark or Java on a developer's machine; fail in CI."""
    missing = []
    if importlib.util.find_spec("pyspark") is None:
        missing.append("pyspark (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        missing.append("a Java runtime (apt-get install openjdk-17-jre-headless)")
    if not missing:
        return
    message = "the Spark tests need " + " and ".join(missing)
    if os.environ.get("CI"):
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def spark():
    """The test run's Spark session on ``local[2]``."""
    require_spark()
    from analytics.engines.spark_session import build_session

    session = build_session("local[2]", TEST_CONF, app_name="hygie-tests")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small sample hospital imported into a warehouse (no post-import step run)."""
    from analytics.demo import build_demo

    path = tmp_path_factory.mktemp("spark-sample") / "sample.duckdb"
    build_demo(path, steps=[])
    return path
