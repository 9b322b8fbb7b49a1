"""What merges, unmerges and undos send: PAM France ADT checked by hl7apy, FHIR by fhir.resources.

The receivers are played by libraries nobody here wrote: ``hl7apy`` in strict mode (HL7 v2.5)
and ``fhir.resources`` (R4 4.0.1), plus a small FHIR state (``fhir_state``) that applies the
transactions to full Patient records and shows what they change.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from fhir.resources.bundle import Bundle
from hl7apy.consts import VALIDATION_LEVEL
from hl7apy.parser import parse_message

from analytics import jobs
from analytics.messaging import messaging_settings
from analytics.messaging.files import message_file_name
from tests.analytics.jobs.conftest import ADMIN
from tests.analytics.jobs.fhir_state import FhirState, patient_resource

OID = "1.2.250.1.71.4.2.2"
SYSTEM = f"urn:oid:{OID}"
INS = "150037511100152"
MSH_TAIL = "|P|2.5^FRA^2.11|||||FRA|UNICODE UTF-8|FR||2.11^IHE_FRANCE-2.11-PAM"


@pytest.fixture
def con(warehouse):
    """The job fixture hospital with an IPP authority OID and a qualified identity with its INS."""
    warehouse.execute("INSERT INTO settings (key, value) VALUES ('messaging.ipp_oid', ?), "
                      "('messaging.ins_environment', 'test')", [OID])
    warehouse.execute("UPDATE patients SET ins = ?, birth_place_code = '88154', address = '12 rue des Lilas', "
                      "city = 'Paris' WHERE patient_id = 'P002'", [INS])
    warehouse.execute("UPDATE patients SET ins = '260058815400233' WHERE patient_id = 'P003'")  # VALI: no INS sent
    return warehouse


def _apply(con, job: str, params: dict | None = None) -> jobs.Run:
    return jobs.apply(con, ADMIN, jobs.preview(con, ADMIN, job, params or {}).preview_id)


def _files(run: jobs.Run) -> dict[str, bytes]:
    return {Path(p).name: Path(p).read_bytes() for p in run.outputs}


def _segments(message: bytes) -> list[str]:
    text = message.decode("utf-8")
    assert text.endswith("\r") and "\n" not in text
    return text[:-1].split("\r")


def _strict(message: bytes) -> None:
    parsed = parse_message(message.decode("utf-8"), validation_level=VALIDATION_LEVEL.STRICT, find_groups=True)
    assert parsed.validate() is True


def _server(con) -> FhirState:
    cur = con.execute("SELECT * FROM patients ORDER BY patient_id")
    rows = [dict(zip([d[0] for d in cur.description], r, strict=True)) for r in cur.fetchall()]
    return FhirState([patient_resource(r, SYSTEM) for r in rows], SYSTEM)


def _empty_arrays(node, path="$") -> list[str]:
    if isinstance(node, list):
        return [path] if not node else [p for i, v in enumerate(node) for p in _empty_arrays(v, f"{path}[{i}]")]
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _empty_arrays(v, f"{path}.{k}")]
    return []


def _check_bundle(raw: bytes) -> dict:
    bundle = json.loads(raw)
    Bundle.parse_obj(bundle)  # fhir.resources R4
    assert _empty_arrays(bundle) == []
    assert all(e["fullUrl"].startswith("urn:uuid:") for e in bundle["entry"])
    assert all(e["request"]["method"] == "PATCH" and "/" not in e["request"]["url"] for e in bundle["entry"])
    return bundle


def _without_link_active(state: FhirState) -> dict:
    return {k: {f: v for f, v in p.items() if f not in ("link", "active")} for k, p in state.patients.items()}


def test_adt_a40_follows_pam_france(con):
    files = _files(_apply(con, "merge-identities"))
    msh, evn, pid, mrg = _segments(files["adt_a40_P001.hl7"])
    assert msh.startswith("MSH|^~\\&|HYGIE|HOPITAL|||") and msh.endswith(MSH_TAIL)
    control = msh.split("|")[9]
    assert msh.split("|")[8] == "ADT^A40^ADT_A39" and len(control) == 20 and control.isalnum()
    assert evn.startswith("EVN||") and evn.split("|")[5] == "alice"
    assert pid == (
        f"PID|1||P002^^^HYGIE&{OID}&ISO^PI~{INS}^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS"
        "||DUPONT^JEAN^JEAN PIERRE^^^^L~MARTIN^^^^^^D||19500301|M"
        "|||12 rue des Lilas^^Paris^^^FRA^H~^^^^^FRA^BDL^^88154" + "|" * 21 + "VALI"
    )
    assert mrg == f"MRG|P001^^^HYGIE&{OID}&ISO^PI"
    _, _, pid4, mrg4 = _segments(files["adt_a40_P004.hl7"])
    assert pid4.split("|")[3] == f"P003^^^HYGIE&{OID}&ISO^PI"  # VALI (not qualified): no INS
    assert pid4.split("|")[32] == "PROV" and mrg4 == f"MRG|P004^^^HYGIE&{OID}&ISO^PI"
    assert {control} != {_segments(files["adt_a40_P004.hl7"])[0].split("|")[9]}


def test_every_message_of_a_merge_unmerge_and_undos_passes_hl7apy_strict(con):
    runs = [_apply(con, "merge-identities")]
    runs.append(_apply(con, "unmerge-identity", {"patient_id": "P001"}))
    runs.append(jobs.undo(con, ADMIN, runs[1].run_id))
    runs.append(jobs.undo(con, ADMIN, runs[0].run_id))
    names = [sorted(n for n in _files(r) if n.endswith(".hl7")) for r in runs]
    assert names == [
        ["adt_a40_P001.hl7", "adt_a40_P004.hl7"],
        ["adt_a28_P001.hl7", "adt_a31_P002.hl7"],
        ["adt_a40_P001.hl7"],
        ["adt_a28_P001.hl7", "adt_a28_P004.hl7", "adt_a31_P002.hl7", "adt_a31_P003.hl7"],
    ]
    for run in runs:
        for name, content in _files(run).items():
            if name.endswith(".hl7"):
                _strict(content)


def test_undo_of_a_merge_restores_each_record_in_adt(con):
    merge = _apply(con, "merge-identities")
    files = _files(jobs.undo(con, ADMIN, merge.run_id))
    msh, _, pid, pv1 = _segments(files["adt_a28_P001.hl7"])
    assert msh.split("|")[8] == "ADT^A28^ADT_A05" and pv1 == "PV1|1|N"
    assert pid.split("|")[3] == f"P001^^^HYGIE&{OID}&ISO^PI" and pid.split("|")[32] == "PROV"
    _, _, pid2, _ = _segments(files["adt_a31_P002.hl7"])
    assert pid2.split("|")[11] == "12 rue des Lilas^^Paris^^^FRA^H~^^^^^FRA^BDL^^88154"
    assert pid2.split("|")[13:14] == [""]  # the phone completed from P001 is not P002's any more


def test_fhir_merge_changes_only_link_and_active_and_undo_takes_it_back(con):
    server = _server(con)
    before = copy.deepcopy(server.patients)
    merge = _apply(con, "merge-identities")
    bundle = _check_bundle(_files(merge)["merge_bundle.json"])
    server.apply(bundle)
    assert _without_link_active(server) == {k: {f: v for f, v in p.items() if f not in ("link", "active")}
                                            for k, p in before.items()}
    p1, p2 = server.patients["P001"], server.patients["P002"]
    assert p1["active"] is False and p1["link"] == [
        {"other": {"identifier": {"system": SYSTEM, "value": "P002"}}, "type": "replaced-by"}]
    assert p2["active"] is True and p2["link"] == [
        {"other": {"identifier": {"system": SYSTEM, "value": "P001"}}, "type": "replaces"}]
    assert {k for k, p in server.patients.items() if p != before[k]} == {"P001", "P002", "P003", "P004"}
    undo = jobs.undo(con, ADMIN, merge.run_id)
    server.apply(_check_bundle(_files(undo)["unmerge_bundle.json"]))
    assert server.patients == before


def test_fhir_unmerge_removes_the_links_on_both_sides(con):
    server = _server(con)
    before = copy.deepcopy(server.patients)
    server.apply(_files(_apply(con, "merge-identities"))["merge_bundle.json"])
    unmerge = _apply(con, "unmerge-identity", {"patient_id": "P001"})
    server.apply(_check_bundle(_files(unmerge)["unmerge_bundle.json"]))
    assert server.patients["P001"] == before["P001"] and server.patients["P002"] == before["P002"]
    assert server.patients["P004"]["link"][0]["type"] == "replaced-by"  # the other merge stays
    redo = jobs.undo(con, ADMIN, unmerge.run_id)  # undoing the unmerge merges again
    server.apply(_check_bundle(_files(redo)["merge_bundle.json"]))
    assert server.patients["P001"]["active"] is False and "link" in server.patients["P002"]


def test_hostile_patient_ids_stay_out_of_urls_and_file_names(con):
    con.execute("UPDATE patients SET patient_id = '../Organization/evil?_x=1' WHERE patient_id = 'P001'")
    for pid, twin in (("a/dup", "P007"), ("b/dup", "P005")):
        con.execute("INSERT INTO patients (patient_id, birth_name, first_names, birth_date, sex, identity_status, "
                    "created_at) SELECT ?, birth_name, first_names, birth_date, sex, 'PROV', now() "
                    "FROM patients WHERE patient_id = ?", [pid, twin])
        con.execute("INSERT INTO pair_reviews (patient_id_1, patient_id_2, decision, reviewer, decided_at) "
                    "VALUES (?, ?, 'same', 'rev', now())", [twin, pid])
    con.execute("UPDATE match_clusters SET patient_id = '../Organization/evil?_x=1' WHERE patient_id = 'P001'")
    con.execute("UPDATE match_pairs SET patient_id_1 = '../Organization/evil?_x=1' WHERE patient_id_1 = 'P001'")
    files = _files(_apply(con, "merge-identities"))
    a40 = sorted(n for n in files if n.startswith("adt_a40_"))
    assert len(a40) == 4 and len(set(a40)) == 4  # a/dup and b/dup no longer both write dup.hl7
    assert message_file_name("adt_a40", "a/dup", "hl7") != message_file_name("adt_a40", "b/dup", "hl7")
    bundle = _check_bundle(files["merge_bundle.json"])
    urls = {e["request"]["url"] for e in bundle["entry"]}
    assert "Patient?identifier=urn%3Aoid%3A1.2.250.1.71.4.2.2%7C..%2FOrganization%2Fevil%3F_x%3D1" in urls
    assert all(u.startswith("Patient?identifier=") and "/" not in u and "?_x" not in u for u in urls)
    for name in a40:
        _strict(files[name])


@pytest.mark.parametrize(
    ("description", "settings", "message"),
    [
        ("namespace too long for HD.1", {"ipp_namespace": "X" * 21}, "ipp_namespace='XXXXXXXXXXXXXXXXXXXXX': expected 1 to 20"),
        ("not an OID", {"ipp_oid": "1.2.abc"}, "ipp_oid='1.2.abc': not an OID"),
        ("unknown INS environment", {"ins_environment": "prod"}, "ins_environment='prod': expected one of production, test, demo"),
        ("MLLP endpoint without port", {"mllp_endpoint": "localhost"}, "mllp_endpoint='localhost': expected host:port"),
    ],
)
def test_bad_messaging_settings_are_refused_with_the_setting_named(description, settings, message):
    with pytest.raises(Exception, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        messaging_settings(None, settings)


@pytest.mark.parametrize(
    ("description", "patient", "pid3", "pid32"),
    [
        ("qualified with an INS-NIR (test authority)", {"identity_status": "QUAL", "ins": "150037511100152"},
         f"X1^^^HYGIE&{OID}&ISO^PI~150037511100152^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.10&ISO^INS", "VALI"),
        ("qualified with an INS-NIA (starts with 7 or 8)", {"identity_status": "QUAL", "ins": "750037511100152"},
         f"X1^^^HYGIE&{OID}&ISO^PI~750037511100152^^^ASIP-SANTE-INS-NIA&1.2.250.1.213.1.4.9&ISO^INS", "VALI"),
        ("retrieved (RECUP): the INS is not shared", {"identity_status": "RECUP", "ins": "150037511100152"},
         f"X1^^^HYGIE&{OID}&ISO^PI", "PROV"),
        ("no status; attributes PAM France allows, others dropped",
         {"identity_status": None, "identity_attributes": "DOUT fict XYZ"}, f"X1^^^HYGIE&{OID}&ISO^PI", "VIDE~DOUT~FICT"),
    ],
)
def test_pid_identifiers_and_reliability(description, patient, pid3, pid32):
    from analytics.messaging.hl7v2 import pid

    settings = messaging_settings(None, {"ipp_oid": OID, "ins_environment": "test"})
    fields = pid({"patient_id": "X1", "birth_name": "A", "first_names": "B", **patient}, settings).split("|")
    assert (fields[3], fields[32]) == (pid3, pid32), description


def test_unmerge_notes_the_manual_step_left_to_the_receivers(con):
    _apply(con, "merge-identities")
    prev = jobs.preview(con, ADMIN, "unmerge-identity", {"patient_id": "P001"})
    assert prev.notes[1] == ("receivers: ADT^A28/A31 and FHIR patches restore the identities; the 2 document(s) "
                             "and the stays they moved to P002 must be moved back in each receiver by hand "
                             "(PAM France has no message reversing an A40)")


def test_hygie_info_shows_the_assigning_authority(warehouse_path, monkeypatch):
    from click.testing import CliRunner

    from analytics.cli import main

    monkeypatch.setenv("HYGIE_MESSAGING_IPP_OID", OID)
    monkeypatch.setenv("HYGIE_MESSAGING_IPP_NAMESPACE", "CHU-EXEMPLE")
    result = CliRunner().invoke(main, ["--db", str(warehouse_path), "info"], catch_exceptions=False)
    assert result.exit_code == 0
    assert f"IPP assigning authority (PID-3 CX-4): CHU-EXEMPLE&{OID}&ISO" in result.output.splitlines()
    assert "MLLP delivery: off (files only); FHIR delivery: off (files only)" in result.output.splitlines()
