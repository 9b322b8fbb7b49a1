"""The CLI (in-process), schedules and the worker's request loop."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics import jobs
from analytics.cli import main
from analytics.errors import InvalidInput, JobError
from analytics.jobs import schedules
from analytics.jobs.queue import JobQueue, queue_path
from analytics.jobs.worker import JobWorker
from analytics.warehouse import connect
from tests.analytics.jobs.conftest import ADMIN, ANALYST


def _hygie(db: Path, *args: str):
    return CliRunner().invoke(main, ["--db", str(db), "jobs", *args], catch_exceptions=False)


def test_cli_preview_apply_history_and_undo(warehouse_path: Path, tmp_path: Path):
    listed = _hygie(warehouse_path, "list")
    assert listed.exit_code == 0
    assert "merge-identities: Merge duplicate identities" in listed.output
    assert "--param days=<int> (default 7)" in listed.output
    preview = _hygie(warehouse_path, "run", "archive-duplicate-documents")
    assert preview.exit_code == 0
    assert "documents archived: 2" in preview.output
    assert preview.output.splitlines()[-1].startswith("preview_id=p")
    applied = _hygie(warehouse_path, "run", "archive-duplicate-documents", "--apply", "--yes")
    assert applied.exit_code == 0
    run_id = applied.output.splitlines()[-1].removeprefix("run_id=")
    out = tmp_path / "history.csv"
    history = _hygie(warehouse_path, "history", "--csv", str(out), "--dialect", "standard")
    assert history.exit_code == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert "1 row(s) written to" in history.output
    assert lines[0] == "run_id,job,status,started_at,finished_at,actor,rows_changed,undo_of,message"
    assert lines[1].startswith(f"{run_id},archive-duplicate-documents,succeeded,")
    exported = _hygie(warehouse_path, "changes", run_id, "--csv", str(tmp_path / "changes.csv"), "--dialect", "standard")
    assert exported.exit_code == 0 and "2 row(s) written" in exported.output
    rows = (tmp_path / "changes.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "seq,table_name,op,row_key,before,after,origin"
    assert rows[1] == 'seq,documents,update,"{""document_id"":""D4""}","{""status"":""draft""}","{""status"":""archived""}",kept D3'.replace("seq", "1", 1)
    undone = _hygie(warehouse_path, "undo", run_id, "--yes")
    assert undone.exit_code == 0 and f"undid run {run_id}: 2 row(s) restored" in undone.output
    again = _hygie(warehouse_path, "undo", run_id, "--yes")
    assert again.exit_code == 5
    assert f"Error: run {run_id} was already undone by run " in again.output


@pytest.mark.parametrize(
    ("description", "args", "exit_code", "message"),
    [
        ("unknown --as user", ["run", "normalise-identities", "--as", "ghost"], 4, "Error: --as ghost: no such user"),
        ("malformed --param", ["run", "normalise-identities", "--param", "x"], 2,
         "Error: --param 'x': expected KEY=VALUE"),
        ("unknown run", ["undo", "r-none", "--yes"], 5, "Error: unknown run r-none"),
        ("bad cron", ["schedule", "add", "normalise-identities", "--cron", "every night"], 2,
         "Error: schedule: 'every night' is not a valid cron expression"),
    ],
)
def test_cli_refusals_exit_non_zero(warehouse_path: Path, description, args, exit_code, message):
    result = _hygie(warehouse_path, *args)
    assert result.exit_code == exit_code, description
    assert message in result.output, description


def test_cli_as_a_user_takes_the_role_from_the_users_table(warehouse_path: Path):
    con = connect(warehouse_path)  # anna is an analyst account of the template
    assert con.execute("SELECT role FROM users WHERE username = 'anna'").fetchall() == [("analyst",)]
    con.close()
    assert _hygie(warehouse_path, "run", "normalise-identities", "--as", "anna").exit_code == 0
    refused = _hygie(warehouse_path, "run", "normalise-identities", "--as", "anna", "--apply", "--yes")
    assert refused.exit_code == 4
    assert "anna (role analyst) may not apply or undo cleanup jobs" in refused.output


def test_schedules_run_when_due_and_once_per_slot(warehouse):
    con = warehouse
    sid = schedules.add_schedule(con, ADMIN, "archive-duplicate-documents", "0 2 * * *", apply=True)
    created = con.execute("SELECT created_at FROM job_schedules").fetchone()[0]
    due_day = schedules.next_due("0 2 * * *", created)
    # not due a minute before its first 02:00 (created + 1 minute was due when the test ran at 01:59)
    assert schedules.run_due(con, due_day - dt.timedelta(minutes=1)) == []
    results = schedules.run_due(con, due_day + dt.timedelta(minutes=5))
    assert [(r.schedule_id, r.status, r.message) for r in results] == [(sid, "succeeded", "2 row(s) changed")]
    assert schedules.run_due(con, due_day + dt.timedelta(minutes=6)) == []
    listed = schedules.list_schedules(con)
    assert listed.last_status.tolist() == ["succeeded"]
    assert listed.next_run_at[0] == due_day + dt.timedelta(days=1)
    with pytest.raises(InvalidInput, match="not a valid cron expression"):
        schedules.add_schedule(con, ADMIN, "archive-duplicate-documents", "61 * * * *")
    with pytest.raises(Exception, match="may not apply or undo cleanup jobs"):
        schedules.add_schedule(con, ANALYST, "archive-duplicate-documents", "0 2 * * *", apply=True)
    schedules.remove_schedule(con, ADMIN, sid)
    assert schedules.list_schedules(con).empty


def test_the_worker_answers_requests_and_keeps_serving_after_a_failure(warehouse, warehouse_path: Path):
    worker = JobWorker(warehouse, warehouse_path)
    queue = JobQueue(queue_path(warehouse_path))
    actor = {"username": "alice", "role": "admin"}
    bad = queue.submit("run", {"job": "normalise-identities", "params": {"region": None, "nope": 1}, "actor": actor})
    crash = queue.submit("undo", {"actor": actor})  # malformed: no run_id
    good = queue.submit("run", {"job": "normalise-identities", "apply": True, "actor": actor})
    while worker.step():
        pass
    assert queue.wait(bad, timeout=1)["error"].startswith("job normalise-identities: unknown parameter nope")
    assert queue.wait(crash, timeout=1) == {"ok": False, "exit_code": 5, "error": "KeyError: 'run_id'",
                                            "lines": [], "data": {}}
    result = queue.wait(good, timeout=1)
    assert result["ok"] and result["lines"][-1].startswith("run_id=")
    assert queue.status(good)["progress_done"] == queue.status(good)["progress_total"] == 5
    assert jobs.history(warehouse).status.tolist() == ["succeeded"]
    worker.cursor.close()


def test_mark_interrupted_flips_only_running_runs(warehouse):
    warehouse.execute("INSERT INTO job_runs (run_id, job, actor, status, started_at) VALUES "
                      "('r1', 'merge-identities', 'a', 'running', now()), ('r2', 'merge-identities', 'a', 'failed', now())")
    assert jobs.mark_interrupted(warehouse) == 1
    assert dict(warehouse.execute("SELECT run_id, status FROM job_runs").fetchall()) == {"r1": "interrupted", "r2": "failed"}


def test_a_waiting_cli_is_told_when_the_worker_died(tmp_path: Path):
    import sqlite3
    import subprocess
    import sys

    queue = JobQueue(tmp_path / "h.duckdb.queue.sqlite")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    rid = queue.submit("history", {})
    with sqlite3.connect(queue.path) as db:
        db.execute("UPDATE requests SET status = 'running', worker_pid = ? WHERE id = ?", [dead.pid, rid])
    with pytest.raises(JobError, match=f"the job worker \\(process {dead.pid}\\) stopped while running request {rid}"):
        queue.wait(rid, timeout=5)
    queued = queue.submit("history", {})
    with pytest.raises(JobError, match=f"request {queued} is queued but no job worker is running"):
        queue.wait(queued, timeout=5)


def test_a_schedule_can_run_nightly_duplicate_detection(warehouse):
    con = warehouse
    sid = schedules.add_schedule(con, ADMIN, "detect-duplicates", "0 3 * * *")
    created = con.execute("SELECT created_at FROM job_schedules").fetchone()[0]
    results = schedules.run_due(con, schedules.next_due("0 3 * * *", created) + dt.timedelta(minutes=1))
    assert [(r.schedule_id, r.status) for r in results] == [(sid, "succeeded")], results
    run = jobs.history(con).iloc[0]
    assert (run.job, run.status) == ("detect-duplicates", "succeeded")
    assert con.execute("SELECT count(*) FROM match_runs").fetchone()[0] == 2  # the fixture's and this one
    with pytest.raises(JobError, match="is an analysis \\(detect-duplicates\\), not a cleanup change"):
        jobs.undo(con, ADMIN, run.run_id)
    with pytest.raises(InvalidInput, match="schedule: detect-duplicates takes no parameters"):
        schedules.add_schedule(con, ADMIN, "detect-duplicates", "0 3 * * *", {"x": "1"})
