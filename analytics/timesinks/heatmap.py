"""When the EHR work happens: active minutes by ISO weekday × local hour (Europe/Paris).

Active time is the time between an event and the next one of the same user within the idle
threshold (see :mod:`analytics.timesinks.sessions`); it is credited to the hours in which it
elapsed, so a session from 10:50 to 11:20 counts 10 minutes at 10h and 20 at 11h, and an idle
gap counts nowhere. Hours are local: on the autumn clock change the two 02:00–03:00 hours both
count at 02h, and on the spring one nothing is at 02h. The precomputation fills
``ts_hour_activity`` (per local day, hour, service and activity), so a page reads a small
table instead of every session.
"""

from __future__ import annotations

from datetime import date

import duckdb

from analytics.access.roles import Actor
from analytics.errors import InvalidInput
from analytics.timesinks._common import TimeFigure, check_dates, figure, prepare
from analytics.timesinks.settings import ACTIVITIES, TimeSinkSettings

__all__ = ["activity_heatmap"]

_SQL = """
WITH grid AS (
    SELECT CAST(d AS INTEGER) AS weekday, CAST(h AS INTEGER) AS hour
    FROM range(1, 8) w(d), range(0, 24) hh(h)
),
agg AS (
    SELECT CAST(isodow(day) AS INTEGER) AS weekday, CAST(hour AS INTEGER) AS hour,
           sum(active_s) / 60 AS active_minutes, sum(outside_s) / 60 AS outside_minutes,
           count(DISTINCT day) AS days
    FROM ts_hour_activity
    WHERE ($date_from IS NULL OR day >= $date_from) AND ($date_to IS NULL OR day <= $date_to)
      AND ($service IS NULL OR service = $service)
      AND ($activity IS NULL OR activity = $activity)
    GROUP BY ALL
)
SELECT grid.weekday, grid.hour,
       coalesce(agg.active_minutes, 0) AS active_minutes,
       coalesce(agg.outside_minutes, 0) AS outside_minutes,
       coalesce(agg.days, 0) AS days
FROM grid LEFT JOIN agg USING (weekday, hour)
ORDER BY grid.weekday, grid.hour
"""


def activity_heatmap(
    con: duckdb.DuckDBPyConnection,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    activity: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """168 rows, one per ISO weekday (1 = Monday) and local hour (0–23): active and
    after-hours minutes in the period (local days), and on how many dates that cell had
    activity. ``service`` is where the work was logged (the event's, else the user's)."""
    if activity is not None and activity not in ACTIVITIES:
        raise InvalidInput(f"heat map: activity '{activity}' is not one of {', '.join(ACTIVITIES)}")
    check_dates(date_from, date_to)
    settings = prepare(con, actor, settings)
    frame = con.execute(
        _SQL,
        {"date_from": date_from, "date_to": date_to, "service": service, "activity": activity},
    ).df()
    return figure(frame, settings)
