"""``hygie timesinks``: a thin translator over :mod:`analytics.timesinks`."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
import pandas as pd

from analytics.cli.common import HygieGroup, as_option, cli_actor, open_warehouse
from analytics.cli.spark_cmd import spark_options, spark_session
from analytics.errors import InvalidInput

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
#: Stated on every export and recorded with it (CNIL: no reuse of logs to assess individuals).
PURPOSE = "organising work and choosing what to automate; not evaluating individuals"
_NO_REASON = "(no reason given on the command line)"


def _parse_date(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise InvalidInput(f"{option}: '{value}' is not a date (YYYY-MM-DD or dd/mm/yyyy)")


def _common(function):
    for decorator in reversed(
        [
            click.option(
                "--idle-threshold",
                type=int,
                default=None,
                help="Idle threshold in seconds (default: the last run's, else 300).",
            ),
            click.option("--from", "date_from", default=None, help="First day (YYYY-MM-DD)."),
            click.option("--to", "date_to", default=None, help="Last day (YYYY-MM-DD), included."),
            click.option("--holidays", "holidays", default=None,
                         help="Public holiday calendar: FR (default), 57/67/68 (Alsace-Moselle), "
                              "971-976 (overseas)."),
            click.option("--role", "role", default="physician", show_default=True,
                         help="Staff role measured (the measures are defined for physicians); "
                              "'all' for every role."),
        ]
    ):
        function = decorator(function)
    return function


def _settings(ts, con, idle_threshold: int | None, holidays: str | None):  # noqa: ANN001, ANN202
    """The latest run's settings (else the defaults) with the options given; ``None`` when no
    option is given (keep the latest run's)."""
    if idle_threshold is None and holidays is None:
        return None
    return ts.current_settings(con).with_threshold(idle_threshold).with_holidays(holidays)


def _role(role: str) -> str | None:
    return None if role.strip().lower() == "all" else role.strip()


@click.group(cls=HygieGroup)
def timesinks() -> None:
    """Measure documentation time sinks from EHR audit logs."""


@timesinks.command()
@_common
@click.pass_context
def summary(ctx: click.Context, idle_threshold: int | None, date_from: str | None, date_to: str | None,
            holidays: str | None, role: str) -> None:
    """Headline figures: active and after-hours hours, per activity, top time sinks."""
    from analytics import timesinks as ts

    start, end = _parse_date("--from", date_from), _parse_date("--to", date_to)
    con = open_warehouse(ctx)
    try:
        settings = _settings(ts, con, idle_threshold, holidays)
        result = ts.summary(con, date_from=start, date_to=end, role=_role(role), settings=settings)
        ranking = ts.time_sink_ranking(
            con, by="document_type", date_from=start, date_to=end, settings=result.settings, top=5
        )
    finally:
        con.close()
    row = result.frame.iloc[0]

    def num(value: object, fmt: str = "{:.1f}") -> str:
        return "-" if value is None or pd.isna(value) else fmt.format(value)

    click.echo(f"Purpose: {PURPOSE}.")
    click.echo(f"Settings: idle threshold {result.settings.idle_threshold_s} s; "
               f"after hours: {result.settings.after_hours_rule}")
    if row["period_first"] is not None and pd.notna(row["period_first"]):
        click.echo(f"Period: {row['period_first']:%Y-%m-%d} to {row['period_last']:%Y-%m-%d}; "
                   f"role: {role}; planning coverage: "
                   f"{num(row['planning_coverage'] * 100 if pd.notna(row['planning_coverage']) else None, '{:.0f}')} %")
    click.echo(f"Clinicians: {row['clinicians']}  sessions: {row['sessions']}")
    click.echo(f"Active hours: {num(row['active_hours'])}  after hours: {num(row['outside_hours'])} "
               f"({num(row['outside_share'] * 100 if pd.notna(row['outside_share']) else None, '{:.0f}')} %)")
    for activity in ts.ACTIVITIES:
        click.echo(f"  {activity}: {num(row[f'{activity}_hours'])} h")
    click.echo(f"Scheduled patient hours: {num(row['scheduled_hours'])}  median EHR-Time8: "
               f"{num(row['median_ehr_time8'])} min  median WOW8: {num(row['median_wow8'])} min  "
               f"median Prescription-Time8: {num(row['median_prescription_time8'])} min")
    click.echo("Top document types by active hours:")
    for item in ranking.frame.itertuples():
        name = "(none)" if pd.isna(item.document_type) else item.document_type
        click.echo(f"  {name}: {item.hours:.1f} h, "
                   f"{item.after_hours_share * 100 if pd.notna(item.after_hours_share) else 0:.0f} % after hours")


@timesinks.command()
@click.option("--by", "by", type=click.Choice(["user", "service", "document_type", "activity", "week"]),
              required=True, help="One row per user, service, document type, activity or week.")
@click.option("--out", "out", type=click.Path(dir_okay=False), required=True, help="CSV file to write.")
@click.option("--dialect", type=click.Choice(["excel-fr", "standard"]), default="excel-fr",
              show_default=True, help="standard: comma, UTF-8, dot decimal; excel-fr: ';', BOM, comma decimal.")
@click.option("--reason", default=None,
              help="Why per-clinician figures are needed (--by user); recorded in the access log.")
@_common
@as_option
@click.pass_context
def export(ctx: click.Context, by: str, out: str, dialect: str, reason: str | None, idle_threshold: int | None,
           date_from: str | None, date_to: str | None, holidays: str | None, role: str,
           as_user: str | None) -> None:
    """Write the time-sinks table --by user|service|document_type|activity|week as CSV."""
    from analytics import timesinks as ts
    from analytics.access.access_log import record
    from analytics.exports import to_csv_bytes

    start, end = _parse_date("--from", date_from), _parse_date("--to", date_to)
    con = open_warehouse(ctx)
    try:
        settings = _settings(ts, con, idle_threshold, holidays)
        actor = cli_actor(con, as_user)
        result = ts.export_table(con, by=by, date_from=start, date_to=end, role=_role(role),
                                 settings=settings, actor=actor, reason=reason or _NO_REASON)
        frame = result.frame
        target = Path(out)
        try:
            target.write_bytes(to_csv_bytes(frame, dialect))  # Hygie's one writer: formulas neutralised
        except OSError as exc:
            raise InvalidInput(f"{target}: cannot write the export: {exc.strerror}") from None
        # Every export is recorded (aggregates per clinician/service/type/week: no patient rows).
        record(con, actor, "export", f"timesinks_by_{by}", len(frame),
               {"dialect": dialect, "file": target.name, "aggregate": by != "user",
                "purpose": PURPOSE, "reason": reason or _NO_REASON})
    finally:
        con.close()
    click.echo(f"Wrote {len(frame)} rows to {target} ({result.label})")
    click.echo(f"Purpose: {PURPOSE}.")


@timesinks.command()
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), default="duckdb", show_default=True,
              help="Where the steps run: the warehouse's DuckDB, or Spark (same SQL, transpiled).")
@click.option("--idle-threshold", type=int, default=None,
              help="Idle threshold in seconds (default: the last run's, else 300).")
@click.option("--holidays", default=None, help="Public holiday calendar: FR (default), 57/67/68, 971-976.")
@click.option("--no-slices", is_flag=True, help="Leave ts_slices (drill-down rows) empty.")
@spark_options
@as_option
@click.pass_context
def precompute(ctx: click.Context, engine: str, idle_threshold: int | None, holidays: str | None,
               no_slices: bool, spark_master: str | None, spark_conf: tuple[str, ...],
               as_user: str | None) -> None:
    """Rebuild the time-sinks tables (sessions, slices, per-user-day aggregates) now."""
    from analytics import timesinks as ts

    con = open_warehouse(ctx)
    try:
        settings = ts.current_settings(con).with_threshold(idle_threshold).with_holidays(holidays)
        actor = cli_actor(con, as_user)
        if engine == "spark":
            from analytics.timesinks.on_spark import precompute_on_spark

            session = spark_session(spark_master, spark_conf)
            report = precompute_on_spark(con, session, settings, actor=actor, keep_slices=not no_slices)
        else:
            report = ts.precompute(con, settings, actor=actor, keep_slices=not no_slices)
    finally:
        con.close()
    click.echo(f"Time sinks ({engine}): {report.events_used} events, {report.sessions} sessions, "
               f"{report.slices} active slices (idle threshold {report.settings.idle_threshold_s} s) "
               f"in {report.seconds:.1f} s")


@timesinks.command()
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@as_option
@click.pass_context
def attach(ctx: click.Context, folder: str, as_user: str | None) -> None:
    """Load the result tables 'hygie spark timesinks --out FOLDER' wrote into the warehouse."""
    from analytics.timesinks.on_spark import attach_parquet

    con = open_warehouse(ctx)
    try:
        report = attach_parquet(con, folder, actor=cli_actor(con, as_user))
    finally:
        con.close()
    click.echo(f"Attached time sinks from {folder}: {report.events_used} events, {report.sessions} "
               f"sessions, {report.slices} active slices (idle threshold {report.settings.idle_threshold_s} s)")
