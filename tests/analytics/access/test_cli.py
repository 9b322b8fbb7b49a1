"""``hygie users`` and ``hygie export`` through click's CliRunner on a real warehouse file."""

import pytest
from click.testing import CliRunner

from analytics.access import Actor
from analytics.access.access_log import verify_chain
from analytics.access.auth import create_user
from analytics.cli import main
from analytics.warehouse import connect

GOOD = "Blue-Horse42"


def run(db, *args, input=None):
    return CliRunner().invoke(main, ["--db", str(db), *args], input=input)


@pytest.fixture
def warehouse(db_path):
    con = connect(db_path)
    create_user(con, None, "alice", "admin", GOOD)
    for name, role in [("anna", "analyst"), ("victor", "viewer")]:
        create_user(con, Actor("alice", "admin", via="cli"), name, role, GOOD)
    con.execute("INSERT INTO patients (patient_id, birth_name, birth_date, sex) VALUES "
                "('P1', '=HYPERLINK(\"http://x\",\"clic\")', DATE '1980-05-01', 'M')")
    con.execute("INSERT INTO imports (import_id, table_name, file_name, status, started_at) "
                "VALUES ('i1', 'patients', 'p.csv', 'loaded', now())")
    con.close()
    return db_path


def test_users_add_password_stdin(db_path):
    result = run(db_path, "users", "add", "Alice", "--role", "admin", "--password-stdin", input=GOOD + "\n")
    assert (result.exit_code, result.output) == (0, "Account 'alice' created with role admin.\n")


def test_users_add_prompts_twice(db_path):
    result = run(db_path, "users", "add", "alice", "--role", "admin", input=f"{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0, result.output
    assert result.output.endswith("Account 'alice' created with role admin.\n")
    assert GOOD not in result.output


def test_users_add_prompt_mismatch_asks_again(db_path):
    result = run(db_path, "users", "add", "alice", "--role", "admin",
                 input=f"{GOOD}\nOther-Horse42\n{GOOD}\n{GOOD}\n")
    assert result.exit_code == 0
    assert "Error: The two entered values do not match." in result.output


CLI_ERRORS = [
    # (description, args, stdin, exit code, message)
    ("weak password", ["users", "add", "bob", "--role", "viewer", "--password-stdin"], "short\n", 2,
     "Error: password refused: the password must have at least 12 characters; the password must mix at "
     "least 3 of: lower case, upper case, digits, other characters (or be a passphrase of at least 16 "
     "characters)\n"),
    ("duplicate account", ["users", "add", "anna", "--role", "viewer", "--password-stdin"], GOOD + "\n", 2,
     "Error: an account named 'anna' already exists\n"),
    ("analyst manages users", ["users", "add", "bob", "--role", "viewer", "--password-stdin", "--as", "anna"],
     GOOD + "\n", 4, "Error: anna (role analyst) may not manage accounts\n"),
    ("unknown --as", ["users", "list", "--as", "ghost"], None, 2,
     "Error: --as ghost: no active account with that name\n"),
    ("last admin", ["users", "set-role", "alice", "viewer"], None, 2,
     "Error: 'alice' is the last active admin; make another admin first\n"),
    ("unknown account", ["users", "deactivate", "ghost"], None, 2, "Error: no account named 'ghost'\n"),
    ("empty stdin", ["users", "passwd", "anna", "--password-stdin"], "", 2,
     "Error: --password-stdin: no password on standard input\n"),
]


@pytest.mark.parametrize(("description", "args", "stdin", "code", "message"), CLI_ERRORS,
                         ids=[c[0] for c in CLI_ERRORS])
def test_users_errors(warehouse, description, args, stdin, code, message):
    result = run(warehouse, *args, input=stdin)
    assert (result.exit_code, result.output) == (code, message)


def test_users_lifecycle(warehouse):
    assert run(warehouse, "users", "set-role", "anna", "manager").output == "Account 'anna' now has role manager.\n"
    assert run(warehouse, "users", "passwd", "anna", "--password-stdin",
               input="Green-Donkey-1984\n").output == "Password of 'anna' changed.\n"
    assert run(warehouse, "users", "unlock", "anna").output == "'anna' was not locked.\n"
    assert run(warehouse, "users", "deactivate", "victor").output == "Account 'victor' deactivated.\n"
    listing = run(warehouse, "users", "list").output.splitlines()
    assert listing[0].split() == ["username", "role", "state", "last", "login", "display", "name"]
    assert [line.split()[:3] for line in listing[1:]] == [
        ["alice", "admin", "active"], ["anna", "manager", "active"], ["victor", "viewer", "deactivated"]]
    con = connect(warehouse)
    vias = con.execute("SELECT DISTINCT via FROM access_log WHERE log_id > 3").fetchall()
    assert vias == [("cli",)] and verify_chain(con) == (True, None)
    con.close()


def test_export_pseudonymised_by_default(warehouse, tmp_path, tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(tmp_path_factory.mktemp("keys") / "k.secret"))
    out = tmp_path / "p.csv"
    result = run(warehouse, "export", "patients", "--out", str(out), "--as", "anna")
    # one patient alone cannot be exported pseudonymised: k=5 is enforced
    assert result.exit_code == 2 and result.output.startswith("Error: k-anonymity: patients cannot reach k=5")
    con = connect(warehouse)
    con.execute("INSERT INTO patients (patient_id, birth_name, birth_date, sex) "
                "SELECT 'Q' || i, 'NOM', DATE '1980-05-01', 'M' FROM range(9) t(i)")
    con.close()
    result = run(warehouse, "export", "patients", "--out", str(out), "--as", "anna")
    assert (result.exit_code, result.output.splitlines()[:3]) == (0, [
        f"Exported 10 rows of patients to {out} (excel-fr, pseudonymised).",
        "k-anonymity: k=5, smallest group 10", "  generalised: birth date → year"])
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfpatient_id;source;birth_year;sex;")
    assert b"HYPERLINK" not in data and b"P1;" not in data
    assert (out.stat().st_mode & 0o777) == 0o600
    con = connect(warehouse)
    row = con.execute("SELECT actor, role, via, action, object, row_count FROM access_log "
                      "ORDER BY log_id DESC LIMIT 1").fetchone()
    con.close()
    assert row == ("anna", "analyst", "cli", "export", "patients", 10)


def test_export_identified_by_admin_is_neutralised(warehouse, tmp_path):
    out = tmp_path / "p.csv"
    result = run(warehouse, "export", "patients", "--out", str(out), "--identified", "--dialect", "standard",
                 "--as", "alice")
    assert result.output == f"Exported 1 rows of patients to {out} (standard, identified).\n"
    lines = out.read_text().splitlines()
    assert lines[1].startswith("P1,default,\"'=HYPERLINK(\"\"http://x\"\",\"\"clic\"\")\",,,,1980-05-01,M,")


EXPORT_ERRORS = [
    # (description, args, exit code, message)
    ("analyst identified", ["export", "patients", "--identified", "--as", "anna"], 4,
     "Error: anna (role analyst) may not export identified (non-pseudonymised) data\n"),
    ("viewer patient-level", ["export", "patients", "--as", "victor"], 4,
     "Error: victor (role viewer) may export aggregate tables only; 'patients' holds patient-level rows\n"),
    ("table not allowed", ["export", "users"], 2, "Error: table 'users' cannot be exported (exportable: "),
]


@pytest.mark.parametrize(("description", "args", "code", "message"), EXPORT_ERRORS, ids=[e[0] for e in EXPORT_ERRORS])
def test_export_refusals(warehouse, tmp_path, description, args, code, message):
    out = tmp_path / "x.csv"
    result = run(warehouse, *args, "--out", str(out))
    assert result.exit_code == code
    assert result.output.startswith(message)
    assert not out.exists()


def test_viewer_exports_aggregate_to_stdout(warehouse):
    result = run(warehouse, "export", "imports", "--out", "-", "--dialect", "standard", "--as", "victor")
    assert result.exit_code == 0
    assert result.stdout.startswith("import_id,table_name,file_name,")
    assert result.stderr == "Exported 1 rows of imports to - (standard, aggregate).\n"
