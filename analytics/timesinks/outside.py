"""Inside or outside scheduled time: split active slices and intersect them in SQL.

Slices are split at local midnight (Europe/Paris, so a 23 h or 25 h day at a clock change is
handled by DuckDB's calendar arithmetic), then each piece is intersected with

* the user's own scheduled sessions (merged when they overlap, clipped to local days) when the
  user has any row in ``schedules``;
* otherwise the clock window (default 08:00–18:00 local) on weekdays that are not public
  holidays (``ts_holidays``, loaded from the ``holidays`` library).

What is not inside is outside ("work outside work", WOW).
"""

from __future__ import annotations

import duckdb
import holidays as holiday_lib

from analytics.errors import InvalidInput
from analytics.timesinks.sessions import EVENTS_TABLE
from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["build_schedule_days", "build_slices", "load_holidays"]

_PIECES_TABLE = "_ts_pieces"

_SCHEDULE_DAYS_SQL = """
INSERT INTO ts_schedule_days
WITH s AS (
    SELECT user_id, "start" AS s, "end" AS e FROM schedules WHERE "end" > "start"
),
o AS (
    SELECT *, max(e) OVER (PARTITION BY user_id ORDER BY s, e
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_e
    FROM s
),
g AS (
    SELECT *, sum(CASE WHEN prev_e IS NULL OR s > prev_e THEN 1 ELSE 0 END)
              OVER (PARTITION BY user_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS grp
    FROM o
),
merged AS (
    SELECT user_id, min(s) AS s, max(e) AS e FROM g GROUP BY user_id, grp
),
days AS (
    SELECT user_id, s, e,
           unnest(generate_series(s::DATE, (e - INTERVAL 1 MICROSECOND)::DATE, INTERVAL 1 DAY))::DATE AS day
    FROM merged
)
SELECT user_id, day,
       greatest(s, day::TIMESTAMPTZ) AS piece_start,
       least(e, (day + 1)::TIMESTAMPTZ) AS piece_end
FROM days
"""

_PIECES_SQL = f"""
CREATE OR REPLACE TEMP TABLE {_PIECES_TABLE} AS
WITH st AS (SELECT user_id, min(service) AS service FROM staff GROUP BY user_id),
raw AS (
    SELECT e.user_id, e.ts AS s, e.next_ts AS e,
           date_trunc('day', e.ts) + INTERVAL 1 DAY AS mid,
           e.activity, e.document_id, e.document_type,
           coalesce(e.service, st.service) AS service
    FROM {EVENTS_TABLE} e LEFT JOIN st USING (user_id)
    WHERE e.gap_s > 0 AND e.gap_s <= $threshold
)
SELECT user_id, s AS ps, least(e, mid) AS pe, activity, document_id, document_type, service
FROM raw
UNION ALL
SELECT user_id, mid AS ps, e AS pe, activity, document_id, document_type, service
FROM raw WHERE e > mid
"""  # noqa: S608 - constant table names

_SLICES_SQL = f"""
INSERT INTO ts_slices
WITH p AS (SELECT *, ps::DATE AS day FROM {_PIECES_TABLE}),
sched_users AS (SELECT DISTINCT user_id FROM ts_schedule_days),
sched_inside AS (
    SELECT p.user_id, p.ps,
           sum(epoch(least(p.pe, d.piece_end)) - epoch(greatest(p.ps, d.piece_start))) AS inside_s
    FROM p JOIN ts_schedule_days d
      ON p.user_id = d.user_id AND p.day = d.day
     AND d.piece_start < p.pe AND d.piece_end > p.ps
    GROUP BY p.user_id, p.ps
),
scored AS (
    SELECT p.*,
        epoch(p.pe) - epoch(p.ps) AS active_s,
        CASE
            WHEN su.user_id IS NOT NULL THEN coalesce(si.inside_s, 0)
            WHEN isodow(p.day) <= 5 AND h.day IS NULL THEN greatest(0.0,
                epoch(least(p.pe, (p.day + $work_end)::TIMESTAMPTZ))
                - epoch(greatest(p.ps, (p.day + $work_start)::TIMESTAMPTZ)))
            ELSE 0.0
        END AS inside_s
    FROM p
    LEFT JOIN sched_users su ON su.user_id = p.user_id
    LEFT JOIN sched_inside si ON si.user_id = p.user_id AND si.ps = p.ps
    LEFT JOIN ts_holidays h ON h.day = p.day
)
SELECT user_id, day, ps, pe, activity, document_id, document_type, service,
       round(active_s, 6), round(active_s - inside_s, 6)
FROM scored
"""  # noqa: S608 - constant table names


def load_holidays(con: duckdb.DuckDBPyConnection, settings: TimeSinkSettings) -> int:
    """Fill ``ts_holidays`` for every year the events and schedules touch; return the count."""
    span = con.execute(
        """SELECT min(y0), max(y1) FROM (
               SELECT year(min("timestamp")) AS y0, year(max("timestamp")) AS y1 FROM audit_events
               UNION ALL SELECT year(min("start")), year(max("end")) FROM schedules)"""
    ).fetchone()
    con.execute("DELETE FROM ts_holidays")
    if span[0] is None:
        return 0
    try:
        calendar = holiday_lib.country_holidays(
            settings.holiday_country,
            subdiv=settings.holiday_subdivision,
            years=range(span[0], span[1] + 1),
        )
    except NotImplementedError as exc:
        raise InvalidInput(f"holiday calendar: {exc}") from None
    rows = sorted(calendar.items())
    if rows:
        con.executemany("INSERT INTO ts_holidays VALUES (?, ?)", [[d, str(n)] for d, n in rows])
    return len(rows)


def build_schedule_days(con: duckdb.DuckDBPyConnection) -> None:
    """Replace ``ts_schedule_days``: merged scheduled sessions clipped to local days."""
    con.execute("DELETE FROM ts_schedule_days")
    con.execute(_SCHEDULE_DAYS_SQL)


def build_slices(con: duckdb.DuckDBPyConnection, settings: TimeSinkSettings) -> None:
    """Replace ``ts_slices`` from the temporary events table (needs schedule days, holidays)."""
    con.execute("DELETE FROM ts_slices")
    con.execute(_PIECES_SQL, {"threshold": settings.idle_threshold_s})
    con.execute(
        _SLICES_SQL,
        {"work_start": settings.workday_start, "work_end": settings.workday_end},
    )
    con.execute(f"DROP TABLE IF EXISTS {_PIECES_TABLE}")
