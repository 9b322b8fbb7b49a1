"""``hygie import`` through click's CliRunner."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from analytics.access.auth import create_user
from analytics.access.roles import Actor
from analytics.cli import main
from analytics.warehouse import connect
from tests.analytics.importing.helpers import write_text

CASES = [
    # description, table, file text, extra args, exit code, expected lines in output
    ("French file loads", "patients", "IPP;NOM;DATE_NAISSANCE\nP1;CŒURÉ;12/03/1980\nP2;MARTIN;31/02/1980\n", [], 0,
     ["Encoding:  windows-1252", "Delimiter: ';'", "Rows:      2 in file, 2 inserted, 0 updated, 0 skipped",
      "Findings:  1 value problem(s) (raw values kept in data_quality_findings)",
      "  line 3, column birth_date [P2]: '31/02/1980': not a valid date (expected dd/mm/yyyy or yyyy-mm-dd)"]),
    ("explicit mapping", "patients", "N_PAT;NOM_JF\nP1;DUPONT\n", ["--map", "N_PAT=patient_id,NOM_JF=birth_name"], 0,
     ["Rows:      1 in file, 1 inserted, 0 updated, 0 skipped", "Findings:  none"]),
    ("audit alias", "audit", "event_id;user_id;timestamp\nE1;u1;01/03/2024 10:00\n", [], 0,
     ["Table:     audit_events", "Rows:      1 in file, 1 inserted, 0 updated, 0 skipped"]),
    ("refused file", "patients", "IPP;NOM\nP1;DUPONT\nP1;MARTIN\n", [], 2,
     ["Status:    refused, nothing loaded: f.csv: line 3: repeated key patient_id 'P1' (first on line 2; 2 rows in all)",
      "Error: f.csv: line 3: repeated key patient_id 'P1' (first on line 2; 2 rows in all)"]),
    ("--as an unknown account", "patients", "IPP\nP1\n", ["--as", "nobody"], 2,
     ["Error: --as nobody: no active account with that name"]),
    ("malformed --map", "patients", "IPP\nP1\n", ["--map", "IPP"], 2,
     ["Error: --map: 'IPP' is not of the form source_column=canonical_column"]),
    ("--map to an unknown column", "patients", "IPP\nP1\n", ["--map", "IPP=ipp"], 2,
     ["Error: --map IPP=ipp: 'ipp' is not a column of patients (known: patient_id, birth_name, used_name, "
      "first_names, used_first_name, birth_date, sex, birth_place_code, ins, identity_status, address, postcode, "
      "city, phone, email, created_at, updated_at, active, identity_attributes)"]),
]


@pytest.mark.parametrize(("description", "table", "text", "args", "code", "expected"), CASES, ids=[c[0] for c in CASES])
def test_import_command(tmp_path, description, table, text, args, code, expected):
    path = write_text(tmp_path, "f.csv", text, "cp1252")
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(main, ["--db", str(db), "import", table, str(path), *args])
    assert result.exit_code == code, result.output
    for line in expected:
        assert line in result.output.splitlines()
    assert "Traceback" not in result.output


def test_import_command_records_actor_and_flags_interrupted_imports(tmp_path):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    create_user(con, None, "alice", "admin", "Correct-Horse-Battery-9")
    con.execute("INSERT INTO imports (import_id, table_name, file_name, status, started_at) "
                "VALUES ('old', 'patients', 'p.csv', 'running', now())")
    con.close()
    path = write_text(tmp_path, "f.csv", "IPP;NOM\nP1;DUPONT\n")
    result = CliRunner().invoke(main, ["--db", str(db), "import", "patients", str(path), "--as", "alice",
                                       "--format", "csv", "--source", "dpi"])
    assert result.exit_code == 0, result.output
    con = connect(db)
    assert con.execute("SELECT import_id, status, actor FROM imports ORDER BY started_at").fetchall()[0] == (
        "old", "interrupted", None)
    assert con.execute("SELECT status, actor FROM imports WHERE import_id <> 'old'").fetchone() == ("loaded", "alice")
    assert con.execute("SELECT source FROM patients").fetchone() == ("dpi",)
    assert con.execute("SELECT actor, via FROM access_log WHERE action = 'import'").fetchall() == [("alice", "cli")]
    con.close()


def test_import_command_refuses_an_account_without_the_import_right(tmp_path):
    db = tmp_path / "w.duckdb"
    con = connect(db)
    create_user(con, None, "alice", "admin", "Correct-Horse-Battery-9")
    create_user(con, Actor("alice", "admin"), "victor", "viewer", "Correct-Horse-Battery-9")
    con.close()
    path = write_text(tmp_path, "f.csv", "IPP;NOM\nP1;DUPONT\n")
    result = CliRunner().invoke(main, ["--db", str(db), "import", "patients", str(path), "--as", "victor"])
    assert result.exit_code == 4
    assert result.output.splitlines()[-1] == "Error: victor (role viewer) may not import data"


def test_import_help():
    result = CliRunner().invoke(main, ["import", "--help"])
    assert result.exit_code == 0 and "--map SRC=DEST,..." in result.output


def test_report_lists_the_first_twenty_findings_then_a_count(tmp_path):
    body = "".join(f"P{i:02d};Z\n" for i in range(25))
    path = write_text(tmp_path, "f.csv", "IPP;SEXE\n" + body)
    result = CliRunner().invoke(main, ["--db", str(tmp_path / "w.duckdb"), "import", "patients", str(path)])
    lines = result.output.splitlines()
    assert result.exit_code == 0
    assert "Findings:  25 value problem(s) (raw values kept in data_quality_findings)" in lines
    shown = [line for line in lines if line.startswith("  line ")]
    assert len(shown) == 20
    assert shown[0] == "  line 2, column sex [P00]: 'Z': unknown sex code (expected M/F/U, H, 1/2, homme/femme, inconnu)"
    assert lines[-1] == "  ... and 5 more"
