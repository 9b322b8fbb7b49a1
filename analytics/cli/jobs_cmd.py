"""``hygie jobs``: list, preview/apply, history, undo, schedules, and the worker.

Every command that needs the warehouse opens it directly when it can. When another process
(the dashboard server) holds it, the request is handed to that process's job worker through
the queue beside the warehouse, and the command waits for the answer and prints it.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click

from analytics.cli.common import HygieGroup, api_options, db_path
from analytics.errors import InvalidInput, WarehouseError


def _params(items: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items:
        if "=" not in item:
            raise InvalidInput(f"--param {item!r}: expected KEY=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


def _system_actor() -> dict[str, str]:
    from analytics.access.roles import system_actor

    actor = system_actor()
    return {"username": actor.username, "role": actor.role, "via": "cli"}


def _dispatch(ctx: click.Context, request: dict[str, Any], timeout: float = 3600.0,
              show_progress: bool = False) -> dict[str, Any]:
    """Run ``request`` here, or through the worker of the process holding the warehouse."""
    from analytics.jobs import service
    from analytics.jobs.engine import mark_interrupted
    from analytics.jobs.queue import JobQueue, queue_path
    from analytics.warehouse import connect

    path = Path(db_path(ctx))
    request = {"actor": _system_actor(), **request}

    def progress(done: int, total: int) -> None:
        if show_progress:
            click.echo(f"progress {done}/{total}", err=True)

    try:
        con = connect(path)
    except WarehouseError as exc:
        if "locked" not in str(exc):
            raise
        queue = JobQueue(queue_path(path))
        if queue.worker_pid() is None:
            raise WarehouseError(f"{exc} No job worker answers in that process.") from None
        request_id = queue.submit(request["kind"], {k: v for k, v in request.items() if k != "kind"})
        click.echo(f"warehouse held by another process: handed to its job worker (request {request_id})", err=True)
        return queue.wait(request_id, timeout=timeout, on_progress=progress)
    try:
        mark_interrupted(con)
        return service.execute(con, request, progress)
    finally:
        con.close()


def _finish(result: dict[str, Any]) -> None:
    for line in result.get("lines", []):
        click.echo(line)
    if not result.get("ok"):
        click.echo(f"Error: {result.get('error')}", err=True)
        sys.exit(result.get("exit_code") or 1)


as_option = click.option("--as", "as_user", default=None, metavar="USER",
                         help="Act as this user (role from the users table).")


@click.group(cls=HygieGroup)
def jobs() -> None:
    """Preview, apply, undo and schedule cleanup jobs."""


@jobs.command("list")
def list_() -> None:
    """Show the jobs, what they do and their parameters."""
    from analytics.jobs import list_jobs
    from analytics.jobs.registry import TASKS

    for spec in list_jobs():
        click.echo(f"{spec.name}: {spec.summary}")
        for p in spec.params():
            default = "" if p.default in (None, "") else f" (default {p.default})"
            click.echo(f"    --param {p.name}=<{p.type_name}>{default}  {p.help}")
    click.echo(f"analyses that `hygie jobs schedule add` can also run: {', '.join(sorted(TASKS))}")


@jobs.command()
@click.argument("name")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE", help="A job parameter (repeatable).")
@click.option("--apply", "do_apply", is_flag=True, help="Apply the change set (default: preview only).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (cron, scripts).")
@click.option("--request-key", default=None, help="Idempotency key: the same key applies once.")
@click.option("--timeout", default=3600.0, show_default=True, help="Seconds to wait for the job worker.")
@as_option
@click.pass_context
def run(ctx: click.Context, name: str, params: tuple[str, ...], do_apply: bool, yes: bool,
        request_key: str | None, timeout: float, as_user: str | None) -> None:
    """Preview job NAME (prints preview_id=...), or apply it with --apply --yes (prints run_id=...)."""
    values = _params(params)
    if do_apply and not yes:
        preview = _dispatch(ctx, {"kind": "run", "job": name, "params": values, "as_user": as_user}, timeout)
        _finish(preview)
        if not click.confirm("Apply this change set?", default=False):
            raise click.Abort()
    result = _dispatch(ctx, {"kind": "run", "job": name, "params": values, "apply": do_apply,
                             "request_key": request_key, "as_user": as_user}, timeout, show_progress=do_apply)
    _finish(result)
    if do_apply:
        _send_messages(ctx, result, name, as_user)


@jobs.command()
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), default=None, help="Write the history to FILE.")
@click.option("--dialect", type=click.Choice(["excel-fr", "standard"]), default="excel-fr", show_default=True)
@click.option("--limit", type=int, default=None, help="Only the latest N runs.")
@click.pass_context
def history(ctx: click.Context, csv_file: str | None, dialect: str, limit: int | None) -> None:
    """Show job runs (run_id, job, status, started_at, finished_at, actor, rows_changed)."""
    result = _dispatch(ctx, {"kind": "history", "limit": limit})
    if not result.get("ok") or not csv_file:
        _finish(result)
        return
    _write_csv(result, csv_file, dialect)


@jobs.command()
@click.argument("ident", metavar="PREVIEW_ID|RUN_ID")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False), required=True, help="Write the changes to FILE.")
@click.option("--dialect", type=click.Choice(["excel-fr", "standard"]), default="excel-fr", show_default=True)
@as_option
@click.pass_context
def changes(ctx: click.Context, ident: str, csv_file: str, dialect: str, as_user: str | None) -> None:
    """Export the rows (before → after) of a preview or a run (patient-level: logged)."""
    result = _dispatch(ctx, {"kind": "changes", "id": ident, "as_user": as_user})
    if not result.get("ok"):
        _finish(result)
    _write_csv(result, csv_file, dialect)


def _write_csv(result: dict[str, Any], csv_file: str, dialect: str) -> None:
    import pandas as pd

    from analytics.exports import to_csv_bytes

    frame = pd.DataFrame(result["data"]["rows"], columns=result["data"]["columns"])
    for column in [c for c in frame.columns if str(c).endswith("_at")]:
        # the answer crossed the job queue as JSON: time stamps are ISO text again; written as
        # text they kept their microseconds and ignored the dialect's date format
        frame[column] = pd.to_datetime(frame[column], utc=True, format="ISO8601")
    Path(csv_file).write_bytes(to_csv_bytes(frame, dialect))
    click.echo(f"{len(frame)} row(s) written to {csv_file}")


@jobs.command()
@click.argument("run_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@as_option
@click.pass_context
def undo(ctx: click.Context, run_id: str, yes: bool, as_user: str | None) -> None:
    """Restore exactly what run RUN_ID changed."""
    if not yes and not click.confirm(f"Undo run {run_id}?", default=False):
        raise click.Abort()
    result = _dispatch(ctx, {"kind": "undo", "run_id": run_id, "as_user": as_user}, show_progress=True)
    _finish(result)
    _send_messages(ctx, result, (result.get("data") or {}).get("job", ""), as_user)


def _send_messages(ctx: click.Context, result: dict[str, Any], job: str, as_user: str | None) -> None:
    """After an identity run, send its messages to the configured endpoints (none: files only)."""
    from analytics.messaging.outbox import IDENTITY_JOBS

    run_id = (result.get("data") or {}).get("run_id")
    if job not in IDENTITY_JOBS or not run_id or (result.get("data") or {}).get("already_applied"):
        return
    sent = _dispatch(ctx, {"kind": "outbox_send", "run_id": run_id, "as_user": as_user})
    counts = (sent.get("data") or {}).get("counts") or {}
    if not sent.get("ok"):
        click.echo(f"messages not sent: {sent.get('error')} (hygie jobs outbox --send to retry)", err=True)
    elif counts:
        click.echo("messages: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


@jobs.command()
@click.option("--run", "run_id", default=None, help="Only the messages of this run.")
@click.option("--send", is_flag=True, help="Send the pending messages to the configured endpoints first.")
@as_option
@click.pass_context
def outbox(ctx: click.Context, run_id: str | None, send: bool, as_user: str | None) -> None:
    """Messages of merges, unmerges and their undos: file, pending, sent or refused (see docs/MESSAGING.md)."""
    _finish(_dispatch(ctx, {"kind": "outbox_send" if send else "outbox", "run_id": run_id, "as_user": as_user}))


@jobs.group(cls=HygieGroup)
def schedule() -> None:
    """Schedule jobs (cron expressions, run by the job worker)."""


@schedule.command("add")
@click.argument("name")
@click.option("--cron", required=True, help="Five cron fields in local time, e.g. '0 2 * * *'.")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE")
@click.option("--apply", "do_apply", is_flag=True, help="Apply on each run (default: preview only).")
@as_option
@click.pass_context
def schedule_add(ctx: click.Context, name: str, cron: str, params: tuple[str, ...], do_apply: bool,
                 as_user: str | None) -> None:
    """Schedule job NAME; prints schedule_id=..."""
    _finish(_dispatch(ctx, {"kind": "schedule_add", "job": name, "cron": cron, "params": _params(params),
                            "apply": do_apply, "as_user": as_user}))


@schedule.command("list")
@click.pass_context
def schedule_list(ctx: click.Context) -> None:
    """Show schedules and when they run next."""
    _finish(_dispatch(ctx, {"kind": "schedule_list"}))


@schedule.command("remove")
@click.argument("schedule_id")
@as_option
@click.pass_context
def schedule_remove(ctx: click.Context, schedule_id: str, as_user: str | None) -> None:
    """Remove a schedule."""
    _finish(_dispatch(ctx, {"kind": "schedule_remove", "schedule_id": schedule_id, "as_user": as_user}))


@jobs.command()
@click.option("--poll", default=0.2, show_default=True, help="Seconds between queue polls.")
@click.option("--schedule-every", default=20.0, show_default=True, help="Seconds between schedule checks.")
@api_options
@click.pass_context
def worker(ctx: click.Context, poll: float, schedule_every: float, api_port: int, api_address: str) -> None:
    """Hold the warehouse and run queued requests and schedules (without the dashboard), and the API."""
    from analytics.jobs.worker import start_worker
    from analytics.warehouse import connect

    path = Path(db_path(ctx))
    con = connect(path)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        w = start_worker(con, path, poll=poll, schedule_every=schedule_every)
        api = None
        if api_port:
            from analytics.api.server import start_api

            try:
                api = start_api(con, path, address=api_address, port=api_port)
                click.echo(f"API on http://{api_address}:{api.port}", err=True)
            except WarehouseError as exc:  # the queue still works without it
                click.echo(f"Warning: {exc}; running without the API", err=True)
        click.echo(f"job worker ready on {path} (pid {os.getpid()})", err=True)
        sys.stderr.flush()
        while not stop.is_set() and w.is_alive():
            stop.wait(0.5)
        if api is not None:
            api.stop()
        w.stop()
    finally:
        con.close()
