"""Reports that synthesise: the monthly report a DSI gives its direction and the
identity-vigilance committee (``hygie report monthly``, the overview's button, a schedulable job)::

    report = monthly_report(con, actor, "2026-11")   # aggregates, small cells masked, logged
    pdf = render_pdf(report)                          # French A4 PDF, charts and sentences
"""

from __future__ import annotations

from analytics.reports.monthly import MonthlyReport, month_bounds, monthly_report, previous_month

__all__ = ["MonthlyReport", "month_bounds", "monthly_report", "previous_month", "render_pdf"]


def render_pdf(report: MonthlyReport) -> bytes:
    """The report as PDF bytes (see :mod:`analytics.reports.pdf`). Matplotlib and ReportLab are
    imported on first use, so that the CLI and the job registry start without them."""
    from analytics.reports.pdf import render_pdf as render

    return render(report)
