"""purge-expired: retention of audit events and of Hygie's own access log, previewed, applied,
archived owner-only, the access log's keyed chain still verified after the purge (which it
records), undone exactly."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from analytics import jobs
from analytics.access.access_log import record, verify_chain
from analytics.access.roles import Actor
from analytics.errors import InvalidInput

ADMIN, ANALYST = Actor("admin", "admin"), Actor("analyst", "analyst")
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def warehouse(con, tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIE_JOBS_OUTPUT_DIR", str(tmp_path / "outputs"))
    for i, days in enumerate([800, 500, 400, 10, 1]):
        con.execute("INSERT INTO audit_events (event_id, user_id, timestamp, action, patient_id) "
                    "VALUES (?, 'DR1', ?, 'R', 'P1')", [f"E{i}", NOW - dt.timedelta(days=days)])
    record(con, ADMIN, "view", "patients", 1, {"before": "purge"})
    return con


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]  # noqa: S608 - fixed names


def test_purge_is_previewed_applied_archived_and_the_chain_still_verifies(warehouse):
    con = warehouse
    prev = jobs.preview(con, ANALYST, "purge-expired")
    assert prev.counts == {"audit_events rows removed": 3, "access_log rows removed": 0, "files": 1}
    assert (_count(con, "audit_events"), verify_chain(con)) == (5, (True, None))  # a preview changes nothing
    run = jobs.apply(con, ADMIN, prev.preview_id)
    assert sorted(r[0] for r in con.execute("SELECT event_id FROM audit_events").fetchall()) == ["E3", "E4"]
    assert verify_chain(con) == (True, None)
    [path] = [Path(p) for p in run.outputs]
    events = pq.read_table(path).to_pylist()
    assert sorted(e["event_id"] for e in events) == ["E0", "E1", "E2"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700


def test_undo_puts_every_row_back(warehouse):
    con = warehouse
    before = con.execute("SELECT * FROM audit_events ORDER BY event_id").fetchall()
    run = jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, "purge-expired").preview_id)
    jobs.undo(con, ADMIN, run.run_id)
    assert con.execute("SELECT * FROM audit_events ORDER BY event_id").fetchall() == before
    assert verify_chain(con) == (True, None)


@pytest.mark.parametrize(("value", "message"), [
    ("7", "setting retention.audit_events_days=7 must lie within 30–3650 days"),
    ("un an", "setting retention.audit_events_days='un an' is not a whole number of days"),
])
def test_retention_settings_are_checked(warehouse, value, message):
    warehouse.execute("INSERT INTO settings (key, value) VALUES ('retention.audit_events_days', ?)", [value])
    with pytest.raises(InvalidInput) as err:
        jobs.preview(warehouse, ADMIN, "purge-expired")
    assert str(err.value) == message


@pytest.fixture
def old_log(con, tmp_path, monkeypatch):
    """A warehouse file whose access log holds three rows past the retention and two within."""
    monkeypatch.setenv("HYGIE_JOBS_OUTPUT_DIR", str(tmp_path / "outputs"))
    ids = [record(con, ADMIN, "view", "patients", i, {"n": i}, now=NOW - dt.timedelta(days=days))
           for i, days in enumerate([900, 800, 400, 30, 2])]
    assert verify_chain(con) == (True, None)
    return con, ids


def _log_ids(con) -> list[int]:
    return [r[0] for r in con.execute("SELECT log_id FROM access_log ORDER BY log_id").fetchall()]


def test_the_access_log_is_purged_and_its_chain_still_verifies(old_log):
    con, ids = old_log
    prev = jobs.preview(con, ANALYST, "purge-expired", {"tables": "access_log"})
    assert prev.counts == {"access_log rows removed": 3, "files": 1}
    last_hash = con.execute("SELECT row_hash FROM access_log WHERE log_id = ?", [ids[2]]).fetchone()[0]
    assert prev.notes[1:] == [f"access_log: removing log ids {ids[0]}–{ids[2]}, the last with hash {last_hash}",
                              f"access_log: chain anchored at log_id {ids[3]}"]
    run = jobs.apply(con, ADMIN, prev.preview_id)  # the preview itself was logged meanwhile: not stale
    assert _log_ids(con)[:2] == ids[3:]
    assert verify_chain(con) == (True, None)
    [path] = [Path(p) for p in run.outputs]
    assert [r["log_id"] for r in pq.read_table(path).to_pylist()] == ids[:3]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    record(con, ADMIN, "view", "patients", 1)  # the chain goes on from its new start
    assert verify_chain(con) == (True, None)


def test_the_same_rows_deleted_by_hand_break_the_chain(old_log):
    """What the purge's re-anchoring avoids (so the test above can fail)."""
    con, ids = old_log
    con.execute("DELETE FROM access_log WHERE log_id <= ?", [ids[2]])
    assert verify_chain(con) == (False, ids[3])


def test_after_a_purge_the_chain_still_detects_an_edit_and_a_truncation(old_log):
    con, ids = old_log
    jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, "purge-expired", {"tables": "access_log"}).preview_id)
    con.execute("UPDATE access_log SET row_count = 99 WHERE log_id = ?", [ids[4]])
    assert verify_chain(con) == (False, ids[4])
    con.execute("UPDATE access_log SET row_count = 4 WHERE log_id = ?", [ids[4]])
    assert verify_chain(con) == (True, None)
    last = _log_ids(con)[-1]
    con.execute("DELETE FROM access_log WHERE log_id = ?", [last])
    assert verify_chain(con) == (False, last)


def test_undoing_an_access_log_purge_puts_the_rows_back_and_the_chain_verifies(old_log):
    con, ids = old_log
    run = jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, "purge-expired", {"tables": "access_log"}).preview_id)
    jobs.undo(con, ADMIN, run.run_id)
    assert _log_ids(con)[:5] == ids
    assert verify_chain(con) == (True, None)
