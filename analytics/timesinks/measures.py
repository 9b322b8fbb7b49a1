"""Per-8-hours measures (Sinsky et al., JAMIA 2020) per clinician, group and period.

Each ``*_time8`` is active **minutes** per 8 hours of scheduled time:
``minutes / (scheduled_hours / 8)``. EHR-Time8 uses all active time, WOW8 the part outside
scheduled time, Note-Time8 documentation, Order-Time8 orders, Inbox-Time8 inbox. Undefined
(NULL) when the clinician had no scheduled hours in the period. Peers are clinicians of the
same role and service in the same period.
"""

from __future__ import annotations

from datetime import date

import duckdb

from analytics.access.roles import Actor
from analytics.errors import InvalidInput
from analytics.timesinks._common import TimeFigure, check_dates, figure, period_expr, prepare
from analytics.timesinks.settings import TimeSinkSettings

__all__ = [
    "MEASURES",
    "clinician_measures",
    "document_type_measures",
    "group_measures",
    "peer_stats",
    "period_measures",
]

#: Per-8h measure -> the minutes column it divides.
MEASURES = {
    "ehr_time8": "active_minutes",
    "wow8": "outside_minutes",
    "note_time8": "documentation_minutes",
    "order_time8": "orders_minutes",
    "inbox_time8": "inbox_minutes",
}

_GROUPS = {"service": "st.service", "role": "st.role"}

_SUMS = """
    sum(ud.active_s) / 60 AS active_minutes,
    sum(ud.outside_s) / 60 AS outside_minutes,
    sum(ud.documentation_s) / 60 AS documentation_minutes,
    sum(ud.chart_review_s) / 60 AS chart_review_minutes,
    sum(ud.orders_s) / 60 AS orders_minutes,
    sum(ud.inbox_s) / 60 AS inbox_minutes,
    sum(ud.other_s) / 60 AS other_minutes,
    sum(ud.scheduled_s) / 3600 AS scheduled_hours"""

_TIME8 = ",\n".join(
    f"{minutes} / nullif(scheduled_hours / 8, 0) AS {name}" for name, minutes in MEASURES.items()
)

_STAFF = "(SELECT user_id, min(role) AS role, min(service) AS service FROM staff GROUP BY user_id)"

_FILTERS = """
    ($date_from IS NULL OR ud.day >= $date_from) AND ($date_to IS NULL OR ud.day <= $date_to)
    AND ($service IS NULL OR st.service = $service) AND ($role IS NULL OR st.role = $role)"""


def _params(date_from, date_to, service, role, **extra) -> dict:
    check_dates(date_from, date_to)
    return {"date_from": date_from, "date_to": date_to, "service": service, "role": role, **extra}


def _clinician_sql(period: str) -> str:
    """Per clinician and period; ``period`` is checked against the allow-list."""
    peers = ",\n".join(
        f"""median({m}) OVER peers AS peer_median_{m},
        CASE WHEN {m} IS NULL THEN NULL ELSE round(100 * percent_rank() OVER (
            PARTITION BY role, service, period, {m} IS NULL ORDER BY {m}), 1) END AS peer_pct_{m}"""
        for m in MEASURES
    )
    return f"""
        WITH agg AS (
            SELECT ud.user_id, {period_expr(period)} AS period, st.role, st.service,
                   min(ud.basis) AS basis, {_SUMS}
            FROM ts_user_day ud LEFT JOIN {_STAFF} st USING (user_id)
            WHERE {_FILTERS}
            GROUP BY ALL
        ),
        m AS (SELECT *, {_TIME8} FROM agg)
        SELECT *, {peers} FROM m
        WINDOW peers AS (PARTITION BY role, service, period)
        QUALIFY $user_id IS NULL OR user_id = $user_id"""  # noqa: S608 - allow-listed pieces


def clinician_measures(
    con: duckdb.DuckDBPyConnection,
    *,
    period: str = "month",
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    role: str | None = None,
    user_id: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """One row per clinician and period: raw minutes, scheduled hours, the five ``*_time8``,
    and for each measure the peers' median and the clinician's percentile rank (0–100)."""
    settings = prepare(con, actor, settings)
    sql = _clinician_sql(period) + "\nORDER BY period, user_id"
    frame = con.execute(sql, _params(date_from, date_to, service, role, user_id=user_id)).df()
    return figure(frame, settings)


def peer_stats(
    con: duckdb.DuckDBPyConnection,
    *,
    period: str = "month",
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    role: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Per role, service and period: clinicians, and p25 / median / p75 / p90 of each measure."""
    settings = prepare(con, actor, settings)
    stats = ",\n".join(
        f"quantile_cont({m}, {q}) AS {m}_{name}"
        for m in MEASURES
        for q, name in ((0.25, "p25"), (0.5, "median"), (0.75, "p75"), (0.9, "p90"))
    )
    sql = f"""
        WITH base AS ({_clinician_sql(period)})
        SELECT role, service, period, count(*) AS clinicians, {stats}
        FROM base GROUP BY role, service, period ORDER BY period, role, service"""  # noqa: S608
    params = _params(date_from, date_to, service, role, user_id=None)
    frame = con.execute(sql, params).df()
    return figure(frame, settings)


def group_measures(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str = "service",
    period: str = "month",
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    role: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Totals per service or role (the clinician's own, from ``staff``) and period, with the
    group's ``*_time8`` as ratios of sums (minutes over all its scheduled hours)."""
    if by not in _GROUPS:
        raise InvalidInput(f"group measures: by '{by}' is not one of {', '.join(_GROUPS)}")
    settings = prepare(con, actor, settings)
    sql = f"""
        WITH agg AS (
            SELECT {_GROUPS[by]} AS {by}, {period_expr(period)} AS period,
                   count(DISTINCT ud.user_id) AS clinicians, {_SUMS}
            FROM ts_user_day ud LEFT JOIN {_STAFF} st USING (user_id)
            WHERE {_FILTERS}
            GROUP BY ALL
        )
        SELECT *, {_TIME8} FROM agg ORDER BY period, {by}
    """  # noqa: S608 - allow-listed pieces
    frame = con.execute(sql, _params(date_from, date_to, service, role)).df()
    return figure(frame, settings)


def document_type_measures(
    con: duckdb.DuckDBPyConnection,
    *,
    period: str = "month",
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Active and after-hours minutes per document type and period, with each type's share
    of the period's documentation time (service = where the work was logged)."""
    settings = prepare(con, actor, settings)
    check_dates(date_from, date_to)
    sql = f"""
        WITH agg AS (
            SELECT document_type, {period_expr(period)} AS period,
                   sum(active_s) / 60 AS active_minutes, sum(outside_s) / 60 AS outside_minutes,
                   sum(slices) AS slices
            FROM ts_service_day
            WHERE activity = 'documentation'
              AND ($date_from IS NULL OR day >= $date_from) AND ($date_to IS NULL OR day <= $date_to)
              AND ($service IS NULL OR service = $service)
            GROUP BY ALL
        )
        SELECT *, active_minutes / nullif(sum(active_minutes) OVER (PARTITION BY period), 0) AS share
        FROM agg ORDER BY period, active_minutes DESC
    """  # noqa: S608 - allow-listed period
    frame = con.execute(
        sql, {"date_from": date_from, "date_to": date_to, "service": service}
    ).df()
    return figure(frame, settings)


def period_measures(
    con: duckdb.DuckDBPyConnection,
    *,
    period: str = "week",
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    role: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Totals per period over all (filtered) clinicians, ``*_time8`` as ratios of sums."""
    if period == "all":
        raise InvalidInput("period measures: choose 'week' or 'month'")
    settings = prepare(con, actor, settings)
    sql = f"""
        WITH agg AS (
            SELECT {period_expr(period)} AS period, count(DISTINCT ud.user_id) AS clinicians, {_SUMS}
            FROM ts_user_day ud LEFT JOIN {_STAFF} st USING (user_id)
            WHERE {_FILTERS}
            GROUP BY ALL
        )
        SELECT *, {_TIME8} FROM agg ORDER BY period
    """  # noqa: S608 - allow-listed pieces
    frame = con.execute(sql, _params(date_from, date_to, service, role)).df()
    return figure(frame, settings)
