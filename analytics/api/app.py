"""The API's routes (Starlette), behind :class:`analytics.api.gate.Gate`.

=========================== ======================================================== ==========
route                       what                                                     who
=========================== ======================================================== ==========
``GET /health``             the process serves and its warehouse answers             anyone
``GET /fhir/metadata``      CapabilityStatement (FHIR R4)                            anyone
``POST /fhir/Patient/$match`` search before create: ranked, graded Patients          a token whose role may read patient data
``POST /cli``               a ``hygie`` command run by the owner (CLI forwarding)    the owner's CLI key, from loopback
=========================== ======================================================== ==========

Role checks stay in the engine (``match_identities`` requires ``VIEW_PATIENT_DATA``); the
routes only translate: engine refusals become a 403 OperationOutcome, bad input a 400, in
French. Each request works on its own cursor of the owner's connection.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from analytics.access.roles import Actor
from analytics.api.fhir import (
    MatchRequestError,
    bundle,
    capability_statement,
    match_grade,
    parse_match_parameters,
)
from analytics.api.gate import Gate, error_response_body
from analytics.api.settings import ApiSettings
from analytics.errors import AccessDenied, HygieError, InvalidInput

__all__ = ["create_app", "match_patients"]

log = logging.getLogger("hygie.api")
FHIR_JSON = "application/fhir+json"
_LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _version() -> str:
    try:
        return metadata.version("hygie")
    except metadata.PackageNotFoundError:  # pragma: no cover - always installed
        return "0"


def _outcome(status: int, text: str, code: str) -> Response:
    return Response(error_response_body(text, code), status_code=status, media_type=f"{FHIR_JSON}; charset=utf-8")


def _fhir(resource: dict[str, Any], status: int = 200) -> Response:
    body = json.dumps(resource, ensure_ascii=False, default=str).encode("utf-8")
    return Response(body, status_code=status, media_type=f"{FHIR_JSON}; charset=utf-8")


def match_patients(con: duckdb.DuckDBPyConnection, actor: Actor, traits: dict[str, str | None],
                   only_certain: bool, count: int) -> list[dict[str, Any]]:
    """Graded candidates for ``traits`` (best first, at most ``count``); non-matches left out."""
    from analytics.identity.search import match_identities

    # Non-matches are dropped after scoring: ask for more than count so that count can be filled.
    graded = []
    for row in match_identities(con, actor, limit=max(3 * count, 30), **traits):
        levels = {key.removeprefix("level_"): value for key, value in row.items() if key.startswith("level_")}
        grade = match_grade(str(row["decision"]), levels)
        if grade is None or (only_certain and grade != "certain"):
            continue
        graded.append({**row, "grade": grade})
    return graded[:count]


def create_app(con: duckdb.DuckDBPyConnection, db_path: str | Path, settings: ApiSettings, cli_key: str) -> Gate:
    """The ASGI application: routes behind the gate (limits, token, access log)."""
    version = _version()

    def cursor() -> duckdb.DuckDBPyConnection:
        return con.cursor()

    def _health_check() -> bool:
        cur = cursor()
        try:
            return cur.execute("SELECT 1").fetchone() == (1,)
        finally:
            cur.close()

    async def health(request: Request) -> Response:
        try:
            ok = await run_in_threadpool(_health_check)
        except duckdb.Error:
            ok = False
        if not ok:
            return JSONResponse({"status": "error", "detail": "l'entrepôt ne répond pas"}, status_code=503)
        return JSONResponse({"status": "ok", "service": "hygie", "version": version})

    async def metadata_(request: Request) -> Response:
        return _fhir(capability_statement(str(request.base_url).rstrip("/") + "/fhir", version))

    def _run_match(actor: Actor, traits: dict[str, str | None], only_certain: bool, count: int) -> list[dict[str, Any]]:
        cur = cursor()
        try:
            return match_patients(cur, actor, traits, only_certain, count)
        finally:
            cur.close()

    async def match(request: Request) -> Response:
        try:
            body = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _outcome(400, "Le corps de la requête n'est pas un JSON valide.", "structure")
        try:
            traits, only_certain, count = parse_match_parameters(body)
        except MatchRequestError as exc:
            return _outcome(400, exc.french, exc.code)
        actor: Actor = request.state.actor
        try:
            graded = await run_in_threadpool(_run_match, actor, traits, only_certain, count)
        except AccessDenied:
            return _outcome(403, f"Le rôle {actor.role} du compte {actor.username} ne permet pas de consulter "
                                 "des données de patients.", "forbidden")
        except InvalidInput as exc:
            return _outcome(400, f"Requête refusée par le moteur : {exc}", "invalid")
        except HygieError as exc:
            return _outcome(503, f"Recherche impossible : {exc}", "exception")
        request.state.log_detail = {"returned": len(graded)}
        return _fhir(bundle(graded, str(request.base_url).rstrip("/") + "/fhir"))

    async def cli(request: Request) -> Response:
        from analytics.api.cli_bridge import stream_forwarded

        actor: Actor = request.state.actor
        if actor.via != "cli" or request.state.client not in _LOOPBACK:
            return _outcome(403, "Cette route est réservée à la ligne de commande hygie de ce serveur.", "forbidden")
        try:
            payload = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError):
            return _outcome(400, "Le corps de la requête n'est pas un JSON valide.", "structure")
        try:
            lines = await run_in_threadpool(stream_forwarded, con, db_path, payload)
        except InvalidInput as exc:
            return _outcome(400, f"Commande refusée : {exc}", "invalid")
        argv = payload.get("argv") if isinstance(payload, dict) else None
        detail = request.state.log_detail = {"command": " ".join(str(a) for a in (argv or [])[:2])}

        def logged_lines() -> Iterator[bytes]:
            for line in lines:
                if line.startswith(b'{"exit_code"'):
                    detail["exit_code"] = json.loads(line)["exit_code"]
                yield line

        return StreamingResponse(logged_lines(), media_type="application/x-ndjson")

    async def not_found(request: Request, exc: Exception) -> Response:
        return _outcome(404, f"Ressource inconnue : {request.url.path}", "not-found")

    async def not_allowed(request: Request, exc: Exception) -> Response:
        return _outcome(405, f"Méthode {request.method} non permise sur {request.url.path}.", "not-supported")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        return _outcome(status, "Requête refusée.", "processing")

    async def crashed(request: Request, exc: Exception) -> Response:
        log.error("API route %s %s failed", request.method, request.url.path, exc_info=exc)
        return _outcome(500, "Erreur interne du serveur ; l'incident est consigné dans le journal du serveur.",
                        "exception")

    routes = [
        Route("/health", health, methods=["GET"]),
        Route("/fhir/metadata", metadata_, methods=["GET"]),
        Route("/fhir/Patient/$match", match, methods=["POST"]),
        Route("/cli", cli, methods=["POST"]),
    ]
    app = Starlette(routes=routes, exception_handlers={
        404: not_found, 405: not_allowed, HTTPException: http_error, Exception: crashed})
    return Gate(app, con, settings, cli_key)
