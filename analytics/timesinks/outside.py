"""Inside or outside scheduled time: split active slices and intersect them in SQL.

Slices are split at local midnight (Europe/Paris; a 23 h or 25 h day at a clock change comes
from DuckDB's calendar arithmetic, done once per hour in a small table), then

* for a user with any row in ``schedules``: the part of each piece that overlaps their
  scheduled sessions (merged when they overlap, clipped to local days) is inside, the rest
  outside (a piece crossing a session boundary is thus split there); a day without a
  scheduled session is all outside;
* otherwise: the part within the clock window (default 08:00–18:00 local) on weekdays that are
  not public holidays (``ts_holidays``, from the ``holidays`` library) is inside.

What is not inside is outside ("work outside work", WOW).
"""

from __future__ import annotations

import duckdb
import holidays as holiday_lib

from analytics.errors import InvalidInput
from analytics.timesinks.sessions import ACTIVITY_SQL, ORDER_TABLE, USERS_TABLE
from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["build_schedule_days", "build_slices", "load_holidays"]

SCORED_TABLE = "_ts_scored"
_GAPS_TABLE = "_ts_gaps"
_HOURS_TABLE = "_ts_hours"
_SCHED_TABLE = "_ts_sched"
_US_PER_HOUR = 3_600_000_000

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

# Every UTC hour the events touch -> its local day, the day's end, and the clock-rule window.
# Clock changes happen on whole UTC hours, so this small table replaces per-row time-zone
# conversions (the slow part on 10 M rows) with an integer join.
_HOURS_SQL = f"""
CREATE OR REPLACE TEMP TABLE {_HOURS_TABLE} AS
WITH r AS (
    SELECT min(t) // {_US_PER_HOUR} AS h0, max(t) // {_US_PER_HOUR} + 2 AS h1 FROM {ORDER_TABLE}
),
hb AS (SELECT unnest(range(h0, h1 + 1)) AS hb FROM r WHERE h0 IS NOT NULL),
d AS (SELECT hb, CAST(to_timestamp(hb * 3600) AS DATE) AS day FROM hb)
SELECT d.hb, d.day,
       epoch_us(CAST(d.day + 1 AS TIMESTAMPTZ)) AS day_end,
       isodow(d.day) <= 5 AND hol.day IS NULL AS workday,
       epoch_us(CAST(d.day + $work_start AS TIMESTAMPTZ)) AS work_start,
       epoch_us(CAST(d.day + $work_end AS TIMESTAMPTZ)) AS work_end
FROM d LEFT JOIN ts_holidays hol ON hol.day = d.day
"""  # noqa: S608 - constant table names

# Scheduled sessions per user and local day as a short list, so the overlap of an active piece
# with them is a list expression (an equi-join on user and day, no range join).
_SCHED_SQL = f"""
CREATE OR REPLACE TEMP TABLE {_SCHED_TABLE} AS
WITH l AS (
    SELECT u.uid, s.day,
           list({{'i0': epoch_us(s.piece_start), 'i1': epoch_us(s.piece_end)}}
                ORDER BY s.piece_start) AS sessions
    FROM ts_schedule_days s JOIN {USERS_TABLE} u USING (user_id)
    GROUP BY u.uid, s.day
)
SELECT uid, day,
       sessions[1].i0 AS a0, sessions[1].i1 AS a1,
       coalesce(sessions[2].i0, 0) AS b0, coalesce(sessions[2].i1, 0) AS b1,
       CASE WHEN len(sessions) > 2 THEN sessions[3:] END AS rest
FROM l
"""  # noqa: S608 - constant table names

def _outside(ps: str, pe: str, n: int) -> str:
    """Outside microseconds of piece ``n`` (``[ps, pe)``), from its day's clock window or the
    user's scheduled sessions that day (``sess{n}``)."""
    # the first two sessions of the day as scalars (the usual case), any further ones as a list
    return f"""CASE
        WHEN scheduled THEN ({pe} - {ps})
            - greatest(0, least({pe}, a1_{n}) - greatest({ps}, a0_{n}))
            - greatest(0, least({pe}, b1_{n}) - greatest({ps}, b0_{n}))
            - CASE WHEN rest{n} IS NULL THEN 0 ELSE coalesce(list_sum(list_transform(rest{n},
                lambda x: greatest(0, least({pe}, x.i1) - greatest({ps}, x.i0)))), 0) END
        WHEN NOT wd{n} THEN {pe} - {ps}
        ELSE ({pe} - {ps}) - greatest(0, least({pe}, we{n}) - greatest({ps}, ws{n}))
    END"""


# Narrow per-event rows, in rowid order (so the events' own columns can come back by
# position): each active slice as at most two pieces, split at local midnight, with the
# active and outside microseconds of each. Only integers travel through the joins.
_GAPS_SQL = f"""
CREATE OR REPLACE TEMP TABLE {_GAPS_TABLE} AS
WITH g AS (
    SELECT rid, uid, t AS s,
           CASE WHEN gap_us > 0 AND gap_us <= $threshold_us THEN t + gap_us END AS e
    FROM {ORDER_TABLE}
),
h AS (
    SELECT g.*, h0.day AS day0, h0.day_end, h0.workday AS wd0, h0.work_start AS ws0,
           h0.work_end AS we0
    FROM g LEFT JOIN {_HOURS_TABLE} h0 ON h0.hb = g.s // {_US_PER_HOUR} AND g.e IS NOT NULL
),
p AS (
    SELECT h.*, least(h.e, h.day_end) AS pe0, CASE WHEN h.e > h.day_end THEN h.e END AS pe1,
           h1.day AS day1, h1.workday AS wd1, h1.work_start AS ws1, h1.work_end AS we1
    FROM h LEFT JOIN {_HOURS_TABLE} h1 ON h1.hb = h.day_end // {_US_PER_HOUR} AND h.e > h.day_end
),
x AS (
    SELECT p.*, su.uid IS NOT NULL AS scheduled,
           coalesce(i0.a0, 0) AS a0_0, coalesce(i0.a1, 0) AS a1_0, coalesce(i0.b0, 0) AS b0_0, coalesce(i0.b1, 0) AS b1_0,
           i0.rest AS rest0,
           coalesce(i1.a0, 0) AS a0_1, coalesce(i1.a1, 0) AS a1_1, coalesce(i1.b0, 0) AS b0_1, coalesce(i1.b1, 0) AS b1_1,
           i1.rest AS rest1
    FROM p
    LEFT JOIN (SELECT DISTINCT uid FROM {_SCHED_TABLE}) su ON su.uid = p.uid
    LEFT JOIN {_SCHED_TABLE} i0 ON i0.uid = p.uid AND i0.day = p.day0
    LEFT JOIN {_SCHED_TABLE} i1 ON i1.uid = p.uid AND i1.day = p.day1
)
SELECT rid, uid, s, pe0, day0, pe0 - s AS a0, {_outside("s", "pe0", 0)} AS o0,
       day_end, pe1, day1, pe1 - day_end AS a1, {_outside("day_end", "pe1", 1)} AS o1
FROM x ORDER BY rid
"""  # noqa: S608 - constant table names

# The events' own columns come back by position: _ts_gaps is in rowid order, as a scan is.
_POSITIONAL = f"audit_events a POSITIONAL JOIN {_GAPS_TABLE} g"
_BY_ROWID = f"audit_events a JOIN {_GAPS_TABLE} g ON a.rowid = g.rid"

_SCORED_SQL = f"""
CREATE OR REPLACE TEMP TABLE {SCORED_TABLE} AS
WITH r AS NOT MATERIALIZED (
    SELECT g.*, {ACTIVITY_SQL} AS activity, a.document_id,
           nullif(trim(a.document_type), '') AS document_type,
           coalesce(nullif(trim(a.service), ''), u.home_service) AS service
    FROM {{source}} JOIN {USERS_TABLE} u ON u.uid = g.uid
    WHERE g.day0 IS NOT NULL
)
SELECT uid, day0 AS day, s AS ps, pe0 AS pe, activity, document_id, document_type, service,
       a0 AS active_us, o0 AS outside_us
FROM r
UNION ALL
SELECT uid, day1, day_end, pe1, activity, document_id, document_type, service, a1, o1
FROM r WHERE day1 IS NOT NULL
"""  # noqa: S608 - constant table names

_SLICES_SQL = f"""
INSERT INTO ts_slices
SELECT u.user_id, s.day, to_timestamp(s.ps / 1e6), to_timestamp(s.pe / 1e6), s.activity,
       s.document_id, s.document_type, s.service, s.active_us / 1e6, s.outside_us / 1e6
FROM {SCORED_TABLE} s JOIN {USERS_TABLE} u USING (uid)
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
    con.execute(
        "INSERT INTO ts_holidays SELECT unnest($days), unnest($names)",
        {"days": [d for d, _ in rows], "names": [str(n) for _, n in rows]},
    )
    return len(rows)


def build_schedule_days(con: duckdb.DuckDBPyConnection) -> None:
    """Replace ``ts_schedule_days``: merged scheduled sessions clipped to local days."""
    con.execute("DELETE FROM ts_schedule_days")
    con.execute(_SCHEDULE_DAYS_SQL)


def build_slices(
    con: duckdb.DuckDBPyConnection, settings: TimeSinkSettings, *, keep_slices: bool = True
) -> None:
    """Fill the temporary scored-pieces table and replace ``ts_slices`` (needs the order
    table from :mod:`analytics.timesinks.sessions`, schedule days and holidays)."""
    con.execute(_HOURS_SQL, {"work_start": settings.workday_start, "work_end": settings.workday_end})
    con.execute(_SCHED_SQL)
    con.execute(_GAPS_SQL, {"threshold_us": settings.idle_threshold_s * 1_000_000})
    misaligned = con.execute(
        f"SELECT count(*) FROM {_POSITIONAL} WHERE a.rowid IS DISTINCT FROM g.rid"  # noqa: S608
    ).fetchone()[0]
    con.execute(_SCORED_SQL.format(source=_BY_ROWID if misaligned else _POSITIONAL))
    con.execute("DELETE FROM ts_slices")
    if keep_slices:
        con.execute(_SLICES_SQL)
    for table in (_GAPS_TABLE, _HOURS_TABLE, _SCHED_TABLE):
        con.execute(f"DROP TABLE IF EXISTS {table}")
