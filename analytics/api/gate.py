"""What every API call goes through before and after its route: size, token, rate, access log.

A pure ASGI wrapper around the routes (Starlette's ``BaseHTTPMiddleware`` would buffer the
response and hide the status from the log). In order:

1. the client address and token id get a rate budget (token bucket): **429** with
   ``Retry-After``;
2. except on the public routes (``GET /health``, ``GET /fhir/metadata``), the bearer token is
   checked (:func:`analytics.access.tokens.authenticate_token`, or the owner's CLI key):
   **401** with ``WWW-Authenticate``;
3. the body is read up to the route's limit (``Content-Length`` above it is refused before
   reading; a chunked body is cut when it passes it): **413**;
4. the route runs with the actor in ``request.state.actor``;
5. the route's answer is held while the call is written to the access log (``via=api``):
   action ``view`` with the route and the status, or ``login_failed`` for a refused token; only
   once that row is committed does the answer leave, so a client holding a response knows its
   call is in the log (a write that fails turns the answer into a **503**). A streamed answer
   (``POST /cli``'s JSON lines) goes out as it comes but for its last message, held the same
   way (a failed write ends it with an ``{"error": …}`` line instead). ``GET /health`` is not logged (it carries no data and monitoring
   probes it every few seconds).

Every refusal is an OperationOutcome in French; nothing in the warehouse changes.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
from starlette.concurrency import run_in_threadpool

from analytics.access.access_log import record
from analytics.access.roles import Actor, system_actor
from analytics.access.tokens import authenticate_token
from analytics.api.fhir import operation_outcome
from analytics.api.settings import ApiSettings
from analytics.errors import AuthenticationError

__all__ = ["Gate", "RateLimiter", "error_response_body"]

log = logging.getLogger("hygie.api")

PUBLIC = frozenset({("GET", "/health"), ("GET", "/fhir/metadata")})
#: French text of each token refusal kind (see :mod:`analytics.access.tokens`).
TOKEN_REFUSALS_FR = {
    "missing": "Authentification requise : en-tête « Authorization: Bearer <jeton> » absent.",
    "malformed": "Jeton d'API mal formé (attendu : hyg_<identifiant>_<secret>).",
    "unknown": "Jeton d'API inconnu ou invalide.",
    "revoked": "Ce jeton d'API a été révoqué.",
    "expired": "Ce jeton d'API a expiré ; demandez-en un nouveau à un administrateur.",
    "inactive": "Le compte associé à ce jeton d'API est désactivé.",
}

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


def error_response_body(text: str, code: str) -> bytes:
    return json.dumps(operation_outcome(text, code=code), ensure_ascii=False).encode("utf-8")


class Refusal(Exception):
    """An answer given before the route runs (status, French text, issue code, extra headers)."""

    def __init__(self, status: int, text: str, code: str, headers: dict[str, str] | None = None,
                 log_as: str | None = None) -> None:
        super().__init__(text)
        self.status, self.text, self.code = status, text, code
        self.headers = headers or {}
        self.log_as = log_as


@dataclass
class RateLimiter:
    """A token bucket per key: ``per_minute`` calls a minute, bursts up to the same number."""

    per_minute: int
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def allow(self, key: str, now: float | None = None) -> float:
        """0 if the call may go on, else the seconds to wait before the next one may."""
        moment = time.monotonic() if now is None else now
        rate = self.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self.per_minute), moment))
            tokens = min(float(self.per_minute), tokens + (moment - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, moment)
                return 0.0
            self._buckets[key] = (tokens, moment)
            if len(self._buckets) > 10_000:  # forget idle clients rather than grow without bound
                self._buckets = {k: v for k, v in self._buckets.items() if moment - v[1] < 120}
            return (1.0 - tokens) / rate


async def _read_body(scope: Scope, receive: Receive, limit: int) -> bytes:
    headers = dict(scope.get("headers") or [])
    declared = headers.get(b"content-length")
    too_big = Refusal(413, f"Corps de requête trop volumineux (au plus {limit // 1024} Kio).", "too-long")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise too_big
        except ValueError:
            raise Refusal(400, "En-tête Content-Length invalide.", "invalid") from None
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_big
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class Gate:
    """ASGI wrapper: body limit, rate limit, bearer token, access log (see the module docstring)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], con: duckdb.DuckDBPyConnection,
                 settings: ApiSettings, cli_key: str) -> None:
        self.app = app
        self.con = con
        self.settings = settings
        self.cli_key = cli_key
        self.limiter = RateLimiter(settings.rate_per_minute)

    def _actor(self, authorization: str | None) -> Actor:
        if not authorization:
            raise AuthenticationError("missing")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("missing")
        if hmac.compare_digest(token.encode(), self.cli_key.encode()):
            actor = system_actor()
            return Actor(actor.username, actor.role, via="cli")
        cur = self.con.cursor()
        try:
            return authenticate_token(cur, token)
        finally:
            cur.close()

    def _log(self, actor: Actor | str, action: str, obj: str, detail: dict[str, Any]) -> bool:
        """Commit the call's access-log row; ``False`` (and the trace in the server log) if it fails."""
        try:
            record(self.con, actor, action, obj, detail=detail, via="api")
        except Exception:  # the caller answers 503 instead of an answer that is not in the log
            log.exception("access log write failed for %s", obj)
            return False
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        client = (scope.get("client") or ("?", 0))[0]
        held: list[dict[str, Any]] = []
        streamed = {"status": 0}  # the status sent, once a streamed answer has started

        async def hold(message: dict[str, Any]) -> None:
            """Keep a one-piece answer whole; let a streamed one through but its last message."""
            if message["type"] == "http.response.body" and message.get("more_body") and not streamed["status"]:
                streamed["status"] = int(held[0]["status"])
                for earlier in held:
                    await send(earlier)
                held.clear()
            if streamed["status"] and message.get("more_body"):
                await send(message)
            else:
                held.append(message)

        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers") or []}
        authorization = headers.get("authorization")
        token_hint = authorization.split("_")[1][:12] if authorization and authorization.count("_") >= 2 else "-"
        actor: Actor | str = "anonymous"
        state = scope.setdefault("state", {})
        try:
            wait = self.limiter.allow(f"{client}|{token_hint}")
            if wait:
                raise Refusal(429, f"Trop de requêtes : réessayez dans {int(wait) + 1} s.", "throttled",
                              {"Retry-After": str(int(wait) + 1)})
            if (method, path) not in PUBLIC:
                try:
                    actor = await run_in_threadpool(self._actor, authorization)
                except AuthenticationError as exc:
                    kind = getattr(exc, "kind", "missing")
                    raise Refusal(401, TOKEN_REFUSALS_FR.get(kind, TOKEN_REFUSALS_FR["unknown"]), "login",
                                  {"WWW-Authenticate": 'Bearer realm="hygie", error="invalid_token"'},
                                  log_as=f"api-token:{token_hint}") from None
            limit = self.settings.cli_max_body_bytes if path == "/cli" else self.settings.max_body_bytes
            body = await _read_body(scope, receive, limit)
            state["actor"] = actor if isinstance(actor, Actor) else None
            state["client"] = client
            await self.app(scope, _replay(body, receive), hold)
        except Refusal as refusal:
            held[:] = _answer(refusal.status, error_response_body(refusal.text, refusal.code), refusal.headers)
            if refusal.log_as is not None:
                actor = refusal.log_as
        except Exception:  # noqa: BLE001 - Starlette re-raises after its 500 answer (already logged)
            if not (held and held[-1].get("type") == "http.response.body" and not held[-1].get("more_body")):
                log.exception("API route %s %s failed without an answer", method, path)
                held = []
        failed = "Erreur interne du serveur ; l'incident est consigné dans le journal du serveur."
        if streamed["status"] and not held:  # a stream cut short: end it with an error line
            held = [_last_line(failed)]
        if not held:  # no complete answer from the route: never hang the client
            held = _answer(500, error_response_body(failed, "exception"))
        # The answer is held until its access-log row is committed: a client that has a response
        # can rely on the call being in the log, even if the server stops right after.
        if (method, path) != ("GET", "/health"):
            status = streamed["status"] or int(held[0]["status"])
            detail = {"status": status, "ms": round((time.perf_counter() - started) * 1000, 1),
                      "client": client, **(state.get("log_detail") or {})}
            action = "login_failed" if status == 401 else "view"
            logged = await run_in_threadpool(self._log, actor, action, f"api {method} {path}"[:200], detail)
            if not logged:
                text = ("Le journal des accès n'a pas pu être écrit : la réponse n'est pas délivrée. "
                        "Réessayez ; si cela persiste, consultez le journal du serveur.")
                held = [_last_line(text)] if streamed["status"] else _answer(503, error_response_body(text, "exception"))
        for message in held:
            await send(message)


def _last_line(text: str) -> dict[str, Any]:
    """The last message of a streamed (JSON lines) answer that could not end well."""
    return {"type": "http.response.body", "body": json.dumps({"error": text}, ensure_ascii=False).encode() + b"\n"}


def _answer(status: int, payload: bytes, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The ASGI messages of a complete FHIR JSON answer."""
    return [{"type": "http.response.start", "status": status, "headers": [
                (b"content-type", b"application/fhir+json; charset=utf-8"),
                (b"content-length", str(len(payload)).encode()),
                *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items())]},
            {"type": "http.response.body", "body": payload}]
