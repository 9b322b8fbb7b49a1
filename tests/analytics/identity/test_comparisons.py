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
    ("first names reordered", {"first_names": "JEAN PAUL"}, {"first_names": "PAUL JEAN"},
     {"first_name": "reordered"}),
    ("only the first first name", {"first_names": "LOUISE MARIE"}, {"first_names": "LOUISE"},
     {"first_name": "exact"}),
    ("second first name only", {"first_names": "JEAN PAUL"}, {"first_names": "PAUL"}, {"first_name": "partial"}),
    ("masculine / feminine", {"first_names": "LOUIS"}, {"first_names": "LOUISE"}, {"first_name": "gendered"}),
    ("JEAN / JEANNE", {"first_names": "JEAN"}, {"first_names": "JEANNE"}, {"first_name": "gendered"}),
    ("different first names", {"first_names": "EMMA"}, {"first_names": "CHLOE"}, {"first_name": "far"}),
    # Only formatting differences are exact (identity-safety issue, item 2).
    ("accents, case, hyphen", {"birth_name": "Hélène-Bérard"}, {"birth_name": "HELENE BERARD"},
     {"birth_name": "exact"}),
    ("apostrophe glued", {"birth_name": "D'Artagnan"}, {"birth_name": "DARTAGNAN"}, {"birth_name": "exact"}),
    ("particle glued", {"birth_name": "DE LA FONTAINE"}, {"birth_name": "DELAFONTAINE"}, {"birth_name": "exact"}),
    ("épouse in the birth-name field", {"birth_name": "ROUX ép. FOURNIER"}, {"birth_name": "Roux"},
     {"birth_name": "exact"}),
    ("particle dropped: LE GALL / GALL", {"birth_name": "LE GALL"}, {"birth_name": "GALL"},
     {"birth_name": "particle"}),
    ("SAINT dropped", {"birth_name": "SAINT-MARTIN"}, {"birth_name": "MARTIN"}, {"birth_name": "particle"}),
    ("apostrophe particle dropped", {"birth_name": "D'ARTAGNAN"}, {"birth_name": "ARTAGNAN"},
     {"birth_name": "particle"}),
    ("particle moved to the end", {"birth_name": "de la Fontaine"}, {"birth_name": "FONTAINE (DE LA)"},
     {"birth_name": "inverted"}),
    ("compound name inverted", {"birth_name": "MARTIN-DUBOIS"}, {"birth_name": "DUBOIS MARTIN"},
     {"birth_name": "inverted"}),
    ("second surname dropped", {"birth_name": "MARTIN-DUBOIS"}, {"birth_name": "MARTIN"}, {"birth_name": "word"}),
    ("compound first name reduced", {"first_names": "Jean-Pierre"}, {"first_names": "JEAN"},
     {"first_name": "compound"}),
    ("compound first name, space for hyphen", {"first_names": "Jean-Pierre"}, {"first_names": "JEAN PIERRE"},
     {"first_name": "exact"}),
    ("two real first names one letter apart: LÉA / LÉNA", {"first_names": "Léa"}, {"first_names": "Léna"},
     {"first_name": "other_name"}),
    ("EMMA / EMMY", {"first_names": "Emma"}, {"first_names": "Emmy"}, {"first_name": "other_name"}),
    ("JADE / JAD: the feminine form", {"first_names": "Jade"}, {"first_names": "Jad"}, {"first_name": "gendered"}),
    ("typo of a first name: LÉA / LEAA", {"first_names": "Léa"}, {"first_names": "LEAA"}, {"first_name": "close"}),
    ("used first name of one = first name of the other", {"first_names": "GABRIELLE ALICE", "used_first_name": "ALICE"},
     {"first_names": "ALICE"}, {"first_name": "used"}),
    ("same first first name, lists differ after it", {"first_names": "Alain Aimé"}, {"first_names": "ALAIN GEORGES"},
     {"first_name": "first_only"}),
    ("one list the start of the other: only the first names given", {"first_names": "Louise Marie Thérèse"},
     {"first_names": "LOUISE MARIE"}, {"first_name": "exact"}),
    ("swap", {"birth_date": dt.date(2001, 8, 4)}, {"birth_date": dt.date(2001, 4, 8)}, {"birth_date": "swap"}),
    ("one-digit typo", {"birth_date": dt.date(1961, 6, 2)}, {"birth_date": dt.date(1961, 6, 3)},
     {"birth_date": "typo"}),
    ("adjacent digits transposed", {"birth_date": dt.date(1961, 6, 12)}, {"birth_date": dt.date(1961, 6, 21)},
     {"birth_date": "typo"}),
    ("01/01 default", {"birth_date": dt.date(1979, 6, 19)}, {"birth_date": dt.date(1979, 1, 1)},
     {"birth_date": "default"}),
    ("far date", {"birth_date": dt.date(1950, 2, 3)}, {"birth_date": dt.date(1988, 11, 27)}, {"birth_date": "far"}),
    ("same INS", {"ins": "185057512345678"}, {"ins": "185057512345678"}, {"ins": "exact"}),
    ("INS missing (the one INS agrees with the other's traits)", {"ins": "275033523812345"}, {},
     {"ins": "missing"}),
    ("one INS, its NIR contradicts the other's traits (1985-05 vs 1975-03)", {"ins": "185057512345678"}, {},
     {"ins": "traits_differ"}),
    ("one INS, the other's day and month swapped: not a contradiction", {"ins": "275033523812345"},
     {"birth_date": dt.date(1975, 3, 11)}, {"ins": "missing"}),
    ("one INS, NIR sex differs from the other's sex", {"ins": "175033523812345", "sex": "M"}, {"sex": "F"},
     {"ins": "traits_differ"}),
    ("phone formats", {"phone": "06 12 34 56 78"}, {"phone": "+33612345678"}, {"phone": "exact"}),
    ("sex differs", {"sex": "M"}, {"sex": "F"}, {"sex": "far"}),
    ("birth places in one département", {"birth_place": "35238"}, {"birth_place": "35051"},
     {"birth_place": "close"}),
]


@pytest.mark.parametrize(("description", "left", "right", "expected"), CASES, ids=[c[0] for c in CASES])
def test_levels(description, left, right, expected):
    got = _levels(left, right)
    assert {f: got[f] for f in expected} == expected, description


@pytest.mark.parametrize(("left", "right", "expected"), [
    (("1 NARRAN STREET", "2036"), ("1 NARRAN STREET", "2036"), "exact"),
    (("1 NARRAN STREET", "2036"), ("1 NARRANSTREET", "2036"), "close"),
    # the same street, the postcode mistyped (transposed digits, one digit) or absent on one side
    (("1 NARRAN STREET", "2036"), ("1 NARRAN STREET", "2306"), "street"),
    (("1 NARRANY STREET", "35000"), ("1 NARRAN STREET", "35001"), "street"),
    (("12 RUE DES LILAS", "35000"), ("12 RUE DE LILAS", None), "street"),
    (("12 RUE DES LILAS", "35000"), ("12 RUE DES LILAS", None), "exact"),
    # another town: two digits differ
    (("1 NARRAN STREET", "2036"), ("1 NARRAN STREET", "3136"), "far"),
    (("1 NARRAN STREET", "2036"), ("40 MINA WYLIE CRESCENT", "2036"), "postcode"),
    (("1 NARRAN STREET", "2036"), ("40 MINA WYLIE CRESCENT", "2306"), "far"),
], ids=["same", "spaces", "postcode transposed", "postcode digit", "postcode absent", "same text, postcode absent", "other town", "other street",
        "other street, postcode typo"])
def test_address_levels(left, right, expected):
    rows = []
    for k, (address, postcode) in enumerate((left, right)):
        row = normalise_query(birth_name="DURAND", first_names="CAMILLE", birth_date=dt.date(1975, 3, 14),
                              postcode=postcode)
        row.update(rid=k, patient_id=f"P{k}", address=address)
        rows.append(row)
    levels, _tf = compare(arrays_from_rows(rows), np.array([0]), np.array([1]))
    assert FIELDS["address"][int(levels["address"][0])] == expected
