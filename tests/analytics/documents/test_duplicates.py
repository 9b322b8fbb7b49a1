"""Duplicate documents: exact, near and re-typed pairs, reasons, keep rule, re-runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from analytics.access.roles import system_actor
from analytics.documents import find_duplicate_documents, keep_candidate
from analytics.errors import InvalidInput
from tests.analytics.documents.conftest import insert_documents

SYSTEM = system_actor()

# Sentences long enough to be passages (>= 60 characters), unrelated to each other.
S_A = "Patient de 67 ans hospitalisé pour une décompensation cardiaque globale sur fibrillation auriculaire rapide."
S_B = "Traitement de sortie : bisoprolol 2,5 mg le matin, furosémide 40 mg deux fois par jour, apixaban 5 mg matin et soir."
S_C = "Consultation de suivi du diabète de type 2, hémoglobine glyquée à 7,2 %, pas d'hypoglycémie rapportée."
S_D = "Cher confrère, je vous remercie de m'avoir adressé votre patiente pour un avis rhumatologique."
S_E = "Examen clinique sans particularité, auscultation cardio-pulmonaire normale, abdomen souple et indolore."
S_F = "Radiographie du thorax de face : pas de foyer, pas d'épanchement pleural, silhouette cardiaque normale."
S_B_TYPO = S_B.replace("bisoprolol", "bisoprolo")  # re-typed by hand, one letter lost
# the same examination with another abdominal finding: a distinct report, 95 % similar overall
S_E_OTHER = S_E.replace("abdomen souple et indolore", "abdomen distendu, sensible en fosse iliaque droite")
SHA = "0123456789abcdef0123456789abcdef01234567"
DAY1, DAY3, DAY10 = "2026-03-01 10:00:00+01", "2026-03-03 09:00:00+01", "2026-03-10 10:00:00+01"


def doc(document_id, patient_id="P1", **kw):
    base = {
        "document_id": document_id,
        "patient_id": patient_id,
        "document_type": "CRH",
        "title": "Compte rendu d'hospitalisation",
        "created_at": DAY1,
        "stay_id": "S1",
    }
    return {**base, **kw}


CASES = [
    {
        "description": "same patient, same content hash: exact, reason names the hash",
        "docs": [
            doc("D1", content_hash=SHA, text=S_A),
            doc("D2", content_hash=SHA.upper(), text=S_A + " "),
        ],
        "expected": {("D1", "D2", "exact"): "same patient, same content hash (sha1 0123456789ab…)"},
    },
    {
        "description": "same content hash but different patients: not a duplicate",
        "docs": [doc("D1", content_hash=SHA, text=S_A), doc("D2", "P2", content_hash=SHA, text=S_A)],
        "expected": {},
    },
    {
        "description": "no hash, same text up to case, accents and spaces: exact by text",
        "docs": [
            doc("D1", text=S_C, document_type="CONS"),
            doc("D2", text="  " + S_C.upper().replace("È", "E") + "\n", document_type="LETTRE"),
        ],
        "expected": {
            ("D1", "D2", "exact"): f"same patient, same text after normalisation ({len(S_C)} characters, content hash missing)"
        },
    },
    {
        "description": "same patient and type, 2 days apart, a few words added: near",
        "docs": [
            doc("D1", content_hash="h1", text=S_C + " " + S_E),
            doc("D2", content_hash="h2", created_at=DAY3, text=S_C + " " + S_E + " RAS."),
        ],
        # text ratio = 200 * 206 / (206 + 211) = 98.8 -> floor 98
        "expected": {
            ("D1", "D2", "near"): "same patient and type, 2 days apart, title 100 % / text 98 % similar"
        },
    },
    {
        "description": "near-identical but 9 days apart (near_days=7): not near, its sentences re-typed",
        "params": {"near_days": 7},
        "docs": [
            doc("D1", content_hash="h1", text=S_C + " " + S_E),
            doc("D2", content_hash="h2", created_at=DAY10, text=S_C + " " + S_E + " RAS."),
        ],
        "expected": {("D1", "D2", "retyped"): None},
    },
    {
        "description": "near-identical, same day but another document type: not near",
        "docs": [
            doc("D1", content_hash="h1", text=S_C + " " + S_E),
            doc("D2", content_hash="h2", document_type="LETTRE", text=S_C + " " + S_E + " RAS."),
        ],
        # the two sentences are shared: re-typed, not a duplicate
        "expected": {("D1", "D2", "retyped"): None},
    },
    {
        "description": "same words but another date in the text: two documents, not near",
        "docs": [
            doc("D1", content_hash="h1", text="Bilan du 01/03/2026. " + S_C + " " + S_E),
            doc("D2", content_hash="h2", created_at=DAY3, text="Bilan du 03/03/2026. " + S_C + " " + S_E),
        ],
        # the two long sentences are shared; the dated header differs
        "expected": {("D1", "D2", "retyped"): None},
    },
    {
        "description": "near-identical text of another patient: nothing",
        "docs": [
            doc("D1", content_hash="h1", text=S_C + " " + S_E),
            doc("D2", "P2", content_hash="h2", text=S_C + " " + S_E + " RAS."),
        ],
        "expected": {},
    },
    {
        "description": "title missing on one side: the text decides",
        "docs": [
            doc("D1", content_hash="h1", text=S_C + " " + S_E),
            doc("D2", content_hash="h2", title=None, text=S_C + " " + S_E + " RAS."),
        ],
        "expected": {
            ("D1", "D2", "near"): "same patient and type, same day, title missing / text 98 % similar"
        },
    },
    {
        "description": "a passage re-typed with a typo in a later letter of the same stay: retyped",
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B),
            doc("D2", content_hash="h2", document_type="LETTRE", title="Lettre de sortie",
                created_at=DAY3, text=S_D + " " + S_B_TYPO),
        ],
        "expected": {
            ("D1", "D2", "retyped"): "same stay S1, 1 passage (115 characters, 54 % of D2) of D1 typed again in D2, 99 % similar"
        },
    },
    {
        "description": "scope=patient: re-typed across two stays, reason says same patient",
        "params": {"scope": "patient"},
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B),
            doc("D2", content_hash="h2", document_type="LETTRE", stay_id="S2",
                created_at=DAY10, text=S_D + " " + S_B),
        ],
        "expected": {
            ("D1", "D2", "retyped"): "same patient, 1 passage (116 characters, 54 % of D2) of D1 typed again in D2, 100 % similar"
        },
    },
    {
        "description": "default scope=stay: re-typing across stays is not reported",
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B),
            doc("D2", content_hash="h2", document_type="LETTRE", stay_id="S2",
                created_at=DAY10, text=S_D + " " + S_B),
        ],
        "expected": {},
    },
    {
        "description": "a document without stay falls back to the patient (scope=stay)",
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B, stay_id=None),
            doc("D2", content_hash="h2", document_type="LETTRE", stay_id="S2",
                created_at=DAY10, text=S_D + " " + S_B),
        ],
        "expected": {("D1", "D2", "retyped"): None},
    },
    {
        "description": "same words but another dose: numbers differ, not re-typed",
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B),
            doc("D2", content_hash="h2", document_type="LETTRE", created_at=DAY3,
                text=S_D + " " + S_B.replace("40 mg", "80 mg")),
        ],
        "expected": {},
    },
    {
        "description": "two reports differing by one finding, same numbers: near at 90 %",
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B + " " + S_C + " " + S_E),
            doc("D2", content_hash="h2", created_at=DAY3, text=S_A + " " + S_B + " " + S_C + " " + S_E_OTHER),
        ],
        "expected": {
            ("D1", "D2", "near"): "same patient and type, 2 days apart, title 100 % / text 95 % similar"
        },
    },
    {
        "description": "near_threshold 97: the same two reports only share passages",
        "params": {"near_threshold": 97.0},
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B + " " + S_C + " " + S_E),
            doc("D2", content_hash="h2", created_at=DAY3, text=S_A + " " + S_B + " " + S_C + " " + S_E_OTHER),
        ],
        "expected": {
            ("D1", "D2", "retyped"): "same stay S1, 3 passages (326 characters, 71 % of D2) of D1 typed again in D2, 100 % similar"
        },
    },
    {
        "description": "a template sentence shared by 3 patients (template_min_patients=3) is not double entry",
        "params": {"template_min_patients": 3},
        "docs": [
            d
            for p in ("P1", "P2", "P3")
            for d in (
                doc(f"{p}-1", p, content_hash=f"{p}a", text=S_A + " " + S_F),
                doc(f"{p}-2", p, content_hash=f"{p}b", document_type="LETTRE", created_at=DAY3,
                    text=S_D + " " + S_F),
            )
        ],
        "expected": {},
    },
    {
        "description": "an archived copy is ignored",
        "docs": [
            doc("D1", content_hash=SHA, text=S_A),
            doc("D2", content_hash=SHA, text=S_A, status="archived"),
        ],
        "expected": {},
    },
]


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_detection(con, case):
    insert_documents(con, case["docs"])
    find_duplicate_documents(con, actor=SYSTEM, **case.get("params", {}))
    rows = con.execute(
        "SELECT document_id_1, document_id_2, kind, reason FROM document_duplicates"
    ).fetchall()
    found = {(d1, d2, kind): reason for d1, d2, kind, reason in rows}
    assert set(found) == set(case["expected"])
    for key, reason in case["expected"].items():
        if reason is not None:
            assert found[key] == reason


KEEP_CASES = [
    {
        "description": "the signed copy is kept even if it is the newer one",
        "docs": [
            doc("D1", content_hash=SHA, text=S_A),
            doc("D2", content_hash=SHA, text=S_A, created_at=DAY3, signed_at=DAY3, status="signed"),
        ],
        "keep": "D2",
    },
    {
        "description": "neither signed: the longer text is kept",
        "docs": [
            doc("D1", content_hash="h1", text=S_C + " " + S_E),
            doc("D2", content_hash="h2", created_at=DAY3, text=S_C + " " + S_E + " RAS."),
        ],
        "keep": "D2",
    },
    {
        "description": "same length, not signed: the oldest is kept",
        "docs": [
            doc("D9", content_hash=SHA, text=S_A, created_at=DAY1),
            doc("D1", content_hash=SHA, text=S_A, created_at=DAY3),
        ],
        "keep": "D9",
    },
]


@pytest.mark.parametrize("case", KEEP_CASES, ids=[c["description"] for c in KEEP_CASES])
def test_keep_document(con, case):
    insert_documents(con, case["docs"])
    find_duplicate_documents(con, actor=SYSTEM)
    keep = con.execute("SELECT keep_document_id FROM document_duplicates").fetchall()
    assert keep == [(case["keep"],)]
    # the Python rule gives the same answer as the SQL one
    as_python = [
        {**d, "created_at": datetime.fromisoformat(d["created_at"] + ":00").astimezone(UTC),
         "signed_at": d.get("signed_at")}
        for d in case["docs"]
    ]
    assert keep_candidate(as_python) == case["keep"]


def test_retyped_pairs_have_no_keeper(con):
    (case,) = [c for c in CASES if c["description"].startswith("a passage re-typed with a typo")]
    insert_documents(con, case["docs"])
    find_duplicate_documents(con, actor=SYSTEM)
    assert con.execute("SELECT kind, keep_document_id FROM document_duplicates").fetchall() == [
        ("retyped", None)
    ]


def test_rerun_replaces_results(con):
    insert_documents(con, CASES[0]["docs"] + [doc("D3", content_hash="h3", created_at=DAY3,
                                                        text=S_C + " " + S_B)])
    query = "SELECT document_id_1, document_id_2, kind, score, reason FROM document_duplicates ORDER BY ALL"
    first = find_duplicate_documents(con, actor=SYSTEM)
    rows_first = con.execute(query).fetchall()
    second = find_duplicate_documents(con, actor=SYSTEM)
    rows_second = con.execute(query).fetchall()
    assert rows_first == rows_second and len(rows_first) == 1
    assert first.run_id != second.run_id
    assert con.execute("SELECT DISTINCT match_run_id FROM document_duplicates").fetchall() == [
        (second.run_id,)
    ]
    runs = con.execute(
        "SELECT count(*), count(DISTINCT run_id) FROM document_runs WHERE analysis = 'duplicates'"
    ).fetchone()
    assert runs == (2, 2)
    assert first.summary_lines()[1] == "Exact duplicate pairs: 1"


BAD_PARAMS = [
    ({"near_threshold": 120}, "near_threshold must be a number in ]0, 100], got 120"),
    ({"near_days": -1}, "near_days must be a whole number of days >= 0, got -1"),
    ({"min_chars": 5}, "min_chars must be a whole number >= 10, got 5"),
    ({"scope": "service"}, "scope must be one of patient, stay, got 'service'"),
    ({"template_min_patients": 1}, "template_min_patients must be None or a whole number >= 2, got 1"),
]


@pytest.mark.parametrize("params,message", BAD_PARAMS, ids=[m for _, m in BAD_PARAMS])
def test_bad_parameters_refused(con, params, message):
    with pytest.raises(InvalidInput) as exc:
        find_duplicate_documents(con, actor=SYSTEM, **params)
    assert str(exc.value) == message


def test_keep_candidate_needs_documents():
    with pytest.raises(ValueError, match="at least one document"):
        keep_candidate([])
