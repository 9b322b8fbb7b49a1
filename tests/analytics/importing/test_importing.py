"""CSV imports: dialects, header synonyms, value findings, idempotent re-import."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from analytics.access.roles import system_actor
from analytics.importing import import_file, ins_is_valid, ins_key
from tests.analytics.importing.helpers import (
    CORSICAN_INS,
    PARIS_INS,
    VALID_INS,
    table_rows,
    write_text,
)

SYSTEM = system_actor()

PARIS = ZoneInfo("Europe/Paris")

PATIENTS_FR = (
    "IPP;NOM_NAISSANCE;NOM_USAGE;PRENOMS;DATE_NAISSANCE;SEXE;LIEU_NAISSANCE;MATRICULE_INS;STATUT_IDENTITE;CP;VILLE\n"
    f"P001;LŒUVRE;MARTIN;Zoé Anaïs;12/03/1980;F;75056;{PARIS_INS};Qualifiée;75001;Paris\n"
    "P002;N’DIAYE;;Jean-Émile;01/07/1955;H;2A004;;provisoire;13001;Marseille\n"
)
PATIENTS_COMMA = (
    "patient_id,birth_name,first_names,birth_date,sex,identity_status,postcode,city\n"
    'P001,LŒUVRE,Zoé Anaïs,1980-03-12,2,QUAL,75001,"Paris, 1er"\n'
    "P002,N’DIAYE,Jean-Émile,1955-07-01,1,PROV,13001,Marseille\n"
)
PATIENTS_TAB = (
    "ipp\tnom\tprénom\tddn\tsexe\tstatut\tcp\tville\n"
    "P001\tLÉVÊQUE\tZoé Anaïs\t12/03/1980\tfemme\tVALI\t75001\tParis\n"
    "P002\tÇA\tJean-Émile\t01/07/1955\tmasculin\tRECUP\t13001\tMarseille\n"
)

DIALECTS = [
    # description, text, encoding, bom, expected encoding, delimiter, first birth_name
    ("semicolon, Windows-1252, dd/mm/yyyy", PATIENTS_FR, "cp1252", False, "windows-1252", ";", "LŒUVRE"),
    ("comma, UTF-8 with BOM, ISO dates", PATIENTS_COMMA, "utf-8", True, "utf-8-sig", ",", "LŒUVRE"),
    ("tab, Latin-1, dd/mm/yyyy", PATIENTS_TAB, "latin-1", False, "latin-1", "\t", "LÉVÊQUE"),
    ("semicolon, UTF-8 without BOM, CRLF", PATIENTS_FR, "utf-8", False, "utf-8", ";", "LŒUVRE"),
    ("tab, UTF-16 with BOM (Excel 'Unicode text')", PATIENTS_TAB, "utf-16", False, "utf-16", "\t", "LÉVÊQUE"),
]


@pytest.mark.parametrize(("description", "text", "encoding", "bom", "expected_encoding", "delimiter", "name"),
                         DIALECTS, ids=[d[0] for d in DIALECTS])
def test_each_dialect_is_detected_and_loaded(con, tmp_path, description, text, encoding, bom,
                                             expected_encoding, delimiter, name):
    path = write_text(tmp_path, "patients.csv", text, encoding, bom, newline="\r\n" if "CRLF" in description else "\n")
    report = import_file(con, "patients", path, actor=SYSTEM)
    assert (report.encoding, report.delimiter, report.rows_in_file) == (expected_encoding, delimiter, 2)
    assert (report.rows_inserted, report.rows_updated, report.findings_count) == (2, 0, 0), report.summary_lines()
    rows = table_rows(con, "patients", "patient_id, birth_name, first_names, birth_date, sex")
    assert rows[0] == ("P001", name, "Zoé Anaïs", dt.date(1980, 3, 12), "F")
    assert rows[1][3:] == (dt.date(1955, 7, 1), "M")


def test_codes_are_normalised(con, tmp_path):
    path = write_text(tmp_path, "p.csv", PATIENTS_FR, "cp1252")
    import_file(con, "patients", path, actor=SYSTEM)
    assert table_rows(con, "patients", "identity_status, birth_place_code, ins, used_name", "patient_id") == [
        ("QUAL", "75056", PARIS_INS, "MARTIN"), ("PROV", "2A004", None, None)]


VALUE_FAULTS = [
    # description, column header, raw value, canonical column, expected problem
    ("impossible date", "DATE_NAISSANCE", "31/02/1980", "birth_date",
     "not a valid date (expected dd/mm/yyyy or yyyy-mm-dd)"),
    ("future birth date", "DATE_NAISSANCE", "01/01/2990", "birth_date", "birth date outside 1880-01-01..today"),
    ("unknown sex", "SEXE", "X", "sex", "unknown sex code (expected M/F/U, H, 1/2, homme/femme, inconnu)"),
    ("INS bad key", "MATRICULE_INS", VALID_INS[:-2] + "47", "ins",
     "malformed INS: key 47 does not match the expected 46"),
    ("INS too short", "MATRICULE_INS", VALID_INS[:13], "ins",
     "malformed INS: 13 characters, expected 15 (13-character NIR + 2-digit key)"),
    ("INS not a NIR", "MATRICULE_INS", "9841276451089AB", "ins",
     "malformed INS: not a NIR/NIA (sex digit, year, month, departement, commune, order, key)"),
    ("unknown identity status", "STATUT_IDENTITE", "DOUTEUSE", "identity_status",
     "unknown identity status (expected PROV, RECUP, VALI or QUAL)"),
    ("postcode with a lost zero", "CP", "1000", "postcode", "not a French postcode (5 digits)"),
    ("bad e-mail", "MAIL", "jean.dupont(at)free.fr", "email", "not an e-mail address"),
    ("mojibake", "NOM_NAISSANCE", "LÃ©VÃŠQUE", "birth_name",
     "looks like mojibake (UTF-8 text read as Windows-1252); value kept as is"),
]


@pytest.mark.parametrize(("description", "header", "raw", "column", "problem"), VALUE_FAULTS,
                         ids=[v[0] for v in VALUE_FAULTS])
def test_value_faults_load_the_row_and_keep_the_raw_value(con, tmp_path, description, header, raw, column, problem):
    path = write_text(tmp_path, "p.csv", f"IPP;PRENOM;{header}\nP1;Jean;ok\nP2;Luc;{raw}\n".replace(";ok", ";"))
    report = import_file(con, "patients", path, actor=SYSTEM)
    assert (report.rows_inserted, report.findings_count) == (2, 1)
    finding = report.findings[0]
    assert (finding.line, finding.column, finding.raw_value, finding.problem, finding.record_key) == (
        3, column, raw, problem, "P2")
    stored = con.execute(f'SELECT "{column}" FROM patients WHERE patient_id = ?', ["P2"]).fetchone()[0]
    assert stored == (raw if column == "birth_name" else None)
    assert con.execute(
        "SELECT table_name, file_name, line, column_name, record_key, raw_value, problem FROM data_quality_findings"
    ).fetchall() == [("patients", str(path), 3, column, "P2", raw, problem)]


def test_ins_key_rule():
    assert ins_key(VALID_INS[:13]) == 46
    assert ins_key("185072A004012") == 97 - 1850719004012 % 97  # Corsica: 2A counts as 19
    assert ins_key("185072B004012") == 97 - 1850718004012 % 97  # 2B counts as 18
    assert ins_is_valid(CORSICAN_INS) and ins_is_valid("1 84 12 76 451 089 46")
    assert not ins_is_valid(VALID_INS[:-1] + "7")


def test_corsican_ins_is_accepted_by_the_sql_check(con, tmp_path):
    path = write_text(tmp_path, "p.csv", f"IPP;INS\nP1;{CORSICAN_INS}\nP2;185072B00401205\n")
    report = import_file(con, "patients", path, actor=SYSTEM)
    assert table_rows(con, "patients", "ins") == [(CORSICAN_INS,), (None,)]
    assert report.findings[0].problem == f"malformed INS: key 05 does not match the expected {ins_key('185072B004012'):02d}"


def test_sex_codes(con, tmp_path):
    codes = ["M", "F", "H", "1", "2", "homme", "Femme", "masculin", "Féminin", "I", "U", "inconnu"]
    body = "".join(f"P{i};{code}\n" for i, code in enumerate(codes))
    import_file(con, "patients", write_text(tmp_path, "p.csv", "IPP;SEXE\n" + body), actor=SYSTEM)
    got = [r[0] for r in table_rows(con, "patients", "sex", "CAST(substr(patient_id, 2) AS INT)")]
    assert got == ["M", "F", "M", "M", "F", "M", "F", "M", "F", "U", "U", "U"]


def test_naive_timestamps_are_paris_local_time_across_dst(con, tmp_path):
    text = ("ID_EVENEMENT;UTILISATEUR;HORODATAGE;ACTIVITE\n"
            "E1;u1;15/01/2024 10:00:00;documentation\n"
            "E2;u1;01/07/2024 10:00;Prescription\n"
            "E3;u1;2024-07-01T10:00:00Z;messagerie\n"
            "E4;u1;2024-10-27 02:30:00;consultation\n")
    import_file(con, "audit", write_text(tmp_path, "a.csv", text), actor=SYSTEM)
    rows = con.execute("SELECT event_id, timestamp, activity FROM audit_events ORDER BY event_id").fetchall()
    utc = dt.UTC
    assert [(r[0], r[1].astimezone(utc), r[2]) for r in rows[:3]] == [
        ("E1", dt.datetime(2024, 1, 15, 9, 0, tzinfo=utc), "documentation"),
        ("E2", dt.datetime(2024, 7, 1, 8, 0, tzinfo=utc), "orders"),
        ("E3", dt.datetime(2024, 7, 1, 10, 0, tzinfo=utc), "inbox"),
    ]
    assert rows[3][1].astimezone(PARIS).replace(tzinfo=None) == dt.datetime(2024, 10, 27, 2, 30)
    assert rows[3][2] == "chart_review"


def test_bad_required_timestamp_skips_only_that_row(con, tmp_path):
    text = "event_id;user_id;timestamp;activity\nE1;u1;30/02/2024 10:00;documentation\nE2;u1;01/03/2024 10:00;jeu\n"
    report = import_file(con, "audit", write_text(tmp_path, "a.csv", text), actor=SYSTEM)
    assert (report.rows_inserted, report.rows_skipped) == (1, 1)
    assert [(f.line, f.column, f.problem) for f in report.findings] == [
        (2, "timestamp", "not a valid timestamp (expected dd/mm/yyyy HH:MM[:SS] or ISO 8601); row not loaded"),
        (3, "activity", "unknown activity (expected documentation, chart_review, orders, inbox or other)"),
    ]


def test_schedule_ending_before_it_starts_is_a_finding(con, tmp_path):
    text = "user_id;debut;fin\nu1;02/01/2024 08:00;02/01/2024 12:00\nu1;03/01/2024 14:00;03/01/2024 08:00\n"
    report = import_file(con, "schedules", write_text(tmp_path, "s.csv", text), actor=SYSTEM)
    assert (report.rows_inserted, report.rows_skipped, report.findings_count) == (1, 1, 1)
    assert report.findings[0].problem == "end before start; row not loaded"


def test_reimport_is_idempotent_and_keeps_fields_the_file_does_not_carry(con, tmp_path):
    path = write_text(tmp_path, "p.csv", PATIENTS_FR, "cp1252")
    first = import_file(con, "patients", path, actor=SYSTEM)
    con.execute("UPDATE patients SET active = FALSE, merged_into = 'P002' WHERE patient_id = 'P001'")
    before = table_rows(con, "patients", "* EXCLUDE (import_id)")
    second = import_file(con, "patients", path, actor=SYSTEM)
    assert (first.rows_inserted, first.rows_updated) == (2, 0)
    assert (second.rows_inserted, second.rows_updated) == (0, 2)
    assert table_rows(con, "patients", "* EXCLUDE (import_id)") == before
    assert con.execute("SELECT count(*), count(DISTINCT status) FROM imports").fetchone() == (2, 1)


def test_reimport_updates_changed_rows_and_adds_new_ones(con, tmp_path):
    import_file(con, "patients", write_text(tmp_path, "a.csv", "IPP;NOM\nP1;DUPONT\nP2;MARTIN\n"), actor=SYSTEM)
    report = import_file(con, "patients", write_text(tmp_path, "b.csv", "IPP;NOM\nP2;MARTINE\nP3;DURAND\n"), actor=SYSTEM)
    assert (report.rows_inserted, report.rows_updated) == (1, 1)
    assert table_rows(con, "patients", "patient_id, birth_name") == [("P1", "DUPONT"), ("P2", "MARTINE"), ("P3", "DURAND")]


def test_sources_keep_their_own_patient_ids(con, tmp_path):
    path = write_text(tmp_path, "a.csv", "IPP;NOM\nP1;DUPONT\n")
    import_file(con, "patients", path, source="hopital_a", actor=SYSTEM)
    report = import_file(con, "patients", path, source="hopital_b", actor=SYSTEM)
    assert report.rows_inserted == 1
    assert table_rows(con, "patients", "source, patient_id") == [("hopital_a", "P1"), ("hopital_b", "P1")]


def test_explicit_mapping_and_unknown_columns(con, tmp_path):
    path = write_text(tmp_path, "p.csv", "N_PAT;NOM_JF;COULEUR\nP1;DUPONT;bleu\n")
    report = import_file(con, "patients", path, mapping={"N_PAT": "patient_id", "NOM_JF": "birth_name"}, actor=SYSTEM)
    assert table_rows(con, "patients", "patient_id, birth_name") == [("P1", "DUPONT")]
    assert "ignored 1 unknown column(s): COULEUR" in report.notices


def test_trailing_separator_gives_an_ignored_unnamed_column(con, tmp_path):
    report = import_file(con, "patients", write_text(tmp_path, "p.csv", "IPP;NOM;\nP1;DUPONT;\nP2;MARTIN;\n"), actor=SYSTEM)
    assert report.rows_inserted == 2
    assert "ignored 1 unknown column(s): (unnamed column 3)" in report.notices


def test_semicolon_file_with_decimal_commas_is_not_taken_for_comma_separated(con, tmp_path):
    text = "IPP;NOM;POIDS\nP1;DUPONT;72,5\nP2;MARTIN;80,25\nP3;DURAND;65\n"
    report = import_file(con, "patients", write_text(tmp_path, "p.csv", text), actor=SYSTEM)
    assert report.delimiter == ";" and report.rows_inserted == 3


def test_documents_staff_and_schedules_load(con, tmp_path):
    docs = ("ID_DOCUMENT;IPP;TYPE_DOCUMENT;UF;DATE_CREATION;DATE_SIGNATURE;STATUT;NDA\n"
            "D1;P1;CRH;Cardio;02/01/2024 09:15;02/01/2024 18:00;Signé;S1\n"
            "D2;P1;CR;Cardio;03/01/2024 09:15;;brouillon;S1\n")
    staff = "LOGIN;NOM;FONCTION;UF;ACTIF\nu1;Dr House;physician;Cardio;oui\nu2;Mme X;nurse;Cardio;non\n"
    import_file(con, "documents", write_text(tmp_path, "d.csv", docs, "cp1252"), actor=SYSTEM)
    import_file(con, "staff", write_text(tmp_path, "s.csv", staff), actor=SYSTEM)
    assert table_rows(con, "documents", "document_id, status, stay_id, signed_at IS NULL") == [
        ("D1", "signed", "S1", False), ("D2", "draft", "S1", True)]
    assert table_rows(con, "staff", "user_id, active, is_service_head") == [("u1", True, False), ("u2", False, False)]
