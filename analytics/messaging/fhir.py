"""FHIR R4 merges that never remove data: a transaction of FHIRPath Patches on link and active.

Why patches rather than ``PUT Patient`` or ``$merge``: a PUT replaces the whole resource, so a
receiver loses every element Hygie does not send (INS, addresses, FR Core extensions); R4 has
no standard ``Patient/$merge`` (it arrives in R5, and what it copies into the target is the
server's choice). A FHIRPath Patch (R4 §3.1.0.4 "fhirpatch") names the elements it changes:
here only ``Patient.active`` and ``Patient.link``.

Each entry addresses the patient by a conditional URL on its IPP identifier
(``Patient?identifier=<system>|<value>``, percent-encoded): the receiver's logical ids are not
Hygie's IPPs, and a patient id such as ``../Organization/x?_a=1`` cannot reach the URL path.
Links refer to the other patient by identifier (a logical reference) for the same reason.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from analytics.messaging.settings import MessagingSettings

__all__ = ["conditional_url", "link_patches", "transaction_bundle"]


def identifier(patient_id: str, s: MessagingSettings) -> dict[str, str]:
    return {"system": s.ipp_system, "value": patient_id}


def conditional_url(patient_id: str, s: MessagingSettings) -> str:
    """``Patient?identifier=system|value`` with the token percent-encoded (no path traversal)."""
    return "Patient?identifier=" + quote(f"{s.ipp_system}|{patient_id}", safe="")


def _fhirpath_string(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _op(kind: str, path: str, **extra: Any) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [{"name": "type", "valueCode": kind}, {"name": "path", "valueString": path}]
    if "name" in extra:
        parts.append({"name": "name", "valueString": extra["name"]})
    if "value" in extra:
        parts.append({"name": "value", **extra["value"]})
    return {"name": "operation", "part": parts}


def set_active(active: bool) -> list[dict[str, Any]]:
    """Set ``Patient.active`` whether or not the receiver's record has it (delete, then add)."""
    return [_op("delete", "Patient.active"), _op("add", "Patient", name="active", value={"valueBoolean": active})]


def add_link(other: str, kind: str, s: MessagingSettings) -> dict[str, Any]:
    return _op("add", "Patient", name="link", value={"part": [
        {"name": "other", "valueReference": {"identifier": identifier(other, s)}},
        {"name": "type", "valueCode": kind},
    ]})


def delete_link(other: str, kind: str, s: MessagingSettings) -> dict[str, Any]:
    where = (f"type = {_fhirpath_string(kind)} and other.identifier.system = {_fhirpath_string(s.ipp_system)}"
             f" and other.identifier.value = {_fhirpath_string(other)}")
    return _op("delete", f"Patient.link.where({where})")


def link_patches(pairs: Iterable[tuple[str, str]], s: MessagingSettings, *, merge: bool) -> dict[str, list]:
    """Per patient id, the patch operations that merge (or unmerge) each (survivor, loser) pair.

    Merge: the loser becomes inactive and ``replaced-by`` the survivor, which ``replaces`` it.
    Unmerge: the loser is active again and both links are removed, on both sides.
    """
    ops: dict[str, list] = {}
    for survivor, loser in pairs:
        if merge:
            ops.setdefault(loser, []).extend([*set_active(False), add_link(survivor, "replaced-by", s)])
            ops.setdefault(survivor, []).append(add_link(loser, "replaces", s))
        else:
            ops.setdefault(loser, []).extend([*set_active(True), delete_link(survivor, "replaced-by", s)])
            ops.setdefault(survivor, []).append(delete_link(loser, "replaces", s))
    return ops


def transaction_bundle(ops: dict[str, list], s: MessagingSettings, now: dt.datetime) -> bytes | None:
    """A transaction Bundle of one PATCH per patient (``None`` when there is nothing to send)."""
    if not ops:
        return None
    entries = [
        {"fullUrl": f"urn:uuid:{uuid.uuid4()}",
         "resource": {"resourceType": "Parameters", "parameter": operations},
         "request": {"method": "PATCH", "url": conditional_url(patient_id, s)}}
        for patient_id, operations in ops.items() if operations
    ]
    bundle = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "transaction",
              "timestamp": now.isoformat(), "entry": entries}
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
