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


@contextlib.contextmanager
def run_cursor() -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the server's connection for the duration of one script run."""
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
