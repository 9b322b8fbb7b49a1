"""Time sinks ranking: what consumes the most active hours, how much after hours, the trend,
and the hours a month an automation would give back.

Assumptions, all returned with the result: ``automation_share`` of a sink's active time would
be removed by an automation (default 0.25, adjustable); a month is 365.25 / 12 days; hours per
month = hours in the period / months in the period (the ``--from``/``--to`` span, else the
span of the data). The weekly trend is the least-squares slope of weekly hours (hours per
week, per week). Services are where the work was logged (event's service, else the user's).

When the documents area has stored double-entry results (``double_entry``, filled by
``analytics.documents.find_double_entry``), rankings by document type or service carry
``double_entry_hours``: the estimated typing hours of passages typed again, over documents
created in the period (that area's own assumption on typing speed applies); NaN when no
double-entry results are stored. They also carry the gains from evidence
(:mod:`analytics.timesinks.automation`): measured time on re-typed passages and on duplicated
documents, ``evidence_hours_saved_per_month``, next to the flat-share assumption.
"""

from __future__ import annotations

from datetime import date

import duckdb

from analytics.access.roles import Actor
from analytics.errors import InvalidInput
from analytics.timesinks._common import TimeFigure, check_dates, figure, prepare
from analytics.timesinks.automation import add_evidence
from analytics.timesinks.labels import automation_label
from analytics.timesinks.settings import TimeSinkSettings

__all__ = ["RANK_BY", "time_sink_ranking"]

RANK_BY = ("document_type", "activity", "service")

DAYS_PER_MONTH = 365.25 / 12


def time_sink_ranking(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str = "document_type",
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    activity: str | None = None,
    automation_share: float = 0.25,
    retyped_recovery: float = 1.0,
    top: int | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Rank ``by`` document type, activity or service by active hours, with after-hours hours
    and share, share of all hours, hours per month, weekly trend and hours saved per month."""
    if by not in RANK_BY:
        raise InvalidInput(f"ranking: by '{by}' is not one of {', '.join(RANK_BY)}")
    if not 0 <= automation_share <= 1:
        raise InvalidInput(f"automation share: {automation_share} is outside 0–1")
    if not 0 <= retyped_recovery <= 1:
        raise InvalidInput(f"re-typing recovery: {retyped_recovery} is outside 0–1")
    check_dates(date_from, date_to)
    settings = prepare(con, actor, settings)
    sql = f"""
        WITH f AS (
            SELECT * FROM ts_service_day
            WHERE ($date_from IS NULL OR day >= $date_from) AND ($date_to IS NULL OR day <= $date_to)
              AND ($service IS NULL OR service = $service)
              AND ($activity IS NULL OR activity = $activity)
        ),
        span AS (
            SELECT (coalesce($date_to, max(day)) - coalesce($date_from, min(day)) + 1) / $dpm AS months
            FROM f
        ),
        weekly AS (
            SELECT {by} AS k, CAST(date_trunc('week', day) AS DATE) AS week,
                   sum(active_s) / 3600 AS hours
            FROM f GROUP BY ALL
        ),
        trend AS (
            SELECT k, regr_slope(hours, (week - DATE '2000-01-03') / 7) AS weekly_trend_hours,
                   count(*) AS weeks
            FROM weekly GROUP BY k
        ),
        agg AS (
            SELECT {by} AS k, sum(active_s) / 3600 AS hours,
                   sum(outside_s) / 3600 AS after_hours_hours, sum(slices) AS slices
            FROM f GROUP BY ALL
        )
        SELECT agg.k AS {by}, hours, after_hours_hours,
               after_hours_hours / nullif(hours, 0) AS after_hours_share,
               hours / nullif(sum(hours) OVER (), 0) AS share_of_total,
               hours / nullif(span.months, 0) AS hours_per_month,
               trend.weekly_trend_hours, trend.weeks,
               $share AS automation_share,
               $share * hours / nullif(span.months, 0) AS hours_saved_per_month,
               slices
        FROM agg CROSS JOIN span LEFT JOIN trend ON trend.k IS NOT DISTINCT FROM agg.k
        ORDER BY hours DESC, agg.k
        LIMIT $top"""  # noqa: S608 - `by` is allow-listed
    params = {
        "date_from": date_from, "date_to": date_to, "service": service, "activity": activity,
        "dpm": DAYS_PER_MONTH, "share": float(automation_share), "top": top or 2**62,
    }
    frame = con.execute(sql, params).df()
    if by in ("document_type", "service"):
        if _has_double_entry(con):
            frame = _add_double_entry(con, frame, by, date_from, date_to)
        else:  # not computed: unknown, not zero
            frame["double_entry_hours"] = float("nan")
        frame = add_evidence(con, frame, by, date_from, date_to, retyped_recovery)
    return figure(frame, settings, automation_label(automation_share, retyped_recovery))


def _has_double_entry(con: duckdb.DuckDBPyConnection) -> bool:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'double_entry'"
    ).fetchone()[0]
    return bool(exists) and con.execute("SELECT count(*) > 0 FROM double_entry").fetchone()[0]


def _add_double_entry(con, frame, by: str, date_from, date_to):  # noqa: ANN001, ANN202
    extra = con.execute(
        f"""SELECT {by} AS k, sum(estimated_minutes) / 60 AS double_entry_hours
            FROM double_entry
            WHERE ($date_from IS NULL OR target_created_at::DATE >= $date_from)
              AND ($date_to IS NULL OR target_created_at::DATE <= $date_to)
            GROUP BY ALL""",  # noqa: S608 - `by` is allow-listed
        {"date_from": date_from, "date_to": date_to},
    ).df()
    merged = frame.merge(extra, how="left", left_on=by, right_on="k").drop(columns=["k"])
    merged["double_entry_hours"] = merged["double_entry_hours"].fillna(0.0)
    return merged
