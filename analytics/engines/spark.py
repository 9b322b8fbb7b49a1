"""The Spark engine: each DuckDB-dialect step transpiled and run as a materialised Spark view.

Inputs are registered as views (:meth:`SparkEngine.register`: a Spark DataFrame, e.g. read
from Parquet, or an Arrow table, e.g. read from the warehouse). :meth:`SparkEngine.fill`
keeps a result table's rows as a view under the table's own name and column names (later steps
read it as they read the warehouse's table; ``columns`` gives the names) and remembers it; :meth:`SparkEngine.result` gives it back as a
DataFrame, to write to Parquet or to collect (Arrow) into the warehouse.

DuckDB's ``rowid`` is not a Spark column: a registered table that a step reads by row id gets
one from ``monotonically_increasing_id()`` (unique, not consecutive; the steps only join on it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from analytics.engines.base import Params
from analytics.engines.dialect import to_spark

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

__all__ = ["SparkEngine"]


class SparkEngine:
    """Runs pipeline steps on a Spark session (see :mod:`analytics.engines.base`)."""

    name = "spark"

    def __init__(self, spark: SparkSession, columns: Mapping[str, Sequence[str]]) -> None:
        self.spark = spark
        self.columns = columns
        self._views: dict[str, DataFrame] = {}
        self.results: dict[str, DataFrame] = {}

    def register(self, name: str, data: DataFrame | pa.Table, *, with_rowid: bool = False) -> None:
        """Make ``data`` readable as ``name`` by the steps."""
        frame = data if hasattr(data, "createOrReplaceTempView") else self.spark.createDataFrame(data)
        if with_rowid:
            from pyspark.sql import functions as F

            frame = frame.withColumn("rowid", F.monotonically_increasing_id())
        self._keep(name, frame, materialise=False)  # a scan: cheap to plan, read when used

    def _keep(self, name: str, frame: DataFrame, *, materialise: bool = True) -> DataFrame:
        old = self._views.pop(name, None)
        if materialise:
            # Computed now, with its lineage cut: a view over views keeps their whole logical
            # plans, and by the tenth step Spark's analyser spent minutes walking them.
            frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self._views[name] = frame
        if old is not None:
            old.unpersist()
        return frame

    def sql(self, sql: str, params: Params = None) -> DataFrame:
        """A DuckDB-dialect query run on Spark."""
        return self.spark.sql(to_spark(sql, params))

    def stage(self, name: str, sql: str, params: Params = None) -> None:
        self._keep(name, self.sql(sql, params))

    def fill(self, table: str, sql: str, params: Params = None) -> None:
        frame = self.sql(sql, params)
        self.results[table] = self._keep(table, frame.toDF(*self.columns[table]))

    def fill_values(self, table: str, columns: Mapping[str, Sequence[object]]) -> None:
        import pyarrow as pa

        self.results[table] = self._keep(table, self.spark.createDataFrame(pa.table(dict(columns))))

    def row(self, sql: str, params: Params = None) -> tuple:
        rows = self.sql(sql, params).collect()
        return tuple(rows[0]) if rows else ()

    def drop(self, *names: str) -> None:
        for name in names:
            frame = self._views.pop(name, None)
            if frame is not None and name not in self.results:
                frame.unpersist()
                self.spark.catalog.dropTempView(name)

    def result(self, table: str) -> DataFrame:
        """The rows a step filled ``table`` with."""
        return self.results[table]

    def close(self) -> None:
        """Release every cached view (the session stays up)."""
        for name, frame in list(self._views.items()):
            frame.unpersist()
            self.spark.catalog.dropTempView(name)
        self._views.clear()
        self.results.clear()
