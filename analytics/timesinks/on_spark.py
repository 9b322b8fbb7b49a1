"""Time sinks on Spark: the precomputation's own steps (:func:`~analytics.timesinks.precompute.run_steps`,
the same SQL transpiled) on a Spark session, from the warehouse or from Parquet.

* :func:`precompute_on_spark`: ``hygie timesinks precompute --engine spark``. The inputs are
  read from the warehouse (Arrow), the steps run on Spark, and the result tables come back into
  the warehouse in one transaction with their ``ts_runs`` record — the dashboard reads them as
  it reads a DuckDB run.
* :func:`timesinks_parquet`: ``hygie spark timesinks`` for logs that do not fit one machine.
  Events, schedules and staff (and optionally documents and an activity map) are read as
  Parquet — a folder, a glob, or a dataset partitioned by month (``month=2026-10/…``) — and
  each result table is written as Parquet under ``OUT/<table>/`` (``ts_slices`` partitioned by
  ``month``), with ``OUT/run.json``. :func:`attach_parquet` (``hygie timesinks attach OUT``)
  loads them into a warehouse.

pyspark is imported only through :mod:`analytics.engines.spark`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from analytics.access.roles import Actor, Permission, require
from analytics.config import TIMEZONE
from analytics.engines.spark import SparkEngine
from analytics.errors import InvalidInput
from analytics.timesinks.precompute import (
    RESULT_TABLES,
    PrecomputeReport,
    StepCounts,
    publish,
    run_steps,
)
from analytics.timesinks.settings import DEFAULT_SETTINGS, TimeSinkSettings

if TYPE_CHECKING:  # pragma: no cover - typing only
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["INPUT_TABLES", "attach_parquet", "precompute_on_spark", "timesinks_parquet"]

#: Warehouse tables the steps read.
INPUT_TABLES = ("audit_events", "schedules", "staff", "documents", "activity_map")

#: Columns each Parquet input must have (the warehouse's names; others are ignored).
REQUIRED_COLUMNS = {
    "audit_events": ("user_id", "timestamp", "action", "activity", "document_id", "document_type", "service"),
    "schedules": ("user_id", "start", "end", "session_type"),
    "staff": ("user_id", "service", "role"),
    "documents": ("document_id", "document_type", "author_id", "signed_by", "signed_at"),
    "activity_map": ("field", "value", "activity"),
}

#: The result table written partitioned by month (its rows grow with the events).
_BY_MONTH = "ts_slices"
_RUN_FILE = "run.json"


def _read_warehouse(con: duckdb.DuckDBPyConnection, table: str):  # noqa: ANN202 - pyarrow.Table
    rowid = "rowid, " if table == "audit_events" else ""
    return con.sql(f"SELECT {rowid}* FROM {table}").to_arrow_table()  # noqa: S608 - constant names


def precompute_on_spark(
    con: duckdb.DuckDBPyConnection,
    spark: SparkSession,
    settings: TimeSinkSettings | None = None,
    *,
    actor: Actor | None = None,
    keep_slices: bool = True,
) -> PrecomputeReport:
    """:func:`~analytics.timesinks.precompute.precompute` with its steps run on ``spark``;
    the results replace the warehouse's ``ts_*`` tables in one transaction."""
    if actor is not None:
        require(actor, Permission.VIEW_AGGREGATES)
    settings = settings or DEFAULT_SETTINGS
    started = time.perf_counter()
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    engine = SparkEngine(spark, _result_columns(con))
    try:
        for table in INPUT_TABLES:
            engine.register(table, _read_warehouse(con, table))
        counts = run_steps(engine, settings, keep_slices=keep_slices)
        results = {table: engine.result(table).toArrow() for table in RESULT_TABLES}
    finally:
        engine.close()

    def load() -> StepCounts:
        for table, rows in results.items():
            _replace(con, table, rows)
        return counts

    return publish(con, settings, started, actor, load)


def _replace(con: duckdb.DuckDBPyConnection, table: str, rows: object, columns: str = "*") -> None:
    """Replace ``table``'s rows by ``rows`` (Arrow), by column position."""
    con.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
    con.register("_hygie_rows", rows)
    try:
        con.execute(f"INSERT INTO {table} SELECT {columns} FROM _hygie_rows")  # noqa: S608 - constant names
    finally:
        con.unregister("_hygie_rows")


def _schema() -> duckdb.DuckDBPyConnection:
    """An empty in-memory warehouse: the tables' column names and the default activity map."""
    from analytics.warehouse import connect

    return connect(":memory:")


def _columns(schema: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [row[0] for row in schema.execute(f"DESCRIBE {table}").fetchall()]  # noqa: S608 - constant names


def _result_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    return {table: _columns(con, table) for table in RESULT_TABLES}


def _read_parquet(spark: SparkSession, label: str, path: str, table: str) -> DataFrame:
    try:
        frame = spark.read.parquet(path)
    except Exception as exc:  # Spark's AnalysisException: path missing, not Parquet
        raise InvalidInput(f"{label} {path}: cannot be read as Parquet ({str(exc).splitlines()[0]})") from None
    missing = [c for c in REQUIRED_COLUMNS[table] if c not in frame.columns]
    if missing:
        raise InvalidInput(f"{label} {path}: missing column(s) {', '.join(missing)} (table {table})")
    return frame


def timesinks_parquet(
    spark: SparkSession,
    *,
    events: str,
    schedules: str,
    staff: str,
    out: str | Path,
    documents: str | None = None,
    activity_map: str | None = None,
    settings: TimeSinkSettings | None = None,
    keep_slices: bool = True,
) -> StepCounts:
    """Run the time-sinks steps on Parquet inputs and write every result table to ``out``."""
    settings = settings or DEFAULT_SETTINGS
    schema = _schema()
    engine = SparkEngine(spark, _result_columns(schema))
    paths: Mapping[str, tuple[str, str | None]] = {
        "audit_events": ("--events", events), "schedules": ("--schedules", schedules),
        "staff": ("--staff", staff), "documents": ("--documents", documents),
        "activity_map": ("--activity-map", activity_map),
    }
    try:
        for table, (label, path) in paths.items():
            if path is None:  # no documents: no orders; no map: the warehouse's default one
                engine.register(table, _read_warehouse(schema, table).drop_columns(
                    ["rowid"] if table == "audit_events" else []))
            else:
                engine.register(table, _read_parquet(spark, label, path, table),
                                with_rowid=table == "audit_events")
        counts = run_steps(engine, settings, keep_slices=keep_slices)
        out = Path(out)
        for table in RESULT_TABLES:
            frame = engine.result(table)
            writer = frame.write.mode("overwrite")
            if table == _BY_MONTH:
                from pyspark.sql import functions as F

                frame = frame.withColumn("month", F.date_format("day", "yyyy-MM"))
                writer = frame.write.mode("overwrite").partitionBy("month")
            writer.parquet(str(out / table))
        (out / _RUN_FILE).write_text(json.dumps(
            {"settings": json.loads(settings.to_json()), "counts": asdict(counts), "engine": "spark"},
            indent=2))
    finally:
        engine.close()
        schema.close()
    return counts


def attach_parquet(
    con: duckdb.DuckDBPyConnection, folder: str | Path, *, actor: Actor | None = None
) -> PrecomputeReport:
    """Load the result tables :func:`timesinks_parquet` wrote into the warehouse (one
    transaction) and record the run, so the dashboard shows them."""
    if actor is not None:
        require(actor, Permission.VIEW_AGGREGATES)
    started = time.perf_counter()
    folder = Path(folder)
    try:
        run = json.loads((folder / _RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"{folder / _RUN_FILE}: not a Hygie Spark time-sinks output ({exc})") from None
    settings = TimeSinkSettings.from_json(json.dumps(run["settings"]))
    counts = StepCounts(**run["counts"])

    def load() -> StepCounts:
        for table in RESULT_TABLES:
            files = sorted((folder / table).rglob("*.parquet"))
            if not files:  # an empty partitioned table (ts_slices with --no-slices) has none
                con.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
                continue
            columns = ", ".join(f'"{c}"' for c in _columns(con, table))
            rows = con.sql(
                "SELECT * FROM read_parquet($files, hive_partitioning = true, union_by_name = true)",
                params={"files": [str(f) for f in files]},
            ).to_arrow_table()
            _replace(con, table, rows, columns)
        return counts

    return publish(con, settings, started, actor, load)
