"""Engines the batch pipelines run on: DuckDB (default, embedded) or Spark (optional).

Each pipeline step is one SQL definition in DuckDB's dialect (:mod:`analytics.engines.base`);
the Spark engine transpiles it with SQLGlot (:mod:`analytics.engines.dialect`) and runs it on
a session from :mod:`analytics.engines.spark_session`. pyspark and SQLGlot are imported only
on the Spark path (``pip install 'hygie[spark]'``).
"""

from analytics.engines.base import DuckDBEngine, Engine

__all__ = ["ENGINES", "DuckDBEngine", "Engine"]

#: Engine names the CLI accepts (``--engine``).
ENGINES = ("duckdb", "spark")
