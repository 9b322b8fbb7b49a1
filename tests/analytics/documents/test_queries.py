"""Dashboard queries over duplicate documents and double entry, with role checks."""

from __future__ import annotations

import pytest

from analytics.access.roles import Actor, system_actor
from analytics.documents import (
    double_entry_pairs,
    double_entry_passages,
    double_entry_summary,
    duplicate_counts,
    duplicate_documents,
    find_double_entry,
    find_duplicate_documents,
    last_run,
)
from analytics.errors import AccessDenied, InvalidInput
from analytics.warehouse import connect
from tests.analytics.documents.conftest import insert_documents, insert_events
from tests.analytics.documents.test_double_entry import EVENTS, RETYPED
from tests.analytics.documents.test_duplicates import DAY10, S_A, S_C, SHA, doc

SYSTEM = system_actor()

ADMIN = Actor("alice", "admin")
ANALYST = Actor("anna", "analyst")
VIEWER = Actor("victor", "viewer")


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """One warehouse for the whole module: these tests only read it."""
    docs_con = connect(tmp_path_factory.mktemp("docs") / "hygie.duckdb")
    insert_documents(
        docs_con,
        RETYPED
        + [
            doc("X1", "P7", content_hash=SHA, text=S_A, created_at=DAY10),
            doc("X2", "P7", content_hash=SHA, text=S_A, created_at=DAY10, status="signed"),
            doc("X3", "P8", content_hash="h8", document_type="CONS", text=S_C),
        ],
    )
    insert_events(docs_con, EVENTS)
    find_duplicate_documents(docs_con, actor=SYSTEM)
    find_double_entry(docs_con, actor=SYSTEM)
    yield docs_con
    docs_con.close()


ACCESS_CASES = [
    {"description": "viewer may not list duplicate documents", "call": lambda c, a: duplicate_documents(c, a),
     "actor": VIEWER, "denied": "victor (role viewer) may not view patient-level data"},
    {"description": "viewer may not list double-entry pairs", "call": lambda c, a: double_entry_pairs(c, a),
     "actor": VIEWER, "denied": "victor (role viewer) may not view patient-level data"},
    {"description": "viewer may not read re-typed passages",
     "call": lambda c, a: double_entry_passages(c, a, "D2"),
     "actor": VIEWER, "denied": "victor (role viewer) may not view patient-level data"},
    {"description": "viewer may not run the detection",
     "call": lambda c, a: find_duplicate_documents(c, actor=a),
     "actor": VIEWER, "denied": "victor (role viewer) may not view patient-level data"},
    {"description": "viewer may not run double entry",
     "call": lambda c, a: find_double_entry(c, actor=a),
     "actor": VIEWER, "denied": "victor (role viewer) may not view patient-level data"},
    {"description": "viewer sees counts", "call": lambda c, a: duplicate_counts(c, a),
     "actor": VIEWER, "denied": None},
    {"description": "viewer sees double-entry aggregates", "call": lambda c, a: double_entry_summary(c, a),
     "actor": VIEWER, "denied": None},
    {"description": "analyst lists duplicate documents", "call": lambda c, a: duplicate_documents(c, a),
     "actor": ANALYST, "denied": None},
]


@pytest.mark.parametrize("case", ACCESS_CASES, ids=[c["description"] for c in ACCESS_CASES])
def test_roles(filled, case):
    if case["denied"] is None:
        case["call"](filled, case["actor"])
    else:
        with pytest.raises(AccessDenied) as exc:
            case["call"](filled, case["actor"])
        assert str(exc.value) == case["denied"]


def test_duplicate_list_and_counts(filled):
    listing = duplicate_documents(filled, ANALYST)
    assert listing[["kind", "document_id_1", "document_id_2"]].values.tolist() == [
        ["exact", "X1", "X2"],
        ["retyped", "D1", "D2"],
    ]
    assert listing["keep_document_id"].tolist()[0] == "X2"  # the signed copy
    assert listing["keep_document_id"].isna().tolist() == [False, True]
    assert listing.loc[0, "reason"] == "same patient, same content hash (sha1 0123456789ab…)"
    assert duplicate_documents(filled, ANALYST, kind="exact", patient_id="P1").empty
    counts = duplicate_counts(filled, VIEWER)
    assert counts.values.tolist() == [["exact", 1, 2, 1], ["near", 0, 0, 0], ["retyped", 1, 2, 0]]


def test_double_entry_queries(filled):
    pairs = double_entry_pairs(filled, ANALYST, patient_id="P1")
    assert pairs[["source_document_id", "target_document_id", "retyped_chars"]].values.tolist() == [
        ["D1", "D2", 115]
    ]
    passages = double_entry_passages(filled, ANALYST, "D2")
    assert passages["chars"].tolist() == [115]
    summary = double_entry_summary(filled, VIEWER, by=("document_type", "service"), period="month")
    assert summary[["month", "document_type", "service", "documents", "retyped_chars"]].astype(str).values.tolist() == [
        ["2026-03-01", "LETTRE", "CARDIO", "1", "115"]
    ]
    assert summary.loc[0, "estimated_minutes"] == pytest.approx(0.57)
    assert summary.loc[0, "typing_chars_per_minute"] == 200.0
    overall = double_entry_summary(filled, VIEWER, by=(), period=None)
    assert overall["retyped_chars"].tolist() == [115]


def test_patient_level_views_are_traced(filled):
    before = filled.execute("SELECT count(*) FROM access_log").fetchall()[0][0]
    duplicate_documents(filled, ANALYST, kind="exact")
    double_entry_passages(filled, ANALYST, "D2")
    duplicate_counts(filled, VIEWER)  # aggregates are not traced
    rows = filled.execute(
        "SELECT actor, action, object, row_count FROM access_log WHERE log_id > "
        "(SELECT max(log_id) - 2 FROM access_log) ORDER BY log_id"
    ).fetchall()
    assert filled.execute("SELECT count(*) FROM access_log").fetchall()[0][0] == before + 2
    assert rows == [("anna", "view", "document_duplicates", 1), ("anna", "view", "double_entry_passages", 1)]


def test_last_run(filled):
    run = last_run(filled, VIEWER, "double_entry")
    assert run["params"]["typing_chars_per_minute"] == 200.0
    assert run["summary"]["document_pairs"] == 1
    assert last_run(filled, VIEWER)["summary"]["exact"] == 1


BAD = [
    (lambda c: duplicate_documents(c, ADMIN, kind="other"), "kind must be one of exact, near, retyped, got 'other'"),
    (lambda c: duplicate_documents(c, ADMIN, limit=0), "limit must be a positive whole number, got 0"),
    (lambda c: double_entry_summary(c, ADMIN, by=("patient_id",)),
     "cannot group double entry by patient_id; choose from document_type, service, author_id"),
    (lambda c: double_entry_summary(c, ADMIN, period="year"), "period must be one of month, week or None, got 'year'"),
    (lambda c: last_run(c, ADMIN, "x"), "analysis must be 'duplicates' or 'double_entry', got 'x'"),
]


@pytest.mark.parametrize("call,message", BAD, ids=[m for _, m in BAD])
def test_bad_query_parameters(con, call, message):
    with pytest.raises(InvalidInput) as exc:
        call(con)
    assert str(exc.value) == message
