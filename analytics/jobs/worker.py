"""The job worker: a thread of the process that owns the warehouse.

It answers requests queued by CLI processes (:mod:`analytics.jobs.queue`) and runs due
schedules. It works on its own cursor of the owner's connection (a DuckDB connection is not
thread-safe; cursors are). A failing job is recorded and the worker goes on.

The dashboard starts it once per server, next to its cached connection::

    @st.cache_resource
    def warehouse():
        con = connect(path)
        start_worker(con, path)   # also flips crashed runs to 'interrupted'
        return con
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import duckdb

from analytics.config import TIMEZONE
from analytics.errors import JobError
from analytics.jobs import engine, schedules, service
from analytics.jobs.queue import JobQueue, queue_path

__all__ = ["JobWorker", "start_worker"]

log = logging.getLogger(__name__)


class JobWorker(threading.Thread):
    """Polls the queue every ``poll`` seconds and schedules every ``schedule_every`` seconds."""

    def __init__(self, con: duckdb.DuckDBPyConnection, db_path: str | Path, *, poll: float = 0.2,
                 schedule_every: float = 20.0) -> None:
        super().__init__(name="hygie-job-worker", daemon=True)
        self.cursor = con.cursor()
        # Settings are per connection: a cursor does not inherit the owner's time zone.
        self.cursor.execute(f"SET TimeZone = '{TIMEZONE}'")
        self.queue = JobQueue(queue_path(db_path))
        self.poll = poll
        self.schedule_every = schedule_every
        self._stop_event = threading.Event()
        self.handled = 0
        self.failed = 0

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_event.set()
        self.join(timeout)

    def step(self) -> bool:
        """Answer one queued request if there is one; True if one was handled.

        Whatever happens while handling it, the request gets an answer (its client is not left
        waiting on a request stuck 'running') and no transaction stays open on the cursor.
        """
        claimed = self.queue.claim()
        if claimed is None:
            return False
        request_id, kind, payload = claimed

        def progress(done: int, total: int) -> None:
            self.queue.progress(request_id, done, total)

        try:
            if not isinstance(payload, dict):
                raise JobError(f"request {request_id}: the payload is not a JSON object")
            result = service.execute(self.cursor, {**payload, "kind": kind}, progress)
        except BaseException as exc:  # noqa: BLE001 - answered, then the worker goes on
            result = {"ok": False, "exit_code": JobError.exit_code, "lines": [], "data": {},
                      "error": f"{type(exc).__name__}: {exc}"}
            log.exception("job request %s crashed", request_id)
            if not isinstance(exc, Exception):
                self.queue.finish(request_id, result)
                raise
        finally:
            _close_transaction(self.cursor)
        self.queue.finish(request_id, result)
        self.handled += 1
        if not result["ok"]:
            self.failed += 1
            log.warning("job request %s failed: %s", request_id, result["error"])
        return True

    def run(self) -> None:
        self.queue.fail_orphans()
        last_schedule = 0.0
        last_beat = 0.0
        try:
            while not self._stop_event.is_set():
                now = time.monotonic()
                if now - last_beat >= 2.0:
                    self.queue.heartbeat()
                    last_beat = now
                try:
                    busy = self.step()
                    if now - last_schedule >= self.schedule_every:
                        last_schedule = now
                        for res in schedules.run_due(self.cursor):
                            log.info("schedule %s (%s): %s %s", res.schedule_id, res.job, res.status, res.message)
                except Exception:  # keep serving whatever happens to one request
                    log.exception("job worker step failed")
                    busy = False
                if not busy:
                    self._stop_event.wait(self.poll)
        finally:
            self.queue.retire(os.getpid())
            self.cursor.close()


def _close_transaction(cursor: duckdb.DuckDBPyConnection) -> None:
    """Roll back a transaction a failed request may have left open (none is the usual case)."""
    try:
        cursor.execute("ROLLBACK")
    except duckdb.Error:
        pass


_started: dict[str, JobWorker] = {}
_lock = threading.Lock()


def start_worker(con: duckdb.DuckDBPyConnection, db_path: str | Path, **kwargs: float) -> JobWorker:
    """Start (once per warehouse and process) the worker thread; mark crashed runs interrupted."""
    key = str(Path(db_path).resolve())
    with _lock:
        worker = _started.get(key)
        if worker is not None and worker.is_alive():
            return worker
        cur = con.cursor()
        try:
            engine.mark_interrupted(cur)
        finally:
            cur.close()
        worker = JobWorker(con, db_path, **kwargs)
        worker.queue.heartbeat()  # visible to CLI processes at once
        worker.start()
        _started[key] = worker
        return worker
