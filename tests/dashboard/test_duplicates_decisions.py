"""A decision applies to what was shown (issue 11, item 7), and four-eyes review.

Before the fix the queue table's selection was kept by row position: after a decision the rows
moved under it, and the buttons applied to every selected row, shown or not ("Même personne"
applied to 2 pairs, one of them the BERNARD HENRIETTE / MARGOT twins, never displayed).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from analytics.access.roles import Actor
from analytics.warehouse import connect
from tests.dashboard.conftest import fill_warehouse, query

#: Added to the dashboard warehouse: with its P9001/P9003 pair, three pairs decided review wait,
#: best score first: P9001-P9003, Q1-Q2 (the twins), Q3-Q4. Before them (score ≈ 1) waits the
#: warehouse's DUPONT/DUPOND pair P9001-P9002, decided match but not eligible for automatic merge
#: (RNIV: birth-name typo, no birth place): the queue's row 0.
EXTRA = [
    ("Q1", "BERNARD", "HENRIETTE", dt.date(1931, 2, 3), "F", "12 RUE DU PORT", "0611111111"),
    ("Q2", "BERNARD", "MARGOT", dt.date(1931, 2, 3), "F", "12 RUE DU PORT", "0611111111"),
    ("Q3", "LAMBERT", "HUGO", dt.date(2001, 8, 4), "M", "1 RUE A", "0622222222"),
    ("Q4", "LAMBERT", "HUGO", dt.date(2001, 4, 8), "M", "9 RUE B", "0633333333"),
]
QUEUE = [("P9001", "P9003"), ("Q1", "Q2"), ("Q3", "Q4")]
SCORES = [0.79, 0.59, 0.29]


@pytest.fixture
def three_pairs(tmp_path):
    """The dashboard warehouse with three pairs waiting for review, scores set by hand (the
    scenario is about the page, not about how the engine scores these pairs)."""
    db = tmp_path / "hygie.duckdb"
    fill_warehouse(db)
    con = connect(db)
    try:
        con.executemany(
            "INSERT INTO patients (patient_id, birth_name, first_names, birth_date, sex, address, phone, "
            "identity_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'PROV', now())", EXTRA)
        run = con.execute("SELECT match_run_id FROM match_runs").fetchone()[0]
        con.execute("DELETE FROM match_pairs WHERE decision = 'review'")
        con.executemany(
            "INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision) "
            "VALUES (?, ?, ?, ?, 0.0, 'review')", [(run, a, b, score) for (a, b), score in zip(QUEUE, SCORES, strict=True)])
    finally:
        con.close()
    return db


def _reviews(db) -> list[tuple]:
    return query(db, "SELECT patient_id_1, patient_id_2, decision, reviewer FROM pair_reviews ORDER BY decided_at")


def _button(at, decision: str):
    found = [b for b in at.button if re.fullmatch(rf"dup_{decision}(_[^_]+_[^_]+)?", b.key or "")]
    assert len(found) == 1, [b.key for b in at.button]
    return found[0]


def _select(at, rows: list[int]) -> None:
    """Select queue rows as a click in the table does (its selection state), then rerun."""
    table = next(d for d in at.dataframe if (d.key or "").startswith("dup_table"))
    at.session_state[table.key] = {"selection": {"rows": rows, "columns": [], "cells": []}}
    at.run()
    assert not at.error, [e.value for e in at.error]


def _shown(at) -> str:
    return at.subheader[0].value


def _open(app, db, role="manager", name=None):
    at = app(db, role)
    if name:
        at.session_state["hygie_actor"] = Actor(name, role)
    at.run()
    at.switch_page("views/duplicates.py").run()
    assert not at.error, [e.value for e in at.error]
    return at


def test_the_buttons_decide_only_the_displayed_pair(app, three_pairs):
    at = _open(app, three_pairs)
    _select(at, [1, 2])  # two rows selected: the comparison shows the first
    assert _shown(at) == "Comparaison : P9001 ↔ P9003"
    _button(at, "same").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _reviews(three_pairs) == [("P9001", "P9003", "same", "test-manager")]  # not the twins


def test_after_a_decision_the_next_pair_is_shown_and_no_selection_moves_onto_it(app, three_pairs):
    at = _open(app, three_pairs)
    _select(at, [2])
    assert _shown(at) == "Comparaison : Q1 ↔ Q2"
    _button(at, "not_same").click().run()
    assert not at.error, [e.value for e in at.error]
    # the rows moved up; the selection made on the old rows is gone, not moved to Q3-Q4
    assert _shown(at) == "Comparaison : P9001 ↔ P9002"
    assert not [b for b in at.button if (b.key or "").startswith("dup_bulk_apply")]
    _button(at, "same").click().run()
    assert _reviews(three_pairs) == [("Q1", "Q2", "not_same", "test-manager"),
                                     ("P9001", "P9002", "same", "test-manager")]


def test_several_pairs_are_decided_only_once_confirmed_with_their_count(app, three_pairs):
    at = _open(app, three_pairs)
    _select(at, [1, 2, 3])
    assert "**3 paires sélectionnées**" in " ".join(m.value for m in at.markdown)
    listed = next(d.value for d in at.dataframe if "IPP 1" in d.value.columns)
    assert list(listed["IPP 1"]) == ["P9001", "Q1", "Q3"]  # every pair the decision will touch is shown
    apply = next(b for b in at.button if (b.key or "").startswith("dup_bulk_apply"))
    assert apply.label == "Appliquer aux 3 paires" and apply.disabled
    next(r for r in at.radio if (r.key or "").startswith("dup_bulk_decision")).set_value("not_same").run()
    confirm = next(c for c in at.checkbox if (c.key or "").startswith("dup_bulk_confirm"))
    assert confirm.label == "Je confirme : « personnes différentes » pour ces 3 paires."
    confirm.check().run()
    next(b for b in at.button if (b.key or "").startswith("dup_bulk_apply")).click().run()
    assert not at.error, [e.value for e in at.error]
    assert sorted(_reviews(three_pairs)) == [(a, b, "not_same", "test-manager") for a, b in QUEUE]


def test_four_eyes_same_person_needs_a_second_account(app, three_pairs):
    con = connect(three_pairs)
    try:
        con.execute("INSERT INTO settings VALUES ('review.four_eyes', 'on', now(), 'admin')")
    finally:
        con.close()
    first = _open(app, three_pairs, name="alice")
    _button(first, "same").click().run()
    assert _reviews(three_pairs) == [("P9001", "P9002", "same_pending", "alice")]
    assert _shown(first) == "Comparaison : P9001 ↔ P9003"  # alice cannot confirm her own opinion: gone from her queue
    assert first.metric[0].value == "3"
    second = _open(app, three_pairs, name="bruno")
    assert _shown(second) == "Comparaison : P9001 ↔ P9002"
    assert "alice a jugé qu'il s'agit de la même personne" in second.info[0].value
    _button(second, "same").click().run()
    assert _reviews(three_pairs)[-1] == ("P9001", "P9002", "same", "bruno")
    assert second.metric[0].value == "3"  # settled: out of the queue
