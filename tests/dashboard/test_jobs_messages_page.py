"""The jobs page says what merges sent, what their undo sent and what is still pending.

A real MLLP receiver (``hl7``'s asyncio server, ``tests/analytics/jobs/receivers.py``) on
127.0.0.1 answers the messages the page's send button hands to the server's job worker.
"""

from __future__ import annotations

from analytics import jobs
from analytics.access.roles import Actor
from analytics.warehouse import connect
from tests.analytics.jobs.receivers import MllpReceiver
from tests.dashboard.test_jobs_page import _wait_for_worker

MANAGER = Actor("test-manager", "manager")


def _merge_then_undo(db) -> tuple[str, str]:
    con = connect(db)
    try:
        con.execute("INSERT INTO pair_reviews (patient_id_1, patient_id_2, decision, reviewer, decided_at) "
                    "VALUES ('P9001', 'P9002', 'same', 'rev', now())")
        prev = jobs.preview(con, MANAGER, "merge-identities", {"include_clusters": "false"})
        merge = jobs.apply(con, MANAGER, prev.preview_id)
        undo = jobs.undo(con, MANAGER, merge.run_id)
        return merge.run_id, undo.run_id
    finally:
        con.close()


def test_messages_section_shows_sent_undo_and_pending_and_sends(app, fresh_warehouse, monkeypatch):
    with MllpReceiver() as mllp:
        monkeypatch.setenv("HYGIE_MESSAGING_MLLP_ENDPOINT", f"127.0.0.1:{mllp.port}")
        merge_id, undo_id = _merge_then_undo(fresh_warehouse)
        at = app(fresh_warehouse, "manager").run()
        at.switch_page("views/jobs.py").run()
        assert not at.error, [e.value for e in at.error]
        assert "Messages envoyés aux autres logiciels" in [s.value for s in at.subheader]
        history = at.dataframe[0].value
        assert list(history["job"][:2]) == ["Annulation de « Fusionner les identités en double »", "Fusionner les identités en double"]
        per_run = at.dataframe[1].value
        assert list(per_run["run_id"]) == [undo_id, merge_id]
        assert list(per_run["what"]) == ["Annulation de « Fusionner les identités en double »", "Fusionner les identités en double"]
        assert (list(per_run["pending"]), list(per_run["file"])) == ([2, 1], [1, 1])  # A28+A31 / A40; FHIR files
        assert at.warning[0].value == "3 message(s) en attente d'envoi."
        at.button(key="jobs_send_messages").click().run()
        assert _wait_for_worker(at, fresh_warehouse)["ok"]
        at.run()
        assert not at.error, [e.value for e in at.error]
        assert at.success[0].value == "Envoi terminé : 3 accepté(s), 0 refusé(s), 0 destinataire(s) sans réponse."
        assert mllp.events() == ["A40", "A28", "A31"]
        listed = at.dataframe[2].value
        assert set(listed["status"]) == {"envoyé"} and set(listed["code"]) == {"AA"}


def test_undo_from_the_page_says_it_wrote_compensating_messages(app, fresh_warehouse):
    con = connect(fresh_warehouse)
    try:
        con.execute("INSERT INTO pair_reviews (patient_id_1, patient_id_2, decision, reviewer, decided_at) "
                    "VALUES ('P9001', 'P9002', 'same', 'rev', now())")
        merge = jobs.apply(con, MANAGER, jobs.preview(con, MANAGER, "merge-identities",
                                                      {"include_clusters": "false"}).preview_id)
    finally:
        con.close()
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/jobs.py").run()
    at.selectbox(key="jobs_undo_pick").select(merge.run_id).run()
    at.button(key="jobs_undo").click().run()
    at.button(key="jobs_confirm_undo").click().run()
    assert _wait_for_worker(at, fresh_warehouse)["ok"]
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value == (
        "Annulation terminée : 1 ligne(s) restaurée(s). 3 message(s) de compensation écrits pour les autres "
        "logiciels (voir « Messages envoyés aux autres logiciels »).")
    assert list(at.dataframe[0].value["job"][:1]) == ["Annulation de « Fusionner les identités en double »"]
