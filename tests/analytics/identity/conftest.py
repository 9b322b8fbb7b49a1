"""Fixtures: warehouses with hand-written identities (each duplicate kind, each hard negative)."""

from __future__ import annotations

import datetime as dt
import random

import pandas as pd
import pytest

from analytics.access.roles import Actor

COLUMNS = ("patient_id", "birth_name", "used_name", "first_names", "used_first_name", "birth_date", "sex",
           "birth_place_code", "ins", "identity_status", "address", "postcode", "city", "phone", "email")

MANAGER = Actor("marie.curie", "manager")
ANALYST = Actor("ada.analyst", "analyst")
VIEWER = Actor("victor.viewer", "viewer")


def insert_patients(con, rows: list[dict]) -> None:
    frame = pd.DataFrame([{c: r.get(c) for c in COLUMNS} for r in rows], columns=list(COLUMNS))
    frame["birth_date"] = pd.to_datetime(frame["birth_date"], format="%d/%m/%Y").dt.date
    con.register("_rows", frame)
    con.execute("INSERT INTO patients BY NAME SELECT * FROM _rows")
    con.unregister("_rows")


def person(pid: str, **kw) -> dict:
    base = {"patient_id": pid, "birth_name": "DURAND", "first_names": "Camille", "birth_date": "14/03/1975",
            "sex": "F", "birth_place_code": "35238", "identity_status": "PROV",
            "address": "12 RUE DES LILAS", "postcode": "35000", "city": "RENNES", "phone": "0612345678"}
    base.update(kw)
    return base


#: (description, record A, record B, same person?)
CASES: list[tuple[str, dict, dict, bool]] = [
    ("typo in the birth name",
     dict(birth_name="Lefebvre", first_names="Pierre Louis", birth_date="02/06/1961", sex="M"),
     dict(birth_name="Lefebrve", first_names="Pierre Louis", birth_date="02/06/1961", sex="M"), True),
    ("accents lost and upper case",
     dict(birth_name="Hélène-Bérard", first_names="Élodie", birth_date="21/09/1988"),
     dict(birth_name="HELENE BERARD", first_names="ELODIE", birth_date="21/09/1988"), True),
    ("apostrophe and particle",
     dict(birth_name="D'Artagnan", first_names="Charles", birth_date="11/11/1950", sex="M"),
     dict(birth_name="DARTAGNAN", first_names="Charles", birth_date="11/11/1950", sex="M"), True),
    ("particle moved to the end",
     dict(birth_name="de la Fontaine", first_names="Jeanne", birth_date="08/07/1942"),
     dict(birth_name="FONTAINE (DE LA)", first_names="Jeanne", birth_date="08/07/1942"), True),
    ("birth and usage names swapped",
     dict(birth_name="Moreau", used_name="Girard", first_names="Sophie", birth_date="30/01/1970"),
     dict(birth_name="Girard", used_name="Moreau", first_names="Sophie", birth_date="30/01/1970"), True),
    ("épouse written in the birth-name field",
     dict(birth_name="Roux", used_name="Fournier", first_names="Anne Marie", birth_date="05/05/1955"),
     dict(birth_name="ROUX ép. FOURNIER", used_name=None, first_names="Anne Marie", birth_date="05/05/1955"), True),
    ("née written in the usage-name field",
     dict(birth_name="Blanc", used_name="Garnier", first_names="Lucie", birth_date="17/02/1966"),
     dict(birth_name=None, used_name="GARNIER née BLANC", first_names="Lucie", birth_date="17/02/1966"), True),
    ("first names reordered",
     dict(birth_name="Chevalier", first_names="Jean Paul", birth_date="09/10/1948", sex="M"),
     dict(birth_name="Chevalier", first_names="Paul Jean", birth_date="09/10/1948", sex="M"), True),
    ("only the first of several first names",
     dict(birth_name="Mercier", first_names="Louise Marie Thérèse", birth_date="23/12/1935"),
     dict(birth_name="Mercier", first_names="Louise", birth_date="23/12/1935"), True),
    ("day and month swapped",
     dict(birth_name="Lambert", first_names="Hugo", birth_date="04/08/2001", sex="M"),
     dict(birth_name="Lambert", first_names="Hugo", birth_date="08/04/2001", sex="M"), True),
    ("01/01 default date",
     dict(birth_name="Bonnet", first_names="Nathalie", birth_date="19/06/1979"),
     dict(birth_name="Bonnet", first_names="Nathalie", birth_date="01/01/1979"), True),
    ("INS missing on the second record, phone in another format",
     dict(birth_name="Faure", first_names="Didier", birth_date="13/04/1958", sex="M",
          ins="158043523812345", identity_status="QUAL"),
     dict(birth_name="Faure", first_names="Didier", birth_date="13/04/1958", sex="M", phone="+33 6 12 34 56 78"), True),
    ("twins: same name, date and home, other first name and sex",
     dict(birth_name="Rousseau", first_names="Léa", birth_date="03/03/2010", sex="F"),
     dict(birth_name="Rousseau", first_names="Thomas", birth_date="03/03/2010", sex="M"), False),
    ("twins of the same sex",
     dict(birth_name="Vincent", first_names="Emma", birth_date="27/08/2012"),
     dict(birth_name="Vincent", first_names="Chloé", birth_date="27/08/2012"), False),
    ("twins at one home: used first name of one = first name of the other, two qualified INS",
     dict(birth_name="Thomas", first_names="Gabrielle Alice", used_first_name="Alice", birth_date="26/07/1989",
          sex="F", ins="289074900769123", identity_status="QUAL"),
     dict(birth_name="Thomas", first_names="Alice", birth_date="26/07/1989", sex="F",
          ins="289074900769222", identity_status="QUAL"), False),
    ("namesakes born the same year elsewhere",
     dict(birth_name="Martin", first_names="Jean", birth_date="12/05/1960", sex="M", birth_place_code="75056",
          address="3 AVENUE FOCH", postcode="75016", phone="0145000000"),
     dict(birth_name="Martin", first_names="Jean", birth_date="13/05/1960", sex="M", birth_place_code="13055",
          address="9 RUE PARADIS", postcode="13001", phone="0491000000"), False),
    ("household: husband and wife using his name",
     dict(birth_name="Perrin", first_names="Marc", birth_date="15/01/1965", sex="M", birth_place_code="69123"),
     dict(birth_name="Dumas", used_name="Perrin", first_names="Claire", birth_date="22/11/1967", sex="F",
          birth_place_code="44109"), False),
    ("household: father and son",
     dict(birth_name="Robin", first_names="Alain", birth_date="01/02/1970", sex="M"),
     dict(birth_name="Robin", first_names="Kevin", birth_date="14/09/1999", sex="M"), False),
]


def _filler(rnd: random.Random, i: int) -> dict:
    """Unrelated people so that u-probabilities and term frequencies have something to measure."""
    names = ["GARCIA", "NGUYEN", "BERNARD", "PETIT", "DUBOIS", "LEROY", "SIMON", "LAURENT", "MICHEL",
             "LEFEVRE", "FRANCOIS", "MOREL", "FOURNIER", "GIRAUD", "ANDRE", "MARCHAND", "DUFOUR", "BLANCHARD"]
    firsts = ["ALICE", "BRUNO", "CELINE", "DAVID", "EMILIE", "FABIEN", "GAEL", "HELOISE", "IRIS", "JULIEN",
              "KARINE", "LOIC", "MANON", "NOE", "OCEANE", "PAUL", "QUENTIN", "ROSE", "SAMUEL", "THEO"]
    day = dt.date(1930, 1, 1) + dt.timedelta(days=rnd.randrange(30000))
    return {"patient_id": f"F{i:05d}", "birth_name": rnd.choice(names), "first_names": rnd.choice(firsts),
            "birth_date": day.strftime("%d/%m/%Y"), "sex": rnd.choice("MF"),
            "birth_place_code": f"{rnd.randrange(1, 95):02d}{rnd.randrange(1000):03d}",
            "identity_status": "PROV", "address": f"{rnd.randrange(1, 200)} RUE {rnd.choice(names)}",
            "postcode": f"{rnd.randrange(1, 95):02d}000", "phone": f"06{rnd.randrange(10**8):08d}"}


def case_rows() -> list[dict]:
    rows = []
    for k, (_desc, a, b, _same) in enumerate(CASES):
        rows.append(person(f"C{k:02d}A", **a))
        rows.append(person(f"C{k:02d}B", **b))
    # Each case lives in its own home, except where the case is about a shared home.
    for k, (desc, _a, _b, _same) in enumerate(CASES):
        for row in rows[2 * k: 2 * k + 2]:
            if "home" not in desc and "household" not in desc and "namesakes" not in desc:
                row["address"] = f"{k + 1} PLACE DU CAS"
                row["phone"] = f"07{k:08d}" if row["phone"] == "0612345678" else row["phone"]
            elif "namesakes" not in desc:
                row["address"] = f"{k + 1} CHEMIN DU FOYER"
                row["phone"] = f"02{k:08d}"
    return rows


@pytest.fixture
def cases_con(con):
    """A warehouse with the CASES pairs and 400 unrelated people, matched once."""
    rnd = random.Random(42)
    insert_patients(con, case_rows() + [_filler(rnd, i) for i in range(400)])
    return con
