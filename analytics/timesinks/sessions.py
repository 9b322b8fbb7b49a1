"""From audit events to sessions (DuckDB window functions over compact keys).

Per user, events in time order (``ORDER BY`` in the window, so out-of-order rows do not
matter). The gap from an event to the next one is active time credited to the current event's
activity when it is at most the idle threshold; a longer gap ends the session and counts
nothing, and the last event of a session is credited nothing.

Duplicates — same user, timestamp, activity and document — sort next to each other (the
window orders by a hash of activity and document after the time): the gap from an event to
its twin is 0, so the pair is credited once, and ``dense_rank`` counts it once.

For speed on 10 M rows the window sorts only integers (user number, epoch microseconds,
hash); the event's other columns are fetched back by position (``POSITIONAL JOIN``) in
:mod:`analytics.timesinks.outside`. A session's active time is its last event minus its
first: every gap inside a session is at most the threshold and credited in full.
"""

from __future__ import annotations

import duckdb

from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["ACTIVITY_SQL", "build_events", "build_sessions"]

USERS_TABLE = "_ts_users"
ORDER_TABLE = "_ts_order"

#: Normalised activity of an ``audit_events`` row ``a``.
ACTIVITY_SQL = """CASE WHEN lower(trim(a.activity)) IN ('documentation', 'chart_review', 'orders', 'inbox')
             THEN lower(trim(a.activity)) ELSE 'other' END"""

_USERS_SQL = f"""
CREATE OR REPLACE TEMP TABLE {USERS_TABLE} AS
SELECT e.user_id, CAST(row_number() OVER (ORDER BY e.user_id) AS INTEGER) AS uid,
       nullif(trim(st.service), '') AS home_service
FROM (SELECT DISTINCT user_id FROM audit_events) e
LEFT JOIN (SELECT user_id, min(service) AS service FROM staff GROUP BY user_id) st USING (user_id)
"""  # noqa: S608 - constant table names

_ORDER_SQL = f"""
CREATE OR REPLACE TEMP TABLE {ORDER_TABLE} AS
WITH n AS (
    SELECT a.rowid AS rid, u.uid, epoch_us(a."timestamp") AS t,
           hash({ACTIVITY_SQL}, a.document_id) AS h
    FROM audit_events a JOIN {USERS_TABLE} u USING (user_id)
)
SELECT rid, uid, t,
    lead(t) OVER w - t AS gap_us,
    (lag(t) OVER w IS NULL OR t - lag(t) OVER w > $threshold_us) AS is_start,
    dense_rank() OVER w AS drank
FROM n
WINDOW w AS (PARTITION BY uid ORDER BY t, h)
"""  # noqa: S608 - constant table names

_SESSIONS_SQL = f"""
INSERT INTO ts_sessions
WITH b AS (
    SELECT uid, t, drank, is_start, coalesce(gap_us > $threshold_us, TRUE) AS is_end
    FROM {ORDER_TABLE}
    WHERE is_start OR gap_us IS NULL OR gap_us > $threshold_us
),
p AS (
    SELECT *,
        lag(t) OVER v AS prev_t, lag(drank) OVER v AS prev_drank,
        sum(CAST(is_start AS INTEGER)) OVER (v ROWS UNBOUNDED PRECEDING) AS session_no
    FROM b
    WINDOW v AS (PARTITION BY uid ORDER BY t, drank, is_end)
),
s AS (
    SELECT uid, session_no, t AS end_t,
           CASE WHEN is_start THEN t ELSE prev_t END AS start_t,
           drank - CASE WHEN is_start THEN drank ELSE prev_drank END + 1 AS events
    FROM p WHERE is_end
)
SELECT u.user_id || '#' || s.session_no, u.user_id,
       to_timestamp(start_t / 1e6), to_timestamp(end_t / 1e6),
       (end_t - start_t) / 6e7, events, $threshold_s
FROM s JOIN {USERS_TABLE} u USING (uid)
"""  # noqa: S608 - constant table names


def _params(settings: TimeSinkSettings) -> dict:
    return {"threshold_us": settings.idle_threshold_s * 1_000_000}


def build_events(con: duckdb.DuckDBPyConnection, settings: TimeSinkSettings) -> tuple[int, int]:
    """Fill the temporary user and order tables; return (audit rows, distinct events)."""
    con.execute(_USERS_SQL)
    con.execute(_ORDER_SQL, _params(settings))
    read, kept = con.execute(
        f"""SELECT coalesce(sum(n), 0), coalesce(sum(d), 0) FROM (
                SELECT count(*) AS n, max(drank) AS d FROM {ORDER_TABLE} GROUP BY uid)"""  # noqa: S608
    ).fetchone()
    return int(read), int(kept)


def build_sessions(con: duckdb.DuckDBPyConnection, settings: TimeSinkSettings) -> None:
    """Replace ``ts_sessions`` from the temporary order table."""
    con.execute("DELETE FROM ts_sessions")
    con.execute(_SESSIONS_SQL, _params(settings) | {"threshold_s": settings.idle_threshold_s})
