"""monthly-report: the monthly report for the direction and the identity-vigilance committee,
as a PDF in the run's output folder — a job so that it can be scheduled like the others
(``hygie jobs schedule add monthly-report --cron '0 6 2 * *' --apply``: the 2nd of each month
reports the month before). No warehouse row changes; undo deletes the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from analytics.errors import InvalidInput
from analytics.jobs.registry import ChangeSet, JobContext, Output, job
from analytics.messages import english
from analytics.reports import month_bounds, monthly_report, previous_month, render_pdf


@dataclass(frozen=True)
class MonthlyReportParams:
    month: str = field(default="", metadata={"help": "month to report, YYYY-MM (default: the previous month)",
                                             "shape": "month"})

    def validate(self) -> None:
        if self.month:
            month_bounds(self.month)  # raises InvalidInput with the expected form

    def resolved(self, ctx: JobContext) -> str:
        return self.month or previous_month(ctx.now.date())


@job("monthly-report", params=MonthlyReportParams,
     reads=("patients", "documents", "audit_events", "match_runs", "pair_reviews", "imports"),
     undo_removes_outputs=True)
def monthly_report_job(ctx: JobContext, p: MonthlyReportParams) -> ChangeSet:
    """Write the monthly report (PDF): duplicate rate, reviews, merges, imports, time sinks, backlog.

    Aggregates only, pseudonymised, small cells masked; French. Changes no data.
    """
    month = p.resolved(ctx)
    report = monthly_report(ctx.con, ctx.actor, month, now=ctx.now, record=False)
    if report is None:  # pragma: no cover - monthly_report always returns a report
        raise InvalidInput("report.nothing", month=month)
    name = f"rapport_mensuel_{month}.pdf"
    return ChangeSet(outputs=[Output(name, render_pdf(report))], counts={"files": 1},
                     notes=[english("note.report_written", month=month, file=name)])
