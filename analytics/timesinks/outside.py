"""Inside or outside scheduled time: split active slices and intersect them in SQL.

Active slices are scored as runs (consecutive slices of one user with the same activity,
document and service, started on one local day; contiguous, so a run's inside and outside
time is the sum of its slices'). Runs are split at local midnight (Europe/Paris; a 23 h or 25 h day at a clock change comes
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

import datetime as dt

import holidays as holiday_lib

from analytics.engines.base import Engine
from analytics.errors import InvalidInput
from analytics.timesinks.sessions import (
    ACTIVITY_JOIN,
    ACTIVITY_SQL,
    HOURS_TABLE,
    ORDER_TABLE,
    US_PER_HOUR,
    USERS_TABLE,
)
from analytics.timesinks.settings import TimeSinkSettings

__all__ = [
    "PATIENT_SESSION_TYPES", "build_calendar", "build_hours", "build_schedule_days", "build_slices",
    "load_holidays",
]

SCORED_TABLE = "_ts_scored"
_RUNS_TABLE = "_ts_runs"
_SCHED_TABLE = "_ts_sched"

PATIENT_DAYS_TABLE = "_ts_patient_days"

#: ``schedules.session_type`` values (lower case, trimmed) that are patient care; empty or
#: NULL counts as patient care too (a planning that does not say). Anything else — meetings,
#: teaching, administration, on-call from home (astreinte) — is scheduled but not patient time.
PATIENT_SESSION_TYPES = (
    "patient_care", "patient", "soins", "clinique", "consultation", "consultations", "bloc",
    "bloc operatoire", "visite", "hospitalisation", "garde", "care", "clinical",
)

_PATIENT_FILTER = (
    "coalesce(lower(trim(session_type)), '') IN ('', "
    + ", ".join(f"'{t}'" for t in PATIENT_SESSION_TYPES) + ")"
)

_SCHEDULE_DAYS_SQL = f"""
WITH s AS (
    SELECT user_id, "start" AS s, "end" AS e FROM schedules WHERE "end" > "start" AND {{where}}
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
k AS (
    SELECT m.*, h0.day AS day0, h1.day AS day1
    FROM merged m
    JOIN {HOURS_TABLE} h0 ON h0.hb = epoch_us(m.s) // {{US_PER_HOUR}}
    JOIN {HOURS_TABLE} h1 ON h1.hb = (epoch_us(m.e) - 1) // {{US_PER_HOUR}}
),
days AS (
    SELECT user_id, s, e, CAST(d AS DATE) AS day
    FROM (SELECT user_id, s, e, unnest(generate_series(day0, day1, INTERVAL 1 DAY)) AS d
          FROM k WHERE day1 > day0) x
)
-- most sessions lie within one local day: no calendar arithmetic for them
SELECT user_id, day0 AS day, s AS piece_start, e AS piece_end FROM k WHERE day1 = day0
UNION ALL
SELECT user_id, day,
       greatest(s, CAST(day AS TIMESTAMPTZ)) AS piece_start,
       least(e, CAST(day + 1 AS TIMESTAMPTZ)) AS piece_end
FROM days
"""  # noqa: S608 - constant table names

# The same merge for every session (inside/outside) and for patient-care sessions only.
_ALL_DAYS_SQL = _SCHEDULE_DAYS_SQL.format(where="TRUE", US_PER_HOUR=US_PER_HOUR)
_PATIENT_DAYS_SQL = _SCHEDULE_DAYS_SQL.format(where=_PATIENT_FILTER, US_PER_HOUR=US_PER_HOUR)

# Every UTC hour the events and schedules touch -> its local day and hour, the day's end, and
# the clock-rule window.
# Clock changes happen on whole UTC hours, so this small table replaces per-row time-zone
# conversions (the slow part on 10 M rows) with an integer join.
_HOURS_SQL = f"""
WITH r AS (
    SELECT min(t0) // {US_PER_HOUR} AS h0, max(t1) // {US_PER_HOUR} + 2 AS h1 FROM (
        SELECT epoch_us(min("timestamp")) AS t0, epoch_us(max("timestamp")) AS t1 FROM audit_events
        UNION ALL
        SELECT epoch_us(min("start")), epoch_us(max("end")) FROM schedules WHERE "end" > "start")
),
hb AS (SELECT unnest(range(h0, h1 + 1)) AS hb FROM r WHERE h0 IS NOT NULL),
d AS (SELECT hb, CAST(to_timestamp(hb * 3600) AS DATE) AS day,
              CAST(hour(to_timestamp(hb * 3600)) AS TINYINT) AS hour FROM hb)
SELECT d.hb, d.day, d.hour,
       epoch_us(CAST(d.day + 1 AS TIMESTAMPTZ)) AS day_end,
       isodow(d.day) <= 5 AND hol.day IS NULL AS workday,
       epoch_us(CAST(CAST(d.day AS TIMESTAMP) + $work_start AS TIMESTAMPTZ)) AS work_start,
       epoch_us(CAST(CAST(d.day AS TIMESTAMP) + $work_end AS TIMESTAMPTZ)) AS work_end
FROM d LEFT JOIN ts_holidays hol ON hol.day = d.day
"""  # noqa: S608 - constant table names

# Scheduled sessions per user and local day as a short list, so the overlap of an active piece
# with them is a list expression (an equi-join on user and day, no range join).
_SCHED_SQL = f"""
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
       CASE WHEN array_length(sessions) > 2 THEN list_slice(sessions, 3, array_length(sessions)) END AS rest
FROM l
"""  # noqa: S608 - constant table names

def _outside(ps: str, pe: str, scheduled: str = "scheduled") -> str:
    """Outside microseconds of the piece ``[ps, pe)``, from its day's clock window or the
    user's scheduled sessions that day (``scheduled``: the day is covered by their planning)."""
    # the first two sessions of the day as scalars (the usual case), any further ones as a list
    return f"""CASE
        WHEN {scheduled} THEN ({pe} - {ps})
            - greatest(0, least({pe}, coalesce(a1, 0)) - greatest({ps}, coalesce(a0, 0)))
            - greatest(0, least({pe}, coalesce(b1, 0)) - greatest({ps}, coalesce(b0, 0)))
            - CASE WHEN rest IS NULL THEN 0 ELSE coalesce(list_sum(list_transform(rest,
                lambda x: greatest(0, least({pe}, x.i1) - greatest({ps}, x.i0)))), 0) END
        WHEN NOT workday THEN {pe} - {ps}
        ELSE ({pe} - {ps}) - greatest(0, least({pe}, work_end) - greatest({ps}, work_start))
    END"""


# Runs of contiguous active slices (see sessions.py): pair each run's start and end rows, a
# small set, by their dense rank in the user's time order (distinct among active rows), and
# fetch the event columns of each run's first event (narrow build side for the row-id join).
_RUNS_SQL = f"""
WITH b AS (
    SELECT uid, rid, t, gap_us, drank, run_start, run_end FROM {ORDER_TABLE} WHERE run_start OR run_end
),
p AS (
    SELECT *, lag(t) OVER v AS prev_t, lag(drank) OVER v AS prev_drank, lag(rid) OVER v AS prev_rid
    FROM b WINDOW v AS (PARTITION BY uid ORDER BY drank)
),
q AS (
    SELECT uid, CASE WHEN run_start THEN rid ELSE prev_rid END AS rid,
           CASE WHEN run_start THEN t ELSE prev_t END AS rs, t + gap_us AS re,
           drank - CASE WHEN run_start THEN drank ELSE prev_drank END + 1 AS slices
    FROM p WHERE run_end
)
SELECT q.uid, q.rs, q.re, q.slices, {ACTIVITY_SQL} AS activity, a.document_id,
       nullif(trim(a.document_type), '') AS document_type, nullif(trim(a.service), '') AS service
FROM q JOIN audit_events a ON a.rowid = q.rid
{ACTIVITY_JOIN}
"""  # noqa: S608 - constant table names

# Each run as at most two pieces, split at the local midnight after its start (only its last
# slice can cross it), each scored against its day's schedule or clock window.
_SCORED_SQL = f"""
WITH r AS (
    SELECT r.*, h.day_end FROM {_RUNS_TABLE} r JOIN {HOURS_TABLE} h ON h.hb = r.rs // {US_PER_HOUR}
),
p AS (
    SELECT uid, activity, document_id, document_type, service, rs AS ps,
           least(re, day_end) AS pe, slices
    FROM r
    UNION ALL
    SELECT uid, activity, document_id, document_type, service, day_end, re, 1
    FROM r WHERE re > day_end
),
x AS (
    SELECT p.uid, h.day, p.ps, p.pe, p.slices, p.activity, p.document_id, p.document_type,
           coalesce(p.service, u.home_service) AS service,
           coalesce(h.day BETWEEN u.plan_first AND u.plan_last, FALSE) AS scheduled,
           h.workday, h.work_start, h.work_end, i.a0, i.a1, i.b0, i.b1, i.rest
    FROM p
    JOIN {HOURS_TABLE} h ON h.hb = p.ps // {US_PER_HOUR}
    JOIN {USERS_TABLE} u ON u.uid = p.uid
    LEFT JOIN {_SCHED_TABLE} i ON i.uid = p.uid AND i.day = h.day
)
SELECT uid, day, ps, pe, activity, document_id, document_type, service,
       pe - ps AS active_us, {_outside("ps", "pe")} AS outside_us, slices
FROM x
"""  # noqa: S608 - constant table names

# Active time per local hour: Paris is a whole number of hours from UTC, so local hour
# boundaries are UTC hour boundaries. A piece within one hour (most) keeps its outside time;
# a longer one is cut at each hour and every part scored again against the day's schedule or
# clock window (same day: pieces never cross local midnight).
_HOUR_ACTIVITY_SQL = f"""
WITH p AS (
    SELECT uid, day, ps, pe, activity, service, outside_us,
           ps // {US_PER_HOUR} AS h0, (pe - 1) // {US_PER_HOUR} AS h1
    FROM {SCORED_TABLE} WHERE pe > ps
),
whole AS (
    SELECT day, h0 AS hb, activity, service, pe - ps AS active_us, outside_us FROM p WHERE h1 = h0
),
cut AS (
    SELECT uid, day, activity, service, hb,
           greatest(ps, hb * {US_PER_HOUR}) AS qs, least(pe, (hb + 1) * {US_PER_HOUR}) AS qe
    FROM (SELECT *, unnest(range(h0, h1 + 1)) AS hb FROM p WHERE h1 > h0)
),
cut_scored AS (
    SELECT c.day, c.hb, c.activity, c.service, c.qe - c.qs AS active_us,
           {_outside("c.qs", "c.qe", "coalesce(c.day BETWEEN u.plan_first AND u.plan_last, FALSE)")}
               AS outside_us
    FROM cut c
    JOIN {HOURS_TABLE} h ON h.hb = c.hb
    JOIN {USERS_TABLE} u ON u.uid = c.uid
    LEFT JOIN {_SCHED_TABLE} i ON i.uid = c.uid AND i.day = c.day
)
SELECT x.day, h.hour, x.service, x.activity, sum(x.active_us) / 1e6, sum(x.outside_us) / 1e6
FROM (SELECT * FROM whole UNION ALL SELECT * FROM cut_scored) x
JOIN {HOURS_TABLE} h ON h.hb = x.hb
GROUP BY ALL
"""  # noqa: S608 - constant table names

_SLICES_SQL = f"""
SELECT u.user_id, s.day, to_timestamp(s.ps / 1e6), to_timestamp(s.pe / 1e6), s.activity,
       s.document_id, s.document_type, s.service, s.active_us / 1e6, s.outside_us / 1e6
FROM {SCORED_TABLE} s JOIN {USERS_TABLE} u USING (uid)
"""  # noqa: S608 - constant table names


_CALENDAR_SQL = """
WITH y AS (SELECT min(year(day)) AS y0, max(year(day)) AS y1 FROM ts_holidays),
d AS (
    SELECT CAST(g AS DATE) AS day
    FROM (SELECT unnest(generate_series(make_date(y0, 1, 1), make_date(y1, 12, 31), INTERVAL 1 DAY)) AS g
          FROM y WHERE y0 IS NOT NULL) x
),
span AS (SELECT CAST(min("timestamp") AS DATE) AS d0, CAST(max("timestamp") AS DATE) AS d1 FROM audit_events)
SELECT d.day, isodow(d.day) <= 5 AND h.day IS NULL, coalesce(d.day BETWEEN span.d0 AND span.d1, FALSE)
FROM d CROSS JOIN span LEFT JOIN ts_holidays h ON h.day = d.day
"""

# Every user of the logs or the planning, with the span of local days their planning covers.
_USERS_SQL = """
SELECT u.user_id, min(p.day), max(p.day)
FROM (SELECT user_id FROM audit_events UNION SELECT user_id FROM schedules) u
LEFT JOIN ts_schedule_days p USING (user_id)
GROUP BY u.user_id
"""



def load_holidays(engine: Engine, settings: TimeSinkSettings) -> int:
    """Fill ``ts_holidays`` for every year the events and schedules touch, and the years just
    before and after (a period asked may reach them); return the count."""
    span = engine.row(
        """SELECT min(y0), max(y1) FROM (
               SELECT year(min("timestamp")) AS y0, year(max("timestamp")) AS y1 FROM audit_events
               UNION ALL SELECT year(min("start")), year(max("end")) FROM schedules) x"""
    )
    rows: list[tuple[dt.date, str]] = []
    if span[0] is not None:
        try:
            calendar = holiday_lib.country_holidays(
                settings.holiday_country,
                subdiv=settings.holiday_subdivision,
                years=range(span[0] - 1, span[1] + 2),
            )
        except NotImplementedError as exc:
            raise InvalidInput(f"holiday calendar: {exc}") from None
        rows = [(day, str(name)) for day, name in sorted(calendar.items())]
    engine.fill_values("ts_holidays", {"day": [d for d, _ in rows], "name": [n for _, n in rows]})
    return len(rows)


def build_calendar(engine: Engine) -> None:
    """Replace ``ts_calendar`` (every day of the holiday years: working day or not, within the
    logs' period or not) and ``ts_users`` (planning span per user). Needs ``ts_holidays`` and
    ``ts_schedule_days``; the session time zone must be Europe/Paris (local dates)."""
    engine.fill("ts_calendar", _CALENDAR_SQL)
    engine.fill("ts_users", _USERS_SQL)


def build_schedule_days(engine: Engine) -> None:
    """Replace ``ts_schedule_days``: merged scheduled sessions of every type clipped to local
    days (inside/outside), and stage the patient-days table with the patient-care sessions
    only (the denominator). Needs the hours table, :func:`build_hours`."""
    engine.fill("ts_schedule_days", _ALL_DAYS_SQL)
    engine.stage(PATIENT_DAYS_TABLE, _PATIENT_DAYS_SQL)


def _since_midnight(value: dt.time) -> dt.timedelta:
    return dt.timedelta(hours=value.hour, minutes=value.minute, seconds=value.second)


def build_hours(engine: Engine, settings: TimeSinkSettings) -> None:
    """Stage the hours table (local day, clock window per UTC hour); needed by the order
    table of :mod:`analytics.timesinks.sessions`, so built first."""
    engine.stage(HOURS_TABLE, _HOURS_SQL, {
        "work_start": _since_midnight(settings.workday_start),
        "work_end": _since_midnight(settings.workday_end),
    })


def build_slices(engine: Engine, *, keep_slices: bool = True) -> None:
    """Stage the scored-pieces table and replace ``ts_slices`` (needs the order table from
    :mod:`analytics.timesinks.sessions`, the hours table, schedule days and holidays; the
    idle threshold was applied in the order table). ``ts_slices`` holds one row per run
    piece (empty unless ``keep_slices``); ``ts_hour_activity`` the active and outside time
    per local day, hour, service and activity."""
    engine.stage(_SCHED_TABLE, _SCHED_SQL)
    engine.stage(_RUNS_TABLE, _RUNS_SQL)
    engine.stage(SCORED_TABLE, _SCORED_SQL)
    engine.fill("ts_slices", _SLICES_SQL if keep_slices else _SLICES_SQL + " LIMIT 0")
    engine.fill("ts_hour_activity", _HOUR_ACTIVITY_SQL)
    engine.drop(_RUNS_TABLE, HOURS_TABLE, _SCHED_TABLE)
