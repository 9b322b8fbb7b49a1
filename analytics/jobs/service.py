"""One request → one result, the same whether the CLI runs it or hands it to the job worker.

A request is a plain JSON-able dict (``kind`` plus arguments) so that it can travel through the
queue; the result is ``{"ok", "exit_code", "lines", "error", "data"}``. Errors on purpose
(:class:`HygieError`) become a result with their exit code; anything else is reported as a
failure too, so the worker keeps serving.

Who acts is never taken on the request's word. A request that came through the queue must
carry ``_authenticated`` (set by :meth:`JobQueue.claim` from the row's MAC); then the actor is
re-read from ``users``: an unknown or deactivated account is refused, and its role is the one
stored there. Only two actors are not ``users`` rows: the CLI's system actor (``cli:<os user>``,
admin: a signed request proves its sender reads the service account's key, i.e. can open the
warehouse anyway) and a single-sign-on user (``via=oidc``, role from the identity provider,
vouched for by the signing dashboard). Every refusal is in the access log (``request_refused``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb

from analytics.access import access_log
from analytics.access.roles import ROLES, Actor
from analytics.errors import AccessDenied, HygieError, InvalidInput, JobError
from analytics.jobs import engine, schedules
from analytics.jobs.queue import AUTHENTICATED

__all__ = ["KINDS", "execute", "resolve_actor"]

KINDS = ("run", "apply", "undo", "history", "changes", "schedule_add", "schedule_list", "schedule_remove",
         "outbox", "outbox_send", "task", "user_unlock")


_VIAS = ("cli", "dashboard", "oidc")


def _user_row(con: duckdb.DuckDBPyConnection, username: str) -> tuple[str, bool] | None:
    try:
        return con.execute("SELECT role, active FROM users WHERE username = ?", [username]).fetchone()
    except duckdb.CatalogException:
        return None


def resolve_actor(con: duckdb.DuckDBPyConnection, request: dict[str, Any]) -> Actor:
    """``as_user``, else the request's ``actor``, re-read from the users table (see the module doc)."""
    as_user = request.get("as_user")
    if as_user:
        row = _user_row(con, str(as_user))
        if row is None:
            raise AccessDenied(f"--as {as_user}: no such user")
        if not row[1]:
            raise AccessDenied(f"--as {as_user}: the account is disabled")
        return Actor(str(as_user), row[0], via="cli")
    actor = request.get("actor") or {}
    if not isinstance(actor, dict) or not actor.get("username"):
        raise AccessDenied("the request names no actor")
    name = str(actor["username"])
    via = actor.get("via") if actor.get("via") in _VIAS else "cli"
    row = _user_row(con, name)
    if row is not None:
        if not row[1]:
            raise AccessDenied(f"{name}: the account is disabled")
        return Actor(name, row[0], via=via)
    if name.startswith("cli:") and via == "cli":
        return Actor(name, "admin", via="cli")  # the system actor of a CLI on the service account
    if via == "oidc" and actor.get("role") in ROLES:
        return Actor(name, str(actor["role"]), via="oidc")
    raise AccessDenied(f"{name}: no such user")


def _refuse(con: duckdb.DuckDBPyConnection, request: dict[str, Any], reason: str) -> None:
    actor = request.get("actor") if isinstance(request.get("actor"), dict) else {}
    name = str(request.get("as_user") or actor.get("username") or "?")
    access_log.record(con, name, "request_refused", str(request.get("kind"))[:50],
                      detail={"reason": reason[:200], "job": str(request.get("job"))[:50]}, via="queue")


def _run(con: duckdb.DuckDBPyConnection, actor: Actor, req: dict[str, Any],
         progress: engine.Progress | None) -> dict[str, Any]:
    prev = engine.preview(con, actor, req["job"], req.get("params") or {})
    lines = prev.summary_lines()
    data: dict[str, Any] = {"preview_id": prev.preview_id, "change_count": prev.change_count,
                            "preview": _preview_data(prev)}
    if req.get("apply"):
        run = engine.apply(con, actor, prev.preview_id, progress, request_key=req.get("request_key"))
        lines += run.summary_lines()
        data.update(run_id=run.run_id, status=run.status, rows_changed=run.rows_changed,
                    already_applied=run.already_applied)
    return {"lines": lines, "data": data}


def _preview_data(prev: engine.Preview) -> dict[str, Any]:
    """The preview as JSON, for the dashboard to show what its worker request computed."""
    return {"preview_id": prev.preview_id, "job": prev.job, "params": prev.params,
            "fingerprint": prev.fingerprint, "change_count": prev.change_count, "counts": prev.counts,
            "notes": list(prev.notes), "outputs": list(prev.outputs)}


def _run_data(run: engine.Run) -> dict[str, Any]:
    return {"run_id": run.run_id, "job": run.job, "status": run.status, "rows_changed": run.rows_changed,
            "already_applied": run.already_applied, "undo_of": run.undo_of, "message": run.message}


def _apply(con: duckdb.DuckDBPyConnection, actor: Actor, req: dict[str, Any],
           progress: engine.Progress | None) -> dict[str, Any]:
    """Apply a stored preview the user confirmed (the dashboard's request), by id and fingerprint."""
    if not req.get("preview_id") or not req.get("fingerprint"):
        raise InvalidInput("request.apply_incomplete")
    run = engine.apply(con, actor, req["preview_id"], progress, request_key=req.get("request_key"),
                       expected_fingerprint=req["fingerprint"])
    return {"lines": run.summary_lines(), "data": _run_data(run)}


def _history(con: duckdb.DuckDBPyConnection, req: dict[str, Any]) -> dict[str, Any]:
    frame = engine.history(con, req.get("limit"))
    cols = ["run_id", "job", "status", "started_at", "finished_at", "actor", "rows_changed", "undo_of", "message"]
    records = [{k: (None if v is None or v != v else str(v)) for k, v in row.items()}
               for row in frame[cols].astype(object).to_dict("records")]
    lines = ["\t".join(cols[:7])] + ["\t".join(
        (f"{r[c]} (undo of {r['undo_of']})" if c == "job" and r["undo_of"] else r[c] or "") for c in cols[:7])
        for r in records]
    return {"lines": lines, "data": {"columns": cols, "rows": records}}


def _changes(con: duckdb.DuckDBPyConnection, actor: Actor, req: dict[str, Any]) -> dict[str, Any]:
    """The rows (before → after) of a preview or a run: patient-level data, so checked and logged."""
    ident = req["id"]
    if ident.startswith("r"):
        engine.get_run(con, ident)
        frame = engine.run_changes(con, actor, ident)
    else:
        engine.get_preview(con, ident)
        frame = engine.preview_changes(con, actor, ident)
    engine.access_log(con, actor, "export", f"job changes {ident}", len(frame), {"id": ident})
    cols = list(frame.columns)
    rows = [{k: (None if v is None or v != v else str(v)) for k, v in r.items()}
            for r in frame.astype(object).to_dict("records")]
    return {"lines": [f"{len(rows)} change(s) in {ident}"], "data": {"columns": cols, "rows": rows}}


def _schedule_list(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    frame = schedules.list_schedules(con)
    lines = []
    for row in frame.itertuples():
        mode = "apply" if row.apply else "preview"
        params = schedules.schedule_params_text(row.params)
        last = f"last {row.last_status} {row.last_run_at}" if row.last_status else "never run"
        lines.append(f"{row.schedule_id}\t{row.cron}\t{row.job}\t{mode}\t{params}\tnext {row.next_run_at}\t{last}")
    return {"lines": lines or ["no schedules"], "data": {"count": len(frame)}}


def _outbox(con: duckdb.DuckDBPyConnection, req: dict[str, Any], send_as: Actor | None = None) -> dict[str, Any]:
    """The messages of identity runs and their delivery status; with ``send_as``, send the pending."""
    from analytics.messaging import outbox

    lines: list[str] = []
    counts: dict[str, int] = {}
    if send_as is not None:
        counts = dict(outbox.deliver(con, send_as, run_id=req.get("run_id")))
        lines.append("sent: " + (", ".join(f"{n} {k}" for k, n in sorted(counts.items())) or "nothing pending"))
    frame = outbox.outbox(con, run_id=req.get("run_id"))
    records = frame[["run_id", "job", "undo_of", "name", "channel", "status", "attempts", "code", "detail"]]
    return {"lines": lines + outbox.outbox_lines(frame),
            "data": {"counts": counts,
                     "rows": [{k: (None if v is None or v != v else str(v)) for k, v in r.items()}
                              for r in records.astype(object).to_dict("records")]}}


def _task(con: duckdb.DuckDBPyConnection, actor: Actor, req: dict[str, Any]) -> dict[str, Any]:
    """Run an analysis of :data:`~analytics.jobs.registry.TASKS` now, traced like a scheduled one."""
    from analytics.jobs.registry import TASKS

    name = req.get("task")
    if name not in TASKS:
        raise InvalidInput(f"task {name!r}: expected one of {', '.join(sorted(TASKS))}")
    run_id, status, message = schedules.run_task(con, actor, name)
    return {"lines": [f"run_id={run_id}", f"{status}: {message}"],
            "data": {"run_id": run_id, "status": status, "message": message}}


def execute(con: duckdb.DuckDBPyConnection, request: dict[str, Any],
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Execute ``request`` on ``con`` and return its result dict (never raises for job faults)."""
    kind = request.get("kind")
    request = dict(request)
    authenticated = request.pop(AUTHENTICATED, None)  # present only on what came through the queue
    try:
        if authenticated is False:
            _refuse(con, request, "unverifiable queue request (no valid signature, replayed or stale)")
            raise AccessDenied("queue request refused: it is not signed with this warehouse's queue key")
        if kind not in KINDS:
            raise InvalidInput(f"unknown request kind {kind!r}")
        if kind == "history":
            out = _history(con, request)
        elif kind == "schedule_list":
            out = _schedule_list(con)
        elif kind == "outbox":
            out = _outbox(con, request)
        else:
            try:
                actor = resolve_actor(con, request)
            except AccessDenied as exc:
                _refuse(con, request, str(exc))
                raise
            if kind == "run":
                out = _run(con, actor, request, progress)
            elif kind == "changes":
                out = _changes(con, actor, request)
            elif kind == "apply":
                out = _apply(con, actor, request, progress)
            elif kind == "undo":
                run = engine.undo(con, actor, request["run_id"], progress)
                out = {"lines": run.summary_lines(), "data": _run_data(run)}
            elif kind == "outbox_send":
                out = _outbox(con, request, send_as=actor)
            elif kind == "task":  # an analysis (registry.TASKS) asked for now: the dashboard's buttons
                out = _task(con, actor, request)
            elif kind == "schedule_add":
                sid = schedules.add_schedule(con, actor, request["job"], request["cron"], request.get("params"),
                                             apply=bool(request.get("apply")))
                out = {"lines": [f"schedule_id={sid}"], "data": {"schedule_id": sid}}
            elif kind == "user_unlock":  # the admin's way in while the dashboard holds the warehouse
                from analytics.access import auth

                name = str(request["username"])
                cleared = auth.unlock(con, actor, name)
                out = {"lines": [f"Account '{name}' unlocked." if cleared else f"'{name}' was not locked."],
                       "data": {"cleared": cleared}}
            else:
                schedules.remove_schedule(con, actor, request["schedule_id"])
                out = {"lines": [f"removed schedule {request['schedule_id']}"], "data": {}}
    except HygieError as exc:
        return {"ok": False, "exit_code": exc.exit_code, "error": str(exc), "lines": [], "data": {},
                "error_code": exc.code, "error_params": {k: _plain(v) for k, v in exc.params.items()}}
    except Exception as exc:  # noqa: BLE001 - reported, the worker keeps serving
        err = JobError(f"{type(exc).__name__}: {exc}")
        return {"ok": False, "exit_code": err.exit_code, "error": str(err), "lines": [], "data": {}}
    return {"ok": True, "exit_code": 0, "error": None, **out}


def _plain(value: object) -> object:
    """A JSON-able error parameter (the answer crosses the queue as JSON)."""
    return value if isinstance(value, (str, int, float, bool)) or value is None else str(value)
