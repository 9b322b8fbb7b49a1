import json

import pandas as pd
import pytest
from argon2 import PasswordHasher

from analytics.access import Actor
from analytics.access.passwords import use_hasher
from analytics.errors import AccessDenied, InvalidInput, KAnonymityRefused
from analytics.exports import (
    build_export,
    export_filename,
    export_frame,
    export_table,
    exportable_tables,
    neutralise,
    to_csv_bytes,
    write_csv,
)
from analytics.pseudonymise import domain_key, pseudonym

KEY = b"s" * 32
ADMIN, MANAGER, ANALYST, VIEWER = (Actor(r, r) for r in ("admin", "manager", "analyst", "viewer"))


@pytest.fixture(autouse=True)
def fast_hasher():
    with use_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)):
        yield


NEUTRALISE = [
    # (description, text, expected)
    ("formula", '=HYPERLINK("http://x","clic")', '\'=HYPERLINK("http://x","clic")'),
    ("plus", "+33 6 01 02 03 04", "'+33 6 01 02 03 04"),
    ("minus text", "-3", "'-3"),
    ("at", "@SUM(A1)", "'@SUM(A1)"),
    ("tab", "\t=1", "'\t=1"),
    ("carriage return", "\r=1", "'\r=1"),
    ("plain name", "DUPONT", "DUPONT"),
    ("equals later", "a=b", "a=b"),
    ("NUL removed", "A\x00B", "AB"),
    ("empty", "", ""),
]


@pytest.mark.parametrize(("description", "text", "expected"), NEUTRALISE, ids=[n[0] for n in NEUTRALISE])
def test_neutralise(description, text, expected):
    assert neutralise(text) == expected


def _frame():
    return pd.DataFrame(
        {
            "service": ['=HYPERLINK("http://x","clic")', "-3", "Cardio; Nord", None],
            "hours": [-3.5, 0.25, 1234.5, float("nan")],
            "events": [-2, 0, 7, 1],
            "mixed": [-1, "+1", 2.5, None],
        }
    )


def test_excel_fr_bytes():
    data = to_csv_bytes(_frame(), "excel-fr")
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").split("\r\n") == [
        "service;hours;events;mixed",
        '"\'=HYPERLINK(""http://x"",""clic"")";-3,5;-2;-1',
        "'-3;0,25;0;'+1",
        '"Cardio; Nord";1234,5;7;2,5',
        ";;1;",
        "",
    ]


def test_standard_bytes():
    data = to_csv_bytes(_frame(), "standard")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8").split("\n") == [
        "service,hours,events,mixed",
        '"\'=HYPERLINK(""http://x"",""clic"")",-3.5,-2,-1',
        "'-3,0.25,0,'+1",
        "Cardio; Nord,1234.5,7,2.5",
        ",,1,",
        "",
    ]


def test_dates_and_times_per_dialect():
    frame = pd.DataFrame(
        {
            "birth": pd.to_datetime(["2024-02-29"]),
            "at": pd.to_datetime(["2024-07-01 08:30:05+00:00"]),
        }
    )
    # excel-fr is for people: minutes (issue 18); standard keeps the seconds for programs
    assert to_csv_bytes(frame, "excel-fr").decode("utf-8-sig") == "birth;at\r\n29/02/2024;01/07/2024 10:30\r\n"
    assert to_csv_bytes(frame, "standard").decode() == "birth,at\n2024-02-29,2024-07-01T10:30:05+02:00\n"


def test_unknown_dialect():
    with pytest.raises(InvalidInput, match="^dialect 'tsv': expected excel-fr or standard$"):
        to_csv_bytes(_frame(), "tsv")


def test_headers_are_neutralised():
    assert to_csv_bytes(pd.DataFrame({"=cmd": [1]}), "standard") == b"'=cmd\n1\n"


def _patients():
    return pd.DataFrame(
        {
            "patient_id": ["P1", "P2"],
            "birth_name": ["=HYPERLINK(\"http://x\",\"clic\")", "MARTIN"],
            "birth_date": pd.to_datetime(["1980-05-01", "1990-01-31"]),
            "sex": ["M", "F"],
        }
    )


def _crowd(n: int = 12) -> pd.DataFrame:
    """``n`` patients sharing their quasi-identifiers (born 1980, M): k=5 holds without generalising."""
    return pd.DataFrame({
        "patient_id": [f"C{i:02d}" for i in range(n)],
        "birth_name": ["=HYPERLINK(\"http://x\",\"clic\")"] + ["MARTIN"] * (n - 1),
        "birth_date": pd.to_datetime(["1980-05-01"] * n),
        "sex": ["M"] * n,
    })


def test_analyst_export_is_pseudonymised_k_anonymous_and_recorded(con):
    exp = build_export(con, ANALYST, "patients", _crowd(), "standard", secret=KEY)
    lines = exp.data.decode().splitlines()
    assert lines[0] == "patient_id,birth_year,sex" and len(lines) == 13
    assert all(line.startswith("pat_") and line.endswith(",1980,M") for line in lines[1:])
    assert "C00" not in exp.data.decode() and "MARTIN" not in exp.data.decode()
    assert (exp.pseudonymised, exp.aggregate, exp.k_anonymity) == (True, False, 12)
    row = con.execute("SELECT actor, role, action, object, row_count, detail FROM access_log").fetchone()
    assert row[:5] == ("analyst", "analyst", "export", "patients", 12)
    assert '"pseudonymised":true' in row[5] and '"dialect":"standard"' in row[5]
    assert json.loads(row[5])["privacy"]["generalised"][0] == "birth date → year"


def test_each_export_has_its_own_pseudonym_domain(con):
    first = build_export(con, ANALYST, "patients", _crowd(), "standard", secret=KEY).data.decode()
    second = build_export(con, ANALYST, "patients", _crowd(), "standard", secret=KEY).data.decode()
    assert set(first.splitlines()[1:]).isdisjoint(second.splitlines()[1:])  # cannot be joined
    assert pseudonym("C00", KEY) not in first  # not the warehouse-wide pseudonym either
    chosen = build_export(con, ADMIN, "patients", _crowd(), "standard", secret=KEY, domain="study-1").data
    again = build_export(con, ADMIN, "patients", _crowd(), "standard", secret=KEY, domain="study-1").data
    assert chosen == again and pseudonym("C00", domain_key(KEY, "study-1")) in chosen.decode()
    with pytest.raises(AccessDenied, match=r"^analyst \(role analyst\) may not choose a pseudonym domain$"):
        build_export(con, ANALYST, "patients", _crowd(), "standard", secret=KEY, domain="study-1")


def test_a_tiny_export_cannot_reach_k_and_is_refused_and_recorded(con):
    with pytest.raises(KAnonymityRefused) as err:
        build_export(con, ANALYST, "patients", _patients(), "standard", secret=KEY)
    assert str(err.value) == (
        "k-anonymity: patients cannot reach k=5 on birth_band, sex: even generalised to the last rung "
        "(birth date → 20-year band, postcode → département, time stamps dropped, free text dropped, "
        "birth_departement dropped, departement dropped), "
        "2 of 2 rows (100%) are in groups smaller than k, more than the 5% that may be suppressed; "
        "export fewer columns or rows, or ask an administrator")
    detail = con.execute("SELECT detail FROM access_log WHERE action = 'export'").fetchone()[0]
    assert json.loads(detail)["refused"] == str(err.value)


def test_admin_identified_export_keeps_identities_but_neutralises(con):
    data = export_frame(con, ADMIN, "patients", _patients(), "excel-fr", identified=True)
    text = data.decode("utf-8-sig")
    assert "P1;'=HYPERLINK" in text.replace('"', "") and "MARTIN" in text
    detail = con.execute("SELECT detail FROM access_log").fetchone()[0]
    assert '"identified":true' in detail and '"pseudonymised":false' in detail


REFUSALS = [
    # (description, actor, name, identified, aggregate, message)
    ("viewer, patient-level table", VIEWER, "patients", False, False,
     "viewer (role viewer) may export aggregate tables only; 'patients' holds patient-level rows"),
    ("viewer, frame declared aggregate but with patient ids", VIEWER, "queue", False, True,
     "viewer (role viewer) may export aggregate tables only; 'queue' holds patient-level rows"),
    ("analyst, identified", ANALYST, "patients", True, False,
     "analyst (role analyst) may not export identified (non-pseudonymised) data"),
    ("manager, identified", MANAGER, "patients", True, False,
     "manager (role manager) may not export identified (non-pseudonymised) data"),
]


@pytest.mark.parametrize(("description", "actor", "name", "identified", "aggregate", "message"), REFUSALS,
                         ids=[r[0] for r in REFUSALS])
def test_role_refusals_are_recorded(con, description, actor, name, identified, aggregate, message):
    with pytest.raises(AccessDenied) as err:
        export_frame(con, actor, name, _patients(), "excel-fr", identified=identified, aggregate=aggregate)
    assert str(err.value) == message
    row = con.execute("SELECT actor, action, object, detail FROM access_log").fetchone()
    assert row[:3] == (actor.username, "export", name) and message in row[3]


def test_viewer_may_export_aggregates(con):
    frame = pd.DataFrame({"service": ["Cardio"], "document_type": ["CR"], "hours": [12.5]})
    data = export_frame(con, VIEWER, "timesinks_by_type", frame, "excel-fr", aggregate=True)
    assert data.decode("utf-8-sig") == "service;document_type;hours\r\nCardio;CR;12,5\r\n"
    assert '"aggregate":true' in con.execute("SELECT detail FROM access_log").fetchone()[0]


def _load(con):
    con.execute("INSERT INTO patients (patient_id, birth_name, birth_date, sex, postcode) VALUES "
                "('P1', '-DUPONT', DATE '1980-05-01', 'M', '75012'), ('P2', 'MARTIN', DATE '1990-01-31', 'F', NULL)")
    con.execute("INSERT INTO imports (import_id, table_name, file_name, status, started_at, rows_in_file) "
                "VALUES ('i1', 'patients', '=evil.csv', 'loaded', now(), 2)")


def test_export_table_allow_list_and_roles(con):
    _load(con)
    with pytest.raises(InvalidInput, match=r"^table 'users' cannot be exported \(exportable: "):
        export_table(con, ADMIN, "users")
    with pytest.raises(InvalidInput, match="^table 'patients; DROP TABLE x' cannot be exported"):
        export_table(con, ADMIN, "patients; DROP TABLE x")
    with pytest.raises(AccessDenied, match="may export aggregate tables only"):
        export_table(con, VIEWER, "patients")
    imports = export_table(con, VIEWER, "imports", "standard")
    assert imports.aggregate and "'=evil.csv" in imports.data.decode()
    with pytest.raises(KAnonymityRefused, match="^k-anonymity: patients cannot reach k=5"):
        export_table(con, ANALYST, "patients", "standard", secret=KEY)  # two patients: k=5 is out of reach
    con.execute("INSERT INTO patients (patient_id, birth_name, birth_date, sex, postcode) "
                "SELECT 'C' || i, 'DUPONT', DATE '1980-05-01', 'M', '75012' FROM range(20) t(i)")
    patients = export_table(con, ANALYST, "patients", "standard", secret=KEY)
    # P1 (1980, M, 75) joins the crowd; P2 (1990, F) alone is suppressed: 1 of 22 rows, within 5%
    assert patients.rows == 21 and "DUPONT" not in patients.data.decode()
    assert patients.columns[:3] == ["patient_id", "source", "birth_year"]
    assert patients.privacy["suppressed_rows"] == {"patients": 1} and patients.k_anonymity == 21


def test_write_csv(tmp_path):
    out = tmp_path / "x.csv"
    assert write_csv(_patients(), out, dialect="standard", secret=KEY) == 2
    assert out.read_text().startswith("patient_id,birth_year,sex\n")
    with pytest.raises(InvalidInput, match="needs the secret"):
        write_csv(_patients(), out)
    write_csv(_patients(), out, pseudonymise=False)
    assert "MARTIN" in out.read_text(encoding="utf-8-sig")


def test_export_filename():
    import datetime

    assert export_filename("file d'attente/doublons", today=datetime.date(2026, 3, 2)) == \
        "hygie_file_d_attente_doublons_2026-03-02.csv"


def test_access_log_export_needs_the_log_permission(con):
    with pytest.raises(AccessDenied, match=r"^manager \(role manager\) may not read the access log$"):
        export_table(con, MANAGER, "access_log")
    exp = export_table(con, ADMIN, "access_log", "standard", secret=KEY)
    assert exp.data.decode().startswith("log_id,logged_at,actor,role,via,action,object,row_count,detail,")
    assert exp.rows == 1  # the refusal above


def test_exportable_tables_per_role(con):
    assert "access_log" in exportable_tables(con, ADMIN)
    assert "access_log" not in exportable_tables(con, MANAGER) and "patients" in exportable_tables(con, MANAGER)
    assert set(exportable_tables(con, VIEWER)) <= {"imports", "match_runs", "ts_service_day", "ts_user_day",
                                                    "ts_runs", "ts_sessions"}


EMPTY_COLUMNS = [
    ("excel-fr", "\ufeffminutes;events\r\n"),
    ("standard", "minutes,events\n"),
]


@pytest.mark.parametrize(("dialect", "expected"), EMPTY_COLUMNS, ids=[d for d, _ in EMPTY_COLUMNS])
def test_empty_table_with_numeric_columns(dialect, expected):
    """An empty aggregate table (time sinks not computed yet) exports as its header; the float
    column used to crash excel-fr (no .str accessor on an empty float column)."""
    frame = pd.DataFrame({"minutes": pd.Series([], dtype=float), "events": pd.Series([], dtype="Int64")})
    assert to_csv_bytes(frame, dialect).decode("utf-8") == expected


@pytest.mark.parametrize("table", ["ts_user_day", "ts_sessions"])
def test_per_clinician_time_tables_need_the_clinician_times_permission(con, table):
    """One clinician's time per day or session is an individual figure about staff, not an
    aggregate: the time-sinks pages show it only with VIEW_CLINICIAN_TIMES and a reason, logged;
    so does the export."""
    for who in (VIEWER, ANALYST, MANAGER):
        assert table not in exportable_tables(con, who)
        with pytest.raises(AccessDenied, match=rf"^{who.role} \(role {who.role}\) may not view per-clinician time"):
            export_table(con, who, table, secret=KEY)
    assert table in exportable_tables(con, ADMIN)
    with pytest.raises(InvalidInput) as err:
        export_table(con, ADMIN, table, "standard", secret=KEY)
    assert str(err.value) == (f"{table} holds per-clinician time figures: state the reason for exporting them "
                              "(purpose: organising work, not evaluating people)")
    assert export_table(con, ADMIN, table, "standard", secret=KEY, reason=" planning the winter rota ").rows == 0
    detail = con.execute("SELECT detail FROM access_log WHERE action = 'export' AND object = ? "
                         "ORDER BY log_id DESC LIMIT 1", [table]).fetchone()[0]
    assert json.loads(detail)["reason"] == "planning the winter rota"


def test_a_small_service_s_time_figures_are_masked_with_its_head_count(con):
    """ts_service_day: the day a service worked with 3 clinicians shows neither the count nor the
    time (theirs); a service with 12 shows both."""
    con.execute("INSERT INTO ts_service_day VALUES (DATE '2026-03-02', 'Cardiologie', 'documentation', 'CR', "
                "5400, 600, 40, 3), (DATE '2026-03-02', 'Urgences', 'documentation', 'CR', 9000, 0, 90, 12)")
    exp = export_table(con, VIEWER, "ts_service_day", "standard")
    lines = exp.data.decode().splitlines()
    assert lines[1:] == ["2026-03-02,Cardiologie,documentation,CR,,,,", "2026-03-02,Urgences,documentation,CR,9000,0,90,12"]
    assert exp.privacy["masked_small_cells"] == 1


def test_identity_attributes_go_out_identified_only(con):
    """RNIV attributes (FICT: an identity kept secret on purpose, HOMD: a detected namesake) are
    rare codes that single a record out: an administrator's identified export has them, a
    pseudonymised one drops the column (the extract job and ``hygie export`` share the policy)."""
    crowd = _crowd().assign(identity_attributes=["FICT", "DOUT HOMD"] + [None] * 10)
    analyst = build_export(con, ANALYST, "patients", crowd, "standard", secret=KEY)
    assert analyst.columns == ["patient_id", "birth_year", "sex"]
    assert "FICT" not in analyst.data.decode() and "HOMD" not in analyst.data.decode()
    admin = build_export(con, ADMIN, "patients", crowd, "standard", identified=True)
    assert "identity_attributes" in admin.columns
    assert [line.rsplit(",", 1)[1] for line in admin.data.decode().splitlines()[1:4]] == ["FICT", "DOUT HOMD", ""]
