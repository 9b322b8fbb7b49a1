"""Parquet and FHIR R4 NDJSON imports."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from analytics.access.roles import system_actor
from analytics.importing import import_file
from tests.analytics.importing.helpers import PARIS_INS, table_rows

SYSTEM = system_actor()

INS_OID = "urn:oid:1.2.250.1.213.1.4.8"
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"


def _ndjson(path, resources):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in resources), encoding="utf-8")
    return path


def test_parquet_written_by_pyarrow_with_native_types(con, tmp_path):
    table = pa.table({
        "IPP": ["P1", "P2"],
        "NOM_NAISSANCE": ["DUPONT", "MARTIN"],
        "DATE_NAISSANCE": pa.array([dt.date(1980, 3, 12), None], pa.date32()),
        "SEXE": ["F", "Q"],
        "AGE": [44, 30],
    })
    path = tmp_path / "patients.parquet"
    pq.write_table(table, path)
    report = import_file(con, "patients", path, actor=SYSTEM)
    assert (report.format, report.rows_inserted, report.findings_count) == ("parquet", 2, 1)
    assert (report.findings[0].line, report.findings[0].column, report.findings[0].raw_value) == (2, "sex", "Q")
    assert "ignored 1 unknown column(s): AGE" in report.notices
    assert table_rows(con, "patients", "patient_id, birth_date, sex") == [
        ("P1", dt.date(1980, 3, 12), "F"), ("P2", None, None)]


def test_parquet_written_by_duckdb_with_timestamptz(con, tmp_path):
    path = tmp_path / "audit.parquet"
    other = duckdb.connect()
    other.execute("SET TimeZone = 'UTC'")
    other.execute(
        "COPY (SELECT 'E' || i AS event_id, 'u1' AS user_id, "
        "TIMESTAMPTZ '2024-07-01 08:00:00+00' + i * INTERVAL 1 MINUTE AS timestamp, 'inbox' AS activity "
        "FROM range(3) t(i)) TO ? (FORMAT parquet)", [str(path)])
    other.close()
    report = import_file(con, "audit", path, actor=SYSTEM)
    assert report.rows_inserted == 3 and report.findings_count == 0
    first = con.execute("SELECT timestamp FROM audit_events ORDER BY event_id LIMIT 1").fetchone()[0]
    assert first.astimezone(dt.UTC) == dt.datetime(2024, 7, 1, 8, 0, tzinfo=dt.UTC)


PATIENT = {
    "resourceType": "Patient", "id": "fhir-1",
    "identifier": [
        {"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]},
         "system": "urn:oid:1.2.250.1.71.4.2.1", "value": "IPP-001"},
        {"system": INS_OID, "value": PARIS_INS},
    ],
    "name": [
        {"use": "usual", "family": "MARTIN", "given": ["Zoé"]},
        {"use": "official", "family": "DUPONT", "given": ["Marie", "Zoé"],
         "extension": [{"url": f"{FR_CORE}/fr-core-birth-list-given-name", "valueString": "Marie Zoé Anne"}]},
    ],
    "gender": "female", "birthDate": "1980-03-12",
    "extension": [
        {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
         "valueAddress": {"extension": [{"url": f"{FR_CORE}/fr-core-address-insee-code",
                                         "valueCoding": {"code": "75056"}}], "city": "Paris"}},
        {"url": f"{FR_CORE}/fr-core-identity-reliability",
         "extension": [{"url": "identityStatus", "valueCoding": {"code": "VALI"}}]},
    ],
    "address": [{"line": ["3 rue de la Paix", "Bât. B"], "postalCode": "75002", "city": "Paris"}],
    "telecom": [{"system": "email", "value": "zoe@example.fr"}, {"system": "phone", "value": "06 12 34 56 78"}],
}
PATIENT_2 = {"resourceType": "Patient", "id": "P2", "name": [{"family": "DURAND", "given": ["Luc"]}],
             "gender": "male", "birthDate": "1955-02-31"}


def test_fhir_patients(con, tmp_path):
    report = import_file(con, "patients", _ndjson(tmp_path / "Patient.ndjson", [PATIENT, PATIENT_2]), actor=SYSTEM)
    assert (report.format, report.rows_inserted) == ("fhir-ndjson", 2)
    assert [(f.line, f.column, f.raw_value) for f in report.findings] == [(2, "birth_date", "1955-02-31")]
    assert table_rows(con, "patients", "patient_id, birth_name, first_names, used_name, used_first_name, birth_date, "
                      "sex, birth_place_code, ins, identity_status, address, postcode, city, phone, email") == [
        ("IPP-001", "DUPONT", "Marie Zoé Anne", "MARTIN", "Zoé", dt.date(1980, 3, 12), "F", "75056", PARIS_INS,
         "VALI", "3 rue de la Paix Bât. B", "75002", "Paris", "06 12 34 56 78", "zoe@example.fr"),
        ("P2", "DURAND", "Luc", None, None, None, "M", None, None, None, None, None, None, None, None),
    ]


def test_fhir_document_references(con, tmp_path):
    doc = {"resourceType": "DocumentReference", "id": "D1", "status": "current", "docStatus": "final",
           "type": {"coding": [{"system": "http://loinc.org", "code": "18842-5", "display": "Discharge summary"}]},
           "subject": {"reference": "Patient/IPP-001"}, "date": "2024-03-01T10:00:00+01:00",
           "author": [{"reference": "Practitioner/u1"}], "authenticator": {"reference": "Practitioner/u2"},
           "content": [{"attachment": {"contentType": "application/pdf", "hash": "2jmj7l5rSw0yVb/vlWAYkK/YBwk=",
                                       "title": "CRH cardiologie", "creation": "2024-03-01T09:30:00+01:00"}}],
           "context": {"encounter": [{"reference": "Encounter/NDA-9"}],
                       "practiceSetting": {"coding": [{"code": "CARDIO", "display": "Cardiologie"}]}}}
    draft = {"resourceType": "DocumentReference", "id": "D2", "docStatus": "preliminary",
             "subject": {"reference": "Patient/IPP-001"}}
    import_file(con, "documents", _ndjson(tmp_path / "DocumentReference.ndjson", [doc, draft]), actor=SYSTEM)
    rows = table_rows(con, "documents", "document_id, patient_id, document_type, title, author_id, service, "
                      "created_at, signed_by, status, content_hash, stay_id")
    assert rows[0][:6] == ("D1", "IPP-001", "Discharge summary", "CRH cardiologie", "u1", "Cardiologie")
    assert rows[0][6].astimezone(dt.UTC) == dt.datetime(2024, 3, 1, 8, 30, tzinfo=dt.UTC)
    assert rows[0][7:] == ("u2", "signed", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=", "NDA-9")
    assert rows[1][8] == "draft"


def test_fhir_audit_events(con, tmp_path):
    event = {"resourceType": "AuditEvent", "id": "A1", "action": "U", "recorded": "2024-03-01T22:15:00+01:00",
             "type": {"code": "rest"}, "subtype": [{"code": "documentation"}],
             "agent": [{"requestor": False, "who": {"reference": "Device/dpi"}},
                       {"requestor": True, "who": {"identifier": {"value": "10001234567"}},
                        "network": {"address": "PC-CARDIO-3"}}],
             "source": {"site": "Cardiologie", "observer": {"reference": "Device/dpi"}},
             "entity": [{"what": {"reference": "Patient/IPP-001"}}, {"what": {"reference": "DocumentReference/D1"}}]}
    report = import_file(con, "audit", _ndjson(tmp_path / "AuditEvent.ndjson", [event]), actor=SYSTEM)
    assert report.rows_inserted == 1
    row = table_rows(con, "audit_events", "event_id, user_id, action, activity, patient_id, document_id, service, "
                     "workstation")[0]
    assert row == ("A1", "10001234567", "U", "documentation", "IPP-001", "D1", "Cardiologie", "PC-CARDIO-3")
