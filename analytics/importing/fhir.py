"""FHIR R4 bulk-export NDJSON (one resource per line) read with DuckDB's JSON functions.

Patient -> patients (official name = birth name and birth given names, usual name = used
names, IPP = identifier of type ``PI``, INS = identifier with the INS-NIR/NIA OIDs, FR Core
birth place and identity reliability extensions); DocumentReference -> documents;
AuditEvent -> audit_events.
"""

# SQL here is assembled from allow-listed identifiers (quote_ident) and fixed fragments;
# every value from a file or a user is bound as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from analytics.errors import InvalidInput
from analytics.identity.attributes import ATTRIBUTE_CODES
from analytics.importing.source import Source
from analytics.messages import english

__all__ = ["RESOURCE_TYPES", "fhir_source"]

RESOURCE_TYPES = {"patients": "Patient", "documents": "DocumentReference", "audit_events": "AuditEvent"}
INS_OIDS = ("urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9")  # INS-NIR, INS-NIA


def _last_segment(expr: str) -> str:
    """'Patient/123' -> '123'."""
    return f"regexp_extract({expr}, '([^/]+)$', 1)"


def _pick(array_path: str, condition: str) -> str:
    """First element of a JSON array whose element ``x`` satisfies ``condition``."""
    return f"list_filter(json_extract(j, '{array_path}'), lambda x: {condition})[1]"


_OFFICIAL = ("coalesce(" + _pick("$.name[*]", "x->>'use' = 'official'") + ", "
             + _pick("$.name[*]", "x->>'use' IS NULL") + ")")
_PI = _pick("$.identifier[*]", "list_contains(json_extract_string(x, '$.type.coding[*].code'), 'PI')")
_REQUESTOR = _pick("$.agent[*]", "x->>'requestor' = 'true'")
_USUAL = _pick("$.name[*]", "x->>'use' = 'usual'")
_BIRTH_LIST = ("json_extract_string(list_filter(json_extract(" + _OFFICIAL + ", '$.extension[*]'), "
               "lambda e: ends_with(e->>'url', 'birth-list-given-name'))[1], '$.valueString')")
_BIRTH_PLACE = _pick("$.extension[*]", "ends_with(x->>'url', 'patient-birthPlace')")
_RELIABILITY = _pick("$.extension[*]", "ends_with(x->>'url', 'identity-reliability')")
_TELECOM = "json_extract_string({pick}, '$.value')"

_COLUMNS: dict[str, dict[str, str]] = {
    "patients": {
        "patient_id": f"coalesce(json_extract_string({_PI}, '$.value'), j->>'id')",
        "birth_name": f"json_extract_string({_OFFICIAL}, '$.family')",
        "first_names": f"coalesce({_BIRTH_LIST}, array_to_string(json_extract_string({_OFFICIAL}, '$.given[*]'), ' '))",
        "used_name": f"json_extract_string({_USUAL}, '$.family')",
        "used_first_name": f"json_extract_string({_USUAL}, '$.given[0]')",
        "birth_date": "j->>'birthDate'",
        "sex": "j->>'gender'",
        "birth_place_code": (f"coalesce(json_extract_string(list_filter(json_extract({_BIRTH_PLACE}, "
                             "'$.valueAddress.extension[*]'), lambda e: ends_with(e->>'url', 'insee-code'))[1], "
                             f"'$.valueCoding.code'), json_extract_string({_BIRTH_PLACE}, '$.valueAddress.district'))"),
        "ins": ("json_extract_string(" + _pick("$.identifier[*]", "x->>'system' IN " + str(INS_OIDS)) + ", '$.value')"),
        "identity_status": (f"json_extract_string(list_filter(json_extract({_RELIABILITY}, '$.extension[*]'), "
                            "lambda e: e->>'url' = 'identityStatus')[1], '$.valueCoding.code')"),
        # RNIV identity attributes (DOUT, FICT, HOMD, HOMA...): codes of the identity-reliability
        # extension's parts other than the status and validation ones, and Patient.meta.tag codes
        # of the known attribute set (unverified against the FR Core IG: both places are read).
        "identity_attributes": (
            "nullif(array_to_string(list_sort(list_distinct(list_concat("
            f"list_filter(json_extract_string(list_filter(json_extract({_RELIABILITY}, '$.extension[*]'), "
            "lambda e: e->>'url' NOT IN ('identityStatus', 'validationDate', 'validationMode')), "
            "'$[*].valueCoding.code'), lambda c: c IS NOT NULL), "
            "list_filter(json_extract_string(j, '$.meta.tag[*].code'), lambda c: c IN "
            f"{tuple(ATTRIBUTE_CODES)})))), ' '), '')"),
        "address": "array_to_string(json_extract_string(j, '$.address[0].line[*]'), ' ')",
        "postcode": "j->>'$.address[0].postalCode'",
        "city": "j->>'$.address[0].city'",
        "phone": _TELECOM.format(pick=_pick("$.telecom[*]", "x->>'system' = 'phone'")),
        "email": _TELECOM.format(pick=_pick("$.telecom[*]", "x->>'system' = 'email'")),
        "updated_at": "j->>'$.meta.lastUpdated'",
        "active": "j->>'active'",
    },
    "documents": {
        "document_id": "j->>'id'",
        "patient_id": _last_segment("j->>'$.subject.reference'"),
        "document_type": "coalesce(j->>'$.type.text', j->>'$.type.coding[0].display', j->>'$.type.coding[0].code')",
        "title": "coalesce(j->>'$.content[0].attachment.title', j->>'description')",
        "author_id": _last_segment("j->>'$.author[0].reference'"),
        "service": ("coalesce(j->>'$.context.practiceSetting.text', j->>'$.context.practiceSetting.coding[0].display', "
                    "j->>'$.context.practiceSetting.coding[0].code')"),
        "created_at": "coalesce(j->>'$.content[0].attachment.creation', j->>'date')",
        "signed_by": _last_segment("j->>'$.authenticator.reference'"),
        "status": ("CASE j->>'docStatus' WHEN 'preliminary' THEN 'draft' WHEN 'final' THEN 'signed' "
                   "WHEN 'amended' THEN 'signed' ELSE j->>'docStatus' END"),
        "content_hash": "j->>'$.content[0].attachment.hash'",
        "stay_id": _last_segment("j->>'$.context.encounter[0].reference'"),
    },
    "audit_events": {
        "event_id": "j->>'id'",
        "user_id": (f"coalesce(json_extract_string({_REQUESTOR}, '$.who.identifier.value'), "
                    + _last_segment(f"json_extract_string({_REQUESTOR}, '$.who.reference')")
                    + ", j->>'$.agent[0].who.identifier.value', " + _last_segment("j->>'$.agent[0].who.reference'") + ")"),
        "timestamp": "j->>'recorded'",
        "action": "j->>'action'",
        "activity": "coalesce(j->>'$.subtype[0].code', j->>'$.type.code')",
        "patient_id": _last_segment("json_extract_string(" + _pick("$.entity[*]", "starts_with(x->>'$.what.reference', 'Patient/')") + ", '$.what.reference')"),
        "document_id": _last_segment("json_extract_string(" + _pick("$.entity[*]", "starts_with(x->>'$.what.reference', 'DocumentReference/')") + ", '$.what.reference')"),
        "service": "j->>'$.source.site'",
        "workstation": f"coalesce(json_extract_string({_REQUESTOR}, '$.network.address'), j->>'$.agent[0].network.address')",
    },
}


def _first_bad_line(path: Path) -> tuple[int, str] | None:
    """Line number and problem of the first line that is not one JSON object (error path only)."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                value = json.loads(raw.rstrip(b"\r\n"))
            except json.JSONDecodeError as exc:
                return number, f"not valid JSON at column {exc.colno} ({exc.msg}); truncated line?"
            except UnicodeDecodeError:
                return number, "undecodable bytes (FHIR NDJSON must be UTF-8)"
            except RecursionError:  # the C parser stops at the interpreter's recursion limit
                return number, "JSON nested too deeply (more levels than a FHIR resource has)"
            if not isinstance(value, dict):
                return number, "not a JSON object"
    return None


def fhir_source(path: Path, table: str) -> Source:
    """Describe an NDJSON bulk-export file of the resource type matching ``table``."""
    label = path.name
    if table not in _COLUMNS:
        raise InvalidInput(f"{label}: FHIR import is available for patients, documents and audit (not {table})")
    expected = RESOURCE_TYPES[table]
    if path.stat().st_size == 0 or not path.read_bytes()[:4096].strip():
        raise InvalidInput("import.at_line", file=label, line=1, message=english("import.empty_fhir"))
    projections = ", ".join(f"NULLIF(trim(CAST({expr} AS VARCHAR)), '') AS \"{name}\""
                            for name, expr in _COLUMNS[table].items())
    sql = (f"SELECT j->>'resourceType' AS _resource_type, {projections} FROM ("
           f"SELECT json AS j FROM read_json_objects(?, format = 'newline_delimited', ignore_errors = false))")

    def on_error(exc: duckdb.Error) -> Source:
        bad = _first_bad_line(path)
        if bad is not None:
            raise InvalidInput(f"{label}: line {bad[0]}: {bad[1]}")
        raise InvalidInput(f"{label}: cannot read the NDJSON file: {str(exc).splitlines()[0]}")

    def check(con: duckdb.DuckDBPyConnection, staged: str) -> None:
        row = con.execute(
            f"SELECT _line, _resource_type FROM {staged} "
            "WHERE _resource_type IS DISTINCT FROM ? ORDER BY _line LIMIT 1", [expected]
        ).fetchone()
        if row is not None:
            raise InvalidInput(f"{label}: line {row[0]}: resourceType '{row[1]}' where {expected} is expected "
                               f"(one resource type per file)")

    return Source(sql=sql, params=[str(path)], format="fhir-ndjson", columns=list(_COLUMNS[table]),
                  encoding="utf-8", on_error=on_error, check=check, line_offset=1)
