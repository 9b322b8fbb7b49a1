"""A small FHIR server state that applies Hygie's transactions, as a receiver would.

It knows the subset of FHIRPath Patch that :mod:`analytics.messaging.fhir` writes (set
``active``, add a ``link``, delete a ``link`` selected by type and identifier) and refuses
anything else, so a test fails if the output starts doing something a receiver would not
expect. A transaction applies whole or not at all; every patched Patient must still parse
with ``fhir.resources`` (R4).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import unquote

from fhir.resources.bundle import Bundle
from fhir.resources.patient import Patient

_WHERE = re.compile(
    r"^Patient\.link\.where\(type = '((?:[^'\\]|\\.)*)' and other\.identifier\.system = '((?:[^'\\]|\\.)*)'"
    r" and other\.identifier\.value = '((?:[^'\\]|\\.)*)'\)$"
)


class FhirError(Exception):
    """What a server would answer with an OperationOutcome."""


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


class FhirState:
    """Patients by (identifier system, value) of their IPP."""

    def __init__(self, patients: list[dict[str, Any]], system: str) -> None:
        self.system = system
        self.patients = {}
        for p in patients:
            Patient.parse_obj(p)
            ipp = next(i["value"] for i in p["identifier"] if i["system"] == system)
            self.patients[ipp] = copy.deepcopy(p)

    def apply(self, raw: bytes | str | dict[str, Any]) -> None:
        bundle = raw if isinstance(raw, dict) else json.loads(raw)
        Bundle.parse_obj(bundle)
        if bundle.get("type") != "transaction":
            raise FhirError(f"expected a transaction, got {bundle.get('type')}")
        work = copy.deepcopy(self.patients)
        for entry in bundle["entry"]:
            request = entry["request"]
            if request["method"] != "PATCH":
                raise FhirError(f"unexpected {request['method']} {request['url']}")
            match = re.fullmatch(r"Patient\?identifier=([^&/]+)", request["url"])
            if not match:
                raise FhirError(f"not a conditional Patient URL: {request['url']}")
            system, _, value = unquote(match.group(1)).partition("|")
            if system != self.system or value not in work:
                raise FhirError(f"no patient matches {request['url']}")
            resource = entry["resource"]
            if resource["resourceType"] != "Parameters":
                raise FhirError("a FHIRPath Patch body is a Parameters resource")
            for op in resource["parameter"]:
                self._operation(work[value], {part["name"]: part for part in op["part"]})
            Patient.parse_obj(work[value])
        self.patients = work

    def _operation(self, patient: dict[str, Any], parts: dict[str, dict[str, Any]]) -> None:
        kind, path = parts["type"]["valueCode"], parts["path"]["valueString"]
        if kind == "delete" and path == "Patient.active":
            patient.pop("active", None)
        elif kind == "add" and path == "Patient" and parts["name"]["valueString"] == "active":
            if "active" in patient:
                raise FhirError("add Patient.active: already present")
            patient["active"] = parts["value"]["valueBoolean"]
        elif kind == "add" and path == "Patient" and parts["name"]["valueString"] == "link":
            value = {p["name"]: p for p in parts["value"]["part"]}
            patient.setdefault("link", []).append(
                {"other": value["other"]["valueReference"], "type": value["type"]["valueCode"]})
        elif kind == "delete" and (m := _WHERE.match(path)):
            kind_, system, other = (_unescape(g) for g in m.groups())
            links = patient.get("link", [])
            keep = [lk for lk in links if not (lk["type"] == kind_ and lk["other"].get("identifier")
                                               == {"system": system, "value": other})]
            if len(links) - len(keep) != 1:
                raise FhirError(f"delete {path}: matched {len(links) - len(keep)} element(s), expected 1")
            if keep:
                patient["link"] = keep
            else:
                patient.pop("link")
        else:
            raise FhirError(f"unsupported patch operation {kind} {path}")


def patient_resource(row: dict[str, Any], system: str) -> dict[str, Any]:
    """A receiver's full record of a warehouse patient (what a PUT of less would erase)."""
    resource: dict[str, Any] = {
        "resourceType": "Patient", "id": f"srv-{abs(hash(row['patient_id'])) % 10**8}",
        "identifier": [{"system": system, "value": row["patient_id"]}],
        "active": True,
        "name": [{"use": "official", "family": row["birth_name"] or "X", "given": (row["first_names"] or "X").split()}],
        "address": [{"line": [row.get("address") or "1 rue de la Paix"], "postalCode": row.get("postcode") or "75001"}],
        "telecom": [{"system": "phone", "value": row.get("phone") or "0100000000"}],
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
                       "valueAddress": {"district": row.get("birth_place_code") or "75111"}}],
    }
    if row.get("ins"):
        resource["identifier"].append({"system": "urn:oid:1.2.250.1.213.1.4.10", "value": row["ins"]})
    return resource
