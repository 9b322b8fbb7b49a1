"""Cleanup jobs from the page: preview, confirm, apply changes the warehouse; undo restores."""

from __future__ import annotations

from analytics.warehouse import connect


def _name(db) -> str:
    con = connect(db)
    try:
        return con.execute("SELECT birth_name FROM patients WHERE patient_id = 'P0007'").fetchone()[0]
    finally:
        con.close()


def _preview(at, job="normalise-identities"):
    at.selectbox(key="jobs_pick").select(job).run()
    at.button[0].click()  # the form's submit button is the first button on the page
    at.run()
    return at


def test_manager_previews_applies_and_undoes(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    _preview(at)
    assert not at.error, [e.value for e in at.error]
    assert at.subheader[0].value.startswith("Aperçu : ")
    assert _name(fresh_warehouse) == " leroy "  # preview changes nothing
    at.button(key="jobs_apply").click().run()
    at.button(key="jobs_confirm_apply").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _name(fresh_warehouse) == "LEROY"
    assert "appliqué" in at.success[0].value
    at.button(key="jobs_undo").click().run()
    at.button(key="jobs_confirm_undo").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _name(fresh_warehouse) == " leroy "


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


def test_a_bad_cron_is_refused_with_the_engine_message(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    at.text_input(key="jobs_sched_cron").input("every night")
    next(b for b in at.button if b.label == "Planifier").click()
    at.run()
    assert [e.value for e in at.error] == [
        "schedule: 'every night' is not a valid cron expression (e.g. '0 2 * * *' for 02:00 daily)"
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
