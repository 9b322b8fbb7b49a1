"""Cleanup jobs from the page: preview, confirm, the worker applies; undo restores.

Apply and undo go to the server's job worker (a real thread of this process, started by the
app) through the queue; the tests wait on the queue as the page's fragment would poll it.
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import closing

from analytics.jobs import service
from analytics.jobs.queue import JobQueue, queue_path
from analytics.warehouse import connect
from tests.dashboard.conftest import query


def _name(db) -> str:
    return query(db, "SELECT birth_name FROM patients WHERE patient_id = 'P0007'")[0][0]


def _preview(at, job="normalise-identities"):
    """Ask for a preview; the server's job worker computes it; the next run shows it."""
    at.selectbox(key="jobs_pick").select(job).run()
    at.button[0].click()  # the form's submit button is the first button on the page
    at.run()
    assert not at.error, [e.value for e in at.error]
    if "jobs_pending" in at.session_state:  # else the worker answered within that run
        assert _wait_for_worker(at, os.environ["HYGIE_DB"])["ok"]  # the app fixture's warehouse
        at.run()
    return at


def _wait_for_worker(at, db) -> dict:
    """Wait until the job worker has answered this session's pending request; its result."""
    return JobQueue(queue_path(db)).wait(at.session_state["jobs_pending"]["id"], timeout=60)


def _runs(db) -> list[tuple]:
    return query(db, "SELECT job, status, actor, undo_of IS NOT NULL FROM job_runs ORDER BY started_at")


def test_manager_previews_applies_and_undoes_through_the_worker(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    _preview(at)
    assert not at.error, [e.value for e in at.error]
    assert at.subheader[0].value.startswith("Aperçu : ")
    assert _name(fresh_warehouse) == " leroy "  # preview changes nothing
    at.button(key="jobs_apply").click().run()
    at.button(key="jobs_confirm_apply").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["jobs_pending"]["kind"] == "apply"  # handed to the worker, page not blocked
    assert _wait_for_worker(at, fresh_warehouse)["ok"]
    at.run()  # the progress fragment sees the answer
    assert not at.error, [e.value for e in at.error]
    assert _name(fresh_warehouse) == "LEROY"
    assert at.success[0].value.startswith("« Normaliser les identités » appliqué : 1 ligne(s) modifiée(s)")
    assert _runs(fresh_warehouse) == [("normalise-identities", "succeeded", "test-manager", False)]
    at.button(key="jobs_undo").click().run()
    at.button(key="jobs_confirm_undo").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _wait_for_worker(at, fresh_warehouse)["ok"]
    at.run()
    assert at.success[0].value == "Annulation terminée : 1 ligne(s) restaurée(s)."
    assert _name(fresh_warehouse) == " leroy "
    assert _runs(fresh_warehouse) == [("normalise-identities", "undone", "test-manager", False),
                                      ("normalise-identities", "succeeded", "test-manager", True)]


def test_the_run_goes_on_while_the_user_is_elsewhere(app, fresh_warehouse):
    at = app(fresh_warehouse, "admin").run()
    at.switch_page("views/jobs.py").run()
    _preview(at)
    at.button(key="jobs_apply").click().run()
    at.button(key="jobs_confirm_apply").click().run()
    at.switch_page("views/overview.py").run()
    assert _wait_for_worker(at, fresh_warehouse)["ok"]
    assert _name(fresh_warehouse) == "LEROY"
    at.switch_page("views/jobs.py").run()
    assert at.success[0].value.startswith("« Normaliser les identités » appliqué")
    assert "jobs_pending" not in at.session_state


def test_a_stale_preview_is_refused_by_the_worker_in_french(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    _preview(at)
    con = connect(fresh_warehouse)
    try:  # someone changes a patient between the preview and the confirmation
        con.execute("UPDATE patients SET postcode = '75012' WHERE patient_id = 'P0001'")
    finally:
        con.close()
    preview_id = at.session_state["jobs_preview"].preview_id
    at.button(key="jobs_apply").click().run()
    at.button(key="jobs_confirm_apply").click().run()
    if "jobs_pending" in at.session_state:  # else the worker refused it within that very run
        assert not _wait_for_worker(at, fresh_warehouse)["ok"]
        at.run()
    assert [e.value for e in at.error] == [
        f"Échec, rien n'a été modifié : L'aperçu {preview_id} n'est plus à jour : les données lues par "
        "normalise-identities ont changé depuis ; refaites l'aperçu."
    ]
    assert _name(fresh_warehouse) == " leroy "
    assert _runs(fresh_warehouse) == [("normalise-identities", "failed", "test-manager", False)]


def _record_request(db, status: str, done: int | None, total: int | None) -> int:
    """A request as the worker records it while it runs (same queue file, same columns)."""
    queue = JobQueue(queue_path(db))
    with closing(sqlite3.connect(queue.path)) as q, q:
        cur = q.execute("INSERT INTO requests (kind, payload, status, progress_done, progress_total, worker_pid, "
                        "created_at) VALUES ('apply', '{}', ?, ?, ?, ?, ?)",
                        [status, done, total, os.getpid(), time.time()])
        return int(cur.lastrowid)


def test_progress_shows_what_the_worker_records_then_the_outcome(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()  # the app starts the worker (and answers orphans) first
    at.switch_page("views/jobs.py").run()
    _preview(at)
    rid = _record_request(fresh_warehouse, "running", 2, 5)
    at.session_state["jobs_pending"] = {"id": rid, "kind": "apply", "job": "normalise-identities"}
    at.run()
    assert at.status[0].label == "Application de « Normaliser les identités » en cours…"
    assert at.status[0].icon == "spinner"  # still running, not marked complete
    bar = at.get("progress")[0].proto
    assert (bar.value, bar.text) == (40, "2 / 5 modifications")
    assert at.button(key="jobs_apply").disabled  # one request of this session at a time
    JobQueue(queue_path(fresh_warehouse)).finish(rid, {"ok": False, "error": "JobError: undo of run r1", "data": {}})
    at.run()
    assert not at.status
    assert [e.value for e in at.error] == ["Échec, rien n'a été modifié : Annulation de l'exécution r1"]
    assert "jobs_pending" not in at.session_state


def test_a_preview_is_computed_by_the_worker_while_the_page_stays_free(app, fresh_warehouse):
    """A preview at 1M patients takes a minute: it is a worker request, shown as one."""
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    at.selectbox(key="jobs_pick").select("normalise-identities").run()
    rid = _record_request(fresh_warehouse, "running", None, None)
    at.session_state["jobs_pending"] = {"id": rid, "kind": "run", "job": "normalise-identities"}
    at.run()
    assert at.status[0].label == ("Calcul de l'aperçu de « Normaliser les identités » "
                                  "(aucune donnée n'est modifiée)…")
    assert at.button[0].disabled  # no second request from this session meanwhile
    assert not at.subheader or not at.subheader[0].value.startswith("Aperçu : ")
    con = connect(fresh_warehouse)
    try:  # what the worker answers: the real service, on the same warehouse
        result = service.execute(con, {"kind": "run", "job": "normalise-identities", "params": {},
                                       "actor": {"username": "test-manager", "role": "manager"}})
    finally:
        con.close()
    JobQueue(queue_path(fresh_warehouse)).finish(rid, result)
    at.run()
    assert not at.status
    assert at.subheader[0].value.startswith("Aperçu : ")
    assert at.session_state["jobs_preview"].preview_id == result["data"]["preview_id"]
    assert _name(fresh_warehouse) == " leroy "  # a preview changes nothing


def test_the_preview_is_still_there_after_a_visit_to_another_page(app, fresh_warehouse):
    """Streamlit forgets a page's widgets when the user leaves it: the picker must come back on
    the job whose preview (or request) this session holds, or the preview is hidden."""
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    default = at.selectbox(key="jobs_pick").value
    job = next(o for o in at.selectbox(key="jobs_pick").options if "normalise-identities" in o)
    assert "normalise-identities" not in default  # else the test proves nothing
    _preview(at)
    at.switch_page("views/overview.py").run()
    at.switch_page("views/jobs.py").run()
    assert at.selectbox(key="jobs_pick").value == "normalise-identities", job
    assert at.subheader[0].value.startswith("Aperçu : ")


def test_analyst_may_preview_but_not_apply(app, fresh_warehouse):
    at = app(fresh_warehouse, "analyst").run()
    at.switch_page("views/jobs.py").run()
    _preview(at)
    assert at.subheader[0].value.startswith("Aperçu : ")
    assert not [b for b in at.button if b.key == "jobs_apply"]
    assert "pas d'appliquer" in " ".join(c.value for c in at.caption)


def test_manager_schedules_a_nightly_preview_and_removes_it(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    at.selectbox(key="jobs_sched_job").select("normalise-identities")
    at.text_input(key="jobs_sched_cron").input("30 3 * * *")
    next(b for b in at.button if b.label == "Planifier").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value.startswith("Planification s")
    listed = at.dataframe[-1].value
    assert (listed["job"].tolist(), listed["last_status"].tolist()) == (["Normaliser les identités"], [""])
    con = connect(fresh_warehouse)
    try:
        assert con.execute("SELECT job, cron, apply FROM job_schedules").fetchall() == [
            ("normalise-identities", "30 3 * * *", False)
        ]
    finally:
        con.close()
    at.button(key="jobs_sched_remove_btn").click().run()
    con = connect(fresh_warehouse)
    try:
        assert con.execute("SELECT count(*) FROM job_schedules").fetchone() == (0,)
    finally:
        con.close()


def test_a_bad_cron_is_refused_in_french(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    at.text_input(key="jobs_sched_cron").input("every night")
    next(b for b in at.button if b.label == "Planifier").click()
    at.run()
    assert [e.value for e in at.error] == [
        "Planification : « every night » n'est pas une expression cron valide (par exemple « 0 2 * * * » "
        "pour chaque nuit à 2 h)."
    ]


def test_parameter_and_count_labels_are_french(app, fresh_warehouse):
    at = app(fresh_warehouse, "analyst").run()
    at.switch_page("views/jobs.py").run()
    _preview(at)
    assert not at.error, [e.value for e in at.error]
    params = {w.key: w.label for w in [*at.checkbox, *at.selectbox, *at.text_input]
              if w.key and w.key.startswith("jobs_param_normalise-identities_")}
    assert params["jobs_param_normalise-identities_phone_format"] == "Format des téléphones"
    assert params["jobs_param_normalise-identities_strip_accents"] == "Supprimer les accents"
    labels = [m.label for m in at.metric]
    assert "Identités modifiées" in labels
    assert "Téléphones non reconnus" in labels
    assert not [label for label in labels if label in ("identities changed", "phones not understood")]
    phone = at.selectbox(key="jobs_param_normalise-identities_phone_format")
    assert phone.options == ["International compact (+33612345678)", "International lisible (+33 6 12 34 56 78)",
                             "National (06 12 34 56 78)"]
    assert phone.value == "E164"  # the engine still gets its own value
    assert phone.help == "Format dans lequel les téléphones sont réécrits."
    options = at.selectbox(key="jobs_pick").options
    assert "Normaliser les identités (normalise-identities)" in options  # French title, then the name
    assert "Rapport mensuel (PDF) (monthly-report)" in options
