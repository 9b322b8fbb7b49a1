"""The API of a real ``hygie serve``: health, metadata, $match, and every bad input refused in French.

Resources are validated with ``fhir.resources`` 6.1 (FHIR R4, 4.0.1), as the merge messages are.
"""

from __future__ import annotations

import json

import pytest

from analytics.warehouse import connect
from tests.api.conftest import Served, patient_parameters

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("api_server")]
MATCH = "/fhir/Patient/$match"


def _diagnostics(body: dict) -> str:
    assert body["resourceType"] == "OperationOutcome", body
    from fhir.resources.operationoutcome import OperationOutcome

    OperationOutcome.parse_obj(body)
    return body["issue"][0]["diagnostics"]


def test_health_and_metadata_answer_without_a_token(served: Served):
    from fhir.resources.capabilitystatement import CapabilityStatement

    status, _, body = served.call("GET", "/health", token=None)
    assert (status, body["status"]) == (200, "ok")
    status, headers, body = served.call("GET", "/fhir/metadata", token=None)
    assert status == 200 and headers["content-type"].startswith("application/fhir+json")
    statement = CapabilityStatement.parse_obj(body)
    assert statement.fhirVersion == "4.0.1"
    assert body["rest"][0]["resource"][0]["operation"][0]["name"] == "match"


def test_match_returns_the_sent_patient_first_graded_certain(served: Served):
    from fhir.resources.bundle import Bundle

    # curl -H "Authorization: Bearer $TOKEN" -X POST .../fhir/Patient/$match -d @params.json sends
    # application/x-www-form-urlencoded: the body is read as JSON whatever the content type says
    status, headers, body = served.call("POST", MATCH, json.dumps(patient_parameters(served.patient)).encode(),
                                        headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, body
    assert headers["content-type"].startswith("application/fhir+json")
    Bundle.parse_obj(body)
    assert body["type"] == "searchset"
    first = body["entry"][0]
    assert first["resource"]["identifier"][0]["value"] == served.patient["patient_id"]
    assert first["search"]["extension"][0]["valueCode"] == "certain"
    scores = [entry["search"]["score"] for entry in body["entry"]]
    assert scores == sorted(scores, reverse=True)


def test_match_survives_typing_errors_and_counts(served: Served):
    p = served.patient
    typo = p["birth_name"][:-2] + p["birth_name"][-1] + p["birth_name"][-2]  # last two letters swapped
    sent = patient_parameters(p, birth_name=typo.lower(), ins=None, count=2)
    status, _, body = served.call("POST", MATCH, sent)
    assert status == 200, body
    assert body["entry"][0]["resource"]["identifier"][0]["value"] == p["patient_id"]
    assert body["entry"][0]["search"]["extension"][0]["valueCode"] in ("certain", "probable")
    assert len(body["entry"]) <= 2
    status, _, body = served.call("POST", MATCH, patient_parameters(p, birth_name=typo, ins=None,
                                                                  onlyCertainMatches=True))
    assert status == 200
    assert all(e["search"]["extension"][0]["valueCode"] == "certain" for e in body.get("entry", []))


def _oversized() -> bytes:
    return b'{"resourceType": "Parameters", "pad": "' + b"x" * 70_000 + b'"}'


BAD = [
    ("unknown route", "GET", "/fhir/Practitioner", None, "analyst", 404,
     "Ressource inconnue : /fhir/Practitioner"),
    ("wrong method", "GET", MATCH, None, "analyst", 405, "Méthode GET non permise sur /fhir/Patient/$match."),
    ("body over the limit", "POST", MATCH, _oversized(), "analyst", 413,
     "Corps de requête trop volumineux (au plus 64 Kio)."),
    ("invalid JSON", "POST", MATCH, b'{"resourceType": "Parameters",', "analyst", 400,
     "Le corps de la requête n'est pas un JSON valide."),
    ("Parameters without a Patient", "POST", MATCH, {"resourceType": "Parameters", "parameter": []}, "analyst", 400,
     "Le paramètre « resource » contenant un Patient est absent."),
    ("Patient with no usable trait", "POST", MATCH,
     {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": {"resourceType": "Patient"}}]},
     "analyst", 400, "Le Patient ne porte aucun trait d'identité exploitable (nom, prénoms, date de naissance, "
                     "sexe, lieu de naissance, INS)."),
    ("no token", "POST", MATCH, {}, None, 401,
     "Authentification requise : en-tête « Authorization: Bearer <jeton> » absent."),
    ("wrong token", "POST", MATCH, {}, "hyg_000000000000_" + "x" * 43, 401, "Jeton d'API inconnu ou invalide."),
    ("expired token", "POST", MATCH, {}, "expired", 401,
     "Ce jeton d'API a expiré ; demandez-en un nouveau à un administrateur."),
    ("revoked token", "POST", MATCH, {}, "revoked", 401, "Ce jeton d'API a été révoqué."),
    ("role without patient data", "POST", MATCH, "patient", "viewer", 403,
     "Le rôle viewer du compte viewer ne permet pas de consulter des données de patients."),
    ("CLI route with an account token", "POST", "/cli", {"argv": ["info"]}, "analyst", 403,
     "Cette route est réservée à la ligne de commande hygie de ce serveur."),
]


@pytest.mark.parametrize(("description", "method", "path", "body", "token", "status", "french"), BAD,
                         ids=[case[0] for case in BAD])
def test_bad_input_gets_a_status_and_a_french_operation_outcome(served: Served, description, method, path, body,
                                                                token, status, french):
    if body == "patient":
        body = patient_parameters(served.patient)
    got, headers, answer = served.call(method, path, body, token=token)
    assert got == status, (description, answer)
    assert _diagnostics(answer) == french, description
    if status == 401:
        assert headers["www-authenticate"] == 'Bearer realm="hygie", error="invalid_token"'
    assert served.call("GET", "/health", token=None)[0] == 200, "the server stopped serving"


def test_the_rate_limit_answers_429_with_retry_after(served: Served):
    # the server allows 60 calls a minute per client and token (HYGIE_API_RATE_PER_MINUTE), in
    # bursts of 60: 150 calls from 10 threads pass that budget unless they take 90 s
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(10) as pool:
        answers = list(pool.map(lambda _: served.call("GET", "/fhir/metadata", token="viewer"), range(150)))
    statuses = [status for status, _, _ in answers]
    assert statuses.count(429) >= 1 and set(statuses) == {200, 429}, statuses
    # a refused call's own answer (a call made after the burst may find a token refilled meanwhile)
    for status, headers, body in answers:
        if status == 429:
            assert int(headers["retry-after"]) >= 1
            assert _diagnostics(body).startswith("Trop de requêtes : réessayez dans ")
    assert served.call("GET", "/fhir/metadata", token="analyst")[0] == 200, "another token has its own budget"


def test_every_call_is_in_the_access_log_and_nothing_else_changed(served: Served):
    from collections import Counter

    from tests import hygie_server

    # The calls whose rows are checked below must have been answered by this module's server:
    # under xdist the module's other tests may have run on another worker, against another
    # server. Those missing here are made now (only those: the token's rate limit is 60 a minute).
    missing = Counter((case[1], case[2], case[5]) for case in BAD) - Counter(served.answered)
    for _, method, path, body, token, status, _ in BAD:
        if missing[(method, path, status)] > 0:
            missing[(method, path, status)] -= 1
            body = patient_parameters(served.patient) if body == "patient" else body
            assert served.call(method, path, body, token=token)[0] == status
    if ("POST", MATCH, 200) not in served.answered:
        assert served.call("POST", MATCH, patient_parameters(served.patient))[0] == 200
    before = _counts_via_api(served)  # two forwarded CLI commands: two more POST /cli calls
    # Stopped right after the last answer: an answer only leaves once its access-log row is
    # committed, so no call may be missing however loaded the machine is.
    hygie_server.stop(served.proc)
    con = connect(served.db, read_only=True)
    try:
        rows = con.execute("""SELECT actor, action, via, object, detail->>'status' FROM access_log
                              WHERE via = 'api' AND object LIKE 'api %' ORDER BY log_id""").fetchall()
        counts = con.execute("SELECT (SELECT count(*) FROM patients), (SELECT count(*) FROM match_pairs)").fetchone()
    finally:
        con.close()
    assert counts == before
    answered = Counter((f"api {method} {path}", str(status)) for method, path, status in served.answered)
    answered[("api POST /cli", "200")] += 2
    assert Counter((r[3], r[4]) for r in rows) == answered, "every answered call, once, with its status"
    failed = [r for r in rows if r[1] == "login_failed"]
    assert ("api-token:000000000000", "login_failed", "api", "api POST /fhir/Patient/$match", "401") in failed
    refused = sum(1 for _, _, status in served.answered if status == 401)  # none, wrong, expired, revoked
    assert {r[4] for r in failed} == {"401"} and len(failed) == refused >= 4
    assert ("analyst", "view", "api", "api GET /fhir/Practitioner", "404") in rows
    assert ("analyst", "view", "api", "api POST /fhir/Patient/$match", "413") in rows
    assert ("viewer", "view", "api", "api POST /fhir/Patient/$match", "403") in rows
    assert ("analyst", "view", "api", "api POST /fhir/Patient/$match", "200") in rows
    assert not any(r[3] == "api GET /health" for r in rows)
    assert "access log write failed" not in (served.folder / "server.log").read_text(errors="replace")


def _counts_via_api(served: Served) -> tuple[int, int]:
    """Patients and pairs, read before the server stops (the warehouse is held meanwhile)."""
    import subprocess

    from tests import hygie_server

    out = subprocess.run([hygie_server.HYGIE, "--db", str(served.db), "info"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    patients = int(next(line for line in out.splitlines() if line.startswith("patients:")).split()[1])
    return patients, _pairs(served)


def _pairs(served: Served) -> int:
    import subprocess

    from tests import hygie_server

    out = served.folder / "pairs.csv"
    subprocess.run([hygie_server.HYGIE, "--db", str(served.db), "duplicates", "export", "--pairs", str(out),
                    "--decision", "match", "--decision", "review", "--decision", "non-match", "--dialect", "standard"],
                   capture_output=True, text=True, check=True, timeout=120)
    return len(out.read_text(encoding="utf-8").splitlines()) - 1
