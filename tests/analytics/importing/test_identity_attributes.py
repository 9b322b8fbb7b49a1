"""RNIV identity attributes (DOUT, FICT, HOMD, HOMA) and INS coherence at import: read from CSV,
Parquet and FR Core FHIR; unknown codes and an INS contradicting the row's traits are findings,
the values are kept."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq

from analytics.access.roles import system_actor
from analytics.importing import import_file
from tests.analytics.importing.helpers import PARIS_INS, table_rows, write_text

SYSTEM = system_actor()
FR_CORE = "https://hl7.fr/ig/fhir/core/StructureDefinition"


def _findings(report) -> list[tuple]:
    return [(f.line, f.column, f.raw_value, f.problem) for f in report.findings]


def test_csv_attributes_with_a_french_header_and_an_unknown_code(con, tmp_path):
    text = ("IPP;NOM_NAISSANCE;PRENOMS;ATTRIBUTS_IDENTITE\n"
            "P1;DUPONT;Marie;fict\n"
            "P2;DURAND;Luc;DOUT | HOMD\n"
            "P3;MARTIN;Léa;HOMA XYZ\n"
            "P4;PETIT;Jean;\n")
    report = import_file(con, "patients", write_text(tmp_path, "patients.csv", text), actor=SYSTEM)
    assert report.rows_inserted == 4
    assert table_rows(con, "patients", "patient_id, identity_attributes") == [
        ("P1", "FICT"), ("P2", "DOUT HOMD"), ("P3", "HOMA XYZ"), ("P4", None)]
    assert _findings(report) == [
        (4, "identity_attributes", "HOMA XYZ",
         "unknown identity attribute code(s) XYZ (known: DOUT, FICT, HOMD, HOMA, DPOT, DOUA, COLP, COLV, DESA); "
         "value kept as is")]


def test_parquet_attributes(con, tmp_path):
    path = tmp_path / "patients.parquet"
    pq.write_table(pa.table({"IPP": ["P1", "P2"], "NOM": ["DUPONT", "MARTIN"],
                             "IDENTITY_ATTRIBUTES": ["HOMA", None]}), path)
    report = import_file(con, "patients", path, actor=SYSTEM)
    assert (report.rows_inserted, report.findings_count) == (2, 0)
    assert table_rows(con, "patients", "patient_id, identity_attributes") == [("P1", "HOMA"), ("P2", None)]


def test_fhir_attributes_from_the_identity_reliability_extension(con, tmp_path):
    patient = {
        "resourceType": "Patient", "id": "F1", "name": [{"use": "official", "family": "DUPONT", "given": ["Marie"]}],
        "extension": [{"url": f"{FR_CORE}/fr-core-identity-reliability", "extension": [
            {"url": "identityStatus", "valueCoding": {"code": "PROV"}},
            {"url": "identityAttribute", "valueCoding": {"code": "FICT"}}]}],
        "meta": {"tag": [{"code": "HOMD"}, {"code": "not-an-attribute"}]},
    }
    plain = {"resourceType": "Patient", "id": "F2", "name": [{"family": "MARTIN", "given": ["Luc"]}]}
    path = tmp_path / "Patient.ndjson"
    path.write_text("".join(json.dumps(r) + "\n" for r in (patient, plain)), encoding="utf-8")
    report = import_file(con, "patients", path, actor=SYSTEM)
    assert report.findings_count == 0
    assert table_rows(con, "patients", "patient_id, identity_status, identity_attributes") == [
        ("F1", "PROV", "FICT HOMD"), ("F2", None, None)]


INS_CASES = [
    # description, sex, birth date, birth place, expected finding text (None: coherent)
    ("coherent: woman, March 1980, Paris", "F", "12/03/1980", "75056", None),
    ("sex contradicts the NIR", "M", "12/03/1980", "75056", "sex"),
    ("year and month contradict", "F", "12/04/1981", "75056", "birth year, birth month"),
    ("01/01 default date: the month is not checked", "F", "01/01/1980", "75056", None),
    ("born in another département", "F", "12/03/1980", "35238", "birth place"),
    ("unknown sex: not checked", "U", "12/03/1980", "75056", None),
]


def test_ins_incoherent_with_the_recorded_traits_is_a_finding(con, tmp_path):
    lines = ["IPP;NOM;PRENOMS;SEXE;DATE_NAISSANCE;LIEU_NAISSANCE;INS"]
    lines += [f"P{k};DUPONT;Marie;{sex};{born};{place};{PARIS_INS}"
              for k, (_d, sex, born, place, _e) in enumerate(INS_CASES)]
    report = import_file(con, "patients", write_text(tmp_path, "p.csv", "\n".join(lines) + "\n"), actor=SYSTEM)
    assert report.rows_inserted == len(INS_CASES)
    expected = [(k + 2, "ins", PARIS_INS, f"INS does not match the recorded {what} (the NIR encodes sex, birth "
                 "year and month, birth place); value kept")
                for k, (_d, _s, _b, _p, what) in enumerate(INS_CASES) if what]
    assert _findings(report) == expected
    # the INS is kept on every row: a finding, not a refusal (typos exist on both sides)
    assert [r[0] for r in table_rows(con, "patients", "ins")] == [PARIS_INS] * len(INS_CASES)
