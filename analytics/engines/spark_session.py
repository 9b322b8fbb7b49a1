"""The Spark session Hygie runs on: ``local[*]`` by default, any master or Spark Connect URL.

pyspark is imported here only, when a Spark run is asked for (``pip install '.[spark]'``;
it ships Spark's jars and needs a Java 17+ runtime). Settings come from Spark's own
configuration — ``spark-defaults.conf`` in ``$SPARK_CONF_DIR``, ``spark-submit --conf``, or
``conf`` here (``--spark-conf key=value`` on the CLI) — so memory and partitions are set as for
any Spark job. Under ``spark-submit`` the master it was given is kept; ``SPARK_REMOTE`` (or an
``sc://`` URL) selects Spark Connect.

The session time zone is always Hygie's (Europe/Paris): local days, clock windows and daylight
saving changes must be computed as DuckDB computes them.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from typing import TYPE_CHECKING

from analytics.config import TIMEZONE
from analytics.errors import EngineUnavailable, HygieError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import SparkSession

__all__ = ["DEFAULT_MASTER", "build_session", "parse_conf"]

DEFAULT_MASTER = "local[*]"

#: Defaults any configuration may override: a quiet console (errors are raised to the caller),
#: and Spark's catalogue folder out of the working directory (Hygie keeps no Spark tables).
DEFAULT_CONF = {
    "spark.log.level": "ERROR",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.warehouse.dir": os.path.join(tempfile.gettempdir(), "hygie-spark-warehouse"),
}

#: Settings Hygie needs whatever the cluster's defaults: its time zone and Parquet's timestamps;
#: DuckDB's answers to a list index past the end and to a division by zero (NULL; Spark 4's
#: ANSI mode raises); and Arrow for the pandas UDFs and for collecting results.
REQUIRED_CONF = {
    "spark.sql.session.timeZone": TIMEZONE,
    # instants written as Parquet's UTC-adjusted microseconds, which DuckDB reads back as
    # TIMESTAMPTZ (Spark's default INT96 reads as a naive time, shifted by the UTC offset)
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}


def parse_conf(items: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``["spark.executor.memory=4g", …]`` → a dict; a malformed item is refused by name."""
    conf: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip().startswith("spark."):
            raise EngineUnavailable(f"--spark-conf {item!r}: expected spark.<key>=<value>")
        conf[key.strip()] = value.strip()
    return conf


def build_session(
    master: str | None = None,
    conf: Mapping[str, str] | None = None,
    *,
    app_name: str = "hygie",
) -> SparkSession:
    """A Spark session on ``master`` (``local[*]``, ``spark://…``, ``yarn``, ``k8s://…`` or a
    Spark Connect ``sc://…`` URL); ``None`` keeps the one set by ``spark-submit`` or
    ``SPARK_REMOTE``, else ``local[*]``."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineUnavailable(
            "the Spark engine needs pyspark: pip install 'hygie[spark]' (and a Java 17+ runtime)"
        ) from None
    builder = SparkSession.builder.appName(app_name)
    if master and master.startswith("sc://"):
        builder = builder.remote(master)
    elif master:
        builder = builder.master(master)
    elif not (os.environ.get("SPARK_REMOTE") or os.environ.get("PYSPARK_GATEWAY_PORT")):
        builder = builder.master(DEFAULT_MASTER)
    for key, value in {**DEFAULT_CONF, **dict(conf or {}), **REQUIRED_CONF}.items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # the JVM did not start: no Java, wrong version, bad master
        if isinstance(exc, HygieError):
            raise
        raise EngineUnavailable(f"could not start Spark on {master or DEFAULT_MASTER}: {exc}") from exc
