"""Cleanup jobs: pick, set parameters, preview, confirm; apply and undo run on the job worker.

An apply (or an undo) is a request to the server's job worker (``analytics/jobs/worker.py``)
through the queue beside the warehouse, carrying the confirmed preview's id and fingerprint:
the page never waits on it. A fragment polls the request's status and the progress the
worker records; the user may leave the page and find the outcome when coming back.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import streamlit as st

from analytics import jobs
from analytics.access.roles import Actor, Permission, require
from analytics.errors import HygieError
from analytics.jobs import schedules
from analytics.jobs.queue import JobQueue, queue_path
from analytics.jobs.registry import TASKS, ParamSpec
from analytics.messaging import outbox
from dashboard import state
from dashboard.components import (
    actor,
    can,
    export_button,
    guarded,
    page_window,
    record_view,
)
from dashboard.i18n import job_label, message_text, result_error_text, t

#: Seconds between two looks at a running request.
POLL_S = 1.0


@st.cache_resource(show_spinner=False)
def _queue(path: str) -> JobQueue:
    return JobQueue(queue_path(path))


def _fr(job: str, kind: str, name: str, default: str) -> str:
    """The French text of a job's title, doc, help or choice; the engine's own if there is none."""
    key = f"job.{job}.{kind}.{name}"
    text = t(key)
    return default if text == key else text


def _title(job: str) -> str:
    return _fr(job, "text", "title", job)


def _submit(kind: str, me: Actor, **payload: Any) -> None:
    """Hand a preview (``run`` without apply), an apply or an undo to the job worker; the page
    shows its progress from now on and never waits (a preview at 1M patients takes a minute)."""
    # the worker re-reads the account from `users` (role, active); via says whether it is an SSO user
    who = {"username": me.username, "role": me.role, "via": "oidc" if me.via == "oidc" else "dashboard"}
    request_id = _queue(state.db_path()).submit(kind, {**payload, "actor": who})
    st.session_state["jobs_pending"] = {"id": request_id, "kind": kind, **payload}


def _finish(pending: dict[str, Any], result: dict[str, Any]) -> None:
    """Turn the worker's answer into the message shown at the top of the page."""
    st.session_state.pop("jobs_pending", None)
    if not result.get("ok"):
        st.session_state["jobs_error"] = t("jobs.failed", message=result_error_text(result))
        return
    data = result.get("data") or {}
    if pending["kind"] == "run":  # a preview the worker computed and stored
        st.session_state["jobs_preview"] = jobs.Preview(**data["preview"])
        return
    if pending["kind"] == "undo":
        flash = t("jobs.undone", rows=data.get("rows_changed", 0))
        sent = re.search(r"compensating messages written: (\d+)", data.get("message") or "")
        if sent:  # the undo of a merge or an unmerge wrote what reverses it for the receivers
            flash += " " + t("jobs.undo_messages", n=int(sent.group(1)))
        st.session_state["jobs_flash"] = flash
        return
    if pending["kind"] == "outbox_send":
        counts = data.get("counts") or {}
        st.session_state["jobs_flash"] = t("jobs.messages_sent", **{k: counts.get(k, 0) for k in (
            "accepted", "refused", "unreachable")})
        return
    st.session_state.pop("jobs_preview", None)
    job = _title(data.get("job", ""))
    if data.get("already_applied"):
        st.session_state["jobs_flash"] = t("jobs.already_applied", job=job, run=data.get("run_id"))
    else:
        st.session_state["jobs_flash"] = t("jobs.applied_flash", job=job, rows=data.get("rows_changed", 0),
                                           run=data.get("run_id"))


def _pending_panel() -> None:
    """The running request: its progress while it runs, the page's outcome message once done."""
    pending = st.session_state.get("jobs_pending")
    if pending is None:
        return
    queue = _queue(state.db_path())
    try:
        row = queue.status(pending["id"])
    except HygieError:  # the queue file was replaced (server moved): nothing to wait for
        st.session_state.pop("jobs_pending", None)
        return
    if row["status"] == "done":
        _finish(pending, json.loads(row["result"]))
        st.rerun(scope="app")
    done, total = row["progress_done"], row["progress_total"]
    if row["status"] == "queued":
        label = t("jobs.queued")
    elif pending["kind"] == "run":
        label = t("jobs.previewing_job", job=_title(pending.get("job", "")))
    elif pending["kind"] == "undo":
        label = t("jobs.undoing_run", run=pending.get("run_id"))
    elif pending["kind"] == "outbox_send":
        label = t("jobs.sending")
    else:
        label = t("jobs.applying_job", job=_title(pending.get("job", "")))
    # not a `with` block: leaving it would mark the status complete while the run goes on
    panel = st.status(label, state="running", expanded=True)
    if total:
        panel.progress(min(1.0, (done or 0) / total), text=t("jobs.progress", done=done or 0, total=total))
    else:
        panel.progress(0.0, text=t("jobs.progress_wait"))
    if row["status"] == "queued" and queue.worker_pid() is None:
        panel.warning(t("jobs.no_worker"))
    panel.caption(t("jobs.leave_ok"))


me = actor()
st.title(t("nav.jobs"))
con = state.con()
may_apply = can(Permission.JOB_APPLY)

busy = st.session_state.get("jobs_pending") is not None

specs = {spec.name: spec for spec in jobs.list_jobs()}
if "jobs_pick" not in st.session_state:
    # Back on the page, Streamlit has forgotten the picker: bring it back on the job this
    # session is busy with (its request or its preview), or the preview would stay hidden.
    held = (st.session_state.get("jobs_pending") or {}).get("job") or getattr(
        st.session_state.get("jobs_preview"), "job", None)
    if held in specs:
        st.session_state["jobs_pick"] = held
name = st.selectbox(
    t("jobs.pick"), list(specs), key="jobs_pick",
    format_func=lambda n: t("jobs.job_option", title=_title(n), name=n),
)
spec = specs[name]
with st.expander(t("jobs.doc")):
    st.markdown(_fr(name, "text", "doc", spec.doc or "—"))


def _param_widget(param: ParamSpec) -> object | None:
    """The widget of one parameter, built from its declared type, choices and bounds."""
    label = job_label(name, "param", param.name)
    help_text = _fr(name, "help", param.name, param.help) or None
    key = f"jobs_param_{name}_{param.name}"
    kind = param.type_name
    optional = kind.endswith(" | None")
    base = kind.removesuffix(" | None")

    def choice(value: str) -> str:
        return _fr(name, "choice", f"{param.name}={value}", value)

    if param.multiple and param.choices:  # a comma list of known values, in the order picked
        default = [v for v in str(param.default or "").split(",") if v in param.choices]
        picked = st.multiselect(label, param.choices, default=default, help=help_text, key=key,
                                format_func=choice, placeholder=t("jobs.param.choose"))
        return ",".join(picked)  # none picked: the job refuses it, in French
    if base == "bool":
        return st.checkbox(label, value=bool(param.default), help=help_text, key=key)
    if base in ("int", "float"):
        number = int if base == "int" else float
        value = None if param.default is None and optional else number(param.default or 0)
        low = None if param.minimum is None else number(param.minimum)
        high = None if param.maximum is None else number(param.maximum)
        got = st.number_input(label, min_value=low, max_value=high, value=value, help=help_text, key=key,
                              step=number(1) if base == "int" else 0.01, format=None if base == "int" else "%.2f",
                              placeholder=t("jobs.param.default"))
        return None if got is None else number(got)
    if base == "date":
        day = st.date_input(label, value=param.default, format="DD/MM/YYYY", help=help_text, key=key)
        return day.isoformat() if isinstance(day, dt.date) else None
    if param.shape == "month":
        months = _recent_months(dt.date.today(), 24)
        return st.selectbox(label, ["", *months], help=help_text, key=key,
                            format_func=lambda m: _month_label(m) if m else t("jobs.param.previous_month")) or None
    if "|" in kind and not optional and all(part for part in kind.split("|")):
        options = kind.split("|")
        index = options.index(str(param.default)) if str(param.default) in options else 0
        return st.selectbox(label, options, index=index, help=help_text, key=key, format_func=choice)
    text = st.text_input(label, value="" if param.default is None else str(param.default), help=help_text, key=key)
    return text.strip() or None


def _recent_months(today: dt.date, count: int) -> list[str]:
    """The ``count`` months before ``today``'s, latest first, as YYYY-MM."""
    index = today.year * 12 + today.month - 1
    return [f"{(index - i) // 12:04d}-{(index - i) % 12 + 1:02d}" for i in range(1, count + 1)]


def _month_label(month: str) -> str:
    year, number = month.split("-")
    return f"{t(f'dup.month.{int(number)}')} {year}"


with st.form(f"jobs_params_{name}"):
    st.markdown(t("jobs.params"))
    values = {p.name: _param_widget(p) for p in spec.params()}
    if not spec.params():
        st.caption(t("jobs.no_params"))
    previewed = st.form_submit_button(t("jobs.preview"), type="primary", icon=":material/preview:",
                                      disabled=busy, help=t("jobs.busy") if busy else None)

if previewed and not busy:
    with guarded():
        require(me, Permission.JOB_PREVIEW)  # refused here at once; the worker checks again
        st.session_state.pop("jobs_preview", None)
        _submit("run", me, job=name, params={k: v for k, v in values.items() if v is not None})
        st.rerun()

preview = st.session_state.get("jobs_preview")
if preview is not None and preview.job == name:
    st.subheader(t("jobs.preview_title", count=preview.change_count))
    cols = st.columns(max(1, min(4, len(preview.counts))))
    for i, (what, count) in enumerate(preview.counts.items()):
        cols[i % len(cols)].metric(job_label(preview.job, "count", what), count)
    for note in preview.notes:
        st.caption(message_text(note))
    offset, limit = page_window(preview.change_count, key="jobs_preview_page")
    changes = jobs.preview_changes(con, me, preview.preview_id, limit=limit, offset=offset)  # this page only
    window = changes[["table_name", "op", "row_key", "before", "after"]].copy()
    window["table_name"] = [n if t(f"table.{n}") == f"table.{n}" else t(f"table.{n}") for n in window["table_name"]]
    window["op"] = [t(f"jobs.op.{op}") for op in window["op"]]
    st.dataframe(window, hide_index=True, column_config={
        "table_name": t("jobs.col.table"), "op": t("jobs.col.op"), "row_key": t("jobs.col.key"),
        "before": t("jobs.col.before"), "after": t("jobs.col.after"),
    })
    if len(window):
        record_view(f"job_preview:{preview.job}", len(window), {"preview_id": preview.preview_id})
        export_button(  # every change, read when someone downloads them
            lambda cursor, pid=preview.preview_id: jobs.preview_changes(cursor, me, pid),
            f"apercu_{preview.job}", key="jobs_export_preview", rows=preview.change_count,
        )

    @st.dialog(t("jobs.confirm_title"), on_dismiss=lambda: st.session_state.pop("jobs_confirming", None))
    def confirm_apply() -> None:
        st.write(t("jobs.confirm_text", job=_title(preview.job), count=preview.change_count))
        if st.button(t("jobs.confirm"), type="primary", key="jobs_confirm_apply"):
            with guarded():
                st.session_state.pop("jobs_confirming", None)
                # the worker applies exactly this preview, refused if its fingerprint went stale
                _submit("apply", me, preview_id=preview.preview_id, fingerprint=preview.fingerprint, job=preview.job)
                st.rerun()

    if may_apply:
        # The open dialog is remembered in the session: a click inside it reruns the page.
        if preview.change_count and st.button(t("jobs.apply"), type="primary", icon=":material/play_arrow:",
                                              key="jobs_apply", disabled=busy, help=t("jobs.busy") if busy else None):
            st.session_state["jobs_confirming"] = preview.preview_id
        if st.session_state.get("jobs_confirming") == preview.preview_id and not busy:
            confirm_apply()
    else:
        st.caption(t("jobs.apply_denied"))

# --- the running request and outcomes, right under the Apply button the user clicked ------
if message := st.session_state.pop("jobs_flash", None):
    st.success(message)
if message := st.session_state.pop("jobs_error", None):
    st.error(message)
if busy:
    st.fragment(_pending_panel, run_every=POLL_S)()

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
    shown["job"] = [t("jobs.undo_label", job=_title(j)) if isinstance(u, str) else _title(j)
                    for j, u in zip(shown["job"], shown["undo_of"], strict=True)]
    shown["status"] = [t(f"jobs.status.{s}") for s in shown["status"]]
    shown["message"] = [message_text(m) if isinstance(m, str) else "" for m in shown["message"]]
    for column in ("undo_of", "undone_by"):
        shown[column] = shown[column].fillna("")
    shown["rows_changed"] = shown["rows_changed"].astype("Int64")  # empty while a run is going
    st.dataframe(shown, hide_index=True, column_config={
        "run_id": t("jobs.col.run"), "job": t("jobs.col.job"), "status": t("jobs.col.status"),
        "actor": t("jobs.col.actor"), "started_at": st.column_config.DatetimeColumn(t("jobs.col.started"), format="DD/MM/YYYY HH:mm"),
        "finished_at": st.column_config.DatetimeColumn(t("jobs.col.finished"), format="DD/MM/YYYY HH:mm"),
        "rows_changed": t("jobs.col.rows"), "undo_of": t("jobs.col.undo_of"),
        "undone_by": t("jobs.col.undone_by"), "message": t("jobs.col.message"),
    })
    export_button(history, "job_runs", key="jobs_export_history")
    undoable = history[(history["status"] == "succeeded") & history["undone_by"].isna() & history["undo_of"].isna()
                       & ~history["job"].isin(list(TASKS))]
    if may_apply and not undoable.empty:
        run_jobs = undoable.set_index("run_id")["job"]
        run_id = st.selectbox(t("jobs.undo_pick"), list(undoable["run_id"]), key="jobs_undo_pick",
                              format_func=lambda r: f"{r} — {_title(run_jobs[r])}")

        @st.dialog(t("jobs.undo_title"), on_dismiss=lambda: st.session_state.pop("jobs_undoing", None))
        def confirm_undo() -> None:
            st.write(t("jobs.undo_text", run=run_id))
            if st.button(t("jobs.confirm"), type="primary", key="jobs_confirm_undo"):
                with guarded():
                    st.session_state.pop("jobs_undoing", None)
                    _submit("undo", me, run_id=run_id, job=run_jobs[run_id])
                    st.rerun()

        if st.button(t("jobs.undo"), icon=":material/undo:", key="jobs_undo", disabled=busy,
                     help=t("jobs.busy") if busy else None):
            st.session_state["jobs_undoing"] = run_id
        if st.session_state.get("jobs_undoing") == run_id and not busy:
            confirm_undo()

# --- messages sent to other systems -------------------------------------------------------
st.divider()
st.subheader(t("jobs.messages"))
st.caption(t("jobs.messages_help"))
box = None
with guarded():
    box = outbox.outbox(con)
if box is not None and box.empty:
    st.info(t("jobs.no_messages"))
elif box is not None:
    titles = {r: (t("jobs.undo_label", job=_title(j)) if isinstance(u, str) else _title(j))
              for r, j, u in zip(box["run_id"], box["job"], box["undo_of"], strict=True)}
    per_run = box.pivot_table(index="run_id", columns="status", values="name", aggfunc="count", fill_value=0,
                              sort=False)
    per_run = per_run.reindex(columns=["file", "pending", "sent", "refused"], fill_value=0).reset_index()
    per_run.insert(1, "what", [titles[r] for r in per_run["run_id"]])
    st.dataframe(per_run.iloc[::-1], hide_index=True, column_config={
        "run_id": t("jobs.col.run"), "what": t("jobs.col.what"), "file": t("jobs.col.file_only"),
        "pending": t("jobs.col.pending"), "sent": t("jobs.col.sent"), "refused": t("jobs.col.refused"),
    })
    delivered = box[box["status"] != "file"]
    if not delivered.empty and can(Permission.VIEW_PATIENT_DATA):  # file names carry IPPs
        listed = delivered[["run_id", "name", "channel", "status", "attempts", "code", "detail"]].copy()
        listed["status"] = [t(f"jobs.msg_status.{s}") for s in listed["status"]]
        st.dataframe(listed.iloc[::-1], hide_index=True, column_config={
            "run_id": t("jobs.col.run"), "name": t("jobs.col.file"), "channel": t("jobs.col.channel"),
            "status": t("jobs.col.status"), "attempts": t("jobs.col.attempts"), "code": t("jobs.col.code"),
            "detail": t("jobs.col.detail"),
        })
    waiting = int((box["status"] == "pending").sum())
    if waiting:
        st.warning(t("jobs.messages_pending", n=waiting))
        if may_apply and st.button(t("jobs.messages_send"), icon=":material/send:", key="jobs_send_messages",
                                   disabled=busy, help=t("jobs.busy") if busy else None):
            with guarded():
                _submit("outbox_send", me)
                st.rerun()

# --- schedules ---------------------------------------------------------------------------
st.divider()
st.subheader(t("jobs.schedules"))
frame = None  # stays None if the schedules cannot be read (guarded shows the error)
with guarded():
    frame = schedules.list_schedules(con)
    if frame.empty:
        st.info(t("jobs.no_schedules"))
    else:
        shown = frame[["schedule_id", "job", "cron", "apply", "actor", "enabled", "last_run_at",
                       "last_status", "next_run_at"]].copy()
        shown["job"] = [_title(j) for j in shown["job"]]
        shown["last_status"] = [t(f"jobs.status.{s}") if isinstance(s, str) else "" for s in shown["last_status"]]
        st.dataframe(shown, hide_index=True, column_config={
            "schedule_id": t("jobs.col.schedule"), "job": t("jobs.col.job"), "cron": t("jobs.col.cron"),
            "apply": t("jobs.col.apply"), "actor": t("jobs.col.actor"), "enabled": t("jobs.col.enabled"),
            "last_run_at": st.column_config.DatetimeColumn(t("jobs.col.last_run"), format="DD/MM/YYYY HH:mm"),
            "last_status": t("jobs.col.status"),
            "next_run_at": st.column_config.DatetimeColumn(t("jobs.col.next_run"), format="DD/MM/YYYY HH:mm"),
        })
with st.expander(t("jobs.schedule_add")), st.form("jobs_schedule"):
    names = sorted(set(specs) | set(TASKS))
    what = st.selectbox(t("jobs.pick"), names, key="jobs_sched_job",
                        format_func=lambda n: t("jobs.job_option", title=_title(n), name=n))
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
