"""From audit events to sessions (DuckDB window functions over compact keys).

Per user, events in time order (``ORDER BY`` in the window, so out-of-order rows do not
matter). The gap from an event to the next one is active time credited to the current event's
activity when it is at most the idle threshold; a longer gap ends the session and counts
nothing, and the last event of a session is credited nothing.

Duplicates — same user, timestamp, activity, document, document type and service — sort next
to each other (the window orders by those after the time): the gap from an event to its twin
is 0, so the pair is credited once, and ``dense_rank`` counts it once. Events of one user at
the same microsecond that differ otherwise are ordered by those values, not by a hash, so that
DuckDB and Spark (:mod:`analytics.engines`) credit the gap after them to the same activity.

The steps are ``SELECT`` statements run by an engine (:mod:`analytics.engines.base`): DuckDB's
temporary tables, or cached Spark views from the same SQL transpiled. The same pass marks
runs of contiguous active slices with the same event attributes on one local day, so :mod:`analytics.timesinks.outside` scores and attributes runs (a few per
hundred events) instead of single slices, and fetches the event columns only for each run's
first event. A session's active time is its last event minus its
first: every gap inside a session is at most the threshold and credited in full.
"""

from __future__ import annotations

from analytics.engines.base import Engine
from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["ACTIVITY_JOIN", "ACTIVITY_SQL", "build_events", "build_sessions"]

USERS_TABLE = "_ts_users"
ORDER_TABLE = "_ts_order"

ACTIVITY_TABLE = "_ts_activity"

#: Activity of an ``audit_events`` row ``a`` joined to the activity table as ``m``
#: (:data:`ACTIVITY_JOIN`): the DSI's ``activity_map`` decides (document type, else action
#: code, else the source's activity column); anything unmapped counts as ``other``.
ACTIVITY_SQL = "coalesce(m.activity, 'other')"
ACTIVITY_JOIN = f"LEFT JOIN {ACTIVITY_TABLE} m ON m.k = hash(a.activity, a.action, a.document_type)"

# One row per distinct (activity, action, document type) of the log — a few hundred at most —
# with the activity the map gives it, so the 10 M-row pass is one integer hash join.
_ACTIVITY_TABLE_SQL = """
WITH c AS (SELECT DISTINCT activity, action, document_type FROM audit_events),
r AS (
    SELECT c.*,
           coalesce(
               (SELECT min(m.activity) FROM activity_map m
                WHERE m.field = 'document_type' AND m.value = lower(trim(c.document_type))),
               (SELECT min(m.activity) FROM activity_map m
                WHERE m.field = 'action' AND m.value = lower(trim(c.action))),
               (SELECT min(m.activity) FROM activity_map m
                WHERE m.field = 'activity' AND m.value = lower(trim(c.activity)))) AS mapped
    FROM c
)
SELECT hash(activity, action, document_type) AS k,
       CASE WHEN mapped IN ('documentation', 'chart_review', 'orders', 'inbox') THEN mapped
            ELSE 'other' END AS activity
FROM r
"""  # noqa: S608 - constant table names

_USERS_SQL = """
SELECT e.user_id, CAST(row_number() OVER (ORDER BY e.user_id) AS INTEGER) AS uid,
       nullif(trim(st.service), '') AS home_service, p.plan_first, p.plan_last
FROM (SELECT DISTINCT user_id FROM audit_events) e
LEFT JOIN (SELECT user_id, min(service) AS service FROM staff GROUP BY user_id) st USING (user_id)
LEFT JOIN (SELECT user_id, min(day) AS plan_first, max(day) AS plan_last
           FROM ts_schedule_days GROUP BY user_id) p USING (user_id)
"""  # noqa: S608 - constant table names

HOURS_TABLE = "_ts_hours"
US_PER_HOUR = 3_600_000_000

# One row per event: window over user number, epoch µs, then the event's values for ties. Besides the
# session flags it marks where *runs* start and end: consecutive active slices of one user on
# the same local day (of their start) with the same mapped activity, document, document type and
# service (hash ``k``; runs hold active rows only, so their dense ranks are distinct), so the slices can be scored and attributed per run instead of per
# event. A run's slices are contiguous, so its outside time is the sum of theirs. Only the
# rows that start or end a session or a run are kept (a few per hundred events).
_ORDER_SQL = f"""
WITH n AS (
    SELECT a.rowid AS rid, u.uid, epoch_us(a."timestamp") AS t,
           {ACTIVITY_SQL} AS act, a.document_id AS doc, a.document_type AS dtype, a.service AS svc,
           hash({ACTIVITY_SQL}, a.document_id, a.document_type, a.service, hr.day) AS k
    FROM audit_events a JOIN {USERS_TABLE} u USING (user_id)
    {ACTIVITY_JOIN}
    JOIN {HOURS_TABLE} hr ON hr.hb = epoch_us(a."timestamp") // {US_PER_HOUR}
),
w AS (
    SELECT rid, uid, t, k,
        lead(t) OVER w - t AS gap_us,
        t - lag(t) OVER w AS prev_gap_us,
        lead(t, 2) OVER w - lead(t) OVER w AS next_gap_us,
        lag(k) OVER w AS prev_k, lead(k) OVER w AS next_k,
        dense_rank() OVER w AS drank
    FROM n
    WINDOW w AS (PARTITION BY uid ORDER BY t, act, doc NULLS FIRST, dtype NULLS FIRST,
                 svc NULLS FIRST)
),
f AS (
    SELECT *,
        gap_us > 0 AND gap_us <= $threshold_us AS active,
        coalesce(prev_gap_us > 0 AND prev_gap_us <= $threshold_us AND prev_k = k,
                 FALSE) AS joins_prev,
        coalesce(next_gap_us > 0 AND next_gap_us <= $threshold_us AND next_k = k,
                 FALSE) AS joins_next
    FROM w
)
SELECT rid, uid, t, gap_us, drank,
    (prev_gap_us IS NULL OR prev_gap_us > $threshold_us) AS is_start,
    coalesce(active AND NOT joins_prev, FALSE) AS run_start,
    coalesce(active AND NOT joins_next, FALSE) AS run_end
FROM f
WHERE prev_gap_us IS NULL OR prev_gap_us > $threshold_us OR gap_us IS NULL OR gap_us > $threshold_us
   OR (active AND NOT (joins_prev AND joins_next))
"""  # noqa: S608 - constant table names

_SESSIONS_SQL = f"""
WITH b AS (
    SELECT uid, t, drank, is_start, coalesce(gap_us > $threshold_us, TRUE) AS is_end
    FROM {ORDER_TABLE}
    WHERE is_start OR gap_us IS NULL OR gap_us > $threshold_us
),
p AS (
    SELECT *,
        lag(t) OVER v AS prev_t, lag(drank) OVER v AS prev_drank,
        sum(CAST(is_start AS INTEGER)) OVER (PARTITION BY uid ORDER BY t, drank, is_end
                                             ROWS UNBOUNDED PRECEDING) AS session_no
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


def build_events(engine: Engine, settings: TimeSinkSettings) -> tuple[int, int]:
    """Stage the activity, user and order tables (needs ``ts_schedule_days``); return
    (audit rows, distinct events)."""
    engine.stage(ACTIVITY_TABLE, _ACTIVITY_TABLE_SQL)
    engine.stage(USERS_TABLE, _USERS_SQL)
    engine.stage(ORDER_TABLE, _ORDER_SQL, _params(settings))
    # every user's last event ends a session, so it is kept with its dense rank
    read = engine.row("SELECT count(user_id) FROM audit_events")[0]
    kept = engine.row(
        f"SELECT coalesce(sum(d), 0) FROM (SELECT max(drank) AS d FROM {ORDER_TABLE} GROUP BY uid)"  # noqa: S608
    )[0]
    return int(read), int(kept)


def build_sessions(engine: Engine, settings: TimeSinkSettings) -> None:
    """Replace ``ts_sessions`` from the staged order table."""
    engine.fill("ts_sessions", _SESSIONS_SQL, _params(settings) | {"threshold_s": settings.idle_threshold_s})
