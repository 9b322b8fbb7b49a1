"""Search before create with what an admission agent has, on records with missing traits.

The warehouse is imported from a CSV by the real importer: records without a birth place, a
sex, first names or a birth date (the crash of issue 11: ``'float' object is not subscriptable``
as soon as one patient had no birth place).
"""

from __future__ import annotations

import random

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.access.roles import system_actor
from analytics.cli import main
from analytics.errors import InvalidInput
from analytics.identity import find_duplicates, search_identities
from analytics.importing import import_file
from analytics.warehouse import connect
from tests.analytics.identity.conftest import MANAGER, _filler

SYSTEM = system_actor()
HEADER = ("patient_id;birth_name;used_name;first_names;birth_date;sex;birth_place_code;ins;identity_status;"
          "phone")
#: Hand-made records; empty fields are traits the hospital never recorded.
RECORDS = [
    "S1;DUPONT;;Jean Pierre;12/05/1970;M;;;PROV;",               # no birth place
    "S2;DUPONT;;Jeanne;12/05/1970;F;75056;;PROV;",               # his twin sister
    "S3;DUPUIS;;Marc;12/05/1970;M;69123;;PROV;",                 # same date, same first letters
    "S4;MARTIN;;Claire;03/09/1983;F;;;PROV;",                    # no birth place
    "S5;LEROUX;MARTIN;Sophie;04/11/1983;;;;PROV;",               # no sex, no birth place
    "S6;BERNARD;;;21/06/1990;M;35238;;PROV;",                    # no first names
    "S7;ROCHE;;Hugo;;M;;;PROV;",                                 # no birth date
    "S8;FAURE;;Didier;13/04/1958;M;35238;158043523812322;QUAL;0612345678",
]


def _csv(tmp_path, rows: list[str]):
    rnd = random.Random(7)
    filler = [_filler(rnd, i) for i in range(150)]
    lines = [HEADER, *rows] + [
        ";".join([f["patient_id"], f["birth_name"], "", f["first_names"], f["birth_date"], f["sex"],
                  f["birth_place_code"], "", "PROV", f["phone"]]) for f in filler]
    path = tmp_path / "patients.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    folder = tmp_path_factory.mktemp("desk")
    path = folder / "hygie.duckdb"
    con = connect(path)
    import_file(con, "patients", _csv(folder, RECORDS), actor=SYSTEM)
    find_duplicates(con, actor=SYSTEM)
    yield con, path
    con.close()


def test_a_patient_imported_without_birth_place_does_not_break_the_search(desk):
    con, _ = desk
    found = search_identities(con, MANAGER, birth_name="Dupont", first_names="Jean Pierre", birth_date="12/05/1970")
    assert found["patient_id"].iloc[0] == "S1"
    best = {e["field"]: e for e in found["explanation"].iloc[0]}
    assert best["birth_place"]["level"] == "missing" and best["birth_place"]["right"] is None
    assert best["birth_name"]["right"] == "DUPONT" and best["birth_date"]["right"] == "12/05/1970"


def test_the_cli_search_reads_a_patient_without_birth_place(desk):
    _, path = desk
    result = CliRunner().invoke(main, ["--db", str(path), "duplicates", "search", "--birth-name", "MARTIN",
                                       "--first-names", "Claire", "--birth-date", "03/09/1983"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split()[2] == "S4"
    assert "nan" not in result.output.lower()


ADMISSION = [
    # what the agent has, the identity it must find first, levels the explanation must say
    ("birth date + first 3 letters of the birth name", dict(birth_name="DUP", birth_date="12/05/1970"),
     {"S1", "S2", "S3"}, {"birth_name": "prefix", "birth_date": "exact"}),
    ("birth date + start of the birth name, with the first name", dict(birth_name="dupo", first_names="jeanne",
                                                                        birth_date="12/05/1970"),
     {"S2"}, {"birth_name": "prefix", "first_name": "exact"}),
    ("birth date + start of a used name", dict(birth_name="MART", birth_date="04/11/1983"), {"S5"},
     {"birth_name": "prefix"}),
    ("name + first name, no birth date", dict(birth_name="Roche", first_names="Hugo"), {"S7"},
     {"birth_name": "exact", "first_name": "exact", "birth_date": "missing"}),
    ("name + first name spelt by ear, no birth date", dict(birth_name="Rauche", first_names="Hugo"), {"S7"}, {}),
    ("INS alone", dict(ins="158043523812322"), {"S8"}, {"ins": "exact"}),
    ("birth date + start of the first name", dict(first_names="Jean", birth_date="12/05/1970"), {"S1", "S2"},
     {}),
    ("a record without first names", dict(birth_name="Bernard", birth_date="21/06/1990"), {"S6"},
     {"first_name": "missing"}),
]


@pytest.mark.parametrize(("description", "traits", "expected", "levels"), ADMISSION, ids=[c[0] for c in ADMISSION])
def test_search_with_what_the_admission_desk_has(desk, description, traits, expected, levels):
    con, _ = desk
    found = search_identities(con, MANAGER, **traits)
    assert not found.empty, description
    assert found["patient_id"].iloc[0] in expected, (description, found[["patient_id", "score"]])
    assert found["score"].is_monotonic_decreasing
    best = {e["field"]: e["level"] for e in found["explanation"].iloc[0]}
    assert {f: best[f] for f in levels} == levels, description


def test_a_prefix_weighs_as_a_missing_trait_not_as_a_disagreement(desk):
    con, _ = desk
    prefix = search_identities(con, MANAGER, birth_name="DUP", first_names="Jean Pierre", birth_date="12/05/1970")
    wrong = search_identities(con, MANAGER, birth_name="XYZ", first_names="Jean Pierre", birth_date="12/05/1970")
    p = prefix.set_index("patient_id").loc["S1"]
    weight = {e["field"]: e["weight"] for e in p["explanation"]}
    assert weight["birth_name"] == 0.0 or weight["birth_name"] > min(
        e["weight"] for e in wrong.set_index("patient_id").loc["S1", "explanation"] if e["field"] == "birth_name")


@pytest.mark.parametrize(("description", "traits"), [
    ("a name alone", dict(birth_name="Dupont")),
    ("first names alone", dict(first_names="Jean")),
    ("a birth date alone", dict(birth_date="12/05/1970")),
    ("a sex and a birth place", dict(sex="M", birth_place="75056")),
    ("nothing", {}),
])
def test_too_little_to_search_is_refused_with_what_would_be_enough(desk, description, traits):
    con, _ = desk
    with pytest.raises(InvalidInput) as err:
        search_identities(con, MANAGER, **traits)
    assert str(err.value) == ("search: give an INS, or a name and first names, or a birth date with the first "
                              "letters of a name or first name"), description


# ------------------------------------------------------------------ any trait empty
TEXT = st.one_of(st.none(), st.just(""), st.just("  "), st.sampled_from(["DUPONT", "dup", "Martin", "Lé", "O'NEIL",
                                                                          "DE LA", "-", "ÉPOUSE"]),
                 st.text(alphabet="abcdefghijklmnopqrstuvwxyzéèçàABC -'", max_size=12))
DATES = st.one_of(st.none(), st.just(""), st.sampled_from(["12/05/1970", "1970-05-12", "01/01/1900", "29/02/2000"]),
                  st.dates().map(lambda d: d.strftime("%d/%m/%Y")))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(birth_name=TEXT, used_name=TEXT, first_names=TEXT, birth_date=DATES,
       sex=st.sampled_from([None, "", "M", "F", "U", "x"]), birth_place=st.sampled_from([None, "", "75056", "2A004"]),
       ins=st.sampled_from([None, "", "158043523812322", "1"]), phone=st.sampled_from([None, "", "06 12 34 56 78"]))
def test_any_trait_may_be_empty(desk, birth_name, used_name, first_names, birth_date, sex, birth_place, ins, phone):
    """Whatever is typed or missing: a ranked, explained answer, or the one refusal saying what is enough."""
    con, _ = desk
    try:
        found = search_identities(con, MANAGER, birth_name=birth_name, used_name=used_name, first_names=first_names,
                                  birth_date=birth_date, sex=sex, birth_place=birth_place, ins=ins, phone=phone)
    except InvalidInput as err:
        assert str(err).startswith(("search: give an INS", "birth_date: ")), str(err)
        return
    assert found["score"].is_monotonic_decreasing
    assert found["score"].between(0, 1).all()
    for entries in found["explanation"]:
        assert {e["field"] for e in entries} >= {"birth_name", "first_name", "birth_date", "sex", "birth_place"}
        assert all(isinstance(e["weight"], float) for e in entries)
