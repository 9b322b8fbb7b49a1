"""Possible collisions: records whose own data contradict themselves, on a hand-made warehouse."""

from __future__ import annotations

import datetime as dt

import pytest

from analytics.errors import AccessDenied, InvalidInput
from analytics.identity import find_collisions
from analytics.identity.collisions import nir_traits
from sample_data.nir import make_nir
from tests.analytics.identity.conftest import ANALYST, MANAGER, VIEWER, insert_patients, person

PARIS = dt.timezone(dt.timedelta(hours=1))

# patient -> traits; each INS is a real NIR (valid key) built from the traits it should encode
PATIENTS = [
    person("OK", sex="F", birth_date="14/03/1975", birth_place_code="35238", ins=make_nir("F", 1975, 3, "35238", 12)),
    person("SEX", sex="M", birth_date="14/03/1975", birth_place_code="35238", ins=make_nir("F", 1975, 3, "35238", 13)),
    person("YEAR", birth_date="14/03/1957", birth_place_code="35238", ins=make_nir("F", 1975, 3, "35238", 14)),
    person("MONTH", birth_date="14/04/1975", birth_place_code="35238", ins=make_nir("F", 1975, 3, "35238", 15)),
    person("PLACE", birth_date="14/03/1975", birth_place_code="69123", ins=make_nir("F", 1975, 3, "35238", 16)),
    person("COMMUNE", birth_date="14/03/1975", birth_place_code="35047", ins=make_nir("F", 1975, 3, "35238", 17)),
    person("ABROAD", birth_date="14/03/1975", birth_place_code="99350", ins=make_nir("F", 1975, 3, "99352", 18)),
    person("CORSICA", birth_date="14/03/1975", birth_place_code="2A004", ins=make_nir("F", 1975, 3, "2A004", 19)),
    person("OVERSEAS", birth_date="14/03/1975", birth_place_code="97411", ins=make_nir("F", 1975, 3, "97209", 20)),
    person("NOMONTH", birth_date="14/03/1975", birth_place_code="35238",
           ins=make_nir("F", 1975, 3, "35238", 21)[:3] + "99" + make_nir("F", 1975, 3, "35238", 21)[5:]),
    person("MISSING", sex=None, birth_date=None, birth_place_code=None, ins=make_nir("F", 1975, 3, "35238", 22)),
    person("NOINS", sex="M", birth_date="01/01/1990"),
    person("STAYS"), person("SAMESERVICE"), person("APART"), person("MERGED", sex="M",
                                                                     ins=make_nir("F", 1975, 3, "35238", 23)),
]

# (document_id, patient_id, stay_id, service, created_at)
H = dt.datetime(2024, 6, 3, 8, 0, tzinfo=PARIS)
M = dt.timedelta(minutes=1)
DOCUMENTS = [
    # in Cardiologie and in Maternité 40 minutes apart, under two stay numbers
    ("D1", "STAYS", "N1", "Cardiologie", H), ("D2", "STAYS", "N1", "Cardiologie", H + 600 * M),
    ("D3", "STAYS", "N2", "Maternité", H + 40 * M), ("D4", "STAYS", "N2", "Maternité", H + 700 * M),
    # two stays in one service: a transfer paperwork, not two places
    ("D5", "SAMESERVICE", "N3", "Urgences", H), ("D6", "SAMESERVICE", "N4", "Urgences", H + 5 * M),
    # a letter of the first stay written two weeks later, during a readmission elsewhere: spans
    # overlap, but no two documents are written at the same time
    ("D9", "APART", "N5", "Cardiologie", H), ("D10", "APART", "N5", "Cardiologie", H + 14 * 1440 * M),
    ("D11", "APART", "N6", "Gériatrie", H + 7 * 1440 * M), ("D12", "APART", "N6", "Gériatrie", H + 13 * 1440 * M),
    ("D13", "APART", None, "Urgences", H + 14 * 1440 * M),  # no stay number: not a stay
]


@pytest.fixture
def records(con):
    insert_patients(con, PATIENTS)
    con.execute("UPDATE patients SET active = FALSE, merged_into = 'OK' WHERE patient_id = 'MERGED'")
    con.executemany("INSERT INTO documents (document_id, patient_id, stay_id, service, created_at) "
                    "VALUES (?, ?, ?, ?, ?)", DOCUMENTS)
    return con


def _evidence(frame) -> set[tuple]:
    return {(r.patient_id, r.kind, r.expected, r.found) for r in frame.itertuples()}


def test_each_contradiction_is_listed_with_its_evidence(records):
    found = find_collisions(records, MANAGER)
    assert _evidence(found) == {
        ("SEX", "ins_sex", "F", "M"),
        ("YEAR", "ins_birth_year", "75", "1957"),
        ("MONTH", "ins_birth_month", "03", "04"),
        ("PLACE", "ins_birth_place", "35", "69123"),
        ("ABROAD", "ins_birth_place", "99352", "99350"),
        ("OVERSEAS", "ins_birth_place", "972", "97411"),
        ("STAYS", "overlapping_stays", None, None),
    }  # not: coherent, another commune of the département, 2A, unknown month, missing traits, no INS,
    #    stays in one service, a letter written after discharge, an inactive (merged) record
    stays = found[found["kind"] == "overlapping_stays"].iloc[0]
    assert (stays["stay_1"], stays["service_1"], stays["stay_2"], stays["service_2"]) == (
        "N1", "Cardiologie", "N2", "Maternité")
    assert (stays["at_1"], stays["at_2"]) == (H, H + 40 * M)
    assert (found.set_index("patient_id").loc["SEX", "birth_name"]) == "DURAND"  # the record's traits come along


def test_nothing_is_changed(records):
    before = records.execute("SELECT * FROM patients ORDER BY patient_id").fetchall()
    find_collisions(records, MANAGER)
    assert records.execute("SELECT * FROM patients ORDER BY patient_id").fetchall() == before


def test_the_window_is_a_parameter(records):
    kinds = find_collisions(records, MANAGER, window_minutes=30)["kind"]
    assert "overlapping_stays" not in set(kinds)  # 40 minutes apart
    wide = find_collisions(records, MANAGER, window_minutes=21 * 1440)
    assert ("APART", "overlapping_stays") in set(zip(wide["patient_id"], wide["kind"], strict=True))


def test_patients_with_most_evidence_first_and_the_limit(records):
    records.execute("UPDATE patients SET sex = 'M', birth_place_code = '69123' WHERE patient_id = 'YEAR'")
    found = find_collisions(records, MANAGER, limit=3)
    assert list(found["patient_id"]) == ["YEAR", "YEAR", "YEAR"]
    assert set(found["kind"]) == {"ins_sex", "ins_birth_year", "ins_birth_place"}


def test_the_view_is_logged_and_needs_patient_data(records):
    found = find_collisions(records, ANALYST)
    row = records.execute("SELECT actor, action, object, row_count FROM access_log "
                          "WHERE object = 'collisions'").fetchall()
    assert row == [("ada.analyst", "view", "collisions", len(found))]
    with pytest.raises(AccessDenied):
        find_collisions(records, VIEWER)
    with pytest.raises(InvalidInput, match="^limit: 0 must be at least 1$"):
        find_collisions(records, MANAGER, limit=0)
    with pytest.raises(InvalidInput, match="^window_minutes: 0 must be at least 1$"):
        find_collisions(records, MANAGER, window_minutes=0)


@pytest.mark.parametrize(("ins", "expected"), [
    (make_nir("M", 1983, 11, "75056", 1), {"sex": "M", "year": "83", "month": "11", "place": "75"}),
    (make_nir("F", 2001, 2, "2B033", 7), {"sex": "F", "year": "01", "month": "02", "place": "2B"}),
    (make_nir("F", 1960, 5, "97411", 3), {"sex": "F", "year": "60", "month": "05", "place": "974"}),
    (make_nir("M", 1990, 12, "99350", 3), {"sex": "M", "year": "90", "month": "12", "place": "99350"}),
    ("783209935012345", {"year": "83", "place": "99350"}),  # a temporary NIA, month unknown
    ("12345", None), (None, None), ("1 83 11 75 056 001 xx", None),
])
def test_nir_traits(ins, expected):
    assert nir_traits(ins) == expected
