"""Normalisation of identity traits: table-driven cases."""

from __future__ import annotations

import pandas as pd
import phonenumbers
import pytest

from analytics.identity.normalise import build_index, normalise_phone
from analytics.identity.phonetic import soundex2
from analytics.warehouse import connect
from tests.analytics.identity.conftest import insert_patients, person

NAME_CASES = [
    # description, patient fields, expected index columns
    ("case and accents", dict(birth_name="Hélène", first_names="Élodie"),
     dict(bn="HELENE", bn_key="HELENE", fn1="ELODIE")),
    ("ligature", dict(birth_name="Cœurdevey", first_names="Zoé"), dict(bn="COEURDEVEY", fn1="ZOE")),
    ("apostrophe", dict(birth_name="D'Artagnan"), dict(bn="D ARTAGNAN", bn_key="DARTAGNAN", bn_np="ARTAGNAN")),
    ("typographic apostrophe", dict(birth_name="N’Diaye"), dict(bn_key="NDIAYE")),
    ("particles", dict(birth_name="de la Fontaine"), dict(bn_key="DELAFONTAINE", bn_np="FONTAINE")),
    ("particle moved to the end", dict(birth_name="FONTAINE (DE LA)"), dict(bn_np="FONTAINE")),
    ("hyphenated birth name", dict(birth_name="Martin-Dupont"), dict(bn="MARTIN DUPONT", bn_key="MARTINDUPONT")),
    ("épouse", dict(birth_name="Dupont épouse Martin", used_name=None), dict(bn="DUPONT", un="MARTIN")),
    ("ép.", dict(birth_name="DUPONT ép. MARTIN"), dict(bn="DUPONT", un="MARTIN")),
    ("EP", dict(birth_name="DUPONT EP MARTIN"), dict(bn="DUPONT", un="MARTIN")),
    ("veuve", dict(birth_name="Dupont veuve Martin"), dict(bn="DUPONT", un="MARTIN")),
    ("née in the usage field", dict(birth_name=None, used_name="Martin née Dupont"), dict(bn="DUPONT", un="MARTIN")),
    ("née with the usage name in the birth field", dict(birth_name="MARTIN", used_name="MARTIN NEE DUPONT"),
     dict(bn="DUPONT", un="MARTIN")),
    ("usage name equal to birth name is dropped", dict(birth_name="Roux", used_name="ROUX"), dict(un=None)),
    ("compound first name", dict(first_names="Jean-Pierre Paul"),
     dict(fn1="JEANPIERRE", fn_all="JEANPIERREPAUL", fn_list="JEANPIERRE PAUL")),
    ("compound first name typed with a space", dict(first_names="Jean Pierre"),
     dict(fn1="JEAN", fn_all="JEANPIERRE")),
    ("used first name", dict(first_names="Marie Thérèse", used_first_name="Maïté"), dict(ufn="MAITE")),
    ("01/01 default date", dict(birth_date="01/01/1950"), dict(bd_default=True)),
    ("ordinary date", dict(birth_date="02/01/1950"), dict(bd_default=False)),
    ("sex coded 2", dict(sex="2"), dict(sex="F")),
    ("RECUP makes the INS strong", dict(ins="2 85 05 35 238 123 45", identity_status="RECUP"),
     dict(ins="28505352381234 5".replace(" ", ""), ins_strong=True)),
    ("PROV INS is weak", dict(ins="285053523812345", identity_status="PROV"), dict(ins_strong=False)),
    ("phone with dots", dict(phone="06.12.34.56.78"), dict(phone="+33612345678")),
    ("phone in international form", dict(phone="+33 (0)6 12 34 56 78"), dict(phone="+33612345678")),
    ("foreign phone through phonenumbers", dict(phone="+44 20 7946 0958"), dict(phone="+442079460958")),
    ("not a phone", dict(phone="inconnu"), dict(phone=None)),
    ("address keeps numbers", dict(address="12, rue de la Paix"), dict(address="12 RUE DE LA PAIX")),
    ("phonetic keys", dict(birth_name="Dupond", first_names="Philippe"), dict(bn_sdx="DPN", fn_sdx="FLP")),
]


PHONES = ["06 12 34 56 78", "0612345678", "06.12.34.56.78", "+33 6 12 34 56 78", "0033612345678",
          "+33 (0)6 12 34 56 78", "02 99 28 42 42", "+44 20 7946 0958", "+1 202-555-0143"]


@pytest.fixture(scope="module")
def index():
    """One warehouse holding every case (one row each), indexed once."""
    con = connect(":memory:")
    rows = [person(f"N{i:02d}", **fields) for i, (_d, fields, _e) in enumerate(NAME_CASES)]
    rows += [person(f"T{i:02d}", phone=raw) for i, raw in enumerate(PHONES)]
    insert_patients(con, rows)
    build_index(con)
    frame = con.execute("SELECT * FROM identity_index").df().set_index("patient_id")
    con.close()
    return frame


@pytest.mark.parametrize(("i", "description", "fields", "expected"),
                         [(i, *c) for i, c in enumerate(NAME_CASES)], ids=[c[0] for c in NAME_CASES])
def test_normalisation(index, i, description, fields, expected):
    row = index.loc[f"N{i:02d}"].to_dict()
    got = {k: (None if row[k] is None or row[k] != row[k] else row[k]) for k in expected}
    assert got == expected, description


def test_originals_are_kept(con):  # a real warehouse file
    insert_patients(con, [person("P1", birth_name="Dupont épouse Martin")])
    build_index(con)
    assert con.execute("SELECT birth_name FROM patients").fetchone()[0] == "Dupont épouse Martin"


@pytest.mark.parametrize(("i", "raw"), list(enumerate(PHONES)), ids=PHONES)
def test_sql_fast_path_agrees_with_phonenumbers(index, i, raw):
    """The vectorised path gives what the phonenumbers library gives."""
    expected = phonenumbers.format_number(phonenumbers.parse(raw, "FR"), phonenumbers.PhoneNumberFormat.E164)
    assert index.loc[f"T{i:02d}", "phone"] == expected
    assert normalise_phone(raw) == expected


SOUNDEX_CASES = [
    ("same sound, d/t ending", "DUPONT", "DUPOND"),
    ("ph and f", "PHILIPPE", "FILIPE"),
    ("ph inside the name", "STEPHANE", "STEFANE"),
    ("silent h", "THOMAS", "TOMAS"),
    ("final e", "FAURE", "FAUR"),
    ("ay / aye", "NDIAYE", "NDIAY"),
    ("c / k", "CATHERINE", "KATHERINE"),
    ("gu / g", "GUILLAUME", "GUILAUME"),
]


@pytest.mark.parametrize(("description", "left", "right"), SOUNDEX_CASES, ids=[c[0] for c in SOUNDEX_CASES])
def test_soundex2_fr_groups_french_homophones(description, left, right):
    assert soundex2(left) == soundex2(right), description


@pytest.mark.parametrize(("name", "key"), [
    ("MARTIN", "MRTN"), ("DUPONT", "DPN"), ("HUGO", "AK"), ("GUILLAUME", "KLM"), ("SCHMITT", "SMT"),
    ("MACHIN", "MCHN"), ("BERNARD", "BRNR"),
])
def test_soundex2_fr_known_keys(name, key):
    assert soundex2(name) == key


def test_soundex2_is_not_english_soundex():
    # English Soundex codes PHILIPPE P414 and FILIPE F414: different; French keys agree.
    assert soundex2("PHILIPPE") == soundex2("FILIPE")
    assert soundex2("MARTIN") != soundex2("MARTEL")


def test_python_soundex2_equals_the_sql_macro():
    """Search computes the typed name's key in Python: it must be the index's SQL key."""
    from analytics.identity.phonetic import soundex2_py
    from sample_data import pools

    names = {n.upper() for n in pools.LAST_NAMES + pools.FIRST_NAMES_MALE + pools.FIRST_NAMES_FEMALE}
    con = connect(":memory:")
    from analytics.identity.normalise import clean_name_sql
    from analytics.identity.phonetic import install_macros

    install_macros(con)
    rows = con.execute(
        f"SELECT n, hy_soundex2(replace({clean_name_sql('n')}, ' ', '')) FROM unnest(?) t(n)", [sorted(names)]
    ).fetchall()
    con.close()
    differ = [(n, key) for n, key in rows if soundex2_py(n.replace(" ", "").replace("-", "").replace("'", "")
                                                           .translate(str.maketrans("ÉÈÊËÀÂÎÏÔÖÙÛÜÇ", "EEEEAAIIOOUUUC")))
              != key]
    assert len(names) > 100 and differ == []


def _sql_row(index_frame, pid: str) -> dict:
    row = index_frame.loc[pid].to_dict()
    return {k: (None if v is None or (isinstance(v, float) and v != v) or v is pd.NaT else v) for k, v in row.items()}


def _typed_at_the_desk(fields: dict) -> bool:
    """The identity desk types neither a used first name nor an INS status fetched from INSi
    (RECUP/QUAL): cases that need them have no typed query to compare and stay out of the list
    (they used to be collected and always skipped)."""
    base = person("Q", **fields)
    return not (base.get("used_first_name") or base.get("identity_status") in ("RECUP", "QUAL"))


DESK_CASES = [(i, c[0], c[1]) for i, c in enumerate(NAME_CASES) if _typed_at_the_desk(c[1])]


@pytest.mark.parametrize(("i", "description", "fields"), DESK_CASES, ids=[c[1] for c in DESK_CASES])
def test_python_query_normalisation_equals_sql(index, i, description, fields):
    """Search normalises the typed identity in Python: it must equal the index's SQL."""
    import datetime as dt

    from analytics.identity.normalise import normalise_query

    base = person("Q", **fields)
    date = dt.datetime.strptime(base["birth_date"], "%d/%m/%Y").date()
    q = normalise_query(birth_name=base.get("birth_name"), used_name=base.get("used_name"),
                        first_names=base.get("first_names"), birth_date=date, sex=base.get("sex"),
                        birth_place=base.get("birth_place_code"), ins=base.get("ins"), phone=base.get("phone"),
                        email=base.get("email"), postcode=base.get("postcode"))
    sql = _sql_row(index, f"N{i:02d}")
    compared = ["bn", "bn_key", "bn_np", "un", "un_key", "un_np", "fn_list", "fn1", "fn_all", "bn_sdx", "un_sdx",
                "fn_sdx", "bd_default", "sex", "birth_place", "ins", "phone", "email", "postcode"]
    assert {k: q[k] for k in compared} == {k: sql[k] for k in compared}, description


def test_python_key_hashes_equal_sql(index):
    """The search index's portable keys (SQL) and the typed identity's keys (Python) agree."""
    from analytics.identity.blocking import _key_selects, python_key_hashes

    con = connect(":memory:")
    insert_patients(con, [person("K1", birth_name="Dupont épouse Martin", first_names="Jean-Pierre Paul",
                                 birth_date="04/08/2001", phone="06 12 34 56 78", email="a@b.fr")])
    build_index(con)
    union = " UNION ALL ".join(sql for _n, sql in _key_selects("identity_index", portable=True))
    sql_keys = {k for (k,) in con.execute(f"SELECT k FROM ({union})").fetchall()}
    row = con.execute("SELECT * FROM identity_index").df().iloc[0].to_dict()
    row["birth_date"] = row["birth_date"].date()
    row = {k: (None if v is None or (isinstance(v, float) and v != v) else v) for k, v in row.items()}
    con.close()
    assert len(sql_keys) >= 12 and set(python_key_hashes(row)) == sql_keys
