"""Overview: the few numbers a DSI manager reports upward, and what is loaded."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from analytics import identity, reports
from analytics import timesinks as ts
from analytics.reports.texts import fr_month
from dashboard import auth, state
from dashboard.charts import sparkline
from dashboard.components import actor
from dashboard.i18n import t

CORE_TABLES = ("patients", "documents", "audit_events", "staff", "schedules")


@st.cache_data(show_spinner=False, max_entries=8)
def loaded_tables(_con, version: str) -> pd.DataFrame:
    """Row counts of the core tables and the time of their last successful import."""
    rows = []
    for table in CORE_TABLES:
        count = _con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608 - fixed names
        last = _con.execute(
            "SELECT max(finished_at) FROM imports WHERE table_name = ? AND status = 'loaded'", [table]
        ).fetchone()[0]
        rows.append({"table": table, "rows": count, "last_import": last})
    return pd.DataFrame(rows)


@st.cache_data(show_spinner=False, max_entries=8)
def duplicate_figures(_con, version: str, role: str) -> identity.DuplicateRate:
    """The duplicate rate against the target, pending pairs and their trend, from the engine."""
    return identity.duplicate_rate(_con, actor())


@st.cache_data(show_spinner=False, max_entries=8)
def time_figures(_con, version: str, role: str) -> dict | None:
    """Headline time figures (the engine's defaults), or None without audit data."""
    who = actor()
    summary = ts.summary(_con, actor=who)
    if summary.frame.empty or not summary.frame["sessions"].iloc[0]:
        return None
    weekly = ts.period_measures(_con, period="week", actor=who).frame
    ranking = ts.time_sink_ranking(_con, by="document_type", actor=who)
    backlog = ts.unsigned_backlog(_con, by="service", actor=who).frame
    return {
        "summary": summary.frame.iloc[0].to_dict(), "label": summary.label, "weekly": weekly,
        "saved": float(ranking.frame["hours_saved_per_month"].sum()), "ranking_label": ranking.label,
        "unsigned": int(backlog["total"].sum()) if not backlog.empty else 0,
        "unsigned_old": int(backlog.filter(like="age_").drop(columns=["age_0_2d"], errors="ignore").sum().sum())
        if not backlog.empty else 0,
    }


def _report_months(today: date, count: int = 12) -> list[str]:
    """The current month then the ``count`` before it, as ``YYYY-MM`` (newest first)."""
    months, first = [f"{today:%Y-%m}"], today.replace(day=1)
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        months.append(f"{first:%Y-%m}")
    return months


def report_download() -> None:
    """The monthly report: built only when the user clicks (a deferred download), logged."""
    st.subheader(t("overview.report"))
    st.caption(t("overview.report_help"))
    months = _report_months(date.today())
    # the previous month by default: the one a monthly report is about
    month = st.selectbox(t("overview.report_month"), months, index=1, key="report_month",
                         format_func=lambda m: fr_month(date.fromisoformat(f"{m}-01")))
    root = state.root_connection()
    recheck = auth.deferred_guard()

    def build() -> bytes:
        # run on the click without rerunning the page: the session and the account are checked now
        current = recheck()
        cursor = root.cursor()
        try:
            return reports.render_pdf(reports.monthly_report(cursor, current, month))
        finally:
            cursor.close()

    st.download_button(t("overview.report_download"), data=build, mime="application/pdf",
                       file_name=f"rapport_mensuel_{month}.pdf", key="report_download",
                       icon=":material/picture_as_pdf:", on_click="ignore")


def _trend(x: pd.Series, y: pd.Series, unit: str, step: str, *, bar: bool = False) -> None:
    """The figure's trend with its axis, unit and period (nothing with fewer than two points)."""
    if len(y) < 2:
        return
    st.plotly_chart(sparkline(x, y, unit=unit, bar=bar), config={"displayModeBar": False}, key=f"spark_{step}_{unit}")
    first, last = pd.Timestamp(x.iloc[0]), pd.Timestamp(x.iloc[-1])
    st.caption(t(f"overview.trend.{step}", first=f"{first:%d/%m/%Y}", last=f"{last:%d/%m/%Y}", unit=unit))


def _link(page: str, label: str) -> None:
    """A link to the page that explains a figure, if this role may open it."""
    if page in st.session_state.get("hygie_pages", ()):
        st.page_link(PAGES / page, label=label, icon=":material/arrow_forward:")


PAGES = Path(__file__).resolve().parent

me = actor()
st.title(t("overview.title"))
con = state.con()
version = state.data_version(con)
tables = loaded_tables(con, version)

# --- the figures a DSI manager reports upward ---------------------------------------------
top = st.columns(3, border=True)
dup = duplicate_figures(con, version, me.role)
known = dup.trend.dropna(subset=["rate"])  # runs whose rate is known, oldest first
rates = known["rate"] * 100
with top[0]:
    if dup.rate is None:
        st.metric(t("overview.dup_rate"), "—", help=t("overview.dup_rate_help"))
        st.caption(t("overview.no_match_run"))
    else:
        rate = dup.rate * 100
        delta = None if len(rates) < 2 else f"{rates.iloc[-1] - rates.iloc[-2]:+.2f} pt".replace(".", ",")
        st.metric(
            t("overview.dup_rate"), f"{rate:.2f} %".replace(".", ","), delta=delta, delta_color="inverse",
            help=t("overview.dup_rate_help"),
        )
        _trend(known["started_at"], rates.round(2), "%", "run")
        st.caption(t("overview.dup_target", target=f"{dup.target * 100:g}") + (" ✅" if dup.meets_target else " ⚠️"))
    _link("duplicates.py", t("overview.see_duplicates"))
with top[1]:
    if dup.match_run_id is None:
        st.metric(t("overview.pending_pairs"), "—")
    else:
        reviews = dup.trend["reviews"].fillna(0)
        st.metric(t("overview.pending_pairs"), dup.pending_reviews)
        _trend(dup.trend["started_at"], reviews, t("overview.unit.pairs"), "run", bar=True)
        st.caption(t("overview.pending_help"))
    _link("duplicates.py", t("overview.see_queue"))
figures = time_figures(con, version, me.role)
with top[2]:
    if figures is None:
        st.metric(t("overview.unsigned"), "—")
        st.caption(t("overview.no_timesinks"))
    else:
        st.metric(t("overview.unsigned"), figures["unsigned"], help=t("overview.unsigned_help"))
        st.caption(t("overview.unsigned_old", n=figures["unsigned_old"]))
    _link("time_sinks.py", t("overview.see_backlog"))

bottom = st.columns(3, border=True)
if figures is not None:
    row, weekly = figures["summary"], figures["weekly"]
    with bottom[0]:
        minutes = float(row["median_ehr_time8"] or 0)
        st.metric(
            t("overview.ehr8"),
            f"{minutes / 60:.1f} h".replace(".", ",") if minutes >= 60 else f"{minutes:.0f} min",
            help=t("overview.ehr8_help"),
        )
        _trend(weekly["period"], (weekly["ehr_time8"].fillna(0) / 60).round(2), "h", "week")
        _link("time_sinks.py", t("overview.see_time"))
    with bottom[1]:
        share = (weekly["outside_minutes"] / weekly["active_minutes"].where(weekly["active_minutes"] > 0)).fillna(0) * 100
        st.metric(
            t("overview.after_hours"), f"{(row['outside_share'] or 0) * 100:.0f} %",
        )
        _trend(weekly["period"], share.round(1), "%", "week")
        _link("time_sinks.py", t("overview.see_when"))
    with bottom[2]:
        st.metric(t("overview.automation"), f"{figures['saved']:.0f} h".replace(".", ","),
                  help=t("overview.automation_help", share=25))
        _link("time_sinks.py", t("overview.see_ranking"))
    st.caption(figures["label"])

st.subheader(t("overview.loaded"))
if int(tables["rows"].sum()) == 0:
    st.info(t("overview.no_data"))
shown = pd.DataFrame(
    {
        t("overview.table"): [t(f"table.{name}") for name in tables["table"]],
        t("overview.rows"): tables["rows"],
        t("overview.last_import"): [
            value.strftime("%d/%m/%Y %H:%M") if pd.notna(value) else t("overview.never")
            for value in tables["last_import"]
        ],
    }
)
st.dataframe(shown, hide_index=True, width="content")

report_download()
