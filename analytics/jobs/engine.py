"""Preview → apply → undo, with an append-only trace.

* :func:`preview` runs a job without writing data: it stores the change set (rows before →
  after, files to write) and a fingerprint of the job's input tables, in one snapshot.
* :func:`apply` applies exactly that stored change set in ONE DuckDB transaction, refused
  (:class:`StalePreview`) if the fingerprint changed or a row no longer holds its previewed
  value. The run row is committed as ``running`` first, so a crash leaves it ``running`` and
  :func:`mark_interrupted` (called when the warehouse is opened) shows it as interrupted; a
  failure rolls back and is recorded as ``failed``. The same request key applies once.
* :func:`undo` builds the inverse change set from the run's change log and applies it the
  same way, refused with the reason when a later run touched the same rows.

Every SQL statement applies a whole batch of changes (UPDATE ... FROM the change table);
identifiers come from the registry's allow-list and DuckDB's catalog (``duckdb_columns()``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import HygieError, InvalidInput, JobError, StalePreview
from analytics.identity.masking import mask_change_values
from analytics.jobs.changelog import apply_batch, batches, fingerprint, insert_frame, store_changes
from analytics.jobs.registry import (
    TASKS,
    ChangeSet,
    JobContext,
    canonical_json,
    get_job,
    params_to_json,
    parse_params,
)
from analytics.messages import english

__all__ = [
    "Preview",
    "Progress",
    "Run",
    "apply",
    "get_run",
    "history",
    "mark_interrupted",
    "preview",
    "preview_changes",
    "run_changes",
    "undo",
]

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

#: One apply at a time per process: DuckDB would refuse the second on a write conflict anyway,
#: but serialising makes "two runs touching the same rows" end in a clean StalePreview.
_APPLY_LOCK = threading.RLock()

INTERRUPTED_MESSAGE = english("run.interrupted")


@dataclass(frozen=True)
class Preview:
    """A stored change set, ready to be applied by id."""

    preview_id: str
    job: str
    params: dict[str, Any]
    fingerprint: str
    change_count: int
    counts: dict[str, int]
    notes: list[str]
    outputs: list[str]
    created_at: dt.datetime | None = None

    def summary_lines(self) -> list[str]:
        lines = [f"job {self.job}: {self.change_count} row change(s)"]
        lines += [f"  {name}: {value}" for name, value in self.counts.items()]
        lines += [f"  note: {note}" for note in self.notes]
        lines += [f"  file: {name}" for name in self.outputs]
        lines.append(f"preview_id={self.preview_id}")
        return lines


@dataclass(frozen=True)
class Run:
    """The outcome of an apply or an undo."""

    run_id: str
    job: str
    status: str
    rows_changed: int
    message: str | None = None
    output_dir: str | None = None
    outputs: list[str] = field(default_factory=list)
    already_applied: bool = False
    undo_of: str | None = None

    def summary_lines(self) -> list[str]:
        lines = []
        if self.already_applied:
            lines.append(f"already applied by run {self.run_id} (status {self.status}); nothing done")
        elif self.undo_of:
            lines.append(f"undid run {self.undo_of}: {self.rows_changed} row(s) restored")
        else:
            lines.append(f"job {self.job}: {self.status}, {self.rows_changed} row(s) changed")
        if self.message:
            lines.append(f"  {self.message}")
        lines += [f"  file: {p}" for p in self.outputs]
        lines.append(f"run_id={self.run_id}")
        return lines


# --------------------------------------------------------------------------- helpers


def _new_id(prefix: str) -> str:
    return f"{prefix}{dt.datetime.now().strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:8]}"


def _rollback(con: duckdb.DuckDBPyConnection) -> None:
    """Roll back if a transaction is still open (a failed COMMIT has already rolled back)."""
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass


def _now(con: duckdb.DuckDBPyConnection) -> dt.datetime:
    return con.execute("SELECT now()").fetchone()[0]


def access_log(con: duckdb.DuckDBPyConnection, actor: Actor, action: str, obj: str,
                row_count: int | None, detail: dict[str, Any]) -> None:
    """Record the action in the access log when the access module is installed."""
    try:
        from analytics.access import access_log
    except ImportError:
        return
    access_log.record(con, actor, action, obj, row_count=row_count, detail=detail)


# --------------------------------------------------------------------------- preview


def preview(con: duckdb.DuckDBPyConnection, actor: Actor, job: str,
            params: dict[str, Any] | None = None) -> Preview:
    """Compute and store ``job``'s change set without changing any data."""
    require(actor, Permission.JOB_PREVIEW)
    spec = get_job(job)
    parsed = parse_params(spec, params)
    params_json = params_to_json(parsed)
    preview_id = _new_id("p")
    con.execute("BEGIN TRANSACTION")
    try:
        now = _now(con)
        fp = fingerprint(con, spec.name, params_json, spec.reads)
        changes: ChangeSet = spec.fn(JobContext(con, actor, now), parsed)
        store_changes(con, preview_id, changes.changes)
        insert_frame(con, "job_preview_outputs", pd.DataFrame(
            {"preview_id": [preview_id] * len(changes.outputs), "name": [o.name for o in changes.outputs],
             "content": [o.content for o in changes.outputs]}, dtype=object))
        summary = {"counts": changes.counts, "notes": changes.notes, "outputs": [o.name for o in changes.outputs]}
        con.execute(
            "INSERT INTO job_previews VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            [preview_id, spec.name, params_json, actor.username, now, fp, len(changes.changes),
             canonical_json(summary)],
        )
        con.execute("COMMIT")
    except Exception:
        _rollback(con)
        raise
    access_log(con, actor, "job_preview", spec.name, len(changes.changes),
                {"preview_id": preview_id, "params": json.loads(params_json)})
    return Preview(preview_id, spec.name, json.loads(params_json), fp, len(changes.changes),
                   changes.counts, changes.notes, summary["outputs"], now)


def get_preview(con: duckdb.DuckDBPyConnection, preview_id: str) -> Preview:
    row = con.execute(
        "SELECT preview_id, job, params, fingerprint, change_count, summary, created_at, undo_of "
        "FROM job_previews WHERE preview_id = ?",
        [preview_id],
    ).fetchone()
    if row is None:
        raise JobError("preview.unknown", preview=preview_id)
    summary = json.loads(row[5] or "{}")
    return Preview(row[0], row[1], json.loads(row[2] or "{}"), row[3], row[4], summary.get("counts", {}),
                   summary.get("notes", []), summary.get("outputs", []), row[6])


def _require_change_rows(actor: Actor) -> None:
    """Change rows carry patients' before/after values: job preview right and patient data."""
    require(actor, Permission.JOB_PREVIEW)
    require(actor, Permission.VIEW_PATIENT_DATA)


def preview_changes(con: duckdb.DuckDBPyConnection, actor: Actor, preview_id: str, *,
                    limit: int | None = None, offset: int = 0) -> pd.DataFrame:
    """The previewed rows (table, op, key, before, after), for display and export.

    ``limit``/``offset`` page them in DuckDB: a preview at 1M patients holds ~10^6 changes,
    which a page must not read on every rerun to show 50.
    """
    _require_change_rows(actor)
    if (limit is not None and limit < 1) or offset < 0:
        raise InvalidInput(f"limit ({limit}) must be at least 1 and offset ({offset}) not negative")
    frame = con.execute(
        "SELECT seq, table_name, op, row_key, before, after, origin FROM job_preview_changes "
        "WHERE preview_id = $id ORDER BY seq LIMIT $limit OFFSET $offset",
        {"id": preview_id, "limit": limit, "offset": int(offset)},
    ).df()
    access_log(con, actor, "view", "job_preview_changes", len(frame), {"preview_id": preview_id})
    return mask_change_values(frame, actor)


def run_changes(con: duckdb.DuckDBPyConnection, actor: Actor, run_id: str) -> pd.DataFrame:
    """The change log of a run (before and after of every changed row)."""
    _require_change_rows(actor)
    frame = con.execute(
        "SELECT seq, table_name, op, row_key, before, after, origin FROM job_changes "
        "WHERE run_id = ? ORDER BY seq",
        [run_id],
    ).df()
    access_log(con, actor, "view", "job_changes", len(frame), {"run_id": run_id})
    return mask_change_values(frame, actor)


def _output_root(con: duckdb.DuckDBPyConnection, override: str | Path | None) -> Path:
    if override:
        return Path(override)
    env = os.environ.get("HYGIE_JOBS_OUTPUT_DIR")
    if env:
        return Path(env)
    row = con.execute("SELECT value FROM settings WHERE key = 'jobs.output_dir'").fetchone()
    if row and row[0]:
        return Path(row[0])
    db = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()[0]
    if db:
        return Path(db).resolve().parent / "outputs"
    return Path(tempfile.gettempdir()) / "hygie-outputs"


def _execute(con: duckdb.DuckDBPyConnection, actor: Actor, prev: Preview, *, request_key: str | None,
             undo_of: str | None, check_fingerprint: bool, progress: Progress | None,
             output_dir: str | Path | None, batch_size: int, fail_after: int | None,
             stale: Callable[[str], Exception]) -> Run:
    spec = get_job(prev.job)
    run_id = _new_id("r")
    now = _now(con)
    root = _output_root(con, output_dir) / spec.name
    final_dir = root / run_id
    con.execute(
        "INSERT INTO job_runs (run_id, job, params, preview_id, request_key, actor, status, started_at, "
        "undo_of, pid) VALUES (?, ?, ?, ?, ?, ?, 'running', ?, ?, ?)",
        [run_id, spec.name, canonical_json(prev.params), prev.preview_id, request_key, actor.username,
         now, undo_of, os.getpid()],
    )
    tmp_dir: Path | None = None
    written: list[str] = []
    con.execute("BEGIN TRANSACTION")
    try:
        if check_fingerprint:
            current = fingerprint(con, spec.name, canonical_json(prev.params), spec.reads)
            if current != prev.fingerprint:
                raise StalePreview("preview.stale_data", preview=prev.preview_id, job=spec.name)
        todo = batches(con, prev.preview_id, batch_size)
        total = prev.change_count
        done = 0
        if progress:
            progress(0, total)
        for batch in todo:
            done += apply_batch(con, prev.preview_id, batch, stale)
            if fail_after is not None and done >= fail_after:
                raise RuntimeError(f"injected fault after {done} change(s)")
            if progress:
                progress(done, total)
        con.execute(
            "INSERT INTO job_changes SELECT ?, seq, table_name, op, cols, row_key, before, after, origin "
            "FROM job_preview_changes WHERE preview_id = ?",
            [run_id, prev.preview_id],
        )
        outputs = con.execute(
            "SELECT name, content FROM job_preview_outputs WHERE preview_id = ? ORDER BY name", [prev.preview_id]
        ).fetchall()
        if outputs:
            root.mkdir(parents=True, exist_ok=True)
            tmp_dir = Path(tempfile.mkdtemp(prefix=f".{run_id}.", dir=root))
            rows = []
            for name, content in outputs:
                safe = Path(name).name  # never a path chosen by the job's input
                fd = os.open(tmp_dir / safe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # owner-only
                with os.fdopen(fd, "wb") as fh:
                    fh.write(content)
                written.append(str(final_dir / safe))
                rows.append((run_id, str(final_dir / safe), hashlib.sha256(content).hexdigest(), len(content)))
            insert_frame(con, "job_outputs", pd.DataFrame(rows, columns=["run_id", "path", "sha256", "bytes"]))
        if fail_after is not None and done >= fail_after:
            raise RuntimeError(f"injected fault after {done} change(s)")
        if spec.before_commit is not None and not undo_of:
            spec.before_commit(con, prev.preview_id)
        if undo_of:
            con.execute("UPDATE job_runs SET status = 'undone', undone_by = ? WHERE run_id = ?", [run_id, undo_of])
        message = english("undo.done", run=undo_of) if undo_of else None
        con.execute(
            "UPDATE job_runs SET status = 'succeeded', finished_at = now(), rows_changed = ?, message = ?, "
            "output_dir = ? WHERE run_id = ?",
            [total, message, str(final_dir) if outputs else None, run_id],
        )
        con.execute("COMMIT")
    except BaseException as exc:
        _rollback(con)
        if tmp_dir is not None:
            shutil.rmtree(tmp_dir, ignore_errors=True)
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        con.execute(
            "UPDATE job_runs SET status = 'failed', finished_at = now(), rows_changed = 0, message = ? "
            "WHERE run_id = ?",
            [f"{type(exc).__name__}: {text}", run_id],
        )
        if isinstance(exc, HygieError) or not isinstance(exc, Exception):
            raise
        raise JobError("job.failed", job=spec.name, run=run_id, message=text) from exc
    if tmp_dir is not None:
        tmp_dir.rename(final_dir)
    return Run(run_id, spec.name, "succeeded", prev.change_count, message,
               str(final_dir) if written else None, written, False, undo_of)


def _existing_request(con: duckdb.DuckDBPyConnection, request_key: str) -> Run | None:
    row = con.execute(
        "SELECT run_id, job, status, rows_changed, message, output_dir FROM job_runs "
        "WHERE request_key = ? AND status IN ('succeeded', 'undone', 'running') ORDER BY started_at LIMIT 1",
        [request_key],
    ).fetchone()
    if row is None:
        return None
    return Run(row[0], row[1], row[2], row[3] or 0, row[4], row[5], [], True)


def apply(con: duckdb.DuckDBPyConnection, actor: Actor, preview_id: str, progress: Progress | None = None,
          *, request_key: str | None = None, output_dir: str | Path | None = None,
          batch_size: int = 5000, fail_after: int | None = None, expected_fingerprint: str | None = None) -> Run:
    """Apply the stored preview ``preview_id`` exactly, in one transaction.

    ``progress(done, total)`` is called after each batch of ``batch_size`` row changes.
    ``request_key`` (default: the preview id) makes the call idempotent: a second call with
    the same key returns the first run (``already_applied``) and changes nothing.
    ``expected_fingerprint`` is the one of the preview the user confirmed (the dashboard sends it with
    its request): another value refuses the apply as stale.
    ``fail_after`` is a test seam: raise once that many changes are applied.
    """
    require(actor, Permission.JOB_APPLY)
    prev = get_preview(con, preview_id)
    if expected_fingerprint is not None and expected_fingerprint != prev.fingerprint:
        raise StalePreview("preview.stale_not_confirmed", preview=preview_id)
    if _is_undo_preview(con, preview_id):
        raise JobError("preview.of_undo", preview=preview_id)
    key = request_key or preview_id
    with _APPLY_LOCK:
        existing = _existing_request(con, key)
        if existing is not None:
            return existing

        def stale(detail: str) -> Exception:
            return StalePreview("preview.stale", preview=preview_id, message=detail)

        try:
            run = _execute(con, actor, prev, request_key=key, undo_of=None, check_fingerprint=True,
                           progress=progress, output_dir=output_dir, batch_size=batch_size,
                           fail_after=fail_after, stale=stale)
        except Exception as exc:
            access_log(con, actor, "job_apply", prev.job, 0,
                        {"preview_id": preview_id, "status": "failed", "error": str(exc)[:200]})
            raise
    access_log(con, actor, "job_apply", prev.job, run.rows_changed,
                {"run_id": run.run_id, "preview_id": preview_id, "params": prev.params})
    if run.outputs and not run.already_applied:  # files with patient data left the warehouse
        access_log(con, actor, "export", prev.job, len(run.outputs),
                   {"run_id": run.run_id, "output_dir": run.output_dir, "notes": prev.notes})
    return run


def _is_undo_preview(con: duckdb.DuckDBPyConnection, preview_id: str) -> bool:
    row = con.execute("SELECT undo_of FROM job_previews WHERE preview_id = ?", [preview_id]).fetchone()
    return bool(row and row[0])


# --------------------------------------------------------------------------- undo


def get_run(con: duckdb.DuckDBPyConnection, run_id: str) -> dict[str, Any]:
    """One job_runs row as a dict; :class:`JobError` if there is none."""
    cur = con.execute("SELECT * FROM job_runs WHERE run_id = ?", [run_id])
    row = cur.fetchone()
    if row is None:
        raise JobError("run.unknown", run=run_id)
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def undo(con: duckdb.DuckDBPyConnection, actor: Actor, run_id: str, progress: Progress | None = None,
         *, batch_size: int = 5000, fail_after: int | None = None) -> Run:
    """Restore exactly what run ``run_id`` changed (and remove its files when the job says so).

    Refused with the reason when the run did not succeed, was already undone, is itself an
    undo, or a later run changed the same rows (undo that one first).
    """
    require(actor, Permission.JOB_APPLY)
    with _APPLY_LOCK:
        run = get_run(con, run_id)
        if run["job"] in TASKS:
            raise JobError("undo.analysis", run=run_id, job=run["job"])
        spec = get_job(run["job"])
        if run["undo_of"]:
            raise JobError("undo.of_undo", run=run_id, of=run["undo_of"])
        if run["status"] == "undone":
            raise JobError("undo.already", run=run_id, by=run["undone_by"])
        if run["status"] != "succeeded":
            raise JobError("undo.not_succeeded", run=run_id, status=run["status"])
        if not spec.undoable:
            raise JobError("undo.not_undoable", job=spec.name)
        later = con.execute(
            "SELECT DISTINCT r.run_id, r.job, r.started_at FROM job_changes a "
            "JOIN job_changes b ON a.table_name = b.table_name AND a.row_key = b.row_key "
            "JOIN job_runs r ON r.run_id = b.run_id "
            "WHERE a.run_id = $run AND b.run_id <> $run AND r.status = 'succeeded' AND r.undo_of IS NULL "
            "AND r.started_at > $started ORDER BY r.started_at DESC LIMIT 1",
            {"run": run_id, "started": run["started_at"]},
        ).fetchone()
        if later:
            raise JobError("undo.later_run", run=run_id, later=later[0], job=later[1])
        files = con.execute("SELECT path, sha256 FROM job_outputs WHERE run_id = ? ORDER BY path", [run_id]).fetchall()
        if spec.undo_removes_outputs:
            for path, digest in files:
                p = Path(path)
                if p.exists() and hashlib.sha256(p.read_bytes()).hexdigest() != digest:
                    raise JobError("undo.output_modified", run=run_id, path=path)
        undo_pid = _new_id("u")
        now = _now(con)
        count = run["rows_changed"] or 0
        compensation = _compensation(con, actor, run, now)
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "INSERT INTO job_preview_changes SELECT $pid, $max + 1 - seq, table_name, "
                "CASE op WHEN 'insert' THEN 'delete' WHEN 'delete' THEN 'insert' ELSE 'update' END, "
                "cols, row_key, after, before, origin FROM job_changes WHERE run_id = $run",
                {"pid": undo_pid, "max": count, "run": run_id},
            )
            con.execute(
                "INSERT INTO job_previews VALUES (?, ?, ?, ?, ?, '', ?, '{}', ?)",
                [undo_pid, spec.name, run["params"], actor.username, now, count, run_id],
            )
            if compensation:
                insert_frame(con, "job_preview_outputs", pd.DataFrame(
                    {"preview_id": [undo_pid] * len(compensation), "name": [o.name for o in compensation],
                     "content": [o.content for o in compensation]}, dtype=object))
            con.execute("COMMIT")
        except Exception:
            _rollback(con)
            raise
        prev = get_preview(con, undo_pid)

        def stale(detail: str) -> Exception:
            return JobError("undo.changed_outside", run=run_id, message=detail)

        result = _execute(con, actor, prev, request_key=None, undo_of=run_id, check_fingerprint=False,
                          progress=progress, output_dir=None, batch_size=batch_size, fail_after=fail_after,
                          stale=stale)
    removed = []
    if spec.undo_removes_outputs:
        for path, _digest in files:
            p = Path(path)
            if p.exists():
                p.unlink()
                removed.append(path)
        if removed and Path(removed[0]).parent.exists() and not any(Path(removed[0]).parent.iterdir()):
            Path(removed[0]).parent.rmdir()
    elif files:
        kept = (english("undo.sent_kept_compensated", run=run_id, n=len(files), m=len(result.outputs))
                if result.outputs else english("undo.sent_kept", run=run_id, n=len(files)))
        result = Run(result.run_id, result.job, result.status, result.rows_changed, kept, result.output_dir,
                     result.outputs, False, run_id)
    if removed:
        result = Run(result.run_id, result.job, result.status, result.rows_changed,
                     english("undo.removed_files", run=run_id, n=len(removed)), None, [], False, run_id)
    access_log(con, actor, "job_undo", spec.name, result.rows_changed, {"run_id": result.run_id, "undo_of": run_id})
    if result.outputs:  # compensating messages with patient data left the warehouse
        access_log(con, actor, "export", spec.name, len(result.outputs),
                   {"run_id": result.run_id, "output_dir": result.output_dir})
    return result


def _compensation(con: duckdb.DuckDBPyConnection, actor: Actor, run: dict[str, Any], now: dt.datetime) -> list:
    """Undo hook: the messages that carry the undo to the systems the run sent messages to.

    Written beside the undo's other outputs (``<outputs>/<job>/<undo run>/``) when it commits;
    only the identity jobs have some (:func:`analytics.jobs.merge_messages.compensating_outputs`).
    """
    from analytics.jobs.merge_messages import compensating_outputs

    return compensating_outputs(con, run, now=now, operator=actor.username)


# --------------------------------------------------------------------------- history and crashes


def mark_interrupted(con: duckdb.DuckDBPyConnection) -> int:
    """Flip runs left ``running`` by a crashed process to ``interrupted``; call it when opening.

    Safe because DuckDB lets one process write the file: whoever opens it read-write owns every
    run, and a run still ``running`` then died with its transaction (rolled back).
    """
    stuck = con.execute("SELECT run_id, job FROM job_runs WHERE status = 'running'").fetchall()
    if not stuck:
        return 0
    root = _output_root(con, None)
    for run_id, job in stuck:  # files staged before the crash were never published: remove them
        for staged in (root / job).glob(f".{run_id}.*"):
            shutil.rmtree(staged, ignore_errors=True)
    rows = con.execute(
        "UPDATE job_runs SET status = 'interrupted', finished_at = now(), rows_changed = 0, message = ? "
        "WHERE status = 'running'",
        [INTERRUPTED_MESSAGE],
    ).fetchone()
    return int(rows[0]) if rows else 0


def history(con: duckdb.DuckDBPyConnection, limit: int | None = None) -> pd.DataFrame:
    """Job runs, newest first: run_id, job, status, started_at, finished_at, actor, rows_changed, ..."""
    sql = (
        "SELECT run_id, job, status, started_at, finished_at, actor, rows_changed, preview_id, "
        "undo_of, undone_by, message, output_dir, params FROM job_runs ORDER BY started_at DESC, run_id DESC"
    )
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return con.execute(sql).df()
