"""Where a pipeline's SQL runs: the warehouse's DuckDB (the default) or a Spark session.

A pipeline is written as a sequence of steps, each one ``SELECT`` in DuckDB's dialect:

* :meth:`Engine.stage` keeps a step's rows under a name for the next steps (a DuckDB
  temporary table; a cached Spark view);
* :meth:`Engine.fill` replaces the rows of one of the warehouse's result tables (``DELETE`` +
  ``INSERT`` on DuckDB, so inside the caller's transaction; a cached Spark view collected at
  the end, see :mod:`analytics.engines.spark`), by column position;
* :meth:`Engine.fill_values` does the same from Python columns (e.g. a holiday calendar);
* :meth:`Engine.row` reads one row (counts, spans).

The DuckDB engine runs the SQL as written, with bound ``$name`` parameters; the Spark engine
transpiles it (:mod:`analytics.engines.dialect`). Nothing here imports pyspark.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

import duckdb

__all__ = ["DuckDBEngine", "Engine"]

Params = Mapping[str, object] | None


class Engine(Protocol):
    """What the time-sinks and matching pipelines need from an engine."""

    name: str

    def stage(self, name: str, sql: str, params: Params = None) -> None: ...

    def fill(self, table: str, sql: str, params: Params = None) -> None: ...

    def fill_values(self, table: str, columns: Mapping[str, Sequence[object]]) -> None: ...

    def row(self, sql: str, params: Params = None) -> tuple: ...

    def drop(self, *names: str) -> None: ...


class DuckDBEngine:
    """Runs each step on a DuckDB connection (the caller owns any transaction)."""

    name = "duckdb"

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def stage(self, name: str, sql: str, params: Params = None) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS {sql}", params)  # noqa: S608 - constant names

    def fill(self, table: str, sql: str, params: Params = None) -> None:
        self.con.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
        self.con.execute(f"INSERT INTO {table} {sql}", params)  # noqa: S608 - constant names

    def fill_values(self, table: str, columns: Mapping[str, Sequence[object]]) -> None:
        self.con.execute(f"DELETE FROM {table}")  # noqa: S608 - constant names
        if not columns or not len(next(iter(columns.values()))):
            return
        unnests = ", ".join(f"unnest($c{i})" for i in range(len(columns)))
        self.con.execute(
            f"INSERT INTO {table} SELECT {unnests}",  # noqa: S608 - constant names
            {f"c{i}": list(values) for i, values in enumerate(columns.values())},
        )

    def row(self, sql: str, params: Params = None) -> tuple:
        return self.con.execute(sql, params).fetchone()

    def drop(self, *names: str) -> None:
        for name in names:
            self.con.execute(f"DROP TABLE IF EXISTS {name}")
