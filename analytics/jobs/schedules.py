"""Scheduled jobs: a cron expression, a job, its parameters, preview-only or apply.

The job worker calls :func:`run_due` every few seconds. A due schedule runs as the account
that created it, with that account's *current* role re-read from ``users``: a demoted account's
schedules run with its new rights, a disabled or unknown account's schedules fail (the stored
``actor_role`` is informative only). The CLI's system actor (``cli:<os user>``) is not a
``users`` row; its schedules run as it (admin), as the CLI would. Adding or removing a schedule
is recorded in the access log (``schedule_change``). An applying schedule uses the request key
``schedule:<id>:<due time>`` so one due slot applies once even if the worker restarts.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import uuid
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
from croniter import croniter

from analytics.access.roles import Actor, Permission, require
from analytics.errors import AccessDenied, HygieError, InvalidInput, JobError
from analytics.jobs import engine
from analytics.jobs.registry import TASKS, canonical_json, get_job, params_to_json, parse_params

__all__ = ["ScheduleResult", "add_schedule", "list_schedules", "next_due", "remove_schedule", "run_due"]


@dataclass(frozen=True)
class ScheduleResult:
    schedule_id: str
    job: str
    status: str            # previewed / succeeded / failed
    message: str
    run_id: str | None = None
    preview_id: str | None = None


def add_schedule(con: duckdb.DuckDBPyConnection, actor: Actor, job: str, cron: str,
                 params: dict[str, Any] | None = None, *, apply: bool = False) -> str:
    """Schedule ``job`` on ``cron`` (5 fields, local time); returns the schedule id."""
    is_task = job in TASKS
    require(actor, Permission.JOB_APPLY if apply or is_task else Permission.JOB_PREVIEW)
    if is_task and params:
        raise InvalidInput("schedule.no_params", job=job)
    spec = None if is_task else get_job(job)
    if not croniter.is_valid(cron):
        raise InvalidInput("schedule.bad_cron", cron=cron)
    params_json = "{}" if spec is None else params_to_json(parse_params(spec, params))
    schedule_id = f"s{uuid.uuid4().hex[:10]}"
    con.execute(
        "INSERT INTO job_schedules (schedule_id, job, params, cron, apply, actor, actor_role, enabled, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, TRUE, now())",
        [schedule_id, job, params_json, cron, apply or is_task, actor.username, actor.role],
    )
    engine.access_log(con, actor, "schedule_change", schedule_id, None,
                      {"change": "add", "job": job, "cron": cron, "apply": bool(apply or is_task),
                       "params": json.loads(params_json)})
    return schedule_id


def remove_schedule(con: duckdb.DuckDBPyConnection, actor: Actor, schedule_id: str) -> None:
    """Delete a schedule (its past runs stay in job_runs)."""
    require(actor, Permission.JOB_APPLY)
    gone = con.execute("DELETE FROM job_schedules WHERE schedule_id = ?", [schedule_id]).fetchone()[0]
    if not gone:
        raise JobError("schedule.unknown", schedule=schedule_id)
    engine.access_log(con, actor, "schedule_change", schedule_id, None, {"change": "remove"})


def next_due(cron: str, after: dt.datetime) -> dt.datetime:
    """The first time strictly after ``after`` that matches ``cron`` (in ``after``'s zone)."""
    return croniter(cron, after).get_next(dt.datetime)


def list_schedules(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Schedules with their next due time."""
    frame = con.execute(
        "SELECT schedule_id, job, cron, apply, actor, enabled, params, created_at, last_run_at, last_status, "
        "last_message FROM job_schedules ORDER BY created_at, schedule_id"
    ).df()
    frame["next_run_at"] = [
        next_due(row.cron, (row.last_run_at if not pd.isna(row.last_run_at) else row.created_at).to_pydatetime())
        for row in frame.itertuples()
    ] if len(frame) else []
    return frame


def _schedule_actor(con: duckdb.DuckDBPyConnection, username: str) -> Actor:
    try:
        row = con.execute("SELECT role, active FROM users WHERE username = ?", [username]).fetchone()
    except duckdb.CatalogException:
        row = None
    if row is None:
        if username.startswith("cli:"):  # the CLI's system actor owns it: what the CLI may do
            return Actor(username, "admin", via="scheduler")
        raise AccessDenied("schedule.owner_unknown", user=username)
    if not row[1]:
        raise AccessDenied("schedule.owner_disabled", user=username)
    return Actor(username, row[0], via="scheduler")


def run_task(con: duckdb.DuckDBPyConnection, actor: Actor, name: str) -> tuple[str, str, str]:
    """Run analysis ``name`` (see :data:`TASKS`), traced in job_runs; (run_id, status, message)."""
    require(actor, Permission.JOB_APPLY)
    module, function = TASKS[name]
    run_id = f"r{dt.datetime.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}"
    con.execute(
        "INSERT INTO job_runs (run_id, job, params, actor, status, started_at, pid) "
        "VALUES (?, ?, '{}', ?, 'running', now(), ?)",
        [run_id, name, actor.username, os.getpid()],
    )
    try:
        result = getattr(importlib.import_module(module), function)(con, actor=actor)
        status, message = "succeeded", str(result)[:500]
    except Exception as exc:  # recorded; the worker goes on
        status, message = "failed", f"{type(exc).__name__}: {exc}"[:500]
    con.execute("UPDATE job_runs SET status = ?, finished_at = now(), message = ? WHERE run_id = ?",
                [status, message, run_id])
    # every job run is in the access log, analysis tasks included (rows: a returned table's length)
    engine.access_log(con, actor, "job_apply", name, len(result) if status == "succeeded"
                      and isinstance(result, pd.DataFrame) else None,
                      {"run_id": run_id, "status": status, "task": True})
    return run_id, status, message


def run_due(con: duckdb.DuckDBPyConnection, now: dt.datetime | None = None) -> list[ScheduleResult]:
    """Run every enabled schedule whose next due time has passed; record the outcome on it."""
    now = now or con.execute("SELECT now()").fetchone()[0]
    results = []
    rows = con.execute(
        "SELECT schedule_id, job, params, cron, apply, actor, actor_role, created_at, last_run_at "
        "FROM job_schedules WHERE enabled ORDER BY schedule_id"
    ).fetchall()
    for sid, job, params, cron, do_apply, username, _role, created_at, last_run_at in rows:
        due = next_due(cron, last_run_at or created_at)
        if due > now:
            continue
        run_id = preview_id = None
        try:
            actor = _schedule_actor(con, username)
            if job in TASKS:
                run_id, status, message = run_task(con, actor, job)
            else:
                prev = engine.preview(con, actor, job, json.loads(params or "{}"))
                preview_id = prev.preview_id
                status, message = "previewed", f"{prev.change_count} change(s) previewed"
                if do_apply:
                    run = engine.apply(con, actor, prev.preview_id, request_key=f"schedule:{sid}:{due.isoformat()}")
                    run_id, status = run.run_id, run.status
                    message = f"{run.rows_changed} row(s) changed"
        except HygieError as exc:
            status, message = "failed", str(exc)
        except Exception as exc:  # the worker must keep serving: record and go on
            status, message = "failed", f"{type(exc).__name__}: {exc}"
        con.execute(
            "UPDATE job_schedules SET last_run_at = ?, last_status = ?, last_message = ? WHERE schedule_id = ?",
            [now, status, message[:500], sid],
        )
        results.append(ScheduleResult(sid, job, status, message, run_id, preview_id))
    return results


def schedule_params_text(params_json: str | None) -> str:
    """Parameters as KEY=VALUE text for listings."""
    values = json.loads(params_json or "{}")
    return " ".join(f"{k}={canonical_json(v) if not isinstance(v, str) else v}" for k, v in values.items())
