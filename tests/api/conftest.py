"""A real ``hygie serve`` (dashboard + API) on a copy of the demo warehouse, and an HTTP client."""

from __future__ import annotations

import http.client
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from analytics.warehouse.connection import copy_warehouse
from tests import hygie_server

HYGIE = hygie_server.HYGIE


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo warehouse (sample hospital, duplicates found), built once per session."""
    from analytics.demo import build_demo

    path = tmp_path_factory.mktemp("api-demo") / "hygie.duckdb"
    build_demo(path)
    return path


@dataclass
class Served:
    """A running server: its warehouse, API base URL, tokens by name and a known patient."""

    db: Path
    folder: Path
    api: str
    proc: Any
    tokens: dict[str, str] = field(default_factory=dict)
    patient: dict[str, Any] = field(default_factory=dict)
    answered: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status) of logged calls

    def call(self, method: str, path: str, body: bytes | dict | None = None, token: str | None = "analyst",
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        """One HTTP request; (status, lower-cased headers, parsed JSON body or raw bytes)."""
        host, port = self.api.removeprefix("http://").split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {self.tokens.get(token, token)}"
        try:
            conn.request(method, path, data, sent)
            answer = conn.getresponse()
            raw = answer.read()
        finally:
            conn.close()
        if path != "/health":  # every other answered call must be in the access log
            self.answered.append((method, path, answer.status))
        try:
            parsed: Any = json.loads(raw)
        except ValueError:
            parsed = raw
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, parsed


def _prepare(db: Path) -> tuple[dict[str, str], dict[str, Any]]:
    """Tokens (analyst, viewer, expired, revoked) and one patient's traits, before serving."""
    from analytics.access.roles import system_actor
    from analytics.access.tokens import create_token, revoke_token
    from analytics.warehouse import connect

    con = connect(db)
    try:
        admin = system_actor()
        tokens = {
            "analyst": create_token(con, admin, "analyst", label="admission")[1],
            "viewer": create_token(con, admin, "viewer")[1],
            "expired": create_token(con, admin, "analyst", days=1,
                                    now=datetime.now(UTC) - timedelta(days=2))[1],
        }
        revoked_id, tokens["revoked"] = create_token(con, admin, "analyst")
        revoke_token(con, admin, revoked_id)
        row = con.execute("""SELECT patient_id, birth_name, first_names, birth_date, sex, birth_place_code, ins
                             FROM patients WHERE active AND ins IS NOT NULL AND birth_place_code IS NOT NULL
                               AND used_name IS NULL ORDER BY patient_id LIMIT 1 OFFSET 7""").fetchone()
    finally:
        con.close()
    keys = ("patient_id", "birth_name", "first_names", "birth_date", "sex", "birth_place_code", "ins")
    return tokens, dict(zip(keys, row, strict=True))


@pytest.fixture(scope="module")
def served(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """``hygie serve`` on a copy of the demo warehouse, its API on a free loopback port."""
    folder = tmp_path_factory.mktemp("served")
    db = folder / "hygie.duckdb"
    copy_warehouse(demo_template, db)  # with its access-log key and anchor
    tokens, patient = _prepare(db)
    api_port = hygie_server.free_port()
    env = dict(os.environ, HYGIE_API_MAX_BODY_KB="64", HYGIE_API_RATE_PER_MINUTE="60")
    proc, _ = hygie_server.start(db, folder, env, api_port=api_port)
    yield Served(db, folder, f"http://127.0.0.1:{api_port}", proc, tokens, patient)
    hygie_server.stop(proc)


def patient_parameters(patient: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A $match Parameters for ``patient``'s traits (FR Core shape), with ``changes`` applied."""
    traits = {**patient, **changes}
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "name": [{"use": "official", "family": traits["birth_name"], "given": str(traits["first_names"]).split()}],
        "gender": {"M": "male", "F": "female"}.get(traits["sex"], "unknown"),
        "birthDate": str(traits["birth_date"]),
        "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace", "valueAddress": {
            "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                           "valueCoding": {"code": traits["birth_place_code"]}}]}}],
    }
    if traits.get("ins"):
        resource["identifier"] = [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": traits["ins"]}]
    parameters = [{"name": "resource", "resource": resource}]
    for name in ("count", "onlyCertainMatches"):
        if name in changes:
            key = "valueInteger" if name == "count" else "valueBoolean"
            parameters.append({"name": name, key: changes[name]})
    return {"resourceType": "Parameters", "parameter": parameters}
