"""Forged job requests in the real ``<db>.queue.sqlite`` file (issue 15, item 4).

Before: a row inserted straight into the queue file with ``{"actor": {"username": "ghost",
"role": "admin"}}`` applied ``normalise-identities`` as a user that does not exist, and a
schedule owned by a ghost ran as admin. Here a real job worker (the thread ``hygie serve``
starts) serves a real warehouse file and its queue file; the attacker writes to the SQLite
file with the stdlib, as any process that can write it would.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from pathlib import Path

import duckdb
import pytest

from analytics.access import auth
from analytics.access.roles import Actor, system_actor
from analytics.jobs import queue as job_queue
from analytics.jobs import schedules
from analytics.jobs.queue import JobQueue, queue_path
from analytics.jobs.worker import JobWorker
from analytics.warehouse import connect
from tests.analytics.jobs.conftest import populate

ROOT = Actor("root", "admin")
STRONG = "Violet-Cactus-93-lantern"
GHOST = {"username": "ghost", "role": "admin", "via": "cli"}
APPLY = {"job": "normalise-identities", "params": {}, "apply": True}


@pytest.fixture
def served(fresh_db: Path):
    con = connect(fresh_db)
    populate(con)
    auth.create_user(con, None, "root", "admin", STRONG)
    auth.create_user(con, ROOT, "lea", "analyst", STRONG)
    auth.create_user(con, ROOT, "carl", "manager", STRONG)
    auth.deactivate(con, ROOT, "carl")
    worker = JobWorker(con, fresh_db, poll=0.05, schedule_every=3600)
    worker.start()
    deadline = time.monotonic() + 30
    while JobQueue(queue_path(fresh_db)).worker_pid() is None:  # its first heartbeat
        assert time.monotonic() < deadline, "the job worker did not start"
        time.sleep(0.05)
    yield con, fresh_db
    worker.stop()
    con.close()


def _forge(db: Path, kind: str, payload: dict, mac: str | None = None) -> int:
    """Insert a request row straight into the queue file, as an attacker would."""
    columns, values = "kind, payload, client_pid, created_at", [kind, json.dumps(payload), 1, time.time()]
    if mac is not None:
        columns, values = columns + ", mac", [*values, mac]
    with sqlite3.connect(queue_path(db)) as raw:
        cur = raw.execute(f"INSERT INTO requests ({columns}) VALUES (?, ?, ?, ?{', ?' if mac else ''})", values)
        return int(cur.lastrowid)


def _answer(db: Path, request_id: int) -> dict:
    return JobQueue(queue_path(db)).wait(request_id, timeout=120)


def _runs(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.cursor().execute("SELECT job, actor, status FROM job_runs WHERE status <> 'previewed'").fetchall()


def _refusals(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.cursor().execute("SELECT actor, object, detail->>'reason' FROM access_log "
                                "WHERE action = 'request_refused' ORDER BY log_id").fetchall()


def test_an_unsigned_row_naming_a_ghost_admin_is_refused_and_logged(served):
    con, db = served
    answer = _answer(db, _forge(db, "run", {"actor": GHOST, **APPLY}))
    assert not answer["ok"]
    assert "not signed" in answer["error"]
    assert _runs(con) == []
    assert _refusals(con) == [("ghost", "run", "unverifiable queue request (no valid signature, replayed or stale)")]


@pytest.mark.parametrize("how", ["a MAC made with another key", "a MAC copied from another row"])
def test_a_row_with_a_wrong_mac_is_refused(served, how):
    con, db = served
    payload = {"actor": GHOST, **APPLY}
    if how.startswith("a MAC made"):
        mac = job_queue.request_mac(secrets.token_bytes(32), 999, "run", json.dumps(payload), time.time())
    else:
        legit = JobQueue(queue_path(db)).submit("history", {})
        _answer(db, legit)
        with sqlite3.connect(queue_path(db)) as raw:
            mac = raw.execute("SELECT mac FROM requests WHERE id = ?", [legit]).fetchone()[0]
    answer = _answer(db, _forge(db, "run", payload, mac))
    assert not answer["ok"] and "not signed" in answer["error"]
    assert _runs(con) == []


def test_a_done_request_set_back_to_queued_is_not_replayed(served):
    con, db = served
    queue = JobQueue(queue_path(db))
    first = queue.submit("run", {"actor": {"username": "root", "role": "admin", "via": "cli"}, **APPLY})
    assert _answer(db, first)["ok"]
    assert len(_runs(con)) == 1
    with sqlite3.connect(queue_path(db)) as raw:
        raw.execute("UPDATE requests SET status = 'queued', result = NULL WHERE id = ?", [first])
    answer = _answer(db, first)
    assert not answer["ok"] and "not signed" in answer["error"]
    assert len(_runs(con)) == 1


SIGNED_REFUSALS = [
    ("an unknown account", {"username": "ghost", "role": "admin", "via": "dashboard"}, "ghost: no such user"),
    ("a deactivated account", {"username": "carl", "role": "manager", "via": "dashboard"},
     "carl: the account is disabled"),
    ("an analyst claiming the admin role", {"username": "lea", "role": "admin", "via": "dashboard"}, None),
    ("a system-actor name sent as a dashboard user", {"username": "cli:eve", "role": "admin", "via": "dashboard"},
     "cli:eve: no such user"),
]


@pytest.mark.parametrize(("description", "actor", "reason"), SIGNED_REFUSALS, ids=[s[0] for s in SIGNED_REFUSALS])
def test_a_signed_request_still_acts_as_the_account_in_users(served, description, actor, reason):
    """Even a correctly signed request does not choose its role: the worker re-reads `users`."""
    con, db = served
    answer = _answer(db, JobQueue(queue_path(db)).submit("run", {"actor": actor, **APPLY}))
    assert not answer["ok"]
    assert _runs(con) == []
    if reason:
        assert answer["error"] == reason
        assert _refusals(con) == [(actor["username"], "run", reason)]
    else:  # lea acts as the analyst she is: previews allowed, applying refused
        assert "analyst" in answer["error"]


def test_the_cli_system_actor_and_a_real_manager_still_work(served):
    con, db = served
    auth.create_user(con.cursor(), ROOT, "mona", "manager", STRONG)
    queue = JobQueue(queue_path(db))
    me = system_actor()
    assert _answer(db, queue.submit("run", {"actor": {"username": me.username, "role": "viewer", "via": "cli"},
                                            "job": "normalise-identities", "params": {}}))["ok"]
    assert _answer(db, queue.submit("run", {"actor": {"username": "mona", "role": "viewer", "via": "dashboard"},
                                            **APPLY}))["ok"]
    assert _runs(con) == [("normalise-identities", "mona", "succeeded")]


def test_a_schedule_owned_by_an_unknown_account_does_not_run(served):
    con, _ = served
    cur = con.cursor()
    cur.execute("INSERT INTO job_schedules (schedule_id, job, params, cron, apply, actor, actor_role, enabled, "
                "created_at) VALUES ('sforged', 'normalise-identities', '{}', '* * * * *', TRUE, 'ghost', 'admin', "
                "TRUE, now() - INTERVAL 2 MINUTE)")
    results = schedules.run_due(cur)
    assert [(r.schedule_id, r.status) for r in results] == [("sforged", "failed")]
    assert "ghost is not an account" in results[0].message
    assert _runs(con) == []


def test_schedule_changes_are_in_the_access_log(served):
    con, _ = served
    cur = con.cursor()
    sid = schedules.add_schedule(cur, ROOT, "normalise-identities", "0 2 * * *", apply=True)
    schedules.remove_schedule(cur, ROOT, sid)
    rows = cur.execute("SELECT actor, object, detail->>'change', detail->>'cron' FROM access_log "
                       "WHERE action = 'schedule_change' ORDER BY log_id").fetchall()
    assert rows == [("root", sid, "add", "0 2 * * *"), ("root", sid, "remove", None)]
