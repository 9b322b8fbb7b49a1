"""Single sign-on (``st.login``, OIDC): identity-provider groups mapped to Hygie roles.

The dashboard does the OIDC dance with ``st.login`` and hands the claims of the signed-in user
(``st.user.to_dict()``) to :func:`oidc_login`; this module only decides who that is and which
role they get, or refuses. Settings (explicit mapping, e.g. ``st.secrets["hygie"]``, first; then
environment; then the warehouse ``settings`` table):

=================== =================================== ==================== =================
setting             mapping key / env                   settings key         default
=================== =================================== ==================== =================
groups -> roles     ``oidc_roles`` (dict) /             ``oidc.group_roles`` none: nobody
                    HYGIE_OIDC_GROUP_ROLES (JSON)       (JSON object)        gets in
groups claim        ``oidc_groups_claim`` /             ``oidc.groups_claim`` ``groups``
                    HYGIE_OIDC_GROUPS_CLAIM
username claim      ``oidc_username_claim`` /           ``oidc.username_claim`` ``preferred_username``,
                    HYGIE_OIDC_USERNAME_CLAIM                                then email, then sub
role without group  ``oidc_default_role`` /             ``oidc.default_role`` none: refused
                    HYGIE_OIDC_DEFAULT_ROLE
=================== =================================== ==================== =================

A user in several mapped groups gets the most privileged role. A claim path may be dotted
(``realm_access.roles`` for Keycloak). The access log records ``via=oidc``; a local account of
the same name that an admin deactivated blocks the OIDC login too (one account per person).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from analytics.access.access_log import record
from analytics.access.roles import ROLES, Actor
from analytics.errors import AuthenticationError, InvalidInput

__all__ = ["NO_ROLE", "OIDC_INVALID", "OidcSettings", "actor_from_claims", "oidc_login", "oidc_settings"]

NO_ROLE = "oidc_no_role"
OIDC_INVALID = "oidc_invalid"


def _error(kind: str, message: str) -> AuthenticationError:
    exc = AuthenticationError(message)
    exc.kind = kind  # type: ignore[attr-defined]
    return exc


@dataclass(frozen=True)
class OidcSettings:
    group_roles: Mapping[str, str] = field(default_factory=dict)
    groups_claim: str = "groups"
    username_claim: str = "preferred_username"
    default_role: str | None = None

    def __post_init__(self) -> None:
        for group, role in self.group_roles.items():
            if role not in ROLES:
                raise InvalidInput(f"OIDC group '{group}': role '{role}' is not one of {', '.join(ROLES)}")
        if self.default_role is not None and self.default_role not in ROLES:
            raise InvalidInput(f"OIDC default role '{self.default_role}' is not one of {', '.join(ROLES)}")


_KEYS = {
    # field: (mapping key, environment variable, settings key)
    "group_roles": ("oidc_roles", "HYGIE_OIDC_GROUP_ROLES", "oidc.group_roles"),
    "groups_claim": ("oidc_groups_claim", "HYGIE_OIDC_GROUPS_CLAIM", "oidc.groups_claim"),
    "username_claim": ("oidc_username_claim", "HYGIE_OIDC_USERNAME_CLAIM", "oidc.username_claim"),
    "default_role": ("oidc_default_role", "HYGIE_OIDC_DEFAULT_ROLE", "oidc.default_role"),
}


def oidc_settings(
    con: duckdb.DuckDBPyConnection | None = None, mapping: Mapping[str, Any] | None = None
) -> OidcSettings:
    """The OIDC settings from ``mapping`` (e.g. ``st.secrets["hygie"]``), env, then the warehouse."""
    values: dict[str, Any] = {}
    for name, (map_key, env, setting) in _KEYS.items():
        source, raw = None, None
        if mapping is not None and map_key in mapping:
            source, raw = map_key, mapping[map_key]
        elif os.environ.get(env):
            source, raw = env, os.environ[env]
        elif con is not None:
            row = con.execute("SELECT value FROM settings WHERE key = ?", [setting]).fetchone()
            if row and row[0]:
                source, raw = f"setting {setting}", row[0]
        if raw is None:
            continue
        if name == "group_roles" and isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError:
                raise InvalidInput(f"{source}: not a JSON object of group -> role") from None
        if name == "group_roles":
            if not isinstance(raw, Mapping):
                raise InvalidInput(f"{source}: not a JSON object of group -> role")
            raw = {str(k): str(v) for k, v in raw.items()}
        values[name] = raw
    return OidcSettings(**values)


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _groups(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [g for g in raw.replace(",", " ").split() if g]
    if isinstance(raw, list | tuple | set):
        return [str(g) for g in raw]
    return []


def _username(claims: Mapping[str, Any], settings: OidcSettings) -> str:
    for path in (settings.username_claim, "email", "sub"):
        value = _claim(claims, path)
        if isinstance(value, str) and value.strip():
            name = value.strip().lower()
            if len(name) > 128 or any(ord(c) < 32 for c in name):
                raise _error(OIDC_INVALID, "the identity provider sent an unusable username")
            return name
    raise _error(OIDC_INVALID, "the identity provider sent no username (preferred_username, email or sub)")


def actor_from_claims(claims: Mapping[str, Any], settings: OidcSettings) -> Actor:
    """The :class:`Actor` for these OIDC claims, or ``AuthenticationError`` (kind ``oidc_no_role``)."""
    name = _username(claims, settings)
    granted = {settings.group_roles[g] for g in _groups(_claim(claims, settings.groups_claim))
               if g in settings.group_roles}
    if not granted and settings.default_role:
        granted = {settings.default_role}
    for role in ROLES:  # most privileged first
        if role in granted:
            return Actor(name, role, via="oidc")
    raise _error(NO_ROLE, f"{name}: none of this account's identity-provider groups gives a Hygie role")


def oidc_login(
    con: duckdb.DuckDBPyConnection, claims: Mapping[str, Any], settings: OidcSettings | None = None
) -> Actor:
    """Map the claims to an Actor and record ``login`` (or ``login_failed`` with the reason)."""
    cfg = settings or oidc_settings(con)
    try:
        actor = actor_from_claims(claims, cfg)
        local = con.execute("SELECT active FROM users WHERE username = ?", [actor.username]).fetchone()
        if local is not None and not local[0]:
            raise _error(NO_ROLE, f"{actor.username}: this account was deactivated in Hygie")
    except AuthenticationError as exc:
        typed = _claim(claims, cfg.username_claim) or _claim(claims, "email") or _claim(claims, "sub") or "?"
        record(con, str(typed), "login_failed", str(typed), detail={"reason": str(exc)}, via="oidc")
        raise
    record(con, actor, "login", actor.username)
    return actor
