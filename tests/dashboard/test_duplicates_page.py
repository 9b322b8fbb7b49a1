"""Duplicates page: the queue, the comparison, decisions stored by the engine; roles."""

from __future__ import annotations

import re

import pandas as pd

from analytics.warehouse import connect
from tests.dashboard.conftest import query


def _reviews(db) -> list[tuple]:
    return query(db, "SELECT patient_id_1, patient_id_2, decision, reviewer FROM pair_reviews ORDER BY ALL")


def _button(at, decision: str):
    """The decision button of the displayed pair (keyed ``dup_<decision>_<id1>_<id2>``)."""
    found = [b for b in at.button if re.fullmatch(rf"dup_{decision}(_[^_]+_[^_]+)?", b.key or "")]
    assert len(found) == 1, [b.key for b in at.button]
    return found[0]


def test_manager_decides_a_pair(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/duplicates.py").run()
    assert not at.error, [e.value for e in at.error]
    # two pairs wait: DUPONT/DUPOND (P9001/P9002), decided match by its score (≈ 1) but not eligible
    # for automatic merge (RNIV: birth name typo, no birth place), first; then P9001/P9003 (review)
    assert at.metric[0].value == "2"
    assert at.subheader[0].value == "Comparaison : P9001 ↔ P9002"
    assert [i.value for i in at.info] == [
        "Le score désigne la même personne, mais le RNIV interdit une fusion sans contrôle humain : Nom de "
        "naissance, Lieu de naissance — non identiques à la mise en forme près, ou absents (traits stricts, "
        "INS). Aucune fusion n'aura lieu sans votre « Même personne »."]
    rules = next(d.value for d in at.dataframe if (d.key or "").startswith("dup_table"))["rule"]
    assert rules.iloc[0] == "Même personne selon le score, à confirmer (RNIV) : Nom de naissance, Lieu de naissance"
    assert pd.isna(rules.iloc[1])  # P9001/P9003: decided review by its score, no guard
    compared = at.dataframe[1].value
    assert "Date de naissance" in compared.iloc[:, 0].tolist()
    _button(at, "same").click().run()
    assert not at.error, [e.value for e in at.error]
    assert _reviews(fresh_warehouse) == [("P9001", "P9002", "same", "test-manager")]
    assert at.metric[1].value == "1"  # the session counter
    assert at.metric[0].value == "1"  # the pair left the queue
    assert at.subheader[0].value == "Comparaison : P9001 ↔ P9003"
    assert not at.info  # a review pair: no automatic-merge question


def test_analyst_sees_the_queue_but_cannot_decide(app, warehouse):
    at = app(warehouse, "analyst").run()
    at.switch_page("views/duplicates.py").run()
    assert not at.error
    assert not [b for b in at.button if re.fullmatch(r"dup_(same|not_same|unsure)(_.*)?", b.key or "")]
    assert "pas de décider" in " ".join(c.value for c in at.caption)


def test_search_before_create_finds_the_look_alike(app, warehouse):
    at = app(warehouse, "manager").run()
    at.switch_page("views/duplicates.py").run()
    at.text_input(key="dup_s_name").input("DUPONT")
    at.text_input(key="dup_s_first").input("JEAN")
    at.text_input(key="dup_s_born").input("12/05/1970")
    next(b for b in at.button if b.label == "Rechercher").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert at.warning[0].value.endswith("identité(s) proche(s) : vérifiez avant de créer un dossier.")
    found = next(d.value for d in at.dataframe if "Rang" in d.value.columns)
    assert "P9001" in set(found["Patient"])
    assert re.fullmatch(r"\d\d/\d\d/\d{4}", found["Né(e) le"].iloc[0])  # a date as the desk writes it


def test_search_refusal_is_shown_in_french(app, warehouse):
    at = app(warehouse, "manager").run()
    at.switch_page("views/duplicates.py").run()
    at.text_input(key="dup_s_name").input("DUPONT")
    next(b for b in at.button if b.label == "Rechercher").click()
    at.run()
    assert [e.value for e in at.error] == [
        "Pour rechercher, saisissez un INS, ou un nom et un prénom, ou une date de naissance avec les premières "
        "lettres d'un nom ou d'un prénom."]


def test_filters_that_match_nothing_keep_the_other_tabs(app, warehouse):
    at = app(warehouse, "manager").run()
    at.switch_page("views/duplicates.py").run()
    # review pairs score at least the review threshold (0.2), matches at least 0.9: nothing below 0.15
    at.slider(key="dup_score").set_range(0.0, 0.15).run()
    assert "Aucune paire ne correspond à ces filtres." in [i.value for i in at.info]
    assert at.text_input(key="dup_s_name") is not None  # the search tab still renders


def test_manager_runs_the_detection_when_the_queue_is_empty(app, tmp_path):
    from tests.dashboard.conftest import fill_warehouse

    db = tmp_path / "hygie.duckdb"
    fill_warehouse(db)
    con = connect(db)
    try:
        con.execute("DELETE FROM match_pairs")
        con.execute("DELETE FROM match_runs")
    finally:
        con.close()
    at = app(db, "manager").run()
    at.switch_page("views/duplicates.py").run()
    assert at.metric[0].value == "0"
    at.button(key="dup_run").click().run()
    assert not at.error, [e.value for e in at.error]
    assert at.metric[0].value == "2"  # P9001/P9003 (review) and P9001/P9002 (a match held for a reviewer)


def _views(db) -> list[str]:
    return [o for (o,) in query(db, "SELECT object FROM access_log WHERE action = 'view' ORDER BY logged_at")]


def test_only_the_open_tab_reads_its_data(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/duplicates.py").run()
    assert [m.label for m in at.metric] == ["Paires à examiner", "Décisions (cette session)", "Laissées en suspens"]
    assert "document_duplicates" not in _views(fresh_warehouse)
    at.session_state["dup_tab"] = "Documents en double"
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert [m.label for m in at.metric] == ["Identiques", "Quasi identiques", "Ressaisis"]
    assert [i.value for i in at.info] == ["Aucun document en double détecté."]


def test_unsure_moves_past_the_pair_and_a_rerun_reads_nothing_again(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/duplicates.py").run()
    assert _views(fresh_warehouse).count("review_queue") == 1
    assert _views(fresh_warehouse).count("explain_pair") == 1
    at.run()  # same data, same filters: the page and the explanation come from the cache
    assert _views(fresh_warehouse).count("review_queue") == 1
    assert _views(fresh_warehouse).count("explain_pair") == 1
    _button(at, "unsure").click().run()
    assert not at.error, [e.value for e in at.error]
    assert [m.value for m in at.metric] == ["1", "1", "1"]  # pending, decided, left aside
    assert at.subheader[0].value == "Comparaison : P9001 ↔ P9003"  # past the pair left aside
    _button(at, "unsure").click().run()
    assert [m.value for m in at.metric] == ["0", "2", "2"]
    assert "Aucune paire à examiner" in at.info[0].value


def test_scores_and_weights_have_a_french_decimal_comma(app, fresh_warehouse):
    """Scores read "1.00" with a decimal point in a French page (issue 18)."""
    at = app(fresh_warehouse, "manager").run()
    at.switch_page("views/duplicates.py").run()
    assert not at.error, [e.value for e in at.error]
    scores = next(d.value for d in at.dataframe if (d.key or "").startswith("dup_table"))["score"]
    assert len(scores) == 2 and all(re.fullmatch(r"[01],\d\d", s) for s in scores), scores.tolist()
    weights = at.dataframe[1].value.iloc[:, -1]
    assert all(re.fullmatch(r"[+-]\d+,\d\d|—", w) for w in weights), weights.tolist()
