"""New identities are matched on arrival: an import of patients after a matching run."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from analytics.identity import find_duplicates
from analytics.identity.arrival import match_on_arrival
from analytics.importing import import_file
from tests.analytics.identity.conftest import (
    ANALYST,
    MANAGER,
    VIEWER,
    _filler,
    case_rows,
    insert_patients,
    person,
)

HEADER = "IPP;NOM_NAISSANCE;PRENOMS;DATE_NAISSANCE;SEXE;LIEU_NAISSANCE;TELEPHONE\n"
NEWCOMER = "A2;ZYGMUNTOWICZ;Camille;14/03/1975;F;35238;0612345678"


def _hospital(con) -> None:
    """The identity cases, 400 unrelated people and A1 (whom A2, imported later, duplicates)."""
    rnd = random.Random(42)
    insert_patients(con, [*case_rows(), *(_filler(rnd, i) for i in range(400)),
                          person("A1", birth_name="ZYGMUNTOWICZ", address="9 IMPASSE DES TESTS")])


def _file(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "arrivals.csv"
    path.write_text(HEADER + "".join(line + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def matched(con):
    _hospital(con)
    find_duplicates(con, actor=MANAGER)
    return con


def test_an_imported_duplicate_is_paired_at_once(matched, tmp_path: Path):
    report = import_file(matched, "patients", _file(tmp_path, NEWCOMER), actor=MANAGER)
    summary = match_on_arrival(matched, MANAGER, report)
    before = matched.execute("SELECT matches FROM match_runs WHERE kind <> 'incremental'").fetchone()[0]
    assert summary is not None and summary.matches == before + 1
    assert report.notices[-1] == (f"1 new identities matched on arrival (run {summary.match_run_id}); in all now "
                                  f"{before + 1} pairs decided match, {summary.reviews} to review")
    pairs = matched.execute("SELECT patient_id_1, patient_id_2, decision FROM match_pairs "
                            "WHERE 'A2' IN (patient_id_1, patient_id_2) AND decision = 'match'").fetchall()
    assert pairs == [("A1", "A2", "match")]
    assert matched.execute("SELECT kind FROM match_runs ORDER BY started_at DESC LIMIT 1").fetchone() == ("incremental",)


@pytest.mark.parametrize(
    ("description", "table_rows", "actor", "matched_before"),
    [
        ("nobody new (same IPP again)", NEWCOMER.replace("A2;", "A1;"), MANAGER, True),
        ("never matched: the first full run will", NEWCOMER, MANAGER, False),
        ("a role that may not read patients", NEWCOMER, VIEWER, True),
    ],
)
def test_nothing_is_matched_when_there_is_nothing_to_do(con, tmp_path: Path, description, table_rows, actor,
                                                         matched_before):
    _hospital(con)
    if matched_before:
        find_duplicates(con, actor=MANAGER)
    report = import_file(con, "patients", _file(tmp_path, table_rows), actor=MANAGER)
    runs = con.execute("SELECT count(*) FROM match_runs").fetchone()[0]
    assert match_on_arrival(con, actor, report) is None, description
    assert con.execute("SELECT count(*) FROM match_runs").fetchone()[0] == runs, description
    assert not any("matched on arrival" in n for n in report.notices), description


def test_an_analyst_import_report_of_another_table_is_left_alone(matched, tmp_path: Path):
    class Report:
        table, rows_inserted, status, notices = "documents", 5, "loaded", []

    assert match_on_arrival(matched, ANALYST, Report()) is None
