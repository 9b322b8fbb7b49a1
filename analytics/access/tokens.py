"""Per-account API tokens: created by an admin, stored hashed, checked on every API call.

A token reads ``hyg_<token_id>_<secret>``. The warehouse keeps only the SHA-256 of the whole
token (table ``api_tokens``): the secret is 256 random bits, so a fast hash is safe here (a
password needs argon2 because people choose guessable ones; nobody guesses 2^256). The token id
is public (listed, revoked by it); the token itself is printed once, at creation.

A token acts as its account with the account's *current* role: demoting or deactivating the
account takes effect at the next call. Every refusal says why in a stable ``kind`` that the
API turns into a French message:

=============== ==========================================================
kind            meaning
=============== ==========================================================
``malformed``   not of the form ``hyg_<id>_<secret>``
``unknown``     no such token, or the secret does not match
``revoked``     revoked by an admin (``hygie users token revoke``)
``expired``     past its ``expires_at``
``inactive``    its account was deactivated or removed
=============== ==========================================================
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd

from analytics.access.access_log import record
from analytics.access.roles import Actor, Permission, require
from analytics.errors import AuthenticationError, InvalidInput

__all__ = [
    "DEFAULT_TOKEN_DAYS",
    "TOKEN_REFUSALS",
    "authenticate_token",
    "create_token",
    "list_tokens",
    "revoke_token",
]

#: Days a new token stays valid unless ``--days`` says otherwise (0: never expires).
DEFAULT_TOKEN_DAYS = 365
TOKEN_REFUSALS = ("malformed", "unknown", "revoked", "expired", "inactive")

_TOKEN = re.compile(r"hyg_([a-z0-9]{12})_([A-Za-z0-9_-]{43})")
_MAX_LABEL = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _refused(kind: str, message: str) -> AuthenticationError:
    exc = AuthenticationError(message)
    exc.kind = kind  # type: ignore[attr-defined]
    return exc


def create_token(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    username: str,
    *,
    days: int = DEFAULT_TOKEN_DAYS,
    label: str | None = None,
    now: datetime | None = None,
) -> tuple[str, str]:
    """Create a token for the active account ``username``; return ``(token_id, token)``.

    The token is returned once and never stored: show it to the admin, who hands it to the
    system that will call the API. ``days=0`` makes a token that does not expire.
    """
    require(actor, Permission.MANAGE_USERS)
    if days < 0:
        raise InvalidInput(f"--days: {days} must be 0 (no expiry) or more")
    if label is not None and len(label) > _MAX_LABEL:
        raise InvalidInput(f"--label: at most {_MAX_LABEL} characters")
    name = username.strip().lower()
    row = con.execute("SELECT active FROM users WHERE username = ?", [name]).fetchone()
    if row is None:
        raise InvalidInput(f"no account named '{username}'")
    if not row[0]:
        raise InvalidInput(f"account '{name}' is deactivated: a token would be refused")
    moment = now or datetime.now(UTC)
    token_id = secrets.token_hex(6)
    token = f"hyg_{token_id}_{secrets.token_urlsafe(32)}"
    expires = moment + timedelta(days=days) if days else None
    con.execute(
        "INSERT INTO api_tokens (token_id, username, token_hash, label, created_at, created_by, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [token_id, name, _hash(token), label, moment, actor.username, expires],
    )
    record(con, actor, "user_change", name,
           detail={"change": "api token added", "id": token_id, "expires_at": expires, "label": label})
    return token_id, token


def revoke_token(con: duckdb.DuckDBPyConnection, actor: Actor, token_id: str,
                 *, now: datetime | None = None) -> str:
    """Revoke token ``token_id`` (by its id or the whole token); return the account it served."""
    require(actor, Permission.MANAGE_USERS)
    match = _TOKEN.fullmatch(token_id.strip())
    ident = match.group(1) if match else token_id.strip()
    row = con.execute("SELECT username, revoked_at FROM api_tokens WHERE token_id = ?", [ident]).fetchone()
    if row is None:
        raise InvalidInput(f"no API token with id '{ident}' (see `hygie users token list`)")
    if row[1] is not None:
        raise InvalidInput(f"API token '{ident}' was already revoked")
    con.execute("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE token_id = ?",
                [now or datetime.now(UTC), actor.username, ident])
    record(con, actor, "user_change", row[0], detail={"change": "api token revoked", "id": ident})
    return str(row[0])


def list_tokens(con: duckdb.DuckDBPyConnection, actor: Actor) -> pd.DataFrame:
    """Tokens with their account, label and state (never the hash)."""
    require(actor, Permission.MANAGE_USERS)
    return con.execute(
        """SELECT token_id, username, label, created_at, created_by, expires_at, revoked_at, last_used_at,
                  CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
                       WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'expired'
                       ELSE 'active' END AS state
           FROM api_tokens ORDER BY created_at, token_id"""
    ).df()


def authenticate_token(con: duckdb.DuckDBPyConnection, token: str, *, now: datetime | None = None,
                       touch: bool = True) -> Actor:
    """The Actor (``via="api"``) a bearer token acts as, or :class:`AuthenticationError` with a
    ``kind`` among :data:`TOKEN_REFUSALS`.

    ``touch`` records the time of use (at most once a minute per token, to spare writes).
    """
    match = _TOKEN.fullmatch(token.strip())
    if match is None:
        raise _refused("malformed", "the API token is malformed (expected hyg_<id>_<secret>)")
    row = con.execute(
        """SELECT t.token_hash, t.revoked_at, t.expires_at, t.last_used_at, u.username, u.role, u.active
           FROM api_tokens t LEFT JOIN users u ON u.username = t.username WHERE t.token_id = ?""",
        [match.group(1)],
    ).fetchone()
    if row is None or not hmac.compare_digest(row[0], _hash(token.strip())):
        raise _refused("unknown", "unknown API token")
    token_hash, revoked_at, expires_at, last_used, username, role, active = row
    moment = now or datetime.now(UTC)
    if revoked_at is not None:
        raise _refused("revoked", f"API token {match.group(1)} was revoked")
    if expires_at is not None and expires_at <= moment:
        raise _refused("expired", f"API token {match.group(1)} expired on {expires_at:%Y-%m-%d}")
    if username is None or not active:
        raise _refused("inactive", f"the account of API token {match.group(1)} is deactivated")
    if touch and (last_used is None or moment - last_used > timedelta(minutes=1)):
        con.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_id = ?", [moment, match.group(1)])
    return Actor(username, role, via="api")
