"""The duplicate rate of the patient index against the 1 % target, and its trend per run."""

from __future__ import annotations

import json
import random

import pandas as pd
import pytest

from analytics.access.roles import Actor, system_actor
from analytics.errors import AccessDenied
from analytics.identity import (
    DUPLICATE_RATE_TARGET,
    duplicate_rate,
    find_duplicates,
    match_new_patients,
)
from analytics.identity.run import surplus_records
from tests.analytics.identity.conftest import VIEWER, _filler, case_rows, insert_patients

SYSTEM = system_actor()


def _run(con, run_id: str, minutes_ago: int, patients: int, clusters: int, params: dict | None,
         reviews: int = 0, kind: str = "full") -> None:
    con.execute(
        "INSERT INTO match_runs (match_run_id, started_at, finished_at, kind, threshold_match, threshold_review, "
        "patients, candidate_pairs, matches, reviews, clusters, params) "
        "VALUES (?, now() - to_minutes(?), now(), ?, 0.9, 0.5, ?, 0, 0, ?, ?, ?)",
        [run_id, minutes_ago, kind, patients, reviews, clusters, json.dumps(params) if params is not None else None])


def _clusters(con, run_id: str, sizes: list[int]) -> None:
    rows = [(run_id, f"C{c}-{m}", f"C{c}-0") for c, size in enumerate(sizes) for m in range(size)]
    if rows:
        con.executemany("INSERT INTO match_clusters VALUES (?, ?, ?)", rows)


def test_no_run_yet(con):
    rate = duplicate_rate(con, VIEWER)
    assert (rate.rate, rate.numerator, rate.denominator, rate.meets_target, rate.match_run_id,
            rate.pending_reviews) == (None, None, None, None, None, 0)
    assert rate.target == DUPLICATE_RATE_TARGET == 0.01
    assert rate.trend.empty


def test_rate_parts_and_trend(con):
    _run(con, "old-unknown", 300, 1000, 12, None)                   # before runs stored their count
    _run(con, "old-empty", 200, 1, 0, None)                          # nothing to compare: exactly 0
    _run(con, "old", 100, 1000, 20, {"surplus_records": 30}, reviews=7)
    _run(con, "latest", 1, 400, 2, {"surplus_records": 999}, reviews=3)  # match_clusters is the truth
    _clusters(con, "latest", [3, 2])                                 # 5 records, 2 clusters: 3 surplus
    rate = duplicate_rate(con, VIEWER)
    assert (rate.numerator, rate.denominator, rate.match_run_id) == (3, 400, "latest")
    assert rate.rate == pytest.approx(0.0075)
    assert rate.meets_target is True
    trend = rate.trend
    assert trend["match_run_id"].tolist() == ["old-unknown", "old-empty", "old", "latest"]
    assert trend["surplus_records"].astype("Float64").tolist() == [pd.NA, 0, 30, 3]
    assert trend["rate"].tolist()[1:] == pytest.approx([0.0, 0.03, 0.0075])
    assert pd.isna(trend["rate"].iloc[0])
    assert trend["reviews"].tolist() == [0, 0, 7, 3]


@pytest.mark.parametrize(("description", "patients", "sizes", "meets"), [
    ("exactly at the target", 300, [4], True),           # 3 / 300 = 1 %
    ("just above the target", 299, [4], False),
    ("no cluster at all", 50, [], True),
])
def test_target(con, description, patients, sizes, meets):
    _run(con, "r", 1, patients, len(sizes), None)
    _clusters(con, "r", sizes)
    assert duplicate_rate(con, VIEWER).meets_target is meets, description


def test_pending_reviews_leave_once_settled(con):
    _run(con, "r", 1, 10, 0, None)
    con.executemany(
        "INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision, "
        "auto_merge) VALUES ('r', ?, ?, 0.7, 0.0, ?, ?)",
        [("A", "B", "review", False), ("A", "C", "review", False), ("B", "C", "review", False),
         ("C", "D", "match", True)])  # C-D: a clean match, merged without a reviewer
    con.executemany("INSERT INTO pair_reviews VALUES (?, ?, ?, 'x', now() - to_minutes(?), NULL)",
                    [("A", "B", "not_same", 5), ("A", "C", "same", 5), ("A", "C", "unsure", 1)])
    assert duplicate_rate(con, VIEWER).pending_reviews == 2  # A-C's latest word is unsure


def test_a_match_that_may_not_be_merged_automatically_is_pending(con):
    """RNIV: a ``match`` whose automatic merge is forbidden waits for a reviewer (issue 11); a
    reviewer's "same person" (rule ``reviewed same``) or "not the same" settles it."""
    _run(con, "r", 1, 10, 0, None)
    con.executemany(
        "INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision, rule, "
        "auto_merge) VALUES ('r', ?, ?, 0.97, 9.0, 'match', ?, ?)",
        [("A", "B", None, False), ("A", "C", None, None), ("B", "C", None, True), ("C", "D", "reviewed same", False),
         ("D", "E", None, False)])
    assert duplicate_rate(con, VIEWER).pending_reviews == 3  # A-B, A-C (no auto_merge recorded), D-E
    con.execute("INSERT INTO pair_reviews VALUES ('D', 'E', 'not_same', 'x', now(), NULL)")
    assert duplicate_rate(con, VIEWER).pending_reviews == 2
    con.execute("INSERT INTO pair_reviews VALUES ('A', 'B', 'same_pending', 'x', now(), NULL)")  # four-eyes
    assert duplicate_rate(con, VIEWER).pending_reviews == 2


def test_runs_store_their_surplus(con):
    rnd = random.Random(3)
    rows = case_rows() + [_filler(rnd, i) for i in range(60)]
    insert_patients(con, [r for r in rows if not r["patient_id"].endswith("B")])
    find_duplicates(con, actor=SYSTEM)
    insert_patients(con, [r for r in rows if r["patient_id"].endswith("B")])
    match_new_patients(con, actor=SYSTEM)
    match_new_patients(con, actor=SYSTEM)  # a second incremental run reads the first one's params
    stored = [json.loads(p)["surplus_records"] for (p,) in con.execute(
        "SELECT params FROM match_runs ORDER BY started_at").fetchall()]
    live = con.execute("SELECT count(*) - count(DISTINCT cluster_id) FROM match_clusters").fetchone()[0]
    assert live > 0
    assert stored[-1] == live == duplicate_rate(con, VIEWER).numerator
    assert stored[0] < stored[-1]  # the B records arrived with the incremental run


@pytest.mark.parametrize(("labels", "expected"), [
    ([0, 1, 2], 0), ([0, 0, 2], 1), ([0, 0, 0, 3, 3], 3), ([], 0),
])
def test_surplus_records(labels, expected):
    import numpy as np

    assert surplus_records(np.asarray(labels, dtype=np.int64)) == expected


def test_every_role_may_read_the_rate_and_only_known_roles(con):
    for role in ("admin", "manager", "analyst", "viewer"):
        assert duplicate_rate(con, Actor(f"u-{role}", role)).target == 0.01
    with pytest.raises(AccessDenied):
        duplicate_rate(con, Actor("x", "intruder"))


def test_a_merge_lowers_the_latest_rate_without_a_new_detection(con):
    """Records merged away since the run are neither surplus nor records of the index."""
    _run(con, "latest", 1, 400, 2, {"surplus_records": 3})
    _clusters(con, "latest", [3, 2])                                 # 3 surplus records
    con.executemany("INSERT INTO patients (patient_id, active, merged_into) VALUES (?, ?, ?)",
                    [("C0-0", True, None), ("C0-1", False, "C0-0"), ("C0-2", False, "C0-0"),
                     ("C1-0", True, None), ("C1-1", True, None)])
    rate = duplicate_rate(con, VIEWER)
    assert (rate.numerator, rate.denominator) == (1, 398)           # C1 is still a duplicate pair
    assert rate.rate == pytest.approx(1 / 398)
    assert rate.trend["surplus_records"].tolist() == [1]
