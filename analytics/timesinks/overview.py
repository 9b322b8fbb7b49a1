"""Whole-picture figures: the summary, the sessions list and the CLI's export tables."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analytics.access.roles import Actor
from analytics.errors import InvalidInput
from analytics.timesinks._common import TimeFigure, check_dates, figure, prepare
from analytics.timesinks.measures import (
    MEASURES,
    clinician_measures,
    group_measures,
    period_measures,
)
from analytics.timesinks.ranking import time_sink_ranking
from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["EXPORT_BY", "USER_COLUMNS", "export_table", "sessions", "summary"]

EXPORT_BY = ("user", "service", "document_type", "activity", "week")

#: Columns scripts can rely on in ``export --by user`` (in this order, then extras).
USER_COLUMNS = [
    "user_id", "active_minutes", "outside_minutes", "documentation_minutes",
    "chart_review_minutes", "orders_minutes", "inbox_minutes", "other_minutes",
    "scheduled_hours", "ehr_time8", "wow8", "note_time8", "order_time8", "inbox_time8",
    "idle_threshold_s", "after_hours_rule",
]


def summary(
    con: duckdb.DuckDBPyConnection,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """One row: clinicians, sessions, active and after-hours hours, hours per activity, and
    the median clinician's EHR-Time8 and WOW8 over the period."""
    check_dates(date_from, date_to)
    settings = prepare(con, actor, settings)
    # local-day bounds as time stamps: no per-row time-zone conversion of session starts
    params = {"date_from": date_from, "date_to": date_to, "service": service}
    totals = con.execute(
        """
        SELECT count(DISTINCT ud.user_id) AS clinicians,
               coalesce(sum(active_s), 0) / 3600 AS active_hours, coalesce(sum(outside_s), 0) / 3600 AS outside_hours,
               sum(outside_s) / nullif(sum(active_s), 0) AS outside_share,
               coalesce(sum(documentation_s), 0) / 3600 AS documentation_hours,
               coalesce(sum(chart_review_s), 0) / 3600 AS chart_review_hours,
               coalesce(sum(orders_s), 0) / 3600 AS orders_hours, coalesce(sum(inbox_s), 0) / 3600 AS inbox_hours,
               coalesce(sum(other_s), 0) / 3600 AS other_hours, coalesce(sum(scheduled_s), 0) / 3600 AS scheduled_hours
        FROM ts_user_day ud
        LEFT JOIN (SELECT user_id, min(service) AS service FROM staff GROUP BY user_id) st USING (user_id)
        WHERE ($date_from IS NULL OR day >= $date_from) AND ($date_to IS NULL OR day <= $date_to)
          AND ($service IS NULL OR st.service = $service)
        """,
        params,
    ).df()
    sessions_count = con.execute(
        """SELECT count(*) FROM ts_sessions s
           LEFT JOIN (SELECT user_id, min(service) AS service FROM staff GROUP BY user_id) st USING (user_id)
           WHERE ($date_from IS NULL OR session_start >= CAST($date_from AS TIMESTAMPTZ))
             AND ($date_to IS NULL OR session_start < CAST($date_to + 1 AS TIMESTAMPTZ))
             AND ($service IS NULL OR st.service = $service)""",
        params,
    ).fetchone()[0]
    per_user = clinician_measures(
        con, period="all", date_from=date_from, date_to=date_to, service=service, settings=settings
    ).frame
    totals.insert(1, "sessions", sessions_count)
    for measure in ("ehr_time8", "wow8"):
        totals[f"median_{measure}"] = per_user[measure].median() if len(per_user) else None
    totals["idle_threshold_s"] = settings.idle_threshold_s
    totals["after_hours_rule"] = settings.after_hours_rule
    return figure(totals, settings)


def sessions(
    con: duckdb.DuckDBPyConnection,
    *,
    user_id: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    limit: int | None = 1000,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Sessions (user, start, end, active minutes, events), latest first."""
    check_dates(date_from, date_to)
    settings = prepare(con, actor, settings)
    frame = con.execute(
        """SELECT session_id, user_id, session_start, session_end, active_minutes, events,
                  idle_threshold_s
           FROM ts_sessions
           WHERE ($user_id IS NULL OR user_id = $user_id)
             AND ($date_from IS NULL OR session_start >= CAST($date_from AS TIMESTAMPTZ))
             AND ($date_to IS NULL OR session_start < CAST($date_to + 1 AS TIMESTAMPTZ))
           ORDER BY session_start DESC, user_id LIMIT $limit""",
        {"user_id": user_id, "date_from": date_from, "date_to": date_to, "limit": limit or 2**62},
    ).df()
    return figure(frame, settings)


def _stamp(frame: pd.DataFrame, settings: TimeSinkSettings) -> pd.DataFrame:
    frame = frame.copy()
    frame["idle_threshold_s"] = settings.idle_threshold_s
    frame["after_hours_rule"] = settings.after_hours_rule
    return frame


def export_table(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str,
    date_from: date | None = None,
    date_to: date | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """The table behind ``hygie timesinks export --by ...``; every row carries the threshold
    and the after-hours rule."""
    if by not in EXPORT_BY:
        raise InvalidInput(f"export: --by '{by}' is not one of {', '.join(EXPORT_BY)}")
    common = {"date_from": date_from, "date_to": date_to, "settings": settings, "actor": actor}
    if by == "user":
        result = clinician_measures(con, period="all", **common)
        frame = _stamp(result.frame.drop(columns=["period"]), result.settings)
        extras = [c for c in frame.columns if c not in USER_COLUMNS]
        frame = frame[USER_COLUMNS + extras]
    elif by == "service":
        result = group_measures(con, by="service", period="all", **common)
        frame = _stamp(result.frame.drop(columns=["period"]), result.settings)
    elif by == "week":
        result = period_measures(con, period="week", **common)
        frame = _stamp(result.frame.rename(columns={"period": "week"}), result.settings)
    else:
        result = time_sink_ranking(con, by=by, **common)
        frame = _stamp(result.frame, result.settings)
    assert set(MEASURES) <= set(frame.columns) or by in ("document_type", "activity")
    return TimeFigure(frame, result.label, result.settings)
