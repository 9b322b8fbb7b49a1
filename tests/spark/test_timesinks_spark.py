"""Time sinks on Spark give DuckDB's figures: the same steps (one SQL definition, transpiled)
on the small sample, ``local[2]`` against the warehouse's DuckDB, every result table compared
row by row (floats to 1e-9)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.cli import main
from analytics.timesinks.precompute import RESULT_TABLES, precompute
from analytics.warehouse import connect

pytestmark = [pytest.mark.xdist_group("spark"), pytest.mark.slow]


def _rows(con, table: str) -> list[tuple]:
    return con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall()


def _assert_same_tables(expected_con, actual_con) -> None:
    for table in RESULT_TABLES:
        expected, actual = _rows(expected_con, table), _rows(actual_con, table)
        assert len(actual) == len(expected), table
        for want, got in zip(expected, actual, strict=True):
            for a, b in zip(want, got, strict=True):
                if isinstance(a, float) and isinstance(b, float):
                    assert math.isclose(a, b, rel_tol=0, abs_tol=1e-9), (table, want, got)
                else:
                    assert a == b, (table, want, got)


@pytest.fixture(scope="module")
def duckdb_run(sample_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ts-duckdb") / "duckdb.duckdb"
    shutil.copyfile(sample_warehouse, path)
    con = connect(path)
    try:
        precompute(con)
    finally:
        con.close()
    return path


def test_precompute_engine_spark_stores_duckdbs_figures(spark, sample_warehouse, duckdb_run, tmp_path):
    from analytics.timesinks.precompute import ensure_precomputed

    path = tmp_path / "spark.duckdb"
    shutil.copyfile(sample_warehouse, path)
    # the fixture's session is running: the command joins it (getOrCreate)
    result = CliRunner().invoke(main, ["--db", str(path), "timesinks", "precompute", "--engine", "spark",
                                       "--spark-master", "local[2]"])
    assert result.exit_code == 0, result.output
    assert "Time sinks (spark): 38993 events, 4749 sessions" in result.output
    con, expected = connect(path), connect(duckdb_run)
    try:
        _assert_same_tables(expected, con)
        # the run is recorded as a DuckDB run is: the dashboard finds it current
        run_id = con.execute("SELECT run_id FROM ts_runs").fetchone()[0]
        ensure_precomputed(con)
        assert con.execute("SELECT run_id FROM ts_runs").fetchone()[0] == run_id
    finally:
        con.close()
        expected.close()


def test_spark_timesinks_on_parquet_then_attached_gives_the_same_tables(
    spark, sample_warehouse, duckdb_run, tmp_path
):
    source = connect(sample_warehouse)
    inputs = tmp_path / "in"
    inputs.mkdir()
    try:
        source.execute("SET TimeZone = 'Europe/Paris'")
        # events partitioned by month, as a log archive is
        source.execute(
            f"""COPY (SELECT *, strftime("timestamp", '%Y-%m') AS month FROM audit_events)
                TO '{inputs / "events"}' (FORMAT parquet, PARTITION_BY (month))"""
        )
        for table in ("schedules", "staff", "documents"):
            source.execute(f"COPY {table} TO '{inputs / (table + '.parquet')}' (FORMAT parquet)")
    finally:
        source.close()
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [
        "spark", "timesinks", "--events", str(inputs / "events"),
        "--schedules", str(inputs / "schedules.parquet"), "--staff", str(inputs / "staff.parquet"),
        "--documents", str(inputs / "documents.parquet"), "--out", str(out),
    ])
    assert result.exit_code == 0, result.output
    assert "38993 events (39003 read), 4749 sessions" in result.output
    assert sorted(p.name for p in (out / "ts_slices").iterdir() if p.is_dir())[:1] == ["month=2026-09"]

    target = tmp_path / "attached.duckdb"
    shutil.copyfile(sample_warehouse, target)
    result = CliRunner().invoke(main, ["--db", str(target), "timesinks", "attach", str(out)])
    assert result.exit_code == 0, result.output
    con, expected = connect(target), connect(duckdb_run)
    try:
        _assert_same_tables(expected, con)
    finally:
        con.close()
        expected.close()


def test_a_parquet_input_without_a_needed_column_is_refused_by_name(spark, tmp_path):
    import duckdb

    bad = tmp_path / "staff.parquet"
    duckdb.execute(f"COPY (SELECT 'u1' AS user_id, 'ICU' AS service) TO '{bad}' (FORMAT parquet)")
    result = CliRunner().invoke(main, [
        "spark", "timesinks", "--events", str(bad), "--schedules", str(bad), "--staff", str(bad),
        "--out", str(tmp_path / "out"),
    ])
    assert result.exit_code == 2
    assert f"--events {bad}: missing column(s) timestamp, action, activity, document_id" in result.output
