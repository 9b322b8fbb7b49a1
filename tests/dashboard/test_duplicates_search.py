"""Search before create on the duplicates page: what the admission desk has, in French.

Before the fix a warehouse holding one patient imported without a birth place made every
search end on the generic error, and a search needed first names.
"""

from __future__ import annotations

import re

import pytest

from analytics.access.roles import system_actor
from analytics.identity import find_duplicates
from analytics.importing import import_file
from analytics.warehouse import connect
from tests.dashboard.conftest import fill_warehouse

CSV = """patient_id;birth_name;first_names;birth_date;sex;birth_place_code
S1;DUPONT;Jean Pierre;14/06/1972;M;
S2;DUPUIS;Marc;14/06/1972;M;69123
S3;MARTIN;Claire;03/09/1983;F;75056
"""


@pytest.fixture(scope="module")
def desk_warehouse(tmp_path_factory):
    folder = tmp_path_factory.mktemp("desk")
    db = folder / "hygie.duckdb"
    fill_warehouse(db)
    (folder / "p.csv").write_text(CSV, encoding="utf-8")
    con = connect(db)
    try:
        import_file(con, "patients", folder / "p.csv", actor=system_actor())
        find_duplicates(con, actor=system_actor())
    finally:
        con.close()
    return db


def _search(app, db, **typed):
    at = app(db, "manager").run()
    at.switch_page("views/duplicates.py").run()
    for key, value in typed.items():
        at.text_input(key=f"dup_s_{key}").input(value)
    next(b for b in at.button if b.label == "Rechercher").click()
    at.run()
    return at


def test_birth_date_and_first_letters_find_a_patient_without_birth_place(app, desk_warehouse):
    at = _search(app, desk_warehouse, name="DUP", born="14/06/1972")
    assert not at.error, [e.value for e in at.error]
    found = next(d.value for d in at.dataframe if "Rang" in d.value.columns)
    assert set(found["Patient"].head(2)) == {"S1", "S2"}
    assert found["Né(e) le"].iloc[0] == "14/06/1972"
    assert found["Lieu de naissance"].tolist()[list(found["Patient"]).index("S1")] == "—"
    assert set(found["Avis"]) <= {"Très probablement cette personne", "À vérifier", "Peu d'indices concordants"}
    # each candidate explained as the review queue explains a pair, in French
    cards = [e.label for e in at.expander]
    assert re.fullmatch(r"1\. DU\w+ .+ — né\(e\) le 14/06/1972 — IPP S[12] — score \d,\d\d \(.+\)", cards[0])
    compared = next(d.value for d in at.dataframe if "Saisie" in d.value.columns)
    assert compared.loc[compared["Trait"] == "Nom de naissance", "Concordance"].iloc[0] == "début saisi"
    assert compared.loc[compared["Trait"] == "Date de naissance", "Saisie"].iloc[0] == "14/06/1972"
    shown = [d.value for d in at.dataframe if {"Rang", "Saisie"} & set(d.value.columns)]
    text = " ".join(str(v) for d in shown for v in d.astype(str).to_numpy().ravel())
    assert "00:00:00" not in text and "{'field'" not in text


def test_name_and_first_name_without_birth_date(app, desk_warehouse):
    at = _search(app, desk_warehouse, name="Martin", first="Claire")
    assert not at.error, [e.value for e in at.error]
    found = next(d.value for d in at.dataframe if "Rang" in d.value.columns)
    assert found["Patient"].iloc[0] == "S3"


def test_a_bad_date_is_refused_in_french(app, desk_warehouse):
    at = _search(app, desk_warehouse, name="Martin", born="31/02/1983")
    assert [e.value for e in at.error] == ["Date de naissance « 31/02/1983 » invalide (attendu jj/mm/aaaa)."]


def test_possible_collisions_are_listed_with_french_evidence(app, tmp_path):
    db = tmp_path / "hygie.duckdb"
    fill_warehouse(db)
    con = connect(db)
    try:  # P0001's INS is a woman's born in March 1975 in Ille-et-Vilaine; the record says otherwise
        con.execute("UPDATE patients SET ins = '275033523801222', sex = 'M', birth_date = DATE '1957-03-14', "
                    "birth_place_code = '35238' WHERE patient_id = 'P0001'")
        name, first = con.execute("SELECT birth_name, first_names FROM patients WHERE patient_id = 'P0001'").fetchone()
    finally:
        con.close()
    at = app(db, "manager").run()
    # straight to the tab: the queue's page is not read (its cache is shared by the process's tests)
    at.session_state["dup_tab"] = "Collisions possibles"
    at.switch_page("views/duplicates.py").run()
    assert not at.error, [e.value for e in at.error]
    assert [(m.label, m.value) for m in at.metric] == [("Dossiers à vérifier", "1")]
    texts = [m.value for m in at.markdown]
    assert f"**{name} {first}** — né(e) le 14/03/1957 — sexe M — PROV — IPP P0001" in texts  # the record
    assert ("- L'INS 275033523801222 indique une année de naissance finissant par 75 ; le dossier indique 1957.\n"
            "- L'INS 275033523801222 est celui d'une personne de sexe F ; le dossier indique M.") in texts
