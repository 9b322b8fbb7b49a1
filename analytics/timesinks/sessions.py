"""From audit events to sessions and active slices (DuckDB window functions).

Per user, events in time order (``ORDER BY`` in the window, so out-of-order rows do not
matter). Duplicate events — same user, timestamp, activity and document — count once. The gap
from an event to the next one is an *active slice* credited to the current event's activity
when it is at most the idle threshold; a longer gap ends the session and counts nothing, and
the last event of a session is credited nothing.
"""

from __future__ import annotations

import duckdb

from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["build_events", "build_sessions"]

#: Temporary table holding deduplicated events with their gap and session number.
EVENTS_TABLE = "_ts_events"

_EVENTS_SQL = f"""
CREATE OR REPLACE TEMP TABLE {EVENTS_TABLE} AS
WITH norm AS (
    SELECT
        user_id,
        "timestamp" AS ts,
        CASE WHEN lower(trim(activity)) IN ('documentation', 'chart_review', 'orders', 'inbox')
             THEN lower(trim(activity)) ELSE 'other' END AS activity,
        document_id,
        nullif(trim(document_type), '') AS document_type,
        nullif(trim(service), '') AS service
    FROM audit_events
),
dedup AS (
    SELECT user_id, ts, activity, document_id,
           min(document_type) AS document_type, min(service) AS service
    FROM norm
    GROUP BY user_id, ts, activity, document_id
),
ordered AS (
    SELECT *,
        lead(ts) OVER w AS next_ts,
        epoch(lead(ts) OVER w) - epoch(ts) AS gap_s,
        CASE WHEN lag(ts) OVER w IS NULL OR epoch(ts) - epoch(lag(ts) OVER w) > $threshold
             THEN 1 ELSE 0 END AS starts_session
    FROM dedup
    WINDOW w AS (PARTITION BY user_id ORDER BY ts, activity, document_id NULLS FIRST)
)
SELECT *,
    sum(starts_session) OVER (
        PARTITION BY user_id ORDER BY ts, activity, document_id NULLS FIRST
        ROWS UNBOUNDED PRECEDING
    ) AS session_no
FROM ordered
"""  # noqa: S608 - constant table names

_SESSIONS_SQL = f"""
INSERT INTO ts_sessions
SELECT
    user_id || '#' || session_no AS session_id,
    user_id,
    min(ts) AS session_start,
    max(ts) AS session_end,
    coalesce(sum(gap_s) FILTER (WHERE gap_s <= $threshold), 0) / 60 AS active_minutes,
    count(*) AS events,
    $threshold AS idle_threshold_s
FROM {EVENTS_TABLE}
GROUP BY user_id, session_no
"""  # noqa: S608 - constant table names


def build_events(con: duckdb.DuckDBPyConnection, settings: TimeSinkSettings) -> tuple[int, int]:
    """Fill the temporary events table; return (audit rows read, events kept)."""
    con.execute(_EVENTS_SQL, {"threshold": settings.idle_threshold_s})
    read = con.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    kept = con.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0]  # noqa: S608 - constant
    return read, kept


def build_sessions(con: duckdb.DuckDBPyConnection, settings: TimeSinkSettings) -> None:
    """Replace ``ts_sessions`` from the temporary events table."""
    con.execute("DELETE FROM ts_sessions")
    con.execute(_SESSIONS_SQL, {"threshold": settings.idle_threshold_s})
