"""What each job does, on the fixture hospital (see conftest.populate)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analytics import jobs
from analytics.errors import InvalidInput, JobError, StalePreview
from analytics.jobs.route_unsigned_documents import worklist_csv
from tests.analytics.jobs.conftest import ADMIN
from tests.analytics.jobs.helpers import snapshot


def _apply(con, job: str, params: dict | None = None) -> jobs.Run:
    return jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, job, params or {}).preview_id)


def _patient(con, pid: str) -> dict:
    cur = con.execute("SELECT * FROM patients WHERE patient_id = ?", [pid])
    return dict(zip([d[0] for d in cur.description], cur.fetchone(), strict=True))


def _owners(con, table: str, key: str) -> dict[str, str]:
    return dict(con.execute(f"SELECT {key}, patient_id FROM {table} ORDER BY 1").fetchall())


def test_merge_keeps_the_best_identity_links_losers_and_repoints_their_data(warehouse):
    con = warehouse
    prev = jobs.preview(con, ADMIN, "merge-identities")
    assert prev.counts["groups merged"] == 2 and prev.counts["pairs marked not the same"] == 1
    assert prev.notes == ["pair P005/P006 not merged: reviewers marked them as not the same person"]
    run = jobs.apply(con, ADMIN, prev.preview_id)
    p1, p2, p4 = _patient(con, "P001"), _patient(con, "P002"), _patient(con, "P004")
    assert (p1["active"], p1["merged_into"]) == (False, "P002")  # QUAL beats PROV
    assert (p4["active"], p4["merged_into"]) == (False, "P003")  # same status: the oldest record
    assert _patient(con, "P005")["active"] and _patient(con, "P006")["active"]  # twins left alone
    assert (p2["phone"], p2["postcode"]) == ("06 12 34 56 78", "75011")  # completed from the loser
    assert _owners(con, "documents", "document_id") == {
        "D1": "P002", "D2": "P002", "D3": "P002", "D4": "P002", "D5": "P003", "D6": "P003", "D7": "P003", "D8": "P003"}
    assert _owners(con, "audit_events", "event_id") == {"E0": "P002", "E1": "P002", "E2": "P003", "E3": "P002"}
    out = Path(run.output_dir)
    hl7 = (out / "adt_a40_P001.hl7").read_bytes().decode("utf-8").split("\r")
    assert hl7[0].startswith("MSH|^~\\&|HYGIE|HOPITAL|||") and "|ADT^A40^ADT_A39|" in hl7[0]
    assert hl7[1].startswith("EVN||")  # EVN-1 is deprecated in IHE PAM: the event is in MSH-9
    assert hl7[2].startswith("PID|1||P002^^^HYGIE^PI||DUPONT^JEAN^JEAN PIERRE^^^^L~MARTIN^^^^^^D||19500301|M")
    assert hl7[3] == "MRG|P001^^^HYGIE^PI"
    bundle = json.loads((out / "merge_bundle.json").read_text())
    assert [e["request"] for e in bundle["entry"]] == [
        {"method": "PATCH", "url": f"Patient?identifier=urn%3Ahygie%3Aipp%3AHYGIE%7C{pid}"}
        for pid in ("P001", "P002", "P004", "P003")]  # loser then survivor, per merge
    assert bundle["type"] == "transaction"


@pytest.mark.parametrize(
    ("description", "params", "expected_merged"),
    [
        ("survivorship on IPP only: the oldest IPP survives", {"survivorship": "patient_id"},
         {"P002": "P001", "P004": "P003"}),
        ("auto-merge: cluster below the strict threshold left out, reviewed pair kept", {"auto_merge": "true"},
         {"P004": "P003"}),
        ("auto-merge: PROV identity never auto-merged", {"auto_merge": "true", "auto_merge_threshold": "0.96"},
         {"P004": "P003"}),
        ("reviewed pairs only", {"include_clusters": "false"}, {"P004": "P003"}),
        ("clusters only", {"include_reviewed": "false"}, {"P001": "P002"}),
    ],
)
def test_merge_parameters(warehouse, description, params, expected_merged):
    _apply(warehouse, "merge-identities", params)
    merged = dict(warehouse.execute("SELECT patient_id, merged_into FROM patients WHERE NOT active").fetchall())
    assert merged == expected_merged, description


def test_unmerge_restores_one_identity_and_blocks_undo_of_the_merge_until_undone(warehouse):
    con = warehouse
    start = snapshot(con)
    merge = _apply(con, "merge-identities")
    unmerge = _apply(con, "unmerge-identity", {"patient_id": "P001"})
    p1, p2 = _patient(con, "P001"), _patient(con, "P002")
    assert (p1["active"], p1["merged_into"]) == (True, None)
    assert (p2["phone"], p2["postcode"]) == (None, None)
    assert _owners(con, "documents", "document_id")["D1"] == "P001"
    assert _patient(con, "P004")["merged_into"] == "P003"  # the other merge stays
    with pytest.raises(JobError, match=f"cannot undo run {merge.run_id}: run {unmerge.run_id} "
                                       r"\(unmerge-identity\) changed the same rows later; undo it first"):
        jobs.undo(con, ADMIN, merge.run_id)
    jobs.undo(con, ADMIN, unmerge.run_id)
    jobs.undo(con, ADMIN, merge.run_id)
    assert snapshot(con) == start


@pytest.mark.parametrize(
    ("description", "patient_id", "message"),
    [
        ("never merged", "P005", "unmerge-identity: patient P005 is not merged into another identity"),
        ("unknown patient", "P999", "unmerge-identity: no patient P999"),
        ("merged outside the jobs", "P008", "unmerge-identity: patient P008 was not merged by a merge-identities run"),
    ],
)
def test_unmerge_refusals(warehouse, description, patient_id, message):
    warehouse.execute("UPDATE patients SET active = FALSE, merged_into = 'P007' WHERE patient_id = 'P008'")
    with pytest.raises(JobError, match=f"^{message}"):
        jobs.preview(warehouse, ADMIN, "unmerge-identity", {"patient_id": patient_id})


def test_two_previews_of_the_same_rows_cannot_both_apply(warehouse):
    first = jobs.preview(warehouse, ADMIN, "normalise-identities")
    second = jobs.preview(warehouse, ADMIN, "normalise-identities")
    jobs.apply(warehouse, ADMIN, first.preview_id)
    with pytest.raises(StalePreview):
        jobs.apply(warehouse, ADMIN, second.preview_id)


def test_an_undo_is_refused_while_a_later_run_changed_the_same_rows(warehouse):
    con = warehouse
    start = snapshot(con)
    norm = _apply(con, "normalise-identities")
    merge = _apply(con, "merge-identities")
    with pytest.raises(JobError, match=f"^cannot undo run {norm.run_id}: run {merge.run_id} "
                                       r"\(merge-identities\) changed the same rows later; undo it first$"):
        jobs.undo(con, ADMIN, norm.run_id)
    jobs.undo(con, ADMIN, merge.run_id)
    undone = jobs.undo(con, ADMIN, norm.run_id)
    assert snapshot(con) == start
    with pytest.raises(JobError, match=f"run {undone.run_id} is itself an undo"):
        jobs.undo(con, ADMIN, undone.run_id)


def test_an_undo_is_refused_when_rows_changed_outside_the_jobs(warehouse):
    run = _apply(warehouse, "archive-duplicate-documents")
    warehouse.execute("UPDATE documents SET status = 'sent' WHERE document_id = 'D4'")
    with pytest.raises(JobError, match=f"cannot undo run {run.run_id}: documents "
                                       r'\{"document_id":"D4"\} no longer holds the values it had'):
        jobs.undo(warehouse, ADMIN, run.run_id)


def test_archive_keeps_the_signed_then_the_most_complete_document(warehouse):
    _apply(warehouse, "archive-duplicate-documents")
    status = dict(warehouse.execute("SELECT document_id, status FROM documents").fetchall())
    assert (status["D3"], status["D4"]) == ("signed", "archived")  # D3 is signed
    assert (status["D7"], status["D8"]) == ("signed", "archived")  # D7 has the longer text
    assert warehouse.execute("SELECT count(*) FROM documents").fetchone()[0] == 8  # never deleted


def test_route_sends_drafts_to_the_author_or_the_service_head(warehouse):
    run = _apply(warehouse, "route-unsigned-documents", {"days": 7})
    routed = warehouse.execute("SELECT document_id, signer_id, reason FROM document_routing ORDER BY 1").fetchall()
    assert routed == [("D1", "DR1", "author"), ("D2", "HEAD", "service_head"), ("D4", "DR1", "author")]
    head = (Path(run.output_dir) / "worklist_HEAD.csv").read_bytes()
    assert head.startswith(b"\xef\xbb\xbfdocument_id;patient_id;document_type;title;service;author_id;")
    assert b"\r\nD2;P001;note;titre;CARDIO;DR2;" in head


def test_worklists_neutralise_formulas():
    data = worklist_csv([{"document_id": "D9", "patient_id": "P1", "document_type": "note",
                          "title": "=HYPERLINK(\"http://x\")", "service": "@SUM(1)", "author_id": "A",
                          "created_at": None, "days_unsigned": -3, "reason": "author"}])
    assert data.decode("utf-8-sig").splitlines()[1] == 'D9;P1;note;"\'=HYPERLINK(""http://x"")";\'@SUM(1);A;;-3;author'


def test_normalise_identities(warehouse):
    prev = jobs.preview(warehouse, ADMIN, "normalise-identities")
    assert prev.notes == ["phone numbers left unchanged (not understood): P007"]
    jobs.apply(warehouse, ADMIN, prev.preview_id)
    p1, p2, p3 = (_patient(warehouse, p) for p in ("P001", "P002", "P003"))
    assert (p1["birth_name"], p1["first_names"], p1["phone"]) == ("DUPONT", "JEAN PIERRE", "+33612345678")
    assert p2["email"] == "jp@example.fr"
    assert (p3["birth_name"], p3["phone"]) == ("DURAND", "+33478000000")
    assert _patient(warehouse, "P007")["phone"] == "12"
    log = jobs.run_changes(warehouse, ADMIN, jobs.history(warehouse).run_id[0])
    assert {"birth_name": "dupont", "first_names": "Jean  Pierre", "phone": "06 12 34 56 78"} in [
        json.loads(b) for b in log.before]  # originals kept


def test_extract_refuses_small_groups_by_default(warehouse):
    with pytest.raises(JobError, match="^pseudonymised-extract refused: some combinations of birth_year, sex, "
                                       "departement, birth_departement are shared by only 1 patient"):
        jobs.preview(warehouse, ADMIN, "pseudonymised-extract")


def test_extract_pseudonymises_generalises_and_drops_identifiers(warehouse):
    # 7 patients and 8 documents: k=2 on the joined view needs half the documents suppressed
    warehouse.execute("INSERT INTO settings (key, value) VALUES ('privacy.max_suppressed_share', '0.5')")
    run = _apply(warehouse, "pseudonymised-extract", {"k": 2, "on_small_groups": "generalise",
                                                       "tables": "patients,documents"})
    out = Path(run.output_dir)
    patients = (out / "patients.csv").read_text()
    header = patients.splitlines()[0].split(",")
    assert not {"birth_name", "first_names", "phone", "email", "postcode", "birth_date", "ins"} & set(header)
    assert "DUPONT" not in patients and "P001" not in patients and "pat_" in patients
    documents = (out / "documents.csv").read_text()
    assert "compte rendu" not in documents and "P001" not in documents
    description = json.loads((out / "extract_description.json").read_text())
    assert description["k"] == 2 and description["k_smallest_group"] >= 2
    jobs.undo(warehouse, ADMIN, run.run_id)
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(
    ("description", "job", "params", "message"),
    [
        ("unknown parameter", "normalise-identities", {"x": "1"},
         "job normalise-identities: unknown parameter x (known: only_active, phone_format, region, strip_accents)"),
        ("not an int", "route-unsigned-documents", {"days": "sept"},
         "job route-unsigned-documents: parameter days='sept' is not a valid int"),
        ("not a choice", "normalise-identities", {"phone_format": "US"},
         "job normalise-identities: parameter phone_format='US' must be one of E164, INTERNATIONAL, NATIONAL"),
        ("loose auto-merge threshold", "merge-identities", {"auto_merge_threshold": "0.8"},
         "job merge-identities: auto_merge_threshold=0.8 must be between 0.95 and 1 (auto-merge needs a strict threshold)"),
        ("unknown job", "nope", {}, "unknown job 'nope'"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(warehouse, description, job, params, message):
    with pytest.raises((InvalidInput, JobError)) as err:
        jobs.preview(warehouse, ADMIN, job, params)
    assert str(err.value).startswith(message), description


def test_job_runs_are_recorded_in_the_access_log(warehouse):
    # the template's account creation (alice) is already logged: read what the jobs add after it
    (before,) = warehouse.execute("SELECT coalesce(max(log_id), 0) FROM access_log").fetchone()
    prev = jobs.preview(warehouse, ADMIN, "archive-duplicate-documents")
    with pytest.raises(JobError):
        jobs.apply(warehouse, ADMIN, prev.preview_id, fail_after=0)
    run = jobs.apply(warehouse, ADMIN, prev.preview_id)
    jobs.undo(warehouse, ADMIN, run.run_id)
    rows = warehouse.execute("SELECT actor, action, object, row_count, detail->>'status' FROM access_log "
                             "WHERE log_id > ? ORDER BY log_id", [before]).fetchall()
    assert rows == [("alice", "job_preview", "archive-duplicate-documents", 2, None),
                    ("alice", "job_apply", "archive-duplicate-documents", 0, "failed"),
                    ("alice", "job_apply", "archive-duplicate-documents", 2, None),
                    ("alice", "job_undo", "archive-duplicate-documents", 2, None)]
    _apply(warehouse, "route-unsigned-documents")
    assert warehouse.execute("SELECT action, object, row_count FROM access_log ORDER BY log_id DESC LIMIT 1"
                             ).fetchone() == ("export", "route-unsigned-documents", 2)  # two worklist files


def test_two_threads_applying_previews_of_the_same_rows_one_wins(warehouse):
    import threading

    previews = [jobs.preview(warehouse, ADMIN, "archive-duplicate-documents").preview_id for _ in range(2)]
    outcomes: list[str] = []

    def worker(preview_id: str) -> None:
        cursor = warehouse.cursor()
        try:
            jobs.apply(cursor, ADMIN, preview_id)
            outcomes.append("applied")
        except StalePreview:
            outcomes.append("stale")
        finally:
            cursor.close()

    threads = [threading.Thread(target=worker, args=(p,)) for p in previews]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes) == ["applied", "stale"]
    assert warehouse.execute("SELECT count(*) FROM documents WHERE status = 'archived'").fetchone()[0] == 2
