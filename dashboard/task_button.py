"""A button that hands an analysis (what cron runs at night) to the job worker, with its progress.

"Lancer la détection" on the duplicates page and "Recalculer le temps documentaire" on the time
sinks page: after an import, the review queue and the figures are current minutes later,
without waiting for the night. The click queues a ``task`` request (the analyses of
:data:`analytics.jobs.registry.TASKS`, traced in ``job_runs`` and the access log like a
scheduled run); the page never waits — a fragment polls the request and shows where it is, and
the outcome stays on the page after it finishes. Only roles that may apply jobs see the button
(the engine checks again).
"""

from __future__ import annotations

import json

import streamlit as st

from analytics.access.roles import Permission
from analytics.errors import HygieError
from analytics.jobs.queue import JobQueue, queue_path
from dashboard import state
from dashboard.components import actor, can
from dashboard.i18n import result_error_text, t

__all__ = ["task_button"]

POLL_S = 1.0


def _key(task: str) -> str:
    return f"task_pending_{task}"


def _panel(task: str, running_label: str) -> None:
    pending = st.session_state.get(_key(task))
    if pending is None:
        return
    queue = JobQueue(queue_path(state.db_path()))
    try:
        row = queue.status(pending)
    except HygieError:  # the queue file was replaced (server moved): nothing to wait for
        st.session_state.pop(_key(task), None)
        return
    if row["status"] == "done":
        result = json.loads(row["result"])
        st.session_state.pop(_key(task), None)
        st.session_state[f"task_outcome_{task}"] = (
            ("success", t("task.done")) if result.get("ok") and (result.get("data") or {}).get("status") == "succeeded"
            else ("error", t("task.failed", message=result_error_text(result))))
        st.rerun(scope="app")
    panel = st.status(t("task.queued") if row["status"] == "queued" else running_label, state="running")
    if row["status"] == "queued" and queue.worker_pid() is None:
        panel.warning(t("jobs.no_worker"))
    panel.caption(t("jobs.leave_ok"))


def task_button(task: str, label: str, running_label: str, help_text: str) -> None:
    """The button for analysis ``task`` (a :data:`~analytics.jobs.registry.TASKS` name)."""
    if not can(Permission.JOB_APPLY):
        return
    me = actor()
    outcome = st.session_state.pop(f"task_outcome_{task}", None)
    if outcome is not None:
        (st.success if outcome[0] == "success" else st.error)(outcome[1])
    busy = st.session_state.get(_key(task)) is not None
    if st.button(label, key=f"task_button_{task}", help=help_text, disabled=busy, icon=":material/play_arrow:"):
        who = {"username": me.username, "role": me.role, "via": "dashboard"}
        st.session_state[_key(task)] = JobQueue(queue_path(state.db_path())).submit("task", {"task": task,
                                                                                            "actor": who})
        busy = True
    if busy:
        def progress() -> None:
            _panel(task, running_label)

        st.fragment(progress, run_every=POLL_S)()
