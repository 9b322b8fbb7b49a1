"""Time sinks: where clinicians' EHR time goes, under adjustable, always-stated settings."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from analytics import timesinks as ts
from analytics.access.roles import Permission, allowed
from dashboard import charts, state
from dashboard.components import actor, export_button, guarded
from dashboard.i18n import t
from dashboard.task_button import task_button

me = actor()
st.title(t("nav.time_sinks"))
st.info(t("ts.purpose"))
task_button("recompute-time-sinks", t("task.timesinks.button"), t("task.timesinks.running"), t("task.timesinks.help"))
con = state.con()
version = state.data_version(con)

# --- settings (applied together: each change rebuilds the precomputed tables) -------------
current = ts.current_settings(con)
with st.expander(t("ts.settings"), expanded=False), st.form("ts_settings"):
    c1, c2, c3, c4, c5 = st.columns(5)
    idle = c1.number_input(
        t("ts.idle_threshold"), min_value=1, max_value=3600, step=30,
        value=int(st.session_state.get("ts_idle", current.idle_threshold_s)), help=t("ts.idle_help"),
    )
    start = c2.time_input(t("ts.workday_start"), value=st.session_state.get("ts_start", current.workday_start))
    end = c3.time_input(t("ts.workday_end"), value=st.session_state.get("ts_end", current.workday_end))
    share = c4.slider(
        t("ts.automation_share"), min_value=0, max_value=100, step=5,
        value=int(st.session_state.get("ts_share", 25)), format="%d %%", help=t("ts.automation_help"),
    )
    calendars = list(ts.HOLIDAY_CALENDARS)
    current_code = current.holiday_subdivision or current.holiday_country
    current_code = next((c for c in calendars if ts.HOLIDAY_CALENDARS[c][1] == current.holiday_subdivision),
                        current_code)
    holidays = c5.selectbox(
        t("ts.holidays"), calendars, format_func=lambda c: t(f"ts.holidays.{c}"),
        index=calendars.index(st.session_state.get("ts_holidays", current_code))
        if st.session_state.get("ts_holidays", current_code) in calendars else 0,
        help=t("ts.holidays_help"),
    )
    if st.form_submit_button(t("ts.apply_settings"), help=t("ts.apply_note")):
        st.session_state.update(ts_idle=int(idle), ts_start=start, ts_end=end, ts_share=int(share),
                                ts_holidays=holidays)
        st.rerun()

settings = None
with guarded():
    settings = ts.TimeSinkSettings(
        idle_threshold_s=int(st.session_state.get("ts_idle", current.idle_threshold_s)),
        workday_start=st.session_state.get("ts_start", current.workday_start),
        workday_end=st.session_state.get("ts_end", current.workday_end),
        holiday_country=current.holiday_country,
        holiday_subdivision=current.holiday_subdivision,
    )
    if "ts_holidays" in st.session_state:
        settings = settings.with_holidays(st.session_state["ts_holidays"])
if settings is None:
    st.stop()
automation = st.session_state.get("ts_share", 25) / 100
roles = ["physician", "resident", "nurse", "midwife", "secretary", "all"]
role_choice = st.segmented_control(
    t("ts.population"), options=roles, default="physician", format_func=lambda r: t(f"ts.population.{r}"),
    key="ts_role", help=t("ts.population_help"),
) or "physician"
role = None if role_choice == "all" else role_choice
key = (version, settings.to_json(), role)


@st.cache_data(show_spinner=t("ts.computing"), max_entries=16)
def _figure(_con, key: tuple, name: str, access_role: str, **kwargs) -> tuple[pd.DataFrame, str]:
    fig = getattr(ts, name)(_con, settings=settings, actor=me, **kwargs)
    return fig.frame, fig.label


def figure(name: str, **kwargs) -> tuple[pd.DataFrame, str]:
    return _figure(con, key, name, me.role, **kwargs)


with guarded():
    summary, label = figure("summary", role=role)
    if summary.empty or not summary["sessions"].iloc[0]:
        st.info(t("ts.no_data"))
        st.stop()
    row = summary.iloc[0]
    st.caption(label)
    coverage = ts.coverage_label(row["planning_coverage"])
    st.caption(t("ts.population_caption", population=ts.role_label(role), coverage=coverage))
    m = st.columns(4)
    m[0].metric(t("ts.active_hours"), f"{row['active_hours']:,.0f} h".replace(",", " "))
    m[1].metric(t("overview.after_hours"), f"{(row['outside_share'] or 0) * 100:.0f} %")
    ehr8 = row["median_ehr_time8"]
    m[2].metric(t("ts.median_ehr8"), t("ts.hours_per_8h", hours=f"{ehr8 / 60:.1f}".replace(".", ","))
                if pd.notna(ehr8) else "–")
    m[3].metric(t("ts.clinicians"), int(row["clinicians"]))

    tab_rank, tab_when, tab_peers, tab_backlog = st.tabs(
        [t("ts.tab.ranking"), t("ts.tab.when"), t("ts.tab.peers"), t("ts.tab.backlog")]
    )

    with tab_rank:
        by = st.segmented_control(
            t("ts.rank_by"), options=list(ts.RANK_BY), default="document_type",
            format_func=lambda v: t(f"ts.by.{v}"), key="ts_rank_by",
        ) or "document_type"
        ranking, rlabel = figure("time_sink_ranking", by=by, automation_share=automation)
        if ranking.empty:
            st.info(t("empty.table"))
        else:
            ranking[by] = ranking[by].fillna(t("ts.unknown"))
            for column in ("hours", "hours_per_month", "hours_saved_per_month"):
                ranking[column] = ranking[column].round(1)
            c1, c2 = st.columns(2)
            c1.plotly_chart(charts.hours_bar(ranking, by, rlabel, title=t("ts.chart.hours_by", by=t(f"ts.by.{by}").lower())))
            c2.plotly_chart(charts.ranking_bar(ranking, by, rlabel, title=t("ts.chart.ranking")))
            evidence = ["evidence_hours_saved_per_month"] if "evidence_hours_saved_per_month" in ranking else []
            for column in evidence:
                ranking[column] = ranking[column].round(1)
            shown = ranking[[by, "hours", "after_hours_share", "hours_per_month", "hours_saved_per_month", *evidence]]
            st.dataframe(
                shown, hide_index=True,
                column_config={
                    by: t(f"ts.by.{by}"),
                    "hours": st.column_config.NumberColumn(t("chart.hours"), format="localized"),
                    "after_hours_share": st.column_config.NumberColumn(t("chart.after_hours"), format="percent"),
                    "hours_per_month": st.column_config.NumberColumn(t("chart.hours_per_month"), format="localized"),
                    "hours_saved_per_month": st.column_config.NumberColumn(t("chart.hours_saved"), format="localized"),
                    "evidence_hours_saved_per_month": st.column_config.NumberColumn(
                        t("ts.hours_saved_evidence"), format="localized", help=t("ts.hours_saved_evidence_help")),
                },
            )
            export_button(ranking, f"temps_{by}", key="ts_export_rank", aggregate=True)

    with tab_when:
        cells, hlabel = figure("activity_heatmap")
        st.plotly_chart(charts.heatmap_hour_weekday(cells, hlabel, title=t("ts.chart.heatmap")))
        st.caption(t("ts.heatmap_note"))
        period = st.segmented_control(
            t("ts.period"), options=["week", "month"], default="week",
            format_func=lambda v: t(f"ts.period.{v}"), key="ts_period",
        ) or "week"
        trend, tlabel = figure("period_measures", period=period, role=role)
        if not trend.empty:
            st.plotly_chart(
                charts.trend_line(
                    trend, "period", {"wow8": t("ts.wow8"), "ehr_time8": t("ts.ehr_time8")}, tlabel,
                    title=t("ts.chart.after_hours_trend"), y_title=t("chart.minutes_per_8h"),
                )
            )
            export_button(trend, f"ts_{period}", key="ts_export_trend", aggregate=True)

    with tab_peers:
        measure = st.selectbox(
            t("ts.measure"), list(ts.MEASURES), format_func=lambda v: t(f"ts.{v}"), key="ts_measure"
        )
        groups, glabel = figure("group_measures", by="service", period="month", role=role)
        latest = groups[groups["period"] == groups["period"].max()] if not groups.empty else groups
        if not latest.empty:
            st.plotly_chart(
                charts.group_bar(
                    latest, "service", measure, glabel, title=t("ts.chart.services"),
                    highlight=None, y_title=t("chart.minutes_per_8h"),
                )
            )
            if latest["masked"].any():
                st.caption(t("ts.masked_groups", n=ts.MIN_CLINICIANS))
            export_button(groups, "ts_services", key="ts_export_services", aggregate=True)
        # Individual figures: a permission granted explicitly, a reason, a log (CNIL).
        st.subheader(t("ts.individual"))
        if not allowed(me, Permission.VIEW_CLINICIAN_TIMES):
            st.info(t("ts.individual_denied"))
        else:
            reason = st.text_input(t("ts.individual_reason"), key="ts_reason", help=t("ts.individual_help"))
            if not reason.strip():
                st.info(t("ts.individual_reason_needed"))
            else:
                # not cached: every view is logged with its reason
                result = ts.clinician_measures(con, period="month", role=role, settings=settings,
                                               actor=me, reason=reason)
                clinicians, clabel = result.frame, result.label
                peers, _ = figure("peer_stats", period="month", role=role)
                if clinicians.empty:
                    st.info(t("empty.table"))
                else:
                    users = sorted(clinicians["user_id"].unique())
                    who = st.selectbox(t("ts.clinician"), users, key="ts_who")
                    mine = clinicians[clinicians["user_id"] == who].sort_values("period").iloc[-1]
                    peer_row = peers[
                        (peers["role"] == mine["role"]) & (peers["service"] == mine["service"])
                        & (peers["period"] == mine["period"])
                    ]
                    if peer_row.empty or bool(peer_row.iloc[0]["masked"]):
                        st.info(t("ts.masked_groups", n=ts.MIN_CLINICIANS))
                    else:
                        st.plotly_chart(
                            charts.peers_chart(
                                peer_row.iloc[0], mine[measure], measure, clabel, who=str(who),
                                title=t("ts.chart.peers", who=who, role=mine["role"], service=mine["service"]),
                            )
                        )
                        pct = mine.get(f"peer_pct_{measure}")
                        if pd.notna(pct):
                            st.caption(t("ts.percentile", pct=f"{pct:.0f}"))
                    export_button(clinicians, "ts_clinicians", key="ts_export_clinicians", aggregate=True)

    with tab_backlog:
        by_b = st.segmented_control(
            t("ts.backlog_by"), options=["service", "document_type"], default="service",
            format_func=lambda v: t(f"ts.by.{v}"), key="ts_backlog_by",
        ) or "service"
        backlog, blabel = figure("unsigned_backlog", by=by_b)
        if backlog.empty:
            st.info(t("empty.table"))
        else:
            st.plotly_chart(charts.backlog_bar(backlog, by_b, blabel, title=t("ts.chart.backlog")))
            export_button(backlog, f"non_signes_{by_b}", key="ts_export_backlog", aggregate=True)

st.caption(t("ts.footnote"))
