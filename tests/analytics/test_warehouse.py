"""The warehouse file: creation, migrations, and refusal of files that are not ours."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from analytics.errors import WarehouseError
from analytics.warehouse import LATEST_VERSION, MIGRATIONS, connect, schema_version


def test_new_file_gets_latest_schema(db_path):
    con = connect(db_path)
    assert schema_version(con) == LATEST_VERSION
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    assert {"patients", "documents", "audit_events", "staff", "schedules", "schema_version"} <= tables
    con.close()


def test_timestamps_are_timestamptz_in_paris(con):
    types = dict(
        con.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'audit_events'"
        ).fetchall()
    )
    assert types["timestamp"] == "TIMESTAMP WITH TIME ZONE"
    assert con.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "Europe/Paris"


def test_cursors_compute_local_time_in_paris_too(con):
    """Dashboard sessions, the job worker and downloads work on cursors of the one connection."""
    cursor = con.cursor()
    try:
        assert cursor.execute("SELECT current_setting('TimeZone')").fetchone()[0] == "Europe/Paris"
        hour = "SELECT hour(TIMESTAMPTZ '2026-07-01 12:00:00+00')"
        assert cursor.execute(hour).fetchone()[0] == 14  # CEST
    finally:
        cursor.close()


def test_reopening_is_idempotent(db_path):
    connect(db_path).close()
    con = connect(db_path)
    assert con.execute("SELECT count(*) FROM schema_version").fetchone()[0] == LATEST_VERSION
    con.close()


def test_older_file_is_upgraded(db_path):
    raw = duckdb.connect(str(db_path))
    raw.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)")
    MIGRATIONS[0].apply(raw)
    raw.execute("INSERT INTO schema_version VALUES (1, 'core data tables', now())")
    raw.execute("INSERT INTO patients (patient_id, birth_name) VALUES ('IPP1', 'DUPONT')")
    raw.close()

    con = connect(db_path)
    assert schema_version(con) == LATEST_VERSION
    assert con.execute("SELECT birth_name FROM patients").fetchall() == [("DUPONT",)]
    con.close()


def test_newer_file_is_refused(db_path):
    connect(db_path).close()
    raw = duckdb.connect(str(db_path))
    raw.execute("INSERT INTO schema_version VALUES (?, 'from the future', now())", [LATEST_VERSION + 1])
    raw.close()
    with pytest.raises(WarehouseError) as err:
        connect(db_path)
    assert str(err.value) == (
        f"{db_path}: warehouse schema version {LATEST_VERSION + 1} is newer than this Hygie "
        f"(knows up to {LATEST_VERSION}); upgrade Hygie instead of opening it with an older one"
    )


def test_foreign_duckdb_file_is_refused_untouched(db_path):
    raw = duckdb.connect(str(db_path))
    raw.execute("CREATE TABLE something (x INTEGER)")
    raw.close()
    with pytest.raises(WarehouseError, match="not a Hygie warehouse"):
        connect(db_path)
    raw = duckdb.connect(str(db_path))
    assert [r[0] for r in raw.execute("SELECT table_name FROM information_schema.tables").fetchall()] == ["something"]
    raw.close()


def test_file_that_is_not_duckdb_is_refused(db_path):
    db_path.write_bytes(b"IPP;NOM\n1;DUPONT\n" * 100)
    with pytest.raises(WarehouseError) as err:
        connect(db_path)
    assert str(err.value) == f"{db_path}: not a DuckDB database file; refusing to open it as a warehouse"


def test_read_only_on_missing_file_is_refused(db_path):
    with pytest.raises(WarehouseError, match="no warehouse here"):
        connect(db_path, read_only=True)


def test_locked_warehouse_gives_a_clear_message(db_path):
    connect(db_path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys, time
                con = duckdb.connect({str(db_path)!r})
                print("locked", flush=True)
                sys.stdin.readline()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(WarehouseError, match="locked by another process"):
            connect(db_path)
    finally:
        holder.communicate("\n", timeout=10)
