"""How merges reach other systems: a FHIR R4 Bundle of Patient links and HL7 v2 ADT^A40 messages."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
_GENDER = {"M": "male", "F": "female", "U": "unknown"}


def ipp_system(source: str | None) -> str:
    """Identifier system of a source's IPPs (configure the hospital's OID per source)."""
    return f"urn:hygie:ipp:{source or 'default'}"


def _identifier(patient_id: str, source: str | None, use: str) -> dict[str, Any]:
    return {"use": use, "type": {"coding": [{"system": V2_0203, "code": "PI"}]},
            "system": ipp_system(source), "value": patient_id}


def _names(p: dict[str, Any]) -> list[dict[str, Any]]:
    names = []
    if p.get("birth_name") or p.get("first_names"):
        names.append({"use": "official", "family": p.get("birth_name"),
                      "given": (p.get("first_names") or "").split() or None})
    if p.get("used_name") or p.get("used_first_name"):
        names.append({"use": "usual", "family": p.get("used_name") or p.get("birth_name"),
                      "given": [p["used_first_name"]] if p.get("used_first_name") else None})
    return [{k: v for k, v in n.items() if v} for n in names]


def patient_resource(p: dict[str, Any], *, links: list[tuple[str, str]], old_ids: list[str]) -> dict[str, Any]:
    """A FHIR Patient with its IPP, old IPPs and links (``replaced-by`` / ``replaces``)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": p["patient_id"],
        "identifier": [_identifier(p["patient_id"], p.get("source"), "usual" if p["active"] else "old")]
        + [_identifier(o, p.get("source"), "old") for o in old_ids],
        "active": bool(p["active"]),
    }
    names = _names(p)
    if names:
        resource["name"] = names
    if p.get("sex") in _GENDER:
        resource["gender"] = _GENDER[p["sex"]]
    if p.get("birth_date"):
        resource["birthDate"] = p["birth_date"].isoformat()
    resource["link"] = [{"other": {"reference": f"Patient/{other}"}, "type": kind} for other, kind in links]
    return resource


def merge_bundle(resources: list[dict[str, Any]], now: dt.datetime, bundle_id: str) -> bytes:
    """A FHIR transaction Bundle updating every touched Patient."""
    bundle = {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "transaction",
        "timestamp": now.isoformat(),
        "entry": [
            {"fullUrl": f"Patient/{r['id']}", "resource": r,
             "request": {"method": "PUT", "url": f"Patient/{r['id']}"}}
            for r in resources
        ],
    }
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")  # C encoder: fast


def hl7_escape(value: object) -> str:
    """Escape HL7 v2 delimiters inside a field value."""
    text = "" if value is None else str(value)
    return (text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
            .replace("&", "\\T\\").replace("~", "\\R\\").replace("\r", " ").replace("\n", " "))


def adt_a40(survivor: dict[str, Any], loser_id: str, loser_source: str | None, *, now: dt.datetime,
            control_id: str, operator: str, sending_facility: str, receiving_application: str,
            receiving_facility: str) -> bytes:
    """An HL7 v2.5 ADT^A40 (merge patient, patient identifier list): MSH, EVN, PID, MRG."""
    ts = now.strftime("%Y%m%d%H%M%S%z")
    e = hl7_escape
    authority = e(ipp_system(survivor.get("source")))
    pid5 = f"{e(survivor.get('birth_name'))}^{e((survivor.get('first_names') or '').split(' ')[0])}^^^^^L"
    if survivor.get("used_name"):
        pid5 += f"~{e(survivor['used_name'])}^{e(survivor.get('used_first_name'))}^^^^^D"
    birth = survivor["birth_date"].strftime("%Y%m%d") if survivor.get("birth_date") else ""
    segments = [
        f"MSH|^~\\&|HYGIE|{e(sending_facility)}|{e(receiving_application)}|{e(receiving_facility)}|{ts}||"
        f"ADT^A40^ADT_A39|{e(control_id)}|P|2.5|||||FRA|UNICODE UTF-8",
        f"EVN|A40|{ts}|||{e(operator)}",
        f"PID|1||{e(survivor['patient_id'])}^^^{authority}^PI||{pid5}||{birth}|{e(survivor.get('sex'))}",
        f"MRG|{e(loser_id)}^^^{e(ipp_system(loser_source))}^PI",
    ]
    return ("\r".join(segments) + "\r").encode("utf-8")
