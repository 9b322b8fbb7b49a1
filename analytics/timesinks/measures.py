"""Per-8-hours measures (Sinsky et al., JAMIA 2020) per clinician, group and period.

Each ``*_time8`` is active **minutes** per 8 hours of scheduled **patient** time:
``minutes / (scheduled_hours / 8)``. EHR-Time8 uses all active time, WOW8 the part outside
scheduled time, Note-Time8 documentation, Prescription-Time8 orders (prescription events and
the document types the activity map sends to orders, such as *ordonnance*; ``order_time8`` is
the same figure under its former name), Inbox-Time8 inbox. Undefined (NULL) when the clinician
had no scheduled patient hours in the period. Peers are clinicians of the same role and service
in the same period. Formulas and sources: ``docs/TIMESINKS.md``.

**Denominators.** The period is the one asked (``date_from``/``date_to``), else the logs' whole
period. Every user gets every day of it: a day within the user's planning span counts its
patient-care sessions (0 on a day off; meetings and other sessions apart, in
``other_scheduled_hours``), any other day falls back to the clock rule (the clock window on each
working day — weekdays that are not public holidays — whether or not the user was active).
``planning_coverage`` is the share of the period's days the planning covers, ``clock_days`` the
number that fell back. A clinician appears in a period when they were active in it or had
planned patient time.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from analytics.access.access_log import record
from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.timesinks._common import TimeFigure, check_dates, figure, period_expr, prepare
from analytics.timesinks.settings import TimeSinkSettings

__all__ = [
    "EXTRA_MEASURES",
    "MIN_CLINICIANS",
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
    "prescription_time8": "orders_minutes",
    "inbox_time8": "inbox_minutes",
}

#: No aggregate is shown over fewer clinicians than this (CNIL: figures per team, not per
#: person); a smaller group keeps its name and head count, its figures are masked (NULL).
MIN_CLINICIANS = 5

#: The other measures of the core set and later work (shares 0–1, PSH40 a ratio).
EXTRA_MEASURES = ("undivided_attention", "teamwork_orders", "same_day_note_completion", "psh40")

_GROUPS = {"service": "service", "role": "role"}

_STAFF = "(SELECT user_id, min(role) AS role, min(service) AS service FROM staff GROUP BY user_id)"

# Every user × every day of the period (the asked one, else the logs'), with the precomputed
# day when there is one and the clock rule's hours on the working days without planning.
_USER_DAYS = f"""
bounds AS (
    SELECT coalesce(CAST($date_from AS DATE), min(day) FILTER (WHERE in_data)) AS d0,
           coalesce(CAST($date_to AS DATE), max(day) FILTER (WHERE in_data)) AS d1
    FROM ts_calendar
),
ud AS (
    SELECT tu.user_id, c.day, st.role, st.service,
           coalesce(c.day BETWEEN tu.plan_first AND tu.plan_last, FALSE) AS covered,
           coalesce(d.active_s, 0) AS active_s, coalesce(d.outside_s, 0) AS outside_s,
           coalesce(d.documentation_s, 0) AS documentation_s,
           coalesce(d.chart_review_s, 0) AS chart_review_s, coalesce(d.orders_s, 0) AS orders_s,
           coalesce(d.inbox_s, 0) AS inbox_s, coalesce(d.other_s, 0) AS other_s,
           CASE WHEN d.user_id IS NOT NULL THEN d.scheduled_s
                WHEN c.workday AND NOT coalesce(c.day BETWEEN tu.plan_first AND tu.plan_last, FALSE)
                THEN $clock_s ELSE 0 END AS scheduled_s,
           coalesce(d.other_scheduled_s, 0) AS other_scheduled_s
    FROM ts_users tu
    JOIN bounds b ON TRUE
    JOIN ts_calendar c ON c.day BETWEEN b.d0 AND b.d1
    LEFT JOIN ts_user_day d ON d.user_id = tu.user_id AND d.day = c.day
    LEFT JOIN {_STAFF} st ON st.user_id = tu.user_id
    WHERE ($service IS NULL OR st.service = $service) AND ($role IS NULL OR st.role = $role)
)"""  # noqa: S608 - constant table names

_SUMS = """
    sum(active_s) / 60 AS active_minutes,
    sum(outside_s) / 60 AS outside_minutes,
    sum(documentation_s) / 60 AS documentation_minutes,
    sum(chart_review_s) / 60 AS chart_review_minutes,
    sum(orders_s) / 60 AS orders_minutes,
    sum(inbox_s) / 60 AS inbox_minutes,
    sum(other_s) / 60 AS other_minutes,
    sum(scheduled_s) / 3600 AS scheduled_hours,
    sum(other_scheduled_s) / 3600 AS other_scheduled_hours,
    sum(active_s - outside_s) / 3600 AS inside_hours"""

_TIME8 = ",\n".join(
    [f"{minutes} / nullif(scheduled_hours / 8, 0) AS {name}" for name, minutes in MEASURES.items()]
    + ["orders_minutes / nullif(scheduled_hours / 8, 0) AS order_time8",
       # EHR-free share of scheduled patient time (1 − active time inside scheduled time / it)
       "greatest(0, 1 - inside_hours / nullif(scheduled_hours, 0)) AS undivided_attention",
       # scheduled patient hours per week, over a 40-hour week
       "scheduled_hours / nullif(days / 7.0, 0) / 40 AS psh40"]
)


# Group totals from the clinician rows: per-8-hour measures as ratios of sums, the others as
# averages weighted by what they count.
_GROUP_SUMS = """
    count(*) AS clinicians,
    sum(active_minutes) AS active_minutes, sum(outside_minutes) AS outside_minutes,
    sum(documentation_minutes) AS documentation_minutes,
    sum(chart_review_minutes) AS chart_review_minutes, sum(orders_minutes) AS orders_minutes,
    sum(inbox_minutes) AS inbox_minutes, sum(other_minutes) AS other_minutes,
    sum(scheduled_hours) AS scheduled_hours, sum(other_scheduled_hours) AS other_scheduled_hours,
    sum(inside_hours) AS inside_hours, sum(days) AS days,
    sum(planning_coverage * days) / nullif(sum(days), 0) AS planning_coverage,
    sum(clock_days) AS clock_days,
    sum(same_day_note_completion * notes) / nullif(sum(notes), 0) AS same_day_note_completion,
    sum(teamwork_orders * orders_signed) / nullif(sum(orders_signed), 0) AS teamwork_orders"""


def _clinician_base(period: str) -> str:
    """CTEs ending in ``m``: one row per clinician and period with every measure."""
    pe = period_expr(period)
    return f"""
        WITH {_USER_DAYS},
        agg AS (
            SELECT user_id, {pe} AS period, min(role) AS role, min(service) AS service,
                   CASE WHEN bool_and(covered) THEN 'schedule' WHEN bool_or(covered) THEN 'mixed'
                        ELSE 'clock' END AS basis,
                   {_SUMS},
                   avg(CAST(covered AS DOUBLE)) AS planning_coverage,
                   count(*) FILTER (WHERE NOT covered) AS clock_days,
                   count(*) AS days
            FROM ud
            GROUP BY user_id, period
            HAVING sum(active_s) > 0 OR coalesce(sum(scheduled_s) FILTER (WHERE covered), 0) > 0
        ),
        notes AS (
            SELECT user_id, {pe} AS period, count(*) AS notes,
                   avg(CASE WHEN signed_day = day THEN 1.0 ELSE 0.0 END) AS same_day_note_completion
            FROM (
                SELECT d.author_id AS user_id, CAST(d.created_at AS DATE) AS day,
                       CAST(d.signed_at AS DATE) AS signed_day
                FROM documents d
                LEFT JOIN activity_map m
                       ON m.field = 'document_type' AND m.value = lower(trim(d.document_type))
                WHERE d.created_at IS NOT NULL AND coalesce(m.activity, 'documentation') = 'documentation'
            ) x JOIN bounds b ON x.day BETWEEN b.d0 AND b.d1
            GROUP BY ALL
        ),
        ord AS (
            SELECT user_id, {pe} AS period, count(*) AS orders_signed,
                   avg(CASE WHEN others > 0 THEN 1.0 ELSE 0.0 END) AS teamwork_orders
            FROM (SELECT signed_by AS user_id, day, others FROM ts_orders) o
            JOIN bounds b ON o.day BETWEEN b.d0 AND b.d1
            GROUP BY ALL
        ),
        m AS (
            SELECT agg.*, {_TIME8}, n.notes, n.same_day_note_completion, o.orders_signed,
                   o.teamwork_orders
            FROM agg
            LEFT JOIN notes n ON n.user_id = agg.user_id AND n.period IS NOT DISTINCT FROM agg.period
            LEFT JOIN ord o ON o.user_id = agg.user_id AND o.period IS NOT DISTINCT FROM agg.period
        )"""  # noqa: S608 - allow-listed pieces


def _params(con, settings, date_from, date_to, service, role, **extra) -> dict:
    check_dates(date_from, date_to)
    _check_calendar(con, date_from, date_to)
    return {"date_from": date_from, "date_to": date_to, "service": service, "role": role,
            "clock_s": settings.clock_hours * 3600, **extra}


def _check_calendar(con: duckdb.DuckDBPyConnection, date_from: date | None, date_to: date | None) -> None:
    """The period asked must lie within the calendar loaded with the data (its years ± 1)."""
    first, last = con.execute("SELECT min(day), max(day) FROM ts_calendar").fetchone()
    if first is None:
        return
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None and not first <= value <= last:
            raise InvalidInput(
                f"dates: {name} {value:%d/%m/%Y} is outside the calendar of the data "
                f"({first:%d/%m/%Y}–{last:%d/%m/%Y})"
            )


def _mask(frame, min_clinicians: int, keep: tuple[str, ...]):  # noqa: ANN001, ANN202 - DataFrame
    """Blank every figure of the rows with fewer than ``min_clinicians`` (``masked`` says so)."""
    frame = frame.copy()
    small = frame["clinicians"] < min_clinicians
    figures = [c for c in frame.columns if c not in keep]
    for column in figures:
        if pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].astype("float64")
            frame.loc[small, column] = None
        else:
            frame[column] = frame[column].astype(object).where(~small, None)
    frame["masked"] = small
    return frame


def period_bounds(
    con: duckdb.DuckDBPyConnection, date_from: date | None = None, date_to: date | None = None
) -> tuple[date | None, date | None]:
    """The period a figure covers: the one asked, else the logs' first and last local day."""
    first, last = con.execute(
        "SELECT min(day) FILTER (WHERE in_data), max(day) FILTER (WHERE in_data) FROM ts_calendar"
    ).fetchone()
    return date_from or first, date_to or last


def _clinician_sql(period: str) -> str:
    """Per clinician and period; ``period`` is checked against the allow-list."""
    peers = ",\n".join(
        f"""median({m}) OVER peers AS peer_median_{m},
        CASE WHEN {m} IS NULL THEN NULL ELSE round(100 * percent_rank() OVER (
            PARTITION BY role, service, period, {m} IS NULL ORDER BY {m}), 1) END AS peer_pct_{m}"""
        for m in MEASURES
    )
    return f"""{_clinician_base(period)}
        SELECT * EXCLUDE (inside_hours, days), {peers} FROM m
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
    reason: str | None = None,
) -> TimeFigure:
    """One row per clinician and period: raw minutes, scheduled patient and other hours,
    planning coverage, the ``*_time8`` measures, undivided attention, PSH40, same-day note
    completion, teamwork for orders, and for each per-8-hour measure the peers' median and the
    clinician's percentile rank (0–100).

    Individual figures about staff: with an ``actor`` (every dashboard and CLI call), they need
    ``VIEW_CLINICIAN_TIMES`` (granted explicitly) and a ``reason``, and the view is logged with
    it. Without an actor (library use inside Hygie: summaries, groups) nothing is checked."""
    if actor is not None:
        require(actor, Permission.VIEW_CLINICIAN_TIMES)
        if not (reason and reason.strip()):
            raise InvalidInput("clinician figures: state the reason for viewing individual figures "
                               "(purpose: organising work, not evaluating people)")
    settings = prepare(con, actor, settings)
    sql = _clinician_sql(period) + "\nORDER BY period, user_id"
    frame = con.execute(
        sql, _params(con, settings, date_from, date_to, service, role, user_id=user_id)
    ).df()
    if actor is not None:
        record(con, actor, "view", "timesinks_clinicians", len(frame),
               {"reason": reason.strip(), "period": period, "service": service, "role": role,
                "user_id": user_id, "from": str(date_from) if date_from else None,
                "to": str(date_to) if date_to else None})
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
    min_clinicians: int = MIN_CLINICIANS,
) -> TimeFigure:
    """Per role, service and period: clinicians, and p25 / median / p75 / p90 of each measure
    (masked for groups of fewer than ``min_clinicians``)."""
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
    params = _params(con, settings, date_from, date_to, service, role, user_id=None)
    frame = _mask(con.execute(sql, params).df(), min_clinicians, ("role", "service", "period", "clinicians"))
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
    min_clinicians: int = MIN_CLINICIANS,
) -> TimeFigure:
    """Totals per service or role (the clinician's own, from ``staff``) and period, with the
    group's ``*_time8`` as ratios of sums (minutes over all its scheduled hours); a group of
    fewer than ``min_clinicians`` keeps its name and head count, its figures masked."""
    if by not in _GROUPS:
        raise InvalidInput(f"group measures: by '{by}' is not one of {', '.join(_GROUPS)}")
    settings = prepare(con, actor, settings)
    sql = f"""{_clinician_base(period)}
        SELECT {_GROUPS[by]} AS {by}, period, {_GROUP_SUMS}
        FROM m GROUP BY ALL ORDER BY period, {by}
    """  # noqa: S608 - allow-listed pieces
    sql = f"WITH g AS ({sql}) SELECT *, {_TIME8} FROM g ORDER BY period, {by}"  # noqa: S608 - allow-listed
    frame = con.execute(sql, _params(con, settings, date_from, date_to, service, role)).df()
    frame = _mask(frame.drop(columns=["inside_hours", "days"]), min_clinicians, (by, "period", "clinicians"))
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
    min_clinicians: int = MIN_CLINICIANS,
) -> TimeFigure:
    """Totals per period over all (filtered) clinicians, ``*_time8`` as ratios of sums
    (masked for a period with fewer than ``min_clinicians``)."""
    if period == "all":
        raise InvalidInput("period measures: choose 'week' or 'month'")
    settings = prepare(con, actor, settings)
    sql = f"""{_clinician_base(period)}
        SELECT period, {_GROUP_SUMS}
        FROM m GROUP BY ALL
    """  # noqa: S608 - allow-listed pieces
    sql = f"WITH g AS ({sql}) SELECT *, {_TIME8} FROM g ORDER BY period"  # noqa: S608 - constant pieces
    frame = con.execute(sql, _params(con, settings, date_from, date_to, service, role)).df()
    frame = _mask(frame.drop(columns=["inside_hours", "days"]), min_clinicians, ("period", "clinicians"))
    return figure(frame, settings)
