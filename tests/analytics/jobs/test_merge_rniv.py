"""merge-identities under the RNIV rules (docs/IDENTITY_RULES.md): only auto-merge-eligible
cluster pairs merge without a reviewer, and a validated survivor's strict traits are never filled
from a provisional record."""

from __future__ import annotations

from analytics import jobs
from analytics.messages import decode
from tests.analytics.jobs.conftest import ADMIN


def _merged(con) -> dict[str, str]:
    return dict(con.execute("SELECT patient_id, merged_into FROM patients WHERE NOT active").fetchall())


def _apply(con, params: dict | None = None) -> jobs.Run:
    return jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, "merge-identities", params or {}).preview_id)


def test_a_match_not_eligible_for_auto_merge_waits_for_a_reviewer(warehouse):
    con = warehouse
    con.execute("UPDATE match_pairs SET auto_merge = FALSE WHERE patient_id_1 = 'P001' AND patient_id_2 = 'P002'")
    preview = jobs.preview(con, ADMIN, "merge-identities")
    assert preview.counts["pairs awaiting a reviewer"] == 1  # what the review queue and overview count
    jobs.apply(con, ADMIN, preview.preview_id)
    assert _merged(con) == {"P004": "P003"}  # the reviewed pair only; P001/P002 left for a person
    con.execute("INSERT INTO pair_reviews VALUES ('P001', 'P002', 'same', 'rev', now(), NULL)")
    preview = jobs.preview(con, ADMIN, "merge-identities")
    assert preview.counts["pairs awaiting a reviewer"] == 0
    jobs.apply(con, ADMIN, preview.preview_id)
    assert _merged(con) == {"P004": "P003", "P001": "P002"}


def test_a_match_from_before_eligibility_was_recorded_is_not_merged_alone(warehouse):
    con = warehouse
    con.execute("UPDATE match_pairs SET auto_merge = NULL")
    _apply(con, {"include_reviewed": "false"})
    assert _merged(con) == {}


def test_strict_trait_of_a_validated_survivor_is_not_filled_from_a_provisional_record(warehouse):
    con = warehouse
    # P001 (PROV) merges into P002 (QUAL); P004 (VALI) into P003 (VALI)
    con.execute("UPDATE patients SET birth_place_code = '75056' WHERE patient_id IN ('P001', 'P004')")
    preview = jobs.preview(con, ADMIN, "merge-identities")
    jobs.apply(con, ADMIN, preview.preview_id)
    rows = dict(con.execute("SELECT patient_id, birth_place_code FROM patients WHERE patient_id IN ('P002', 'P003')")
                .fetchall())
    assert rows == {"P002": None, "P003": "75056"}  # from PROV: refused; from VALI: filled
    assert con.execute("SELECT phone FROM patients WHERE patient_id = 'P002'").fetchone()[0] == "06 12 34 56 78"
    note = ("P002: birth_place_code not filled from P001 (PROV): a strict trait of a QUAL identity comes only "
            "from a validated one")
    assert note in preview.notes
    assert decode(note) == ("note.strict_not_filled", {"survivor": "P002", "fields": "birth_place_code",
                                                        "loser": "P001", "loser_status": "PROV", "kept": "QUAL"})
