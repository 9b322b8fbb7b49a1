"""Double entry: re-typed passages, which documents, characters and the minutes they cost."""

from __future__ import annotations

import math

import pytest

from analytics.access.roles import system_actor
from analytics.documents import find_double_entry
from analytics.errors import InvalidInput
from tests.analytics.documents.conftest import insert_documents, insert_events
from tests.analytics.documents.test_duplicates import (
    DAY3,
    DAY10,
    S_A,
    S_B,
    S_B_TYPO,
    S_C,
    S_D,
    SHA,
    doc,
)

SYSTEM = system_actor()

RETYPED = [
    doc("D1", content_hash="h1", text=S_A + " " + S_B, service="CARDIO"),
    doc("D2", content_hash="h2", document_type="LETTRE", created_at=DAY3, service="CARDIO",
        author_id="dr1", text=S_D + " " + S_B_TYPO),
]
# u1 works on D2: gaps of 1, 2 and 1 minutes count; the 17-minute pause does not (idle 300 s).
EVENTS = [
    ("e1", "u1", "2026-03-03 10:00:00+01", "D2"),
    ("e2", "u1", "2026-03-03 10:01:00+01", "D2"),
    ("e3", "u1", "2026-03-03 10:03:00+01", "D2"),
    ("e4", "u1", "2026-03-03 10:20:00+01", "D2"),
    ("e5", "u1", "2026-03-03 10:21:00+01", "D2"),
    ("e6", "u2", "2026-03-03 10:02:00+01", "D2"),  # another user, a single event: nothing
    ("e7", "u1", "2026-03-01 10:00:00+01", "D1"),
    ("e8", "u1", "2026-03-01 10:04:00+01", "D1"),
]

CASES = [
    {
        "description": "one passage re-typed: 115 characters at 200/min, 4 audit minutes",
        "docs": RETYPED,
        "events": EVENTS,
        "params": {},
        "expected": [
            {"source_document_id": "D1", "target_document_id": "D2", "stay_id": "S1",
             "document_type": "LETTRE", "service": "CARDIO", "passages": 1,
             "retyped_chars": 115, "target_chars": 210, "estimated_minutes": 115 / 200,
             "audit_active_minutes": 4.0, "audit_retyped_minutes": 4.0 * 115 / 210}
        ],
    },
    {
        "description": "slower typist and a 20-minute idle threshold change both figures",
        "docs": RETYPED,
        "events": EVENTS,
        "params": {"typing_chars_per_minute": 100, "idle_threshold_s": 1200},
        "expected": [
            {"source_document_id": "D1", "target_document_id": "D2", "estimated_minutes": 1.15,
             "audit_active_minutes": 21.0, "typing_chars_per_minute": 100.0,
             "idle_threshold_s": 1200}
        ],
    },
    {
        "description": "no audit events on the later document: audit minutes unknown",
        "docs": RETYPED,
        "events": [],
        "params": {},
        "expected": [{"target_document_id": "D2", "audit_active_minutes": None,
                      "audit_retyped_minutes": None}],
    },
    {
        "description": "an exact duplicate document is not double entry",
        "docs": [doc("D1", content_hash=SHA, text=S_A + " " + S_B),
                 doc("D2", content_hash=SHA, created_at=DAY3, text=S_A + " " + S_B)],
        "events": [],
        "params": {},
        "expected": [],
    },
    {
        "description": "a passage typed in three documents: each later one credited to the first",
        "docs": [
            doc("D1", content_hash="h1", text=S_A + " " + S_B),
            doc("D2", content_hash="h2", document_type="LETTRE", created_at=DAY3, text=S_D + " " + S_B),
            doc("D3", content_hash="h3", document_type="CONS", created_at=DAY10, text=S_C + " " + S_B),
        ],
        "events": [],
        "params": {},
        "expected": [
            {"source_document_id": "D1", "target_document_id": "D2", "retyped_chars": 116},
            {"source_document_id": "D1", "target_document_id": "D3", "retyped_chars": 116},
        ],
    },
    {
        "description": "passages shorter than min_chars are not counted",
        "docs": RETYPED,
        "events": [],
        "params": {"min_chars": 120},
        "expected": [],
    },
    {
        "description": "another patient's identical sentence is not double entry",
        "docs": [RETYPED[0], {**RETYPED[1], "patient_id": "P2"}],
        "events": [],
        "params": {},
        "expected": [],
    },
]


def _same(actual, expected) -> bool:
    if expected is None:
        return actual is None or (isinstance(actual, float) and math.isnan(actual))
    if isinstance(expected, float):
        return actual == pytest.approx(expected)
    return actual == expected


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_double_entry(con, case):
    insert_documents(con, case["docs"])
    insert_events(con, case["events"])
    result = find_double_entry(con, actor=SYSTEM, **case["params"])
    rows = result.to_dict("records")
    assert len(rows) == len(case["expected"])
    for row, expected in zip(rows, case["expected"], strict=True):
        for column, value in expected.items():
            assert _same(row[column], value), (column, row[column], value)
    stored = con.execute("SELECT count(*) FROM double_entry").fetchone()[0]
    assert stored == len(rows)


def test_passages_are_stored_side_by_side(con):
    insert_documents(con, RETYPED)
    find_double_entry(con, actor=SYSTEM)
    rows = con.execute(
        "SELECT source_document_id, target_document_id, source_passage, target_passage, chars "
        "FROM double_entry_passages"
    ).fetchall()
    assert rows == [("D1", "D2", S_B, S_B_TYPO, 115)]


def test_rerun_does_not_duplicate_rows(con):
    insert_documents(con, RETYPED)
    insert_events(con, EVENTS)
    first = find_double_entry(con, actor=SYSTEM).drop(columns="run_id")
    second = find_double_entry(con, actor=SYSTEM).drop(columns="run_id")
    assert first.equals(second)
    counts = con.execute(
        "SELECT (SELECT count(*) FROM double_entry), (SELECT count(*) FROM double_entry_passages), "
        "(SELECT count(*) FROM document_runs WHERE analysis = 'double_entry')"
    ).fetchone()
    assert counts == (1, 1, 2)


BAD = [
    ({"typing_chars_per_minute": 0}, "typing_chars_per_minute must be a positive number, got 0"),
    ({"idle_threshold_s": 0}, "idle_threshold_s must be a whole number of seconds > 0, got 0"),
    ({"retyped_threshold": 0}, "retyped_threshold must be a number in ]0, 100], got 0"),
]


@pytest.mark.parametrize("params,message", BAD, ids=[m for _, m in BAD])
def test_bad_parameters(con, params, message):
    with pytest.raises(InvalidInput) as exc:
        find_double_entry(con, actor=SYSTEM, **params)
    assert str(exc.value) == message
