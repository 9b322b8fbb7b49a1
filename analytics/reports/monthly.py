"""The monthly report's figures: what a DSI tells its direction and the identity-vigilance
committee about one calendar month (local time, Europe/Paris).

Everything here is an aggregate: no name, IPP or login leaves this module. Counts of patient
records under :data:`SMALL_CELL` are masked (the SNDS's statistical secrecy) and a time-sink
row built on fewer than :data:`MIN_CLINICIANS` clinicians is masked too (the CNIL's purpose
limit on staff figures), so the report can travel as a pseudonymised document.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import duckdb
import pandas as pd

from analytics import identity
from analytics import timesinks as ts
from analytics.access import access_log
from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput

__all__ = ["MIN_CLINICIANS", "SMALL_CELL", "MonthlyReport", "month_bounds", "monthly_report", "previous_month"]

#: Counts of patient records below this are shown as "< 10" (SNDS statistical secrecy).
SMALL_CELL = 10
#: A time-sink row over fewer clinicians than this is masked (no figure singles out staff).
MIN_CLINICIANS = 5
#: Jobs whose runs the identity section reports (merges reach other systems by messages).
IDENTITY_JOBS = ("merge-identities", "unmerge-identity")
TOP_DOCUMENT_TYPES = 8


def month_bounds(month: str) -> tuple[date, date]:
    """``YYYY-MM`` → (first day, last day) of that month."""
    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except (ValueError, TypeError):
        raise InvalidInput("report.bad_month", month=month) from None
    return first, date(year, number, calendar.monthrange(year, number)[1])


def previous_month(today: date) -> str:
    """The calendar month before ``today``'s, as ``YYYY-MM`` (what a monthly schedule reports)."""
    last = today.replace(day=1) - timedelta(days=1)
    return f"{last:%Y-%m}"


def masked(count: int | None) -> int | None:
    """``count`` when it may be shown, None when it is a small cell (shown as "< 10")."""
    if count is None or count == 0 or count >= SMALL_CELL:
        return count
    return None


@dataclass
class MonthlyReport:
    """The figures of one month, section by section (DataFrames hold aggregates only)."""

    month: str
    first_day: date
    last_day: date
    generated_at: datetime
    generated_by: str
    # identity-vigilance
    rate: float | None = None
    rate_target: float = identity.DUPLICATE_RATE_TARGET
    rate_previous: float | None = None
    rate_trend: pd.DataFrame = field(default_factory=pd.DataFrame)   # started_at, rate
    thresholds: tuple[float, float] | None = None
    reviewed: dict[str, int | None] = field(default_factory=dict)    # same / not_same / unsure
    pending: int = 0
    collisions: int | None = None                                     # None: not computed here
    job_runs: pd.DataFrame = field(default_factory=pd.DataFrame)     # job, applied, undone, failed, rows, messages
    # import quality
    imports: pd.DataFrame = field(default_factory=pd.DataFrame)      # table_name, files, refused, rows
    findings: pd.DataFrame = field(default_factory=pd.DataFrame)     # problem, count (None = masked)
    findings_total: int | None = 0
    # time sinks
    time_label: str = ""
    automation_label: str = ""
    active_hours: float | None = None
    outside_share: float | None = None
    median_ehr_time8: float | None = None
    clinicians: int = 0
    top_types: pd.DataFrame = field(default_factory=pd.DataFrame)    # document_type, hours, after_hours_hours, saved
    masked_types: int = 0
    weekly: pd.DataFrame = field(default_factory=pd.DataFrame)       # week, active_hours, outside_hours
    automation_hours: float | None = None
    # unsigned backlog at the end of the month
    backlog: dict[str, int] = field(default_factory=dict)           # bucket -> documents
    backlog_label: str = ""

    @property
    def has_time_data(self) -> bool:
        return self.active_hours is not None


def _rate_section(con: duckdb.DuckDBPyConnection, actor: Actor, report: MonthlyReport) -> None:
    figures = identity.duplicate_rate(con, actor)
    trend = figures.trend
    if trend.empty:
        return
    trend = trend.assign(started_at=pd.to_datetime(trend["started_at"]))
    end = pd.Timestamp(report.last_day + timedelta(days=1)).tz_localize("Europe/Paris")
    start = pd.Timestamp(report.first_day).tz_localize("Europe/Paris")
    upto = trend[(trend["started_at"] < end) & trend["rate"].notna()]
    if not upto.empty:
        report.rate = float(upto["rate"].iloc[-1])
        before = upto[upto["started_at"] < start]
        report.rate_previous = float(before["rate"].iloc[-1]) if not before.empty else None
        report.rate_trend = upto[["started_at", "rate"]].tail(12).reset_index(drop=True)
    report.pending = figures.pending_reviews
    row = con.execute("SELECT threshold_match, threshold_review FROM match_runs "
                      "ORDER BY started_at DESC LIMIT 1").fetchone()
    report.thresholds = (float(row[0]), float(row[1])) if row else None


def _month_params(report: MonthlyReport) -> dict[str, object]:
    return {"first": report.first_day, "after": report.last_day + timedelta(days=1)}


def _reviews_and_jobs(con: duckdb.DuckDBPyConnection, report: MonthlyReport) -> None:
    params = _month_params(report)
    reviewed = dict(con.execute(
        """SELECT decision, count(*) FROM pair_reviews
           WHERE decided_at >= CAST($first AS TIMESTAMPTZ) AND decided_at < CAST($after AS TIMESTAMPTZ)
           GROUP BY ALL""",
        params).fetchall())
    report.reviewed = {d: masked(int(reviewed.get(d, 0))) for d in ("same", "not_same", "unsure")}
    report.job_runs = con.execute(
        """SELECT r.job,
                   count(*) FILTER (WHERE r.undo_of IS NULL AND r.status IN ('succeeded', 'undone')) AS applied,
                   count(*) FILTER (WHERE r.undo_of IS NOT NULL AND r.status = 'succeeded') AS undos,
                   count(*) FILTER (WHERE r.status IN ('failed', 'interrupted')) AS failed,
                   coalesce(sum(r.rows_changed) FILTER (WHERE r.undo_of IS NULL), 0) AS rows_changed,
                   coalesce(sum(o.files), 0) AS messages
            FROM job_runs r
            LEFT JOIN (SELECT run_id, count(*) AS files FROM job_outputs
                       WHERE path LIKE '%.hl7' OR path LIKE '%.json' GROUP BY run_id) o USING (run_id)
            WHERE r.job IN $jobs AND r.started_at >= CAST($first AS TIMESTAMPTZ) AND r.started_at < CAST($after AS TIMESTAMPTZ)
            GROUP BY r.job ORDER BY r.job""",
        {**params, "jobs": list(IDENTITY_JOBS)}).df()


def _collisions(con: duckdb.DuckDBPyConnection, actor: Actor, report: MonthlyReport) -> None:
    """Identities whose own records contradict themselves, as they stand when the report is made."""
    report.collisions = identity.count_collisions(con, actor)


def _imports(con: duckdb.DuckDBPyConnection, report: MonthlyReport) -> None:
    params = _month_params(report)
    report.imports = con.execute(
        """SELECT table_name, count(*) AS files, count(*) FILTER (WHERE status = 'refused') AS refused,
                   coalesce(sum(rows_inserted), 0) + coalesce(sum(rows_updated), 0) AS rows_loaded
            FROM imports
            WHERE started_at >= CAST($first AS TIMESTAMPTZ) AND started_at < CAST($after AS TIMESTAMPTZ)
            GROUP BY ALL ORDER BY table_name""",
        params).df()
    findings = con.execute(
        """SELECT f.problem, count(*) AS n FROM data_quality_findings f JOIN imports i USING (import_id)
            WHERE i.started_at >= CAST($first AS TIMESTAMPTZ) AND i.started_at < CAST($after AS TIMESTAMPTZ)
            GROUP BY ALL ORDER BY n DESC, f.problem""",
        params).df()
    report.findings_total = masked(int(findings["n"].sum())) if not findings.empty else 0
    # object dtype: a masked cell stays None (a float column would turn it into NaN)
    report.findings = pd.DataFrame({"problem": findings["problem"],
                                    "count": pd.Series([masked(int(n)) for n in findings["n"]], dtype=object)}).head(8)


def _clinicians_per_type(con: duckdb.DuckDBPyConnection, report: MonthlyReport) -> dict[str, int]:
    rows = con.execute(
        """SELECT document_type, count(DISTINCT user_id) FROM audit_events
            WHERE "timestamp" >= CAST($first AS TIMESTAMPTZ) AND "timestamp" < CAST($after AS TIMESTAMPTZ)
            GROUP BY ALL""",
        _month_params(report)).fetchall()
    return {k: int(n) for k, n in rows}


def _time_sinks(con: duckdb.DuckDBPyConnection, actor: Actor, report: MonthlyReport) -> None:
    span = {"date_from": report.first_day, "date_to": report.last_day, "actor": actor}
    summary = ts.summary(con, **span)
    row = summary.frame.iloc[0] if not summary.frame.empty else None
    if row is None or not row["sessions"]:
        return
    report.time_label = summary.label
    report.active_hours = float(row["active_hours"])
    report.outside_share = None if pd.isna(row["outside_share"]) else float(row["outside_share"])
    report.median_ehr_time8 = None if pd.isna(row["median_ehr_time8"]) else float(row["median_ehr_time8"])
    report.clinicians = int(row["clinicians"])
    ranking = ts.time_sink_ranking(con, by="document_type", **span)
    report.automation_label = ranking.label
    frame = ranking.frame
    staff = _clinicians_per_type(con, report)
    enough = frame["document_type"].map(lambda k: staff.get(None if pd.isna(k) else k, 0) >= MIN_CLINICIANS)
    report.masked_types = int((~enough).sum())
    kept = frame[enough].head(TOP_DOCUMENT_TYPES)
    report.top_types = pd.DataFrame({
        "document_type": kept["document_type"].fillna("(non renseigné)"),
        "hours": kept["hours"], "after_hours_hours": kept["after_hours_hours"],
        "saved": kept["hours_saved_per_month"],
    }).reset_index(drop=True)
    report.automation_hours = float(frame.loc[enough, "hours_saved_per_month"].sum())
    weekly = ts.period_measures(con, period="week", **span).frame
    if not weekly.empty:
        report.weekly = pd.DataFrame({"week": pd.to_datetime(weekly["period"]),
                                      "active_hours": weekly["active_minutes"] / 60,
                                      "outside_hours": weekly["outside_minutes"] / 60})


def _backlog(con: duckdb.DuckDBPyConnection, actor: Actor, report: MonthlyReport) -> None:
    as_of = datetime.combine(report.last_day + timedelta(days=1), datetime.min.time())
    as_of = pd.Timestamp(as_of).tz_localize("Europe/Paris").to_pydatetime()
    figure = ts.unsigned_backlog(con, by="service", as_of=as_of, actor=actor)
    report.backlog_label = figure.label
    frame = figure.frame
    report.backlog = {name: int(frame[name].sum()) if not frame.empty else 0
                      for name, _, _ in ts.BACKLOG_BUCKETS}


def monthly_report(con: duckdb.DuckDBPyConnection, actor: Actor, month: str, *,
                   now: datetime | None = None, record: bool = True) -> MonthlyReport:
    """Gather the figures of ``month`` (``YYYY-MM``); recorded in the access log as an export
    unless ``record`` is False (the monthly-report job, whose run is recorded as a job).

    Aggregates only: every role that sees aggregates may build it.
    """
    require(actor, Permission.VIEW_AGGREGATES)
    first, last = month_bounds(month)
    report = MonthlyReport(month=month, first_day=first, last_day=last,
                           generated_at=now or datetime.now().astimezone(), generated_by=actor.username)
    _rate_section(con, actor, report)
    _reviews_and_jobs(con, report)
    _collisions(con, actor, report)
    _imports(con, report)
    _time_sinks(con, actor, report)
    _backlog(con, actor, report)
    if record:
        access_log.record(con, actor, "export", "monthly_report", None, {"month": month, "format": "pdf"})
    return report
