"""``hygie report``: reports that synthesise, a thin translator over :mod:`analytics.reports`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from analytics.cli.common import as_option, cli_actor, open_warehouse
from analytics.cli.export_cmd import _write_private


@click.group()
def report() -> None:
    """Reports for the direction and the identity-vigilance committee (PDF, French)."""


@report.command()
@click.option("--month", default=None, metavar="YYYY-MM", help="Month to report (default: the previous month).")
@click.option("--out", "out", required=True, metavar="FILE.pdf", help="Output PDF file.")
@as_option
@click.pass_context
def monthly(ctx: click.Context, month: str | None, out: str, as_user: str | None) -> None:
    """Write the monthly report: duplicates, reviews, merges, imports, time sinks, backlog."""
    from analytics.reports import monthly_report, previous_month, render_pdf

    month = month or previous_month(date.today())
    con = open_warehouse(ctx)
    try:
        figures = monthly_report(con, cli_actor(con, as_user), month)
    finally:
        con.close()
    data = render_pdf(figures)
    _write_private(Path(out), data)
    click.echo(f"Monthly report for {month} written to {out} ({len(data) // 1024} kB).")
