"""FHIR R4 resources of the API: ``Patient/$match`` in and out, CapabilityStatement, OperationOutcome.

Pure functions over dicts (no web framework here), so the mapping is tested on its own.

Input: a ``Parameters`` resource with a ``resource`` Patient (FR Core traits: official name =
birth name and birth given names, ``birth-list-given-name`` extension, usual name = used name,
``patient-birthPlace`` with its INSEE code, INS identifier under the INS-NIR/NIA OIDs, phone,
e-mail, postcode), ``onlyCertainMatches`` and ``count``. The same rules as the FHIR importer
(:mod:`analytics.importing.fhir`), so a Patient read from a bulk export and the same Patient
sent to ``$match`` give the same traits.

Output: a ``searchset`` Bundle, best first, each entry with ``search.mode = match``,
``search.score`` (the model's match probability) and the ``match-grade`` extension:

=========== =====================================================================
grade       when
=========== =====================================================================
certain     decided *match* and the strict traits (RNIV) all agree exactly — birth
            name, first name, birth date, sex, birth place — or the INS agrees with
            birth name and birth date
probable    decided *match* otherwise
possible    sent to review (a person must look)
=========== =====================================================================

Candidates decided *non-match* are not returned.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from analytics.errors import InvalidInput

__all__ = [
    "INS_OIDS",
    "MATCH_GRADE_URL",
    "bundle",
    "capability_statement",
    "match_grade",
    "operation_outcome",
    "parse_match_parameters",
]

INS_OIDS = ("urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9")  # INS-NIR, INS-NIA
MATCH_GRADE_URL = "http://hl7.org/fhir/StructureDefinition/match-grade"
BIRTH_PLACE_URL = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
BIRTH_LIST_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name"
INSEE_CODE_URL = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
IPP_TYPE = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "PI"}]}
_GENDER = {"male": "M", "female": "F", "other": "U", "unknown": "U"}
_GENDER_OUT = {"M": "male", "F": "female", "U": "unknown"}
_STRICT = ("birth_name", "first_name", "birth_date", "sex", "birth_place")
MAX_COUNT = 100
DEFAULT_COUNT = 10


class MatchRequestError(InvalidInput):
    """A ``$match`` body that cannot be used; ``french`` is the OperationOutcome's text."""

    def __init__(self, message: str, french: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.french = french
        self.code = code


def operation_outcome(text: str, *, severity: str = "error", code: str = "invalid") -> dict[str, Any]:
    """An OperationOutcome with one issue whose ``diagnostics`` is ``text`` (French)."""
    return {"resourceType": "OperationOutcome",
            "issue": [{"severity": severity, "code": code, "diagnostics": text}]}


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _extension(items: object, suffix: str) -> dict[str, Any] | None:
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and str(item.get("url", "")).endswith(suffix):
            return item
    return None


def _names(patient: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """(birth name, birth first names, used name) from ``Patient.name``."""
    names = [n for n in patient.get("name") or [] if isinstance(n, dict)] if isinstance(patient.get("name"), list) else []
    official = next((n for n in names if n.get("use") == "official"), None) or next(
        (n for n in names if n.get("use") is None), None)
    usual = next((n for n in names if n.get("use") == "usual"), None)
    birth_name = first_names = used_name = None
    if official is not None:
        birth_name = _text(official.get("family"))
        listed = _extension(official.get("extension"), "birth-list-given-name")
        given = official.get("given") if isinstance(official.get("given"), list) else []
        first_names = _text((listed or {}).get("valueString")) or _text(" ".join(g for g in given if isinstance(g, str)))
    if usual is not None:
        used_name = _text(usual.get("family"))
    return birth_name, first_names, used_name


def _birth_place(patient: dict[str, Any]) -> str | None:
    place = _extension(patient.get("extension"), "patient-birthPlace")
    address = (place or {}).get("valueAddress")
    if not isinstance(address, dict):
        return None
    code = _extension(address.get("extension"), "insee-code")
    if code is not None:
        coding = code.get("valueCoding") if isinstance(code.get("valueCoding"), dict) else {}
        value = _text(coding.get("code")) or _text(code.get("valueCode")) or _text(code.get("valueString"))
        if value:
            return value
    return _text(address.get("district"))


def _telecom(patient: dict[str, Any], system: str) -> str | None:
    for item in patient.get("telecom") or [] if isinstance(patient.get("telecom"), list) else []:
        if isinstance(item, dict) and item.get("system") == system and _text(item.get("value")):
            return _text(item.get("value"))
    return None


def patient_traits(patient: dict[str, Any]) -> dict[str, str | None]:
    """The traits of a FHIR Patient, as :func:`analytics.identity.search_identities` takes them."""
    birth_name, first_names, used_name = _names(patient)
    identifiers = patient.get("identifier") if isinstance(patient.get("identifier"), list) else []
    ins = next((_text(i.get("value")) for i in identifiers
                if isinstance(i, dict) and i.get("system") in INS_OIDS and _text(i.get("value"))), None)
    addresses = patient.get("address") if isinstance(patient.get("address"), list) else []
    postcode = next((_text(a.get("postalCode")) for a in addresses
                     if isinstance(a, dict) and _text(a.get("postalCode"))), None)
    gender = patient.get("gender")
    return {"birth_name": birth_name, "used_name": used_name, "first_names": first_names,
            "birth_date": _text(patient.get("birthDate")),
            "sex": _GENDER.get(gender) if isinstance(gender, str) else None,
            "birth_place": _birth_place(patient), "ins": ins, "phone": _telecom(patient, "phone"),
            "email": _telecom(patient, "email"), "postcode": postcode}


def parse_match_parameters(body: object) -> tuple[dict[str, str | None], bool, int]:
    """(traits, onlyCertainMatches, count) from a ``$match`` request body (parsed JSON).

    Raises :class:`MatchRequestError` (English message, French ``french``) when the body cannot
    be used: not a Parameters, no Patient, no usable trait, a malformed date, a bad count.
    """
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise MatchRequestError("the body is not a FHIR Parameters resource",
                                "Le corps de la requête n'est pas une ressource FHIR Parameters.")
    params = body.get("parameter") if isinstance(body.get("parameter"), list) else []
    by_name = {p.get("name"): p for p in params if isinstance(p, dict)}
    patient = (by_name.get("resource") or {}).get("resource")
    if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
        raise MatchRequestError("Parameters: no 'resource' parameter holding a Patient",
                                "Le paramètre « resource » contenant un Patient est absent.", "required")
    only_certain = (by_name.get("onlyCertainMatches") or {}).get("valueBoolean", False)
    if not isinstance(only_certain, bool):
        raise MatchRequestError("onlyCertainMatches: expected a valueBoolean",
                                "onlyCertainMatches : une valeur booléenne (valueBoolean) est attendue.")
    count = (by_name.get("count") or {}).get("valueInteger", DEFAULT_COUNT)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_COUNT:
        raise MatchRequestError(f"count: expected a valueInteger between 1 and {MAX_COUNT}",
                                f"count : un entier (valueInteger) entre 1 et {MAX_COUNT} est attendu.")
    traits = patient_traits(patient)
    if not any(traits.values()):
        raise MatchRequestError("Patient: no usable identity trait",
                                "Le Patient ne porte aucun trait d'identité exploitable "
                                "(nom, prénoms, date de naissance, sexe, lieu de naissance, INS).", "required")
    named = bool(traits["birth_name"] or traits["used_name"])
    if not (traits["ins"] or (named and traits["first_names"]) or (traits["birth_date"] and (named or traits["first_names"]))):
        raise MatchRequestError("Patient: give an INS, or a name and first names, or a birth date with a name or "
                                "first names (the first letters are enough)",
                                "Traits insuffisants : donnez un INS, ou un nom et des prénoms, ou une date de "
                                "naissance avec un nom ou un prénom (ses premières lettres suffisent).", "required")
    if traits["birth_date"] is not None:
        try:
            dt.date.fromisoformat(traits["birth_date"])
        except ValueError:
            raise MatchRequestError(f"Patient.birthDate: '{traits['birth_date']}' is not a date (YYYY-MM-DD)",
                                    f"Patient.birthDate : « {traits['birth_date']} » n'est pas une date "
                                    "(AAAA-MM-JJ attendu).") from None
    return traits, only_certain, count


def match_grade(decision: str, levels: dict[str, str]) -> str | None:
    """``certain`` / ``probable`` / ``possible`` for a candidate, ``None`` for a non-match."""
    if decision == "review":
        return "possible"
    if decision != "match":
        return None
    strict = all(levels.get(f) == "exact" for f in _STRICT)
    ins = levels.get("ins") == "exact" and levels.get("birth_name") == "exact" and levels.get("birth_date") == "exact"
    return "certain" if strict or ins else "probable"


def _value(row: dict[str, Any], key: str) -> Any:
    """``row[key]``, or None for a missing value (None, NaN, NaT, empty text)."""
    value = row.get(key)
    if value is None or value == "" or (isinstance(value, float) and value != value):
        return None
    try:
        import pandas as pd

        return None if pd.isna(value) else value
    except (TypeError, ValueError):  # a list or another non-scalar value
        return value


def _patient_resource(source: dict[str, Any]) -> dict[str, Any]:
    row = {key: _value(source, key) for key in source}
    pid = str(row["patient_id"])
    official: dict[str, Any] = {"use": "official"}
    if row.get("birth_name"):
        official["family"] = row["birth_name"]
    if row.get("first_names"):
        official["given"] = str(row["first_names"]).split()
    names = [official]
    if row.get("used_name"):
        names.append({"use": "usual", "family": row["used_name"]})
    out: dict[str, Any] = {"resourceType": "Patient", "id": _fhir_id(pid),
                           "identifier": [{"use": "usual", "type": IPP_TYPE, "value": pid}], "name": names}
    if row.get("sex") in _GENDER_OUT:
        out["gender"] = _GENDER_OUT[row["sex"]]
    birth = row.get("birth_date")
    if birth is not None and hasattr(birth, "isoformat"):
        out["birthDate"] = birth.isoformat()[:10]
    if row.get("birth_place_code"):
        out["extension"] = [{"url": BIRTH_PLACE_URL, "valueAddress": {
            "extension": [{"url": INSEE_CODE_URL, "valueCoding": {
                "system": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM",
                "code": str(row["birth_place_code"])}}]}}]
    return out


def _fhir_id(patient_id: str) -> str:
    """A FHIR id ([A-Za-z0-9-.]{1,64}): the IPP when it fits, else its characters that do."""
    clean = "".join(c if c.isalnum() and c.isascii() or c in "-." else "-" for c in patient_id)[:64]
    return clean or "unknown"


def bundle(candidates: list[dict[str, Any]], base_url: str) -> dict[str, Any]:
    """A searchset Bundle of the graded candidates (already ordered best first)."""
    entries = []
    for row in candidates:
        resource = _patient_resource(row)
        entries.append({
            "fullUrl": f"{base_url}/Patient/{resource['id']}",
            "resource": resource,
            "search": {"extension": [{"url": MATCH_GRADE_URL, "valueCode": row["grade"]}],
                       "mode": "match", "score": round(float(row["score"]), 4)},
        })
    return {"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries}


def capability_statement(base_url: str, version: str) -> dict[str, Any]:
    """What this server does: Patient/$match only, JSON, bearer tokens."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": dt.date.today().isoformat(),
        "kind": "instance",
        "software": {"name": "Hygie", "version": version},
        "implementation": {"description": "Hygie — recherche d'identité avant création (identitovigilance)",
                           "url": base_url},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{
            "mode": "server",
            "security": {"description": "Jeton par compte : « Authorization: Bearer hyg_… » "
                                        "(hygie users token add UTILISATEUR)."},
            "resource": [{
                "type": "Patient",
                "profile": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient",
                "operation": [{"name": "match",
                               "definition": "http://hl7.org/fhir/OperationDefinition/Patient-match"}],
            }],
        }],
    }
