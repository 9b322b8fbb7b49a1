"""When k-anonymity cannot be reached, the pages say why, in French: what generalisation was
tried, the share of rows in small groups and the share that may be suppressed.

The hand-made hospital (43 patients) cannot give an analyst a pseudonymised patients file with
k=5 within the default 5 % of suppressed rows. Before, the exports page offered a download that
failed on the click with nothing on the page."""

from __future__ import annotations

import os

from analytics.jobs.queue import JobQueue, queue_path
from tests.dashboard.conftest import query

REFUSED = "Export refusé pour protéger l'anonymat : patients n'atteint pas k=5 sur "
TRIED = ("Même en généralisant au maximum (date de naissance → tranche de 20 ans, code postal → département, "
         "horodatages retirés, texte libre retiré, colonne birth_departement retirée, colonne departement "
         "retirée), ")
LIMIT = "plus que les 5 % qu'il est permis de supprimer."


def _exports(app, db, role: str = "analyst"):
    at = app(db, role).run()
    at.switch_page("views/exports.py").run()
    at.selectbox(key="exports_table").select("patients").run()
    assert not at.exception
    return at


def test_an_export_that_cannot_reach_k_is_explained_on_the_exports_page(app, fresh_warehouse):
    at = _exports(app, fresh_warehouse)
    [error] = [e.value for e in at.error]
    assert error.startswith(REFUSED) and TRIED in error and LIMIT in error, error
    assert "restent dans des groupes de moins de 5 personnes" in error
    [button] = at.get("download_button")
    assert button.proto.disabled


def test_an_export_within_k_is_offered_without_a_message(app, fresh_warehouse):
    """The control: half the rows may be suppressed, the same export goes out."""
    query(fresh_warehouse, "INSERT INTO settings (key, value) VALUES ('privacy.max_suppressed_share', '0.5')")
    at = _exports(app, fresh_warehouse)
    assert [e.value for e in at.error] == []
    [button] = at.get("download_button")
    assert not button.proto.disabled


def test_a_refused_extract_is_explained_on_the_jobs_page(app, fresh_warehouse):
    at = app(fresh_warehouse, "analyst").run()
    at.switch_page("views/jobs.py").run()
    at.selectbox(key="jobs_pick").select("pseudonymised-extract").run()
    at.selectbox(key="jobs_param_pseudonymised-extract_on_small_groups").select("generalise")
    at.button[0].click().run()  # the form's submit button sends the choice with it
    if "jobs_pending" in at.session_state:  # else the worker answered within that run
        assert not JobQueue(queue_path(os.environ["HYGIE_DB"])).wait(
            at.session_state["jobs_pending"]["id"], timeout=60)["ok"]
        at.run()
    [error] = [e.value for e in at.error]
    assert error.startswith("Échec, rien n'a été modifié : Extraction refusée. " + REFUSED), error
    assert TRIED in error and LIMIT in error


def test_a_per_clinician_table_asks_for_a_reason_before_the_download(app, fresh_warehouse):
    """Not a k refusal but the same page: one clinician's time goes out with a stated reason."""
    at = app(fresh_warehouse, "admin").run()
    at.switch_page("views/exports.py").run()
    at.selectbox(key="exports_table").select("ts_user_day").run()
    assert not at.exception and [e.value for e in at.error] == []
    assert any("jamais pour évaluer une personne" in c.value for c in at.caption)
    [button] = at.get("download_button")
    assert button.proto.disabled
    at.text_input(key="exports_reason").input("Préparer le planning d'hiver").run()
    [button] = at.get("download_button")
    assert not button.proto.disabled
