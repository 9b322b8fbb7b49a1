"""Blocking: the block-size cap keeps pairs linear, small blocks give every pair, a date error
does not lose a duplicate, and the recall ceiling is measured per rule and overall."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from analytics.identity import blocking
from analytics.identity.normalise import build_index
from analytics.warehouse import connect
from tests.analytics.identity.conftest import insert_patients, person

_DATE_RULES = {r.name for r in blocking.RULES if any("birth_date" in k for k in r.keys)}


def _index(rows: list[dict]):
    con = connect(":memory:")
    insert_patients(con, rows)
    build_index(con)
    return con


def _pairs(con) -> set[tuple[str, str]]:
    return {tuple(sorted(p)) for p in con.execute("""
        SELECT a.patient_id, b.patient_id FROM _hy_pairs JOIN identity_index a ON a.rid = r1
        JOIN identity_index b ON b.rid = r2""").fetchall()}


def _rules_of(con, a: str, b: str) -> set[str]:
    return {r for (r,) in con.execute("""
        SELECT rule FROM _hy_rule_pairs p JOIN identity_index x ON x.rid = p.r1 JOIN identity_index y ON y.rid = p.r2
        WHERE (x.patient_id, y.patient_id) IN ((?, ?), (?, ?))""", [a, b, b, a]).fetchall()}


def _namesakes(n: int, seed: int = 3) -> list[dict]:
    """``n`` different people called MARTIN JEAN, spread over dates and postcodes."""
    rnd = random.Random(seed)
    start = dt.date(1930, 1, 1).toordinal()
    return [person(f"N{i:04d}", birth_name="Martin", first_names="Jean", sex="M", birth_place_code=None,
                   birth_date=dt.date.fromordinal(start + rnd.randrange(30_000)).strftime("%d/%m/%Y"),
                   postcode=f"{rnd.randrange(10_000, 99_000)}", address=f"{i} RUE {i}", phone=None)
            for i in range(n)]


def test_a_block_under_the_cap_gives_every_pair():
    con = _index(_namesakes(6))
    report = blocking.candidate_pairs(con, max_block=50)
    assert len(_pairs(con)) == 6 * 5 // 2  # the names-only rule holds all six
    rule = next(r for r in report["rules"] if r["rule"] == "names_any_order")
    assert rule["max_block"] >= 6 and rule["capped_blocks"] == 0 and rule["pairs"] == 15


@pytest.mark.parametrize("window", [2, 5])
def test_a_large_block_is_capped_and_its_pairs_grow_linearly(window):
    counts = {}
    for n in (400, 1600):
        con = _index(_namesakes(n))
        report = blocking.candidate_pairs(con, max_block=10, window=window)
        rule = next(r for r in report["rules"] if r["rule"] == "names_any_order")
        assert rule["window"] == min(window, 2)  # looser keys get a narrower window
        window = rule["window"]
        assert rule["capped_blocks"] == 1 and rule["capped_blocks_identities"] == n
        # sorted neighbourhood: each identity meets its `window` next neighbours, no more
        assert rule["pairs"] == sum(min(window, n - 1 - i) for i in range(n))
        for r in report["rules"]:  # per identity: a block under the cap, or a window
            assert r["pairs"] <= n * (10 - 1) / 2 + n * window * 2, r
        counts[n] = report["candidate_pairs"]
        con.close()
    # all the pairs of the same-name block would grow 16x; here the per-identity bound holds and
    # the smaller blocks (name + initial + year) reach the cap on the way: 4x-5x
    assert counts[1600] <= 6 * counts[400]
    assert counts[1600] < 1600 * 1599 // 2 / 50


def test_block_parameters_are_checked():
    con = _index(_namesakes(3))
    with pytest.raises(ValueError, match="max_block"):
        blocking.candidate_pairs(con, max_block=1)


_DATE_ERRORS = [
    ("day and month swapped", "03/11/1975"),
    ("one digit wrong", "11/03/1976"),
    ("year off by one", "11/03/1974"),
    ("day and month swapped, year off by one", "03/11/1974"),
]


@pytest.mark.parametrize("description,other_date", _DATE_ERRORS)
def test_a_date_error_still_meets_its_duplicate(description, other_date):
    rnd = random.Random(5)
    fillers = _namesakes(30, seed=9)
    for f in fillers:
        f["birth_name"] = rnd.choice(["Bernard", "Petit", "Robert", "Richard", "Durand"])
    a = person("A", birth_name="Lefebvre", first_names="Camille", birth_date="11/03/1975", postcode="35000")
    b = dict(a, patient_id="B", birth_date=other_date)
    con = _index([a, b, *fillers])
    blocking.candidate_pairs(con)
    assert ("A", "B") in _pairs(con), description
    assert _rules_of(con, "A", "B") - _DATE_RULES, "met only through birth-date rules"


def test_a_missing_date_still_meets_its_duplicate():
    a = person("A", birth_name="Lefebvre", first_names="Camille", birth_date="11/03/1975")
    b = dict(a, patient_id="B", birth_date=None)
    con = connect(":memory:")
    frame = pd.DataFrame([a, b])
    frame["birth_date"] = pd.to_datetime(frame["birth_date"], format="%d/%m/%Y").dt.date
    con.register("_rows", frame)
    con.execute("INSERT INTO patients BY NAME SELECT * FROM _rows")
    build_index(con)
    blocking.candidate_pairs(con)
    assert _pairs(con) == {("A", "B")}
    assert _rules_of(con, "A", "B") >= {"names_any_order", "phonetic_postcode", "first_postcode"}


def test_first_and_last_names_swapped_meet():
    a = person("A", birth_name="Camille", first_names="Lefebvre", birth_date="11/03/1975")
    b = person("B", birth_name="Lefebvre", first_names="Camille", birth_date="11/03/1976")
    con = _index([a, b])
    blocking.candidate_pairs(con)
    assert "names_any_order" in _rules_of(con, "A", "B")


def test_recall_ceiling_per_rule_and_overall():
    a = person("A", birth_name="Lefebvre", first_names="Camille", birth_date="11/03/1975", postcode="35000")
    b = dict(a, patient_id="B", birth_date="11/03/1976")           # found: names, postcode...
    c = person("C", birth_name="Garnier", first_names="Lucie", birth_date="17/02/1966", postcode="75011")
    d = person("D", birth_name="Hoarau", first_names="Maeva", birth_date="02/09/1990", postcode="97400",
               address="3 CHEMIN DES LATANIERS", phone="0262000000")  # nothing shared with C: missed
    con = _index([a, b, c, d])
    blocking.candidate_pairs(con)
    truth = pd.DataFrame({"patient_id_1": ["A", "C"], "patient_id_2": ["B", "D"]})
    ceiling = blocking.recall_ceiling(con, truth)
    assert ceiling["(all rules)"] == 0.5
    assert ceiling["names_any_order"] == 0.5
    assert all(v <= ceiling["(all rules)"] for v in ceiling.values())
    assert "date_first3" not in ceiling  # the year differs: that rule found no true pair
