"""Server-wide resources: the warehouse connection and the job worker.

The Streamlit server process holds the one read-write DuckDB connection
(``st.cache_resource``); a DuckDB connection is not thread-safe, so every script run works on
its own ``cursor()``, opened by :func:`run_cursor` in ``app.py`` and reached by pages
through :func:`con`.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
import time
from collections.abc import Iterator

import duckdb
import streamlit as st

from analytics.errors import WarehouseError
from analytics.importing import mark_interrupted_imports
from analytics.jobs import worker
from analytics.warehouse import connect

__all__ = ["con", "data_version", "run_cursor", "start_worker"]

log = logging.getLogger("hygie.dashboard")

_current: contextvars.ContextVar[duckdb.DuckDBPyConnection | None] = contextvars.ContextVar(
    "hygie_cursor", default=None
)


def db_path() -> str:
    """The warehouse file served by this process (``HYGIE_DB``, set by ``hygie serve``)."""
    path = os.environ.get("HYGIE_DB")
    if not path:
        raise WarehouseError("HYGIE_DB is not set")
    return path


@st.cache_resource(show_spinner=False)
def _connection(path: str) -> duckdb.DuckDBPyConnection:
    con = connect(path)
    # This process now holds the warehouse: an import still 'running' was cut short by a crash.
    mark_interrupted_imports(con)
    return con


def root_connection() -> duckdb.DuckDBPyConnection:
    """The server's connection itself, for work outside a script run (deferred downloads).

    Callers take their own ``cursor()`` from it and close it when done.
    """
    return _connection(db_path())


#: Seconds a file made by a deferred download stays servable (see :func:`keep_deferred_downloads`).
DOWNLOAD_GRACE_S = 120.0


def keep_deferred_downloads(manager: object, grace_s: float = DOWNLOAD_GRACE_S) -> None:
    """Keep the file a deferred ``st.download_button`` generates for ``grace_s`` seconds.

    Streamlit (1.67) stores that file referenced by no session, and every script run that
    finishes anywhere on the server sweeps unreferenced files: the first sweep marks it, the
    second deletes it. With a few users working at once, two other sessions' reruns can land
    between the click and the browser's ``GET /media/<id>``, which then answers 404 and the
    download fails (seen with 20 sessions in ``benchmarks/bench_load.py``). Wrapping the
    runtime's media file manager, each sweep un-marks such files while they are fresh.
    """
    if getattr(manager, "_hygie_download_grace", None) is not None:
        return
    fresh: dict[str, float] = {}
    guard = threading.Lock()
    execute, sweep = manager.execute_deferred, manager.remove_orphaned_files
    metadata = manager._file_metadata  # noqa: SLF001 - the marks live there, no public accessor

    def keep(now: float) -> None:
        for file_id, born in list(fresh.items()):
            meta = metadata.get(file_id)
            if meta is None or now - born > grace_s:
                del fresh[file_id]
            else:
                meta._is_marked_for_delete = False  # noqa: SLF001

    def execute_deferred(file_id: str) -> str:
        url = execute(file_id)
        with guard:
            fresh[url.rsplit("/", 1)[-1].split(".", 1)[0]] = time.monotonic()
            keep(time.monotonic())
        return url

    def remove_orphaned_files() -> None:
        with guard:  # one sweep at a time, so none deletes between another's mark and keep()
            sweep()
            keep(time.monotonic())

    manager.execute_deferred = execute_deferred
    manager.remove_orphaned_files = remove_orphaned_files
    manager._hygie_download_grace = grace_s


@st.cache_resource(show_spinner=False)
def _download_grace() -> bool:
    """Install :func:`keep_deferred_downloads` on this server's runtime (once per process)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():  # AppTest and bare runs have no media endpoint
        return False
    keep_deferred_downloads(Runtime.instance().media_file_mgr)
    return True


@contextlib.contextmanager
def run_cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the server's connection for the duration of one script run."""
    _download_grace()
    cursor = _connection(db_path()).cursor()
    cursor.execute("SET TimeZone = 'Europe/Paris'")
    token = _current.set(cursor)
    try:
        yield cursor
    finally:
        _current.reset(token)
        cursor.close()


def con() -> duckdb.DuckDBPyConnection:
    """This script run's cursor (a fresh one for fragment reruns, which skip ``app.py``)."""
    cursor = _current.get()
    if cursor is None:
        cursor = _connection(db_path()).cursor()
        _current.set(cursor)
    return cursor


_MARKER_SQL = """
SELECT concat_ws('|',
    (SELECT max(coalesce(finished_at, started_at))::VARCHAR FROM imports),
    (SELECT count(*)::VARCHAR FROM imports),
    (SELECT max(coalesce(finished_at, started_at))::VARCHAR FROM job_runs),
    (SELECT count(*)::VARCHAR FROM job_runs),
    (SELECT max(coalesce(finished_at, started_at))::VARCHAR FROM match_runs),
    (SELECT count(*)::VARCHAR FROM pair_reviews),
    (SELECT max(updated_at)::VARCHAR FROM settings)
)
"""


def data_version(cursor: duckdb.DuckDBPyConnection | None = None) -> str:
    """A marker that changes whenever the warehouse's content changes.

    Cached aggregates take it as an argument, so that an import, a job run, a match run or
    a review invalidates them without a timer.
    """
    row = (cursor or con()).execute(_MARKER_SQL).fetchone()
    return row[0] if row else ""


@st.cache_resource(show_spinner=False)
def start_worker(path: str) -> object | None:
    """Start the job worker thread once per server process (queued CLI requests, schedules).

    It works on its own cursor of the server's connection and marks crashed runs interrupted.
    """
    try:
        return worker.start_worker(_connection(path), path)
    except Exception:  # the dashboard still serves reads without a worker
        log.exception("job worker did not start")
        return None
