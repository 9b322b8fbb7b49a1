"""DuckDB SQL to Spark SQL: the rewrites SQLGlot does not make, as data (no JVM needed)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os

import pytest

# A venv made before the [spark] extra existed skips; CI (make test installs it) fails instead.
if importlib.util.find_spec("sqlglot") is None and not os.environ.get("CI"):
    pytest.skip("SQLGlot is not installed: pip install -e '.[spark]'", allow_module_level=True)

from analytics.engines.dialect import render_params, to_spark  # noqa: E402

CASES = [
    ("epoch microseconds", "SELECT epoch_us(t) FROM x", "SELECT UNIX_MICROS(t) FROM x"),
    ("epoch seconds keep their fraction", "SELECT epoch(t) FROM x", "SELECT UNIX_MICROS(t) / 1e6 FROM x"),
    ("seconds to an instant keep their fraction", "SELECT to_timestamp(s / 1e6) FROM x",
     "SELECT TIMESTAMP_SECONDS(s / 1e6) FROM x"),
    ("ISO day of week, Monday 1", "SELECT isodow(d) FROM x", "SELECT WEEKDAY(d) + 1 FROM x"),
    ("64-bit hash", "SELECT hash(a, b) FROM x", "SELECT XXHASH64(a, b) FROM x"),
    ("ordered list", "SELECT list({'i0': a, 'i1': b} ORDER BY a) FROM x GROUP BY k",
     "SELECT ARRAY_SORT(COLLECT_LIST(STRUCT(a AS i0, b AS i1))) FROM x GROUP BY k"),
    ("list sum of a lambda", "SELECT list_sum(list_transform(r, lambda v: v.i1 - v.i0)) FROM x",
     "SELECT AGGREGATE(TRANSFORM(r, v -> v.i1 - v.i0), 0L, (acc, v) -> acc + v) FROM x"),
    ("list slice, inclusive end", "SELECT list_slice(l, 3, array_length(l)) FROM x",
     "SELECT SLICE(l, 3, SIZE(l) - 3 + 1) FROM x"),
    ("window call in arithmetic", "SELECT lead(t) OVER w - t FROM x WINDOW w AS (ORDER BY t)",
     "SELECT (LEAD(t) OVER w) - t FROM x WINDOW w AS (ORDER BY t NULLS LAST)"),
    ("nested rewrites", "SELECT list({'i0': epoch_us(s)} ORDER BY s) FROM x",
     "SELECT ARRAY_SORT(COLLECT_LIST(STRUCT(UNIX_MICROS(s) AS i0))) FROM x"),
    ("naive local time, then an instant",
     "SELECT CAST(CAST(d AS TIMESTAMP) + INTERVAL 8 HOUR AS TIMESTAMPTZ) FROM x",
     "SELECT CAST(CAST(d AS TIMESTAMP_NTZ) + INTERVAL '8' HOUR AS TIMESTAMP) FROM x"),
]


@pytest.mark.parametrize(("description", "duckdb_sql", "spark_sql"), CASES, ids=[c[0] for c in CASES])
def test_transpiled(description, duckdb_sql, spark_sql):
    assert to_spark(duckdb_sql) == spark_sql


def test_parameters_become_literals():
    sql = "SELECT $n, $x, $s, $on, $w, $i FROM t WHERE a = $n"
    params = {"n": 300, "x": 0.5, "s": "l'eau", "on": True, "w": dt.time(8, 30),
              "i": dt.timedelta(hours=18)}
    assert render_params(sql, params) == (
        "SELECT 300, 0.5, 'l''eau', TRUE, INTERVAL '30600' SECOND, INTERVAL '64800' SECOND FROM t "
        "WHERE a = 300"
    )


def test_a_missing_parameter_is_named():
    with pytest.raises(KeyError, match=r"\$threshold_us has no value"):
        render_params("SELECT $threshold_us", {"other": 1})
