"""Comparison levels, table-driven: each case is two typed identities and the expected levels."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from analytics.identity.comparisons import FIELDS, arrays_from_rows, compare
from analytics.identity.normalise import normalise_query


def _levels(left: dict, right: dict) -> dict[str, str]:
    rows = []
    for k, fields in enumerate((left, right)):
        base = {"birth_name": "DURAND", "first_names": "CAMILLE", "birth_date": dt.date(1975, 3, 14)} | fields
        row = normalise_query(**base)
        row.update(rid=k, patient_id=f"P{k}")
        rows.append(row)
    levels, _tf = compare(arrays_from_rows(rows), np.array([0]), np.array([1]))
    return {f: FIELDS[f][int(levels[f][0])] for f in FIELDS}


CASES = [
    # description, left, right, expected levels
    ("same identity", {}, {}, {"birth_name": "exact", "first_name": "exact", "birth_date": "exact"}),
    ("birth-name typo", {"birth_name": "LEFEBVRE"}, {"birth_name": "LEFEBRVE"}, {"birth_name": "close"}),
    ("phonetic birth name", {"birth_name": "DUPONT"}, {"birth_name": "DUPOND"}, {"birth_name": "close"}),
    ("birth name vs usage name", {"birth_name": "MOREAU", "used_name": "GIRARD"}, {"birth_name": "GIRARD"},
     {"birth_name": "cross"}),
    ("unrelated names", {"birth_name": "MARTIN"}, {"birth_name": "ZIMMERMANN"}, {"birth_name": "far"}),
    ("first-name typo", {"first_names": "JEAN"}, {"first_names": "JAEN"}, {"first_name": "close"}),
    ("first names reordered", {"first_names": "JEAN PAUL"}, {"first_names": "PAUL JEAN"}, {"first_name": "close"}),
    ("only the first first name", {"first_names": "LOUISE MARIE"}, {"first_names": "LOUISE"},
     {"first_name": "exact"}),
    ("second first name only", {"first_names": "JEAN PAUL"}, {"first_names": "PAUL"}, {"first_name": "partial"}),
    ("masculine / feminine", {"first_names": "LOUIS"}, {"first_names": "LOUISE"}, {"first_name": "gendered"}),
    ("JEAN / JEANNE", {"first_names": "JEAN"}, {"first_names": "JEANNE"}, {"first_name": "gendered"}),
    ("different first names", {"first_names": "EMMA"}, {"first_names": "CHLOE"}, {"first_name": "far"}),
    ("swap", {"birth_date": dt.date(2001, 8, 4)}, {"birth_date": dt.date(2001, 4, 8)}, {"birth_date": "swap"}),
    ("one-digit typo", {"birth_date": dt.date(1961, 6, 2)}, {"birth_date": dt.date(1961, 6, 3)},
     {"birth_date": "typo"}),
    ("adjacent digits transposed", {"birth_date": dt.date(1961, 6, 12)}, {"birth_date": dt.date(1961, 6, 21)},
     {"birth_date": "typo"}),
    ("01/01 default", {"birth_date": dt.date(1979, 6, 19)}, {"birth_date": dt.date(1979, 1, 1)},
     {"birth_date": "default"}),
    ("far date", {"birth_date": dt.date(1950, 2, 3)}, {"birth_date": dt.date(1988, 11, 27)}, {"birth_date": "far"}),
    ("same INS", {"ins": "185057512345678"}, {"ins": "185057512345678"}, {"ins": "exact"}),
    ("INS missing", {"ins": "185057512345678"}, {}, {"ins": "missing"}),
    ("phone formats", {"phone": "06 12 34 56 78"}, {"phone": "+33612345678"}, {"phone": "exact"}),
    ("sex differs", {"sex": "M"}, {"sex": "F"}, {"sex": "far"}),
    ("birth places in one département", {"birth_place": "35238"}, {"birth_place": "35051"},
     {"birth_place": "close"}),
]


@pytest.mark.parametrize(("description", "left", "right", "expected"), CASES, ids=[c[0] for c in CASES])
def test_levels(description, left, right, expected):
    got = _levels(left, right)
    assert {f: got[f] for f in expected} == expected, description
