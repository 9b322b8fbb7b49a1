"""Cleanup jobs: pick, set parameters, preview, confirm, apply with progress, history, undo."""

from __future__ import annotations

import streamlit as st

from analytics import jobs
from analytics.access.roles import Permission
from analytics.jobs import schedules
from analytics.jobs.registry import TASKS
from dashboard import state
from dashboard.components import (
    actor,
    can,
    export_button,
    guarded,
    page_window,
    record_view,
)
from dashboard.i18n import job_label, t

me = actor()
st.title(t("nav.jobs"))
con = state.con()
may_apply = can(Permission.JOB_APPLY)

if message := st.session_state.pop("jobs_flash", None):
    st.success(message)

specs = {spec.name: spec for spec in jobs.list_jobs()}
name = st.selectbox(
    t("jobs.pick"), list(specs), key="jobs_pick",
    format_func=lambda n: f"{n} — {specs[n].summary}" if specs[n].summary else n,
)
spec = specs[name]
with st.expander(t("jobs.doc")):
    st.text(spec.doc or "—")


def _param_widget(param) -> object | None:
    label = job_label(name, "param", param.name)
    help_text = param.help or None
    key = f"jobs_param_{name}_{param.name}"
    kind = param.type_name
    if kind == "bool":
        return st.checkbox(label, value=bool(param.default), help=help_text, key=key)
    if kind == "int":
        return int(st.number_input(label, value=int(param.default or 0), step=1, help=help_text, key=key))
    if kind == "float":
        return float(st.number_input(label, value=float(param.default or 0.0), help=help_text, key=key))
    if "|" in kind and " | None" not in kind and all(part for part in kind.split("|")):
        options = kind.split("|")
        index = options.index(str(param.default)) if str(param.default) in options else 0
        return st.selectbox(label, options, index=index, help=help_text, key=key)
    text = st.text_input(label, value="" if param.default is None else str(param.default), help=help_text, key=key)
    return text.strip() or None


with st.form(f"jobs_params_{name}"):
    st.markdown(t("jobs.params"))
    values = {p.name: _param_widget(p) for p in spec.params()}
    if not spec.params():
        st.caption(t("jobs.no_params"))
    previewed = st.form_submit_button(t("jobs.preview"), type="primary", icon=":material/preview:")

if previewed:
    with guarded(), st.spinner(t("jobs.previewing")):
        params = {k: v for k, v in values.items() if v is not None}
        st.session_state["jobs_preview"] = jobs.preview(con, me, name, params)

preview = st.session_state.get("jobs_preview")
if preview is not None and preview.job == name:
    st.subheader(t("jobs.preview_title", count=preview.change_count))
    cols = st.columns(max(1, min(4, len(preview.counts))))
    for i, (what, count) in enumerate(preview.counts.items()):
        cols[i % len(cols)].metric(job_label(preview.job, "count", what), count)
    for note in preview.notes:
        st.caption(note)
    changes = jobs.preview_changes(con, me, preview.preview_id)
    offset, limit = page_window(len(changes), key="jobs_preview_page")
    window = changes.iloc[offset : offset + limit][["table_name", "op", "row_key", "before", "after"]]
    st.dataframe(window, hide_index=True, column_config={
        "table_name": t("jobs.col.table"), "op": t("jobs.col.op"), "row_key": t("jobs.col.key"),
        "before": t("jobs.col.before"), "after": t("jobs.col.after"),
    })
    if len(window):
        record_view(f"job_preview:{preview.job}", len(window), {"preview_id": preview.preview_id})
        export_button(changes, f"apercu_{preview.job}", key="jobs_export_preview")

    @st.dialog(t("jobs.confirm_title"), on_dismiss=lambda: st.session_state.pop("jobs_confirming", None))
    def confirm_apply() -> None:
        st.write(t("jobs.confirm_text", job=preview.job, count=preview.change_count))
        if st.button(t("jobs.confirm"), type="primary", key="jobs_confirm_apply"):
            with st.status(t("jobs.applying"), expanded=True) as status:
                bar = st.progress(0.0)

                def progress(done: int, total: int) -> None:
                    bar.progress(done / total if total else 1.0, text=t("jobs.progress", done=done, total=total))

                with guarded():
                    # a click in a dialog reruns only the dialog: take this rerun's cursor
                    run = jobs.apply(state.con(), me, preview.preview_id, progress=progress)
                    status.update(label=t("jobs.applied", rows=run.rows_changed), state="complete")
                    st.session_state.pop("jobs_preview", None)
                    st.session_state.pop("jobs_confirming", None)
                    st.session_state["jobs_flash"] = t("jobs.applied_flash", job=run.job, rows=run.rows_changed, run=run.run_id)
                    st.rerun()
                status.update(state="error")

    if may_apply:
        # The open dialog is remembered in the session: a click inside it reruns the page.
        if preview.change_count and st.button(t("jobs.apply"), type="primary", icon=":material/play_arrow:", key="jobs_apply"):
            st.session_state["jobs_confirming"] = preview.preview_id
        if st.session_state.get("jobs_confirming") == preview.preview_id:
            confirm_apply()
    else:
        st.caption(t("jobs.apply_denied"))

# --- history and undo --------------------------------------------------------------------
st.divider()
st.subheader(t("jobs.history"))
history = jobs.history(con)
if history.empty:
    st.info(t("jobs.no_history"))
else:
    offset, limit = page_window(len(history), key="jobs_history_page", page_size=20)
    shown = history.iloc[offset : offset + limit][
        ["run_id", "job", "status", "actor", "started_at", "finished_at", "rows_changed", "undo_of", "undone_by", "message"]
    ].copy()
    shown["status"] = [t(f"jobs.status.{s}") for s in shown["status"]]
    for column in ("undo_of", "undone_by", "message"):
        shown[column] = shown[column].fillna("")
    st.dataframe(shown, hide_index=True, column_config={
        "run_id": t("jobs.col.run"), "job": t("jobs.col.job"), "status": t("jobs.col.status"),
        "actor": t("jobs.col.actor"), "started_at": st.column_config.DatetimeColumn(t("jobs.col.started"), format="DD/MM/YYYY HH:mm"),
        "finished_at": st.column_config.DatetimeColumn(t("jobs.col.finished"), format="DD/MM/YYYY HH:mm"),
        "rows_changed": t("jobs.col.rows"), "undo_of": t("jobs.col.undo_of"),
        "undone_by": t("jobs.col.undone_by"), "message": t("jobs.col.message"),
    })
    export_button(history, "job_runs", key="jobs_export_history")
    undoable = history[(history["status"] == "succeeded") & history["undone_by"].isna() & history["undo_of"].isna()]
    if may_apply and not undoable.empty:
        run_id = st.selectbox(t("jobs.undo_pick"), list(undoable["run_id"]), key="jobs_undo_pick",
                              format_func=lambda r: f"{r} — {undoable.set_index('run_id').loc[r, 'job']}")

        @st.dialog(t("jobs.undo_title"), on_dismiss=lambda: st.session_state.pop("jobs_undoing", None))
        def confirm_undo() -> None:
            st.write(t("jobs.undo_text", run=run_id))
            if st.button(t("jobs.confirm"), type="primary", key="jobs_confirm_undo"):
                with st.status(t("jobs.undoing"), expanded=True) as status, guarded():
                    st.session_state.pop("jobs_undoing", None)
                    run = jobs.undo(state.con(), me, run_id)
                    status.update(label=t("jobs.undone", rows=run.rows_changed), state="complete")
                    st.session_state["jobs_flash"] = t("jobs.undone", rows=run.rows_changed)
                    st.rerun()

        if st.button(t("jobs.undo"), icon=":material/undo:", key="jobs_undo"):
            st.session_state["jobs_undoing"] = run_id
        if st.session_state.get("jobs_undoing") == run_id:
            confirm_undo()

# --- schedules ---------------------------------------------------------------------------
st.divider()
st.subheader(t("jobs.schedules"))
frame = None  # stays None if the schedules cannot be read (guarded shows the error)
with guarded():
    frame = schedules.list_schedules(con)
    if frame.empty:
        st.info(t("jobs.no_schedules"))
    else:
        st.dataframe(frame[["schedule_id", "job", "cron", "apply", "actor", "enabled", "last_run_at",
                            "last_status", "next_run_at"]], hide_index=True, column_config={
            "schedule_id": t("jobs.col.schedule"), "job": t("jobs.col.job"), "cron": t("jobs.col.cron"),
            "apply": t("jobs.col.apply"), "actor": t("jobs.col.actor"), "enabled": t("jobs.col.enabled"),
            "last_run_at": st.column_config.DatetimeColumn(t("jobs.col.last_run"), format="DD/MM/YYYY HH:mm"),
            "last_status": t("jobs.col.status"),
            "next_run_at": st.column_config.DatetimeColumn(t("jobs.col.next_run"), format="DD/MM/YYYY HH:mm"),
        })
with st.expander(t("jobs.schedule_add")), st.form("jobs_schedule"):
    names = sorted(set(specs) | set(TASKS))
    what = st.selectbox(t("jobs.pick"), names, key="jobs_sched_job")
    cron = st.text_input(t("jobs.col.cron"), value="0 2 * * *", help=t("jobs.cron_help"), key="jobs_sched_cron")
    apply_it = st.checkbox(t("jobs.schedule_apply"), key="jobs_sched_apply", disabled=not may_apply)
    if st.form_submit_button(t("jobs.schedule_submit")):
        with guarded():
            schedule_id = schedules.add_schedule(con, me, what, cron.strip(), apply=apply_it)
            st.session_state["jobs_flash"] = t("jobs.scheduled", id=schedule_id)
            st.rerun()
if may_apply and frame is not None and not frame.empty:
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    gone = c1.selectbox(t("jobs.schedule_remove_pick"), list(frame["schedule_id"]), key="jobs_sched_remove")
    if c2.button(t("jobs.schedule_remove"), key="jobs_sched_remove_btn", icon=":material/delete:"):
        with guarded():
            schedules.remove_schedule(con, me, gone)
            st.session_state["jobs_flash"] = t("jobs.unscheduled", id=gone)
            st.rerun()
