"""purge-expired: retention of audit events, previewed, applied, archived owner-only, the access
log's chain still verified after the purge (which it records), undone exactly."""

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
    assert prev.counts == {"audit_events rows removed": 3, "files": 1}
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
