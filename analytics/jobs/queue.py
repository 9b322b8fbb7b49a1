"""A small multi-process-safe request queue beside the warehouse, outside DuckDB.

DuckDB lets one process write a database file. When the dashboard server holds the warehouse,
``hygie jobs ...`` cannot open it; it writes a request to ``<db>.queue.sqlite`` (stdlib
sqlite3, WAL, ``BEGIN IMMEDIATE`` for claims) and waits for the server's job worker to answer.
The worker heartbeats in the same file, so the CLI can tell "locked by a server that will do
the work" from "locked by something else".

Requests are authenticated: :meth:`JobQueue.submit` signs each row with
``HMAC-SHA-256(key, [id, kind, payload, created_at])``, the key being ``<db>.queue.key`` (0600,
``HYGIE_QUEUE_KEY_FILE`` to keep it elsewhere) that only the service account reads.
:meth:`JobQueue.claim` marks each claimed payload with ``_authenticated``: False for a row whose
MAC is missing or wrong (a row written straight into the SQLite file), for a row older than the
worker (a done request set back to 'queued', replayed) and for an id this worker already
claimed. :func:`analytics.jobs.service.execute` refuses those and logs the refusal.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

from analytics.access.keys import load_key
from analytics.errors import JobError
from analytics.messages import english

__all__ = ["JobQueue", "pid_alive", "queue_path"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    payload        TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'queued',   -- queued / running / done
    result         TEXT,
    progress_done  INTEGER,
    progress_total INTEGER,
    client_pid     INTEGER,
    worker_pid     INTEGER,
    created_at     REAL NOT NULL,
    claimed_at     REAL,
    finished_at    REAL,
    mac            TEXT
);
CREATE TABLE IF NOT EXISTS workers (
    pid        INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    heartbeat  REAL NOT NULL
);
"""

#: A worker that has not beaten for this long is considered gone.
HEARTBEAT_STALE_S = 15.0

#: A request created this long before the worker opened the queue is not accepted (replay).
REPLAY_MARGIN_S = 60.0

#: Key marking a claimed payload as verified (set by :meth:`JobQueue.claim`, never by a client).
AUTHENTICATED = "_authenticated"


def key_file(path: str | Path) -> Path:
    """``HYGIE_QUEUE_KEY_FILE``, else ``<db>.queue.key`` beside ``<db>.queue.sqlite``."""
    env = os.environ.get("HYGIE_QUEUE_KEY_FILE")
    if env:
        return Path(env)
    path = Path(path)
    return path.with_name(path.name.removesuffix(".sqlite") + ".key")


def request_mac(key: bytes, request_id: int, kind: str, payload: str, created_at: float) -> str:
    """The MAC a request row must carry."""
    message = json.dumps([int(request_id), kind, payload, repr(float(created_at))], separators=(",", ":"))
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def queue_path(db_path: str | Path) -> Path:
    """``<db>.queue.sqlite`` next to the warehouse file."""
    db = Path(db_path).resolve()
    return db.with_name(db.name + ".queue.sqlite")


def pid_alive(pid: int) -> bool:
    """Whether a process ``pid`` exists on this machine (another account's process counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class JobQueue:
    """Requests from CLI processes to the job worker of the process that owns the warehouse."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.key, _ = load_key(key_file(self.path), "job queue")
        self.opened_at = time.time()
        self._claimed: set[int] = set()
        with closing(self._connect()) as con:
            con.executescript(SCHEMA)
            columns = {row[1] for row in con.execute("PRAGMA table_info(requests)")}
            if "mac" not in columns:  # a queue file made before requests were signed
                con.execute("ALTER TABLE requests ADD COLUMN mac TEXT")
        try:
            os.chmod(self.path, 0o600)  # requests carry who acts: keep them to the owner
        except OSError:
            pass

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA busy_timeout=30000")
        return con

    # ----------------------------------------------------------------- client side

    def submit(self, kind: str, payload: dict[str, Any]) -> int:
        """Queue a signed request; its id."""
        text, created = json.dumps(payload), time.time()
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")  # the row and its MAC appear together
            cur = con.execute(
                "INSERT INTO requests (kind, payload, client_pid, created_at) VALUES (?, ?, ?, ?)",
                [kind, text, os.getpid(), created],
            )
            request_id = int(cur.lastrowid or 0)
            con.execute("UPDATE requests SET mac = ? WHERE id = ?",
                        [request_mac(self.key, request_id, kind, text, created), request_id])
            con.execute("COMMIT")
            return request_id

    def status(self, request_id: int) -> dict[str, Any]:
        with closing(self._connect()) as con:
            con.row_factory = sqlite3.Row
            row = con.execute("SELECT * FROM requests WHERE id = ?", [request_id]).fetchone()
        if row is None:
            raise JobError(f"unknown queue request {request_id}")
        return dict(row)

    def wait(self, request_id: int, timeout: float = 3600.0, poll: float = 0.1,
             on_progress: Any = None) -> dict[str, Any]:
        """Block until the worker answers; the worker's result dict."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            row = self.status(request_id)
            if row["status"] == "done":
                return json.loads(row["result"])
            progress = (row["progress_done"], row["progress_total"])
            if on_progress and progress[1] is not None and progress != last:
                on_progress(*progress)
                last = progress
            if row["status"] == "queued" and self.worker_pid() is None:
                raise JobError(f"request {request_id} is queued but no job worker is running; "
                               "start the dashboard or `hygie jobs worker`")
            if row["status"] == "running" and row["worker_pid"] and not pid_alive(row["worker_pid"]):
                raise JobError(f"the job worker (process {row['worker_pid']}) stopped while running request "
                               f"{request_id}; nothing was applied unless `hygie jobs history` says so")
            if time.monotonic() > deadline:
                raise JobError(f"request {request_id} did not finish within {timeout:.0f} s "
                               f"(status {row['status']}); see `hygie jobs history` later")
            time.sleep(poll)

    # ----------------------------------------------------------------- worker side

    def heartbeat(self, pid: int | None = None) -> None:
        now = time.time()
        with closing(self._connect()) as con:
            con.execute(
                "INSERT INTO workers VALUES (?, ?, ?) ON CONFLICT(pid) DO UPDATE SET heartbeat = excluded.heartbeat",
                [pid or os.getpid(), now, now],
            )

    def retire(self, pid: int | None = None) -> None:
        with closing(self._connect()) as con:
            con.execute("DELETE FROM workers WHERE pid = ?", [pid or os.getpid()])

    def worker_pid(self) -> int | None:
        """The pid of a live worker (recent heartbeat, process alive), if any."""
        with closing(self._connect()) as con:
            rows = con.execute("SELECT pid FROM workers WHERE heartbeat > ? ORDER BY heartbeat DESC",
                               [time.time() - HEARTBEAT_STALE_S]).fetchall()
        for (pid,) in rows:
            if pid_alive(pid):
                return int(pid)
        return None

    def claim(self) -> tuple[int, str, Any] | None:
        """Take the oldest queued request (atomically: BEGIN IMMEDIATE).

        A JSON-object payload comes back with ``_authenticated`` set by this method: whether
        its MAC verifies, it is not older than this queue object, and it was not claimed before.
        """
        with closing(self._connect()) as con:
            con.execute("BEGIN IMMEDIATE")
            row = con.execute("SELECT id, kind, payload, created_at, mac FROM requests WHERE status = 'queued' "
                              "ORDER BY id LIMIT 1").fetchone()
            if row is None:
                con.execute("COMMIT")
                return None
            con.execute("UPDATE requests SET status = 'running', worker_pid = ?, claimed_at = ? WHERE id = ?",
                        [os.getpid(), time.time(), row[0]])
            con.execute("COMMIT")
        try:
            payload = json.loads(row[2])
        except ValueError:
            payload = row[2]  # answered as malformed by the worker, never left 'running'
        if isinstance(payload, dict):
            payload[AUTHENTICATED] = self._verified(*row)
        return int(row[0]), row[1], payload

    def _verified(self, request_id: int, kind: str, payload: str, created_at: float, mac: str | None) -> bool:
        fresh = isinstance(created_at, int | float) and created_at >= self.opened_at - REPLAY_MARGIN_S
        first = request_id not in self._claimed
        self._claimed.add(request_id)
        good = bool(mac) and hmac.compare_digest(str(mac), request_mac(self.key, request_id, str(kind),
                                                                            str(payload), float(created_at or 0)))
        return bool(good and fresh and first)

    def progress(self, request_id: int, done: int, total: int) -> None:
        with closing(self._connect()) as con:
            con.execute("UPDATE requests SET progress_done = ?, progress_total = ? WHERE id = ?",
                        [done, total, request_id])

    def finish(self, request_id: int, result: dict[str, Any]) -> None:
        with closing(self._connect()) as con:
            con.execute("UPDATE requests SET status = 'done', result = ?, finished_at = ? WHERE id = ?",
                        [json.dumps(result, default=str), time.time(), request_id])

    def fail_orphans(self) -> int:
        """Answer requests left 'running' by a worker that died (their run shows as interrupted)."""
        with closing(self._connect()) as con:
            rows = con.execute("SELECT id, worker_pid FROM requests WHERE status = 'running'").fetchall()
        count = 0
        for rid, pid in rows:
            if pid is None or pid == os.getpid() or not pid_alive(pid):
                self.finish(rid, {"ok": False, "exit_code": 5, "lines": [],
                                  "error": english("worker.stopped"), "error_code": "worker.stopped"})
                count += 1
        return count
