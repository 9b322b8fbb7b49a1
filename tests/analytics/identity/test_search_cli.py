"""Search before create, the ``hygie duplicates`` CLI, and the shipped sample's ground truth."""

from __future__ import annotations

import csv
import random

import pandas as pd
import pytest
from click.testing import CliRunner

from analytics.access.roles import system_actor
from analytics.cli import main
from analytics.errors import AccessDenied, InvalidInput
from analytics.identity import find_duplicates, search_identities
from analytics.warehouse import connect
from tests.analytics.identity.conftest import MANAGER, VIEWER, _filler, case_rows, insert_patients
from tests.conftest import SAMPLE_DIR

SYSTEM = system_actor()


@pytest.fixture(scope="module")
def indexed():
    con = connect(":memory:")
    insert_patients(con, case_rows() + [_filler(random.Random(3), i) for i in range(300)])
    find_duplicates(con, actor=SYSTEM)
    yield con
    con.close()


SEARCHES = [
    # description, typed traits, expected best candidates (either record of the pair)
    ("exact traits", dict(birth_name="Lambert", first_names="Hugo", birth_date="04/08/2001"), {"C09A", "C09B"}),
    ("typo and no accent", dict(birth_name="Lefebre", first_names="Pierre", birth_date="02/06/1961"),
     {"C00A", "C00B"}),
    ("usage name typed as birth name", dict(birth_name="Garnier", first_names="Lucie", birth_date="17/02/1966"),
     {"C06A", "C06B"}),
    ("day and month swapped", dict(birth_name="Lambert", first_names="Hugo", birth_date="2001-04-08"),
     {"C09A", "C09B"}),
    ("phonetic spelling", dict(birth_name="Fore", first_names="Didier", birth_date="13/04/1958"), {"C11A", "C11B"}),
]


@pytest.mark.parametrize(("description", "traits", "expected"), SEARCHES, ids=[s[0] for s in SEARCHES])
def test_search_finds_the_identity(indexed, description, traits, expected):
    found = search_identities(indexed, MANAGER, **traits)
    assert set(found["patient_id"].head(2)) <= expected and found["patient_id"].iloc[0] in expected, description
    assert found["score"].is_monotonic_decreasing
    best = found.iloc[0]
    assert {e["field"] for e in best["explanation"]} >= {"birth_name", "first_name", "birth_date"}


def test_search_nothing_similar(indexed):
    found = search_identities(indexed, MANAGER, birth_name="Zyxwvut", first_names="Qwerty", birth_date="01/02/1903")
    assert found.empty or (found["decision"] != "match").all()


ENOUGH = ("search: give an INS, or a name and first names, or a birth date with the first letters of a name or "
          "first name")


@pytest.mark.parametrize(("description", "traits", "message"), [
    ("unparseable date", dict(birth_name="A", first_names="B", birth_date="31/02/1960"),
     "birth_date: '31/02/1960' is not a date (expected dd/mm/yyyy)"),
    ("no name and no birth date", dict(birth_name=" ", first_names="B"), ENOUGH),
    ("no first name and no birth date", dict(birth_name="A", first_names=None), ENOUGH),
    ("limit", dict(birth_name="A", first_names="B", birth_date="01/02/1960", limit=0), "limit: 0 must be at least 1"),
])
def test_search_refuses_bad_input(indexed, description, traits, message):
    with pytest.raises(InvalidInput) as err:
        search_identities(indexed, MANAGER, **traits)
    assert str(err.value) == message, description


def test_search_needs_patient_data_permission(indexed):
    with pytest.raises(AccessDenied):
        search_identities(indexed, VIEWER, birth_name="Lambert", first_names="Hugo", birth_date="04/08/2001")


# ------------------------------------------------------------------ CLI
@pytest.fixture
def cli_db(tmp_path):
    path = tmp_path / "cli.duckdb"
    con = connect(path)
    insert_patients(con, case_rows() + [_filler(random.Random(5), i) for i in range(200)])
    con.close()
    return path


def _run(path, *args):
    return CliRunner().invoke(main, ["--db", str(path), "duplicates", *args])


def test_cli_find_export_search(cli_db, tmp_path):
    result = _run(cli_db, "find", "--skip-documents")
    assert result.exit_code == 0, result.output
    assert "pairs decided match (score >= 0.9)" in result.output
    pairs, clusters = tmp_path / "pairs.csv", tmp_path / "clusters.csv"
    result = _run(cli_db, "export", "--pairs", str(pairs), "--clusters", str(clusters), "--identified",
                  "--dialect", "standard")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(pairs.open(encoding="utf-8")))
    assert {"patient_id_1", "patient_id_2", "score", "decision", "birth_date_level"} <= set(rows[0])
    assert ("C09A", "C09B") in {(r["patient_id_1"], r["patient_id_2"]) for r in rows}
    cl = pd.read_csv(clusters, dtype=str)
    assert list(cl.columns) == ["patient_id", "cluster_id"]
    result = _run(cli_db, "search", "--birth-name", "lambert", "--first-names", "hugo", "--birth-date", "04/08/2001")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].split()[2] in {"C09A", "C09B"}


@pytest.mark.parametrize(("description", "args", "message"), [
    ("match threshold above 1", ["find", "--threshold-match", "1.5"], "Error: threshold_match: 1.5 is outside [0, 1]"),
    ("review above match", ["find", "--threshold-match", "0.5", "--threshold-review", "0.8"],
     "Error: threshold_review (0.8) must not exceed threshold_match (0.5)"),
    ("not a number", ["find", "--threshold-review", "abc"],
     "Error: --threshold-review: 'abc' is not a number between 0 and 1"),
    ("bad date", ["search", "--birth-name", "x", "--first-names", "y", "--birth-date", "2001-13-01"],
     "Error: birth_date: '2001-13-01' is not a date (expected dd/mm/yyyy)"),
    ("export without a file", ["export"], "Error: duplicates export: give --pairs FILE.csv and/or --clusters FILE.csv"),
])
def test_cli_refuses_bad_parameters(cli_db, description, args, message):
    result = _run(cli_db, *args)
    assert result.exit_code == 2, description
    assert message in result.output, result.output


# ------------------------------------------------------------------ shipped sample
def test_shipped_sample_ground_truth(tmp_path):
    """On sample_data/small: high precision and recall, no twin or namesake decided match."""
    if not (SAMPLE_DIR / "truth_pairs.csv").is_file():
        pytest.skip("sample_data/small not generated")
    from analytics.importing import import_file

    con = connect(tmp_path / "s.duckdb")
    import_file(con, "patients", SAMPLE_DIR / "patients.csv", actor=SYSTEM)
    find_duplicates(con, actor=SYSTEM)
    truth = pd.read_csv(SAMPLE_DIR / "truth_pairs.csv", sep=";", dtype=str, encoding="cp1252")
    pred = con.execute("SELECT patient_id_1, patient_id_2 FROM match_pairs WHERE decision = 'match'").df()
    merged = pred.merge(truth, on=["patient_id_1", "patient_id_2"], how="left")
    same = merged["same_person"] == "1"
    positives = truth[truth["same_person"] == "1"]
    assert same.mean() >= 0.995  # precision
    assert same.sum() / len(positives) >= 0.98  # recall
    assert not merged["kind"].isin(["twin", "namesake"]).any()
