"""Render a :class:`~analytics.reports.monthly.MonthlyReport` as a PDF a committee reads in
five minutes: a page of essentials, then one section per subject with a chart, a sentence
that says what it means, a small table and the settings that produced it.

Charts are drawn by Matplotlib's object API (``Figure``, no pyplot global state, so renders
in the server's threads do not interfere) into PNGs; ReportLab lays out the pages with its
built-in Helvetica, whose Windows-1252 encoding covers French.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from xml.sax.saxutils import escape

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import (
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from analytics.messages_fr import french
from analytics.reports.monthly import MIN_CLINICIANS, SMALL_CELL, MonthlyReport
from analytics.reports.texts import fr_month, fr_number, fr_percent, text

__all__ = ["render_pdf"]

_ACCENT = "#16657e"
_MUTED = "#9aa5b1"
_WIDTH = A4[0] - 4 * cm


def _styles() -> dict[str, ParagraphStyle]:
    base = getSampleStyleSheet()
    return {
        "title": ParagraphStyle("title", parent=base["Title"], alignment=TA_LEFT, textColor=colors.HexColor(_ACCENT)),
        "subtitle": ParagraphStyle("subtitle", parent=base["Normal"], textColor=colors.grey, fontSize=9),
        "h2": ParagraphStyle("h2", parent=base["Heading2"], textColor=colors.HexColor(_ACCENT), spaceBefore=10),
        "body": ParagraphStyle("body", parent=base["Normal"], fontSize=10, leading=14),
        "bullet": ParagraphStyle("bullet", parent=base["Normal"], fontSize=10, leading=14, leftIndent=12,
                                 bulletIndent=0),
        "note": ParagraphStyle("note", parent=base["Normal"], fontSize=7.5, leading=10, textColor=colors.grey),
    }


def _count(value: int | None) -> str:
    """A count for the page: masked small cells read "< 10"."""
    return text("small", cell=SMALL_CELL) if value is None else fr_number(value)


def _hours(value: float) -> str:
    return f"{fr_number(value, 1 if value < 10 else 0)}\u00a0h"


def _minutes(value: float | None) -> str:
    if value is None:
        return text("not_computed")
    return f"{fr_number(value / 60, 1)}\u00a0h" if value >= 60 else f"{fr_number(value)}\u00a0min"


def _png(draw: Callable[[Figure], None], height: float = 2.6) -> Image:
    fig = Figure(figsize=(7.0, height), dpi=150, layout="constrained")
    draw(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    buf.seek(0)
    return Image(buf, width=_WIDTH, height=_WIDTH * height / 7.0)


def _french_axis(ax, decimals: int = 0, suffix: str = "") -> None:  # noqa: ANN001 - matplotlib Axes
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fr_number(v, decimals) + suffix))
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)


def _table(header: list[str], rows: list[list[str]]) -> Table:
    table = Table([header, *rows], hAlign="LEFT", repeatRows=1)
    table.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor(_ACCENT)),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f2f5f7")]),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3), ("TOPPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _p(value: str, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(value), style)


# --- sections ---------------------------------------------------------------------------------

def _identity_sentences(r: MonthlyReport) -> list[str]:
    if r.rate is None:
        out = [text("identity.no_run")]
    else:
        verdict = text("identity.rate_ok") if r.rate <= r.rate_target else text("identity.rate_above")
        sentence = text("identity.rate", rate=fr_percent(r.rate, 2), target=fr_percent(r.rate_target, 0),
                        verdict=verdict)
        if r.rate_previous is not None:
            delta = (r.rate - r.rate_previous) * 100
            sentence += text("identity.rate_change", previous=fr_percent(r.rate_previous, 2),
                             delta=f"{'+' if delta >= 0 else '-'}{fr_number(abs(delta), 2)} pt")
        out = [sentence]
    out.append(text("identity.reviews", same=_count(r.reviewed.get("same")),
                    not_same=_count(r.reviewed.get("not_same")), unsure=_count(r.reviewed.get("unsure")),
                    pending=fr_number(r.pending)))
    out.append(text("identity.collisions",
                    collisions=text("not_computed") if r.collisions is None else fr_number(r.collisions)))
    jobs = r.job_runs
    if jobs.empty:
        out.append(text("identity.no_jobs"))
    else:
        merges = jobs[jobs["job"] == "merge-identities"]
        out.append(text("identity.jobs", applied=fr_number(int(merges["applied"].sum())),
                        rows=fr_number(int(merges["rows_changed"].sum())), undos=fr_number(int(jobs["undos"].sum())),
                        failed=fr_number(int(jobs["failed"].sum())), messages=fr_number(int(jobs["messages"].sum()))))
    return out


def _identity(r: MonthlyReport, s: dict[str, ParagraphStyle]) -> list:
    story: list = [_p(text("identity.title"), s["h2"])]
    story += [_p(sentence, s["body"]) for sentence in _identity_sentences(r)]
    if not r.rate_trend.empty:
        def draw(fig: Figure) -> None:
            ax = fig.subplots()
            ax.plot(r.rate_trend["started_at"].dt.strftime("%d/%m"), r.rate_trend["rate"] * 100,
                    marker="o", color=_ACCENT)
            ax.axhline(r.rate_target * 100, color="#c0392b", linestyle="--", linewidth=1)
            ax.annotate(text("identity.target"), (0, r.rate_target * 100), textcoords="offset points",
                        xytext=(2, 3), fontsize=7, color="#c0392b")
            ax.set_ylim(bottom=0)
            ax.set_title(text("identity.chart"), fontsize=9, loc="left")
            _french_axis(ax, 1, " %")
        story.append(_png(draw, 2.2))
    if not r.job_runs.empty:
        story.append(_table(
            [text(f"identity.table.{c}") for c in ("job", "applied", "undos", "failed", "messages")],
            [[text(f"job.{row.job}"), fr_number(row.applied), fr_number(row.undos), fr_number(row.failed),
              fr_number(row.messages)] for row in r.job_runs.itertuples()]))
    if r.thresholds:
        story.append(_p(text("identity.settings", match=fr_number(r.thresholds[0], 2),
                             review=fr_number(r.thresholds[1], 2)), s["note"]))
    return story


def _imports(r: MonthlyReport, s: dict[str, ParagraphStyle]) -> list:
    story: list = [_p(text("imports.title"), s["h2"])]
    if r.imports.empty:
        return [*story, _p(text("imports.none"), s["body"])]
    story.append(_p(text("imports.summary", files=fr_number(int(r.imports["files"].sum())),
                         refused=fr_number(int(r.imports["refused"].sum())),
                         rows=fr_number(int(r.imports["rows_loaded"].sum())),
                         findings=_count(r.findings_total)), s["body"]))
    story.append(_p(text("imports.meaning"), s["body"]))

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        labels = [text(f"table.{t}") if f"table.{t}" in _KNOWN else t for t in r.imports["table_name"]]
        ax.barh(labels, r.imports["rows_loaded"], color=_ACCENT)
        ax.invert_yaxis()
        ax.set_title(text("imports.chart"), fontsize=9, loc="left")
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fr_number(v)))
        ax.spines[["top", "right"]].set_visible(False)
        ax.tick_params(labelsize=8)
    story.append(_png(draw, 1.8))
    if not r.findings.empty:
        story.append(_table([text("imports.table.problem"), text("imports.table.count")],
                            [[_p(french(str(row.problem)), s["note"]), _count(row.count)]  # findings are stored in English
                             for row in r.findings.itertuples()]))
    return story


_KNOWN = {f"table.{t}" for t in ("patients", "documents", "audit_events", "staff", "schedules")}


def _time(r: MonthlyReport, s: dict[str, ParagraphStyle]) -> list:
    story: list = [_p(text("time.title"), s["h2"])]
    if not r.has_time_data:
        return [*story, _p(text("time.none"), s["body"])]
    story.append(_p(text("time.summary", clinicians=fr_number(r.clinicians), hours=_hours(r.active_hours or 0),
                         outside=fr_percent(r.outside_share or 0, 0), ehr8=_minutes(r.median_ehr_time8)), s["body"]))
    top = r.top_types
    names = [t if t == t else text("time.unknown_type") for t in top["document_type"].head(3)]
    sentence = text("time.top", top=", ".join(f"« {n} »" for n in names), saved=_hours(r.automation_hours or 0))
    if r.masked_types:
        sentence += text("time.masked", n=r.masked_types, min=MIN_CLINICIANS)
    story.append(_p(sentence, s["body"]))
    if not top.empty:
        def draw(fig: Figure) -> None:
            ax = fig.subplots()
            inside = top["hours"] - top["after_hours_hours"]
            ax.barh(top["document_type"], inside, color=_ACCENT, label=text("time.in_hours"))
            ax.barh(top["document_type"], top["after_hours_hours"], left=inside, color="#e67e22",
                    label=text("time.after_hours"))
            ax.invert_yaxis()
            ax.legend(fontsize=7, frameon=False)
            ax.set_title(text("time.chart_types"), fontsize=9, loc="left")
            ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fr_number(v) + " h"))
            ax.spines[["top", "right"]].set_visible(False)
            ax.tick_params(labelsize=8)
        story.append(_png(draw, 2.6))
        story.append(_table(
            [text("time.table.type"), text("time.table.hours"), text("time.table.after"), text("time.table.saved")],
            [[row.document_type, _hours(row.hours), _hours(row.after_hours_hours), _hours(row.saved)]
             for row in top.itertuples()]))
    if len(r.weekly) > 1:
        def weeks(fig: Figure) -> None:
            ax = fig.subplots()
            labels = r.weekly["week"].dt.strftime("%d/%m")
            ax.plot(labels, r.weekly["active_hours"], marker="o", color=_ACCENT, label=text("time.all_hours"))
            ax.plot(labels, r.weekly["outside_hours"], marker="o", color="#e67e22", label=text("time.after_hours"))
            ax.set_ylim(bottom=0)
            ax.legend(fontsize=7, frameon=False)
            ax.set_title(text("time.chart_weeks"), fontsize=9, loc="left")
            _french_axis(ax, 0, " h")
        story.append(_png(weeks, 2.0))
    story.append(_p(text("time.purpose"), s["note"]))
    story.append(_p(r.automation_label, s["note"]))
    return story


def _backlog(r: MonthlyReport, s: dict[str, ParagraphStyle]) -> list:
    total = sum(r.backlog.values())
    old = r.backlog.get("age_8_30d", 0) + r.backlog.get("age_over_30d", 0)
    story: list = [_p(text("backlog.title"), s["h2"]),
                   _p(text("backlog.summary", total=fr_number(total), old=fr_number(old)), s["body"]),
                   _p(text("backlog.meaning"), s["body"])]
    if total:
        def draw(fig: Figure) -> None:
            ax = fig.subplots()
            ax.bar([text(f"bucket.{k}") for k in r.backlog], list(r.backlog.values()),
                   color=[_ACCENT, _ACCENT, "#e67e22", "#c0392b"])
            ax.set_title(text("backlog.chart"), fontsize=9, loc="left")
            _french_axis(ax)
        story.append(_png(draw, 1.8))
    story.append(_p(r.backlog_label, s["note"]))
    return story


def _essentials(r: MonthlyReport, s: dict[str, ParagraphStyle]) -> list:
    points = [_identity_sentences(r)[0]]
    if r.has_time_data:
        points.append(text("time.summary", clinicians=fr_number(r.clinicians), hours=_hours(r.active_hours or 0),
                           outside=fr_percent(r.outside_share or 0, 0), ehr8=_minutes(r.median_ehr_time8)))
    total = sum(r.backlog.values())
    old = r.backlog.get("age_8_30d", 0) + r.backlog.get("age_over_30d", 0)
    points.append(text("backlog.summary", total=fr_number(total), old=fr_number(old)))
    story: list = [_p(text("essentials"), s["h2"])]
    story += [Paragraph(escape(point), s["bullet"], bulletText="•") for point in points]
    return story


def render_pdf(report: MonthlyReport) -> bytes:
    """The report as PDF bytes (A4, French)."""
    s = _styles()
    buf = io.BytesIO()
    title = text("title", month=fr_month(report.first_day))

    def footer(canvas, doc) -> None:  # noqa: ANN001 - ReportLab callback
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.setFillColor(colors.HexColor(_MUTED))
        canvas.drawString(2 * cm, 1.2 * cm, text("footer", cell=SMALL_CELL, page=doc.page))
        canvas.restoreState()

    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=2 * cm, rightMargin=2 * cm, topMargin=1.8 * cm,
                            bottomMargin=2 * cm, title=title, author="Hygie", subject=title)
    generated = pd.Timestamp(report.generated_at).strftime("%d/%m/%Y %H:%M")
    story: list = [_p(title, s["title"]),
                   _p(text("subtitle", generated=generated, user=report.generated_by), s["subtitle"]),
                   Spacer(1, 0.3 * cm)]
    story += _essentials(report, s)
    for section in (_identity, _imports, _time, _backlog):
        parts = section(report, s)
        story.append(KeepTogether(parts[:3]))
        story += parts[3:]
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()
