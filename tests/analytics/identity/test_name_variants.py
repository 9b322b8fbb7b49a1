"""Names beyond French spelling: swapped names, nicknames, initials — levels of their own, and an
initial never lets twins through."""

from __future__ import annotations

import random

import numpy as np
import pytest

from analytics.access.roles import system_actor
from analytics.identity import find_duplicates, name_variants
from analytics.warehouse import connect
from tests.analytics.identity.conftest import _filler, insert_patients, person


def _strings(*values: str) -> np.ndarray:
    return np.asarray(values, dtype=object)


def test_nickname_pairs_come_from_the_package():
    pairs = name_variants.nickname_pairs()
    assert ("WILLIAM", "BILL") in pairs and ("BILL", "WILLIAM") in pairs
    assert ("ALEXANDER", "SANDY") in pairs
    assert ("WILLIAM", "WILLIAM") not in pairs
    assert ("LEA", "LENA") not in pairs  # two names, not a diminutive


def test_variant_functions():
    left, right = _strings("WILLIAM", "J", "JOHN", "PAUL"), _strings("BILL", "JOHN", "J", "PIERRE")
    mask = np.ones(4, dtype=bool)
    assert name_variants.nickname(left, right, mask).tolist() == [True, False, False, False]
    assert name_variants.initial(left, right, mask).tolist() == [False, True, True, False]
    assert not name_variants.initial(left, right, np.zeros(4, dtype=bool)).any()
    bn, fn = _strings("SMITH", "JON", "MARTIN", "DURAND"), _strings("JOHN", "SMITHE", "PAUL", "MARTIN")
    a, b = np.array([0, 2]), np.array([1, 3])
    # SMITH JOHN / JON SMITHE: swapped with typos; MARTIN PAUL / DURAND MARTIN: only one way
    assert name_variants.swapped(bn, fn, a, b, np.ones(2, dtype=bool)).tolist() == [True, False]


_PAIRS = [
    ("names swapped", dict(birth_name="Smith", first_names="John"), dict(birth_name="John", first_names="Smith"),
     ("swapped", "swapped")),
    ("nickname", dict(birth_name="Walker", first_names="William"), dict(birth_name="Walker", first_names="Bill"),
     ("exact", "nickname")),
    ("initial", dict(birth_name="Ortega", first_names="Julia"), dict(birth_name="Ortega", first_names="J"),
     ("exact", "initial")),
]


@pytest.fixture(scope="module")
def matched():
    con = connect(":memory:")
    rnd = random.Random(11)
    rows = [_filler(rnd, i) for i in range(300)]
    for k, (_d, a, b, _levels) in enumerate(_PAIRS):
        common = dict(birth_date=f"1{k}/04/1961", address=f"{k} ROAD {k}", postcode="44000", phone=None, sex=None)
        rows += [person(f"V{k}A", **common, **a), person(f"V{k}B", **common, **b)]
    # Twins in one home, one recorded by the initial of her first name only.
    home = dict(birth_name="Ortega", birth_date="02/02/1999", address="9 ROAD NINE", postcode="44000",
                phone="0611111111", sex="F")
    rows += [person("TW1", first_names="Jade", **home), person("TW2", first_names="J", **home),
             person("TW3", first_names="Julia", **home)]
    insert_patients(con, rows)
    find_duplicates(con, actor=system_actor())
    yield con
    con.close()


def _pair(con, a: str, b: str):
    return con.execute("SELECT birth_name, first_name, decision, rule FROM match_pairs "
                       "WHERE patient_id_1 = ? AND patient_id_2 = ?", sorted([a, b])).fetchone()


@pytest.mark.parametrize("k", range(len(_PAIRS)))
def test_levels_of_their_own(matched, k):
    description, _a, _b, levels = _PAIRS[k]
    row = _pair(matched, f"V{k}A", f"V{k}B")
    assert row is not None, f"{description}: not a candidate pair"
    assert (row[0], row[1]) == levels, description
    assert row[2] in ("match", "review"), description


def test_an_initial_does_not_let_twins_through(matched):
    for other in ("TW1", "TW3"):
        _bn, first, decision, rule = _pair(matched, other, "TW2")
        assert first == "initial"
        assert (decision, rule) == ("review", "twins"), other
