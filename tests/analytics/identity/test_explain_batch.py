"""explain_pairs: a page of pairs explained at once, each exactly as explain_pair explains it."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from analytics.access.roles import system_actor
from analytics.errors import AccessDenied, InvalidInput
from analytics.identity import explain_pair, find_duplicates, record_review
from analytics.identity.explain import explain_pairs
from analytics.warehouse import connect
from tests.analytics.identity.conftest import (
    CASES,
    MANAGER,
    VIEWER,
    _filler,
    case_rows,
    insert_patients,
)


@pytest.fixture(scope="module")
def matched():
    con = connect(":memory:")
    insert_patients(con, case_rows() + [_filler(random.Random(5), i) for i in range(200)])
    find_duplicates(con, actor=system_actor())
    yield con
    con.close()


def test_each_pair_as_explained_alone(matched):
    # every hand-written case, a pair sharing a record with another, and one in reverse order
    pairs = [(f"C{k:02d}A", f"C{k:02d}B") for k in range(len(CASES))] + [("C00A", "C01A"), ("C02B", "C02A")]
    batch = explain_pairs(matched, MANAGER, pairs)
    assert len(batch) == len(pairs)
    checked = set(range(0, len(pairs), 5)) | {len(pairs) - 2, len(pairs) - 1}  # each alone costs an index scan
    for k in sorted(checked):
        pair, frame = pairs[k], batch[k]
        alone = explain_pair(matched, MANAGER, *pair)
        pd.testing.assert_frame_equal(frame, alone)
        assert frame.attrs == alone.attrs, pair


def test_a_review_is_applied_per_pair(matched):
    record_review(matched, MANAGER, "C00A", "C00B", "not_same")
    first, second = explain_pairs(matched, MANAGER, [("C00B", "C00A"), ("C01A", "C01B")])
    assert (first.attrs["decision"], first.attrs["rule"]) == ("non-match", "reviewed not_same")
    assert second.attrs["rule"] != "reviewed not_same"


def test_one_access_log_row_lists_the_pairs(matched):
    explain_pairs(matched, MANAGER, [("C03A", "C03B"), ("C04A", "C04B")])
    row = matched.execute("SELECT row_count, detail->'pairs' FROM access_log WHERE object = 'explain_pair' "
                          "ORDER BY logged_at DESC LIMIT 1").fetchone()
    assert row == (4, '[["C03A","C03B"],["C04A","C04B"]]')


@pytest.mark.parametrize(("description", "pairs", "message"), [
    ("a record with itself", [("C03A", "C03B"), ("C05A", "C05A")], "explain_pair: the two patient ids are the same"),
    ("an unknown record", [("C03A", "C03B"), ("C05A", "NOPE")], "patient 'NOPE' not found"),
])
def test_refusals(matched, description, pairs, message):
    with pytest.raises(InvalidInput) as err:
        explain_pairs(matched, MANAGER, pairs)
    assert str(err.value) == message, description
    assert explain_pairs(matched, MANAGER, []) == []
    with pytest.raises(AccessDenied):
        explain_pairs(matched, VIEWER, [("C03A", "C03B")])
