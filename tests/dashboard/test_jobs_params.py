"""Job parameters on the jobs page: a widget built from each parameter's declared type.

No list of values typed as raw text (``exact,near``, ``status,created_at,patient_id``): known
values are picked from a multiselect with French labels, numbers have their bounds, days a date
picker, the report month a list of months; what the engine receives is still its own value.
"""

from __future__ import annotations

import datetime as dt

import pytest

from analytics import jobs

RAW_LISTS = ("exact,near", "status,created_at,patient_id", "patients", "audit_events")


def _page(app, db, job: str):
    at = app(db, "admin").run()
    at.switch_page("views/jobs.py").run()
    at.selectbox(key="jobs_pick").select(job).run()
    assert not at.error, [e.value for e in at.error]
    return at


def _key(job: str, param: str) -> str:
    return f"jobs_param_{job}_{param}"


def test_lists_of_known_values_are_multiselects_in_french(app, warehouse):
    at = _page(app, warehouse, "archive-duplicate-documents")
    kinds = at.multiselect(key=_key("archive-duplicate-documents", "kinds"))
    assert kinds.options == ["Identiques", "Quasi identiques", "Ressaisis (même contenu, autre type)"]
    assert kinds.value == ["exact", "near"]  # the engine's own values, the declared default
    assert kinds.placeholder == "Choisissez une ou plusieurs valeurs"

    at.selectbox(key="jobs_pick").select("merge-identities").run()
    order = at.multiselect(key=_key("merge-identities", "survivorship"))
    assert order.value == ["status", "created_at", "patient_id"]
    assert order.options == ["Statut d'identité (le plus fiable d'abord)", "Date de création (le plus ancien)",
                             "Identifiant patient"]
    threshold = at.number_input(key=_key("merge-identities", "auto_merge_threshold"))
    assert (threshold.min, threshold.max, threshold.value) == (0.95, 1.0, 0.99)


def test_numbers_dates_and_months_have_their_own_widgets(app, warehouse):
    at = _page(app, warehouse, "pseudonymised-extract")
    k = at.number_input(key=_key("pseudonymised-extract", "k"))
    assert (k.min, k.value) == (2, None)  # empty: the setting privacy.k applies
    tables = at.multiselect(key=_key("pseudonymised-extract", "tables"))
    assert tables.options == ["Patients", "Documents", "Traces d'activité"] and tables.value == ["patients"]

    at.selectbox(key="jobs_pick").select("route-unsigned-documents").run()
    days = at.number_input(key=_key("route-unsigned-documents", "days"))
    assert (days.min, days.value) == (0, 7)
    as_of = at.date_input(key=_key("route-unsigned-documents", "as_of"))
    assert as_of.value is None

    at.selectbox(key="jobs_pick").select("monthly-report").run()
    month = at.selectbox(key=_key("monthly-report", "month"))
    assert month.options[0] == "Le mois précédent"
    assert len(month.options) == 25 and all(o.split()[-1].isdigit() for o in month.options[1:])
    assert month.value == ""


@pytest.mark.parametrize("spec", jobs.list_jobs(), ids=lambda s: s.name)
def test_no_job_shows_a_list_as_raw_text(app, warehouse, spec):
    at = _page(app, warehouse, spec.name)
    texts = {w.key: w.value for w in at.text_input if w.key and w.key.startswith(f"jobs_param_{spec.name}_")}
    assert [v for v in texts.values() if v in RAW_LISTS or "," in (v or "")] == []
    declared = [p.name for p in spec.params() if p.multiple or p.shape or p.type_name.startswith(("int", "float"))]
    assert [name for name in declared if _key(spec.name, name) in texts] == []


def test_the_picked_values_reach_the_engine(app, fresh_warehouse):
    at = _page(app, fresh_warehouse, "archive-duplicate-documents")
    at.multiselect(key=_key("archive-duplicate-documents", "kinds")).unselect("near")
    at.button[0].click().run()  # the form's submit button sends what was picked
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["jobs_pending"]["params"]["kinds"] == "exact"

    at = _page(app, fresh_warehouse, "route-unsigned-documents")
    at.date_input(key=_key("route-unsigned-documents", "as_of")).set_value(dt.date(2026, 11, 30))
    at.number_input(key=_key("route-unsigned-documents", "days")).set_value(3)
    at.button[0].click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.session_state["jobs_pending"]["params"] == {"days": 3, "as_of": "2026-11-30"}


def test_none_picked_is_refused_in_french(app, fresh_warehouse):
    at = _page(app, fresh_warehouse, "archive-duplicate-documents")
    kinds = at.multiselect(key=_key("archive-duplicate-documents", "kinds"))
    kinds.unselect("exact").unselect("near")
    at.button[0].click().run()
    result = jobs_answer(at, fresh_warehouse)
    assert result["error_code"] == "param.kinds"


def jobs_answer(at, db) -> dict:
    """The worker's answer to this session's pending request."""
    from analytics.jobs.queue import JobQueue, queue_path

    return JobQueue(queue_path(db)).wait(at.session_state["jobs_pending"]["id"], timeout=60)
