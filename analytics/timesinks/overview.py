"""Whole-picture figures: the summary, the sessions list and the CLI's export tables."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analytics.access.roles import Actor
from analytics.errors import InvalidInput
from analytics.timesinks._common import TimeFigure, check_dates, figure, prepare
from analytics.timesinks.labels import PURPOSE, period_label, role_label
from analytics.timesinks.measures import (
    EXTRA_MEASURES,
    MEASURES,
    clinician_measures,
    group_measures,
    period_bounds,
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
#: Columns added by issue 17, right after the promised ones (``order_time8`` is their alias).
USER_NEW_COLUMNS = [
    "prescription_time8", "undivided_attention", "teamwork_orders", "same_day_note_completion",
    "psh40", "other_scheduled_hours", "planning_coverage", "clock_days", "basis",
    "period_first", "period_last", "population", "purpose",
]


def summary(
    con: duckdb.DuckDBPyConnection,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    role: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """One row: clinicians, sessions, active and after-hours hours, hours per activity,
    scheduled patient hours, planning coverage, the median clinician's per-8-hour measures
    and the period covered (``period_first``/``period_last``)."""
    check_dates(date_from, date_to)
    settings = prepare(con, actor, settings)
    per_user = clinician_measures(
        con, period="all", date_from=date_from, date_to=date_to, service=service, role=role,
        settings=settings,
    ).frame
    first, last = period_bounds(con, date_from, date_to)
    sessions_count = con.execute(
        """SELECT count(*) FROM ts_sessions s
           LEFT JOIN (SELECT user_id, min(service) AS service, min(role) AS role FROM staff GROUP BY user_id) st
                USING (user_id)
           WHERE ($date_from IS NULL OR session_start >= CAST($date_from AS TIMESTAMPTZ))
             AND ($date_to IS NULL OR session_start < CAST($date_to + 1 AS TIMESTAMPTZ))
             AND ($service IS NULL OR st.service = $service) AND ($role IS NULL OR st.role = $role)""",
        {"date_from": first, "date_to": last, "service": service, "role": role},
    ).fetchone()[0]

    def total(column: str, scale: float) -> float:
        return float(per_user[column].sum()) / scale if len(per_user) else 0.0

    row: dict[str, object] = {"clinicians": len(per_user), "sessions": sessions_count}
    row["active_hours"] = total("active_minutes", 60)
    row["outside_hours"] = total("outside_minutes", 60)
    row["outside_share"] = row["outside_hours"] / row["active_hours"] if row["active_hours"] else None
    for activity in ("documentation", "chart_review", "orders", "inbox", "other"):
        row[f"{activity}_hours"] = total(f"{activity}_minutes", 60)
    row["scheduled_hours"] = total("scheduled_hours", 1)
    row["other_scheduled_hours"] = total("other_scheduled_hours", 1)
    row["planning_coverage"] = float(per_user["planning_coverage"].mean()) if len(per_user) else None
    for measure in (*MEASURES, *EXTRA_MEASURES):
        row[f"median_{measure}"] = per_user[measure].median() if len(per_user) else None
    row["period_first"] = first
    row["period_last"] = last
    row["role"] = role
    row["idle_threshold_s"] = settings.idle_threshold_s
    row["after_hours_rule"] = settings.after_hours_rule
    return figure(pd.DataFrame([row]), settings, period_label(first, last))


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


def _stamp(frame: pd.DataFrame, settings: TimeSinkSettings, first=None, last=None,  # noqa: ANN001
           population: str | None = None) -> pd.DataFrame:
    frame = frame.copy()
    frame["idle_threshold_s"] = settings.idle_threshold_s
    frame["after_hours_rule"] = settings.after_hours_rule
    frame["period_first"] = first
    frame["period_last"] = last
    frame["population"] = population
    frame["purpose"] = PURPOSE
    return frame


def export_table(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str,
    date_from: date | None = None,
    date_to: date | None = None,
    role: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
    reason: str | None = None,
) -> TimeFigure:
    """The table behind ``hygie timesinks export --by ...``; every row carries the threshold,
    the after-hours rule, the period covered and the population (role; the rankings by
    document type and activity cover every role). ``--by user`` is per-clinician data: see
    :func:`~analytics.timesinks.measures.clinician_measures` (permission, reason, log)."""
    if by not in EXPORT_BY:
        raise InvalidInput(f"export: --by '{by}' is not one of {', '.join(EXPORT_BY)}")
    common = {"date_from": date_from, "date_to": date_to, "settings": settings, "actor": actor}
    if by == "user":
        result = clinician_measures(con, period="all", role=role, reason=reason, **common)
        frame = result.frame.drop(columns=["period"])
    elif by == "service":
        result = group_measures(con, by="service", period="all", role=role, **common)
        frame = result.frame.drop(columns=["period"])
    elif by == "week":
        result = period_measures(con, period="week", role=role, **common)
        frame = result.frame.rename(columns={"period": "week"})
    else:
        result = time_sink_ranking(con, by=by, **common)
        frame = result.frame
    first, last = period_bounds(con, date_from, date_to)
    population = role_label(role if by in ("user", "service", "week") else None)
    frame = _stamp(frame, result.settings, first, last, population)
    if by == "user":
        promised = USER_COLUMNS + USER_NEW_COLUMNS
        frame = frame[promised + [c for c in frame.columns if c not in promised]]
    assert set(MEASURES) <= set(frame.columns) or by in ("document_type", "activity")
    label = " · ".join(x for x in (result.label, period_label(first, last), population) if x)
    return TimeFigure(frame, label, result.settings)
