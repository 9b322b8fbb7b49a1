"""Local accounts: create, authenticate (with lock-out), change role or password, deactivate.

Settings (environment variable, then the warehouse ``settings`` table key, then the default):

=========================== ================================ =======
setting                     env / settings key               default
=========================== ================================ =======
consecutive failures        HYGIE_AUTH_MAX_FAILURES /        5
before lock-out             ``auth.max_failures``
lock-out duration (minutes) HYGIE_AUTH_LOCKOUT_MINUTES /     15
                            ``auth.lockout_minutes``
idle session timeout        HYGIE_AUTH_SESSION_TIMEOUT_MINUTES / 30
(minutes)                   ``auth.session_timeout_minutes``
=========================== ================================ =======

Failures are counted per name *as typed*, whether an account exists or not, and the same
message is given for an unknown name, a wrong password and a deactivated account: a login form
never reveals which accounts exist. When the caller knows where the attempt comes from
(``source``: the dashboard passes the client's address), failures and the lock are counted per
name *and* source, so that nobody can lock an account — the last admin included — from another
address; on top, one source may try :data:`SOURCE_ATTEMPTS` logins per :data:`SOURCE_WINDOW_S`
seconds (any names), remembered for at most :data:`MAX_SOURCES` sources (not ``loopback``: behind
a reverse proxy on the same machine every user has that address, and the lock is then per name).
At most
``HYGIE_AUTH_MAX_CONCURRENT`` (4) password checks run at once (argon2id takes 64 MiB each): a
burst of logins waits instead of filling the memory. An administrator can always lift a lock,
even while the dashboard holds the warehouse: ``hygie users unlock NAME`` then goes through the
server's job worker (signed queue request). :class:`AuthenticationError` carries a stable ``kind`` for
the dashboard to translate (:data:`INVALID_CREDENTIALS`, :data:`LOCKED`, :data:`SESSION_EXPIRED`).
"""

from __future__ import annotations

import os
import re
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import duckdb
import pandas as pd

from analytics.access import passwords, sessions
from analytics.access.access_log import record
from analytics.access.roles import ROLES, Actor, Permission, require
from analytics.errors import AccessDenied, AuthenticationError, InvalidInput

__all__ = [
    "DEMO_ACCOUNTS",
    "INVALID_CREDENTIALS",
    "LOCKED",
    "SESSION_EXPIRED",
    "AuthSettings",
    "actor_for",
    "auth_settings",
    "authenticate",
    "check_session",
    "create_demo_accounts",
    "create_user",
    "deactivate",
    "list_users",
    "logout",
    "refresh_actor",
    "session_expired",
    "set_password",
    "set_role",
    "unlock",
]

INVALID_CREDENTIALS = "invalid_credentials"
LOCKED = "locked"
SESSION_EXPIRED = "session_expired"

#: The demo warehouse's accounts: username -> (role, display name).
DEMO_ACCOUNTS = {
    "admin": ("admin", "Administratrice démo"),
    "manager": ("manager", "Responsable démo"),
    "analyst": ("analyst", "Analyste démo"),
    "viewer": ("viewer", "Lecteur démo"),
}
DEFAULT_DEMO_PASSWORD = "hygie-demo"

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_MAX_TYPED = 128
# Verified against when the name is unknown, so that the answer takes as long as for a real one.
_DUMMY_HASH: str | None = None
_NAME_LOCKS = [threading.Lock() for _ in range(64)]

SOURCE_ATTEMPTS = 30
SOURCE_WINDOW_S = 600.0
MAX_SOURCES = 10_000
_VERIFY_WAIT_S = 30.0


def _max_concurrent() -> int:
    raw = os.environ.get("HYGIE_AUTH_MAX_CONCURRENT", "4")
    return int(raw) if raw.isdigit() and int(raw) >= 1 else 4


_VERIFY_SLOTS = threading.BoundedSemaphore(_max_concurrent())


class SourceLimiter:
    """Login attempts per source in a sliding window, for a bounded number of sources."""

    def __init__(self, attempts: int = SOURCE_ATTEMPTS, window_s: float = SOURCE_WINDOW_S,
                 max_sources: int = MAX_SOURCES) -> None:
        self.attempts, self.window_s, self.max_sources = attempts, window_s, max_sources
        self._seen: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def allow(self, source: str, now: float) -> bool:
        """Count an attempt from ``source``; False when it is over its budget."""
        with self._lock:
            times = [t for t in self._seen.pop(source, []) if now - t < self.window_s]
            if len(self._seen) >= self.max_sources:  # forget the least recently seen source
                self._seen.pop(next(iter(self._seen)))
            allowed = len(times) < self.attempts
            if allowed:
                times.append(now)
            self._seen[source] = times[-self.attempts:]  # re-inserted: most recent last
            return allowed

    def __len__(self) -> int:
        return len(self._seen)


SOURCES = SourceLimiter()


def _error(kind: str, message: str) -> AuthenticationError:
    exc = AuthenticationError(message)
    exc.kind = kind  # type: ignore[attr-defined]
    return exc


@dataclass(frozen=True)
class AuthSettings:
    max_failures: int = 5
    lockout_minutes: int = 15
    session_timeout_minutes: int = 30


_SETTINGS = {
    "max_failures": ("HYGIE_AUTH_MAX_FAILURES", "auth.max_failures"),
    "lockout_minutes": ("HYGIE_AUTH_LOCKOUT_MINUTES", "auth.lockout_minutes"),
    "session_timeout_minutes": ("HYGIE_AUTH_SESSION_TIMEOUT_MINUTES", "auth.session_timeout_minutes"),
}


def auth_settings(con: duckdb.DuckDBPyConnection | None = None) -> AuthSettings:
    """Lock-out and session settings from the environment, the warehouse, then the defaults."""
    values: dict[str, int] = {}
    for field_name, (env, key) in _SETTINGS.items():
        raw = os.environ.get(env)
        source = env
        if raw is None and con is not None:
            row = con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
            raw, source = (row[0] if row else None), f"setting {key}"
        if raw is None:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(f"{source}: '{raw}' is not a whole number") from None
        if value < 1:
            raise InvalidInput(f"{source}: must be at least 1, got {value}")
        values[field_name] = value
    return AuthSettings(**values)


def session_expired(last_seen: datetime, now: datetime, timeout: timedelta | int | None = None) -> bool:
    """Whether a session idle since ``last_seen`` has expired at ``now``.

    ``timeout`` is a timedelta or a number of minutes (default: the 30-minute setting).
    """
    if timeout is None:
        timeout = AuthSettings().session_timeout_minutes
    if not isinstance(timeout, timedelta):
        timeout = timedelta(minutes=timeout)
    return now - last_seen >= timeout


def check_session(last_seen: datetime, now: datetime, timeout: timedelta | int | None = None) -> None:
    """Raise ``AuthenticationError`` (kind ``session_expired``) if the session is idle too long."""
    if session_expired(last_seen, now, timeout):
        raise _error(SESSION_EXPIRED, "the session expired after inactivity; log in again")


def _normalise(username: str) -> str:
    return username.strip().casefold()[:_MAX_TYPED]


def _valid_username(username: str) -> str:
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise InvalidInput("account.bad_username", user=username)
    return name


def _valid_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput("account.bad_role", role=role, roles=", ".join(ROLES))
    return role


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _user(con: duckdb.DuckDBPyConnection, username: str) -> tuple | None:
    return con.execute(
        "SELECT username, role, password_hash, active FROM users WHERE username = ?", [username]
    ).fetchone()


def _require_user(con: duckdb.DuckDBPyConnection, username: str) -> tuple:
    row = _user(con, username.strip().lower())
    if row is None:
        raise InvalidInput("account.unknown", user=username)
    return row


def _active_admins(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT count(*) FROM users WHERE role = 'admin' AND active").fetchone()[0]


def create_user(
    con: duckdb.DuckDBPyConnection,
    actor: Actor | None,
    username: str,
    role: str,
    password: str | None,
    display_name: str | None = None,
    *,
    now: datetime | None = None,
) -> None:
    """Create a local account (policy-checked password; ``None``: cannot log in locally).

    Requires MANAGE_USERS, except to create the first admin of a warehouse that has no active
    admin (``actor=None`` is then allowed: the bootstrap case).
    """
    name = _valid_username(username)
    _valid_role(role)
    bootstrap = role == "admin" and _active_admins(con) == 0
    if actor is None:
        if not bootstrap:
            raise AccessDenied("only an administrator may create accounts (an admin already exists)")
        actor = Actor(name, "admin", via="bootstrap")
    elif not bootstrap:
        require(actor, Permission.MANAGE_USERS)
    if _user(con, name) is not None:
        raise InvalidInput("account.exists", user=name)
    if password is not None:
        passwords.check_password(password, name)
    _insert_user(con, actor, name, role, password, display_name, _now(now), is_demo=False)


def _insert_user(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    name: str,
    role: str,
    password: str | None,
    display_name: str | None,
    moment: datetime,
    *,
    is_demo: bool,
) -> None:
    password_hash = passwords.hash_password(password) if password is not None else None
    con.execute(
        "INSERT INTO users (username, display_name, role, password_hash, active, is_demo, created_at, "
        "created_by, password_changed_at) VALUES (?, ?, ?, ?, TRUE, ?, ?, ?, ?)",
        [name, display_name, role, password_hash, is_demo, moment, actor.username,
         moment if password_hash else None],
    )
    record(con, actor, "user_change", name, detail={"change": "create", "role": role, "demo": is_demo},
           now=moment)


def create_demo_accounts(con: duckdb.DuckDBPyConnection, password: str | None = None) -> list[str]:
    """Create admin, manager, analyst and viewer with the demo password; return their names.

    The password is ``password``, else ``HYGIE_DEMO_PASSWORD``, else ``hygie-demo``; it bypasses
    the policy on purpose. Only ``analytics/demo.py`` calls this: no other warehouse gets them.
    Existing accounts are left alone.
    """
    secret = password or os.environ.get("HYGIE_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD
    creator = Actor("demo", "admin", via="cli")
    created = []
    moment = datetime.now(UTC)
    for name, (role, display) in DEMO_ACCOUNTS.items():
        if _user(con, name) is None:
            _insert_user(con, creator, name, role, secret, display, moment, is_demo=True)
            created.append(name)
    return created


def authenticate(
    con: duckdb.DuckDBPyConnection,
    username: str,
    password: str,
    *,
    now: datetime | None = None,
    settings: AuthSettings | None = None,
    via: str = "dashboard",
    source: str | None = None,
) -> Actor:
    """Check a local login and return the :class:`Actor`; record ``login`` or ``login_failed``.

    Raises :class:`AuthenticationError` with ``kind`` ``invalid_credentials`` (unknown name,
    wrong password or deactivated account: one message for all three) or ``locked`` (too many
    consecutive failures from this source, or too many attempts from it: wait).
    """
    moment = _now(now)
    cfg = settings or auth_settings(con)
    typed = _normalise(username)
    if source not in (None, "loopback") and not SOURCES.allow(str(source)[:100], time.monotonic()):
        record(con, typed, "login_failed", typed, detail={"reason": "rate limited"}, now=moment, via=via)
        raise _error(LOCKED, "too many login attempts from this address: try again later")
    if not _VERIFY_SLOTS.acquire(timeout=_VERIFY_WAIT_S):
        record(con, typed, "login_failed", typed, detail={"reason": "server busy"}, now=moment, via=via)
        raise _error(LOCKED, "too many logins at once: try again in a moment")
    try:
        # One attempt per name at a time in this process: parallel guesses cannot lose failure
        # counts (read-modify-write) nor collide in DuckDB's optimistic transactions.
        with _NAME_LOCKS[zlib.crc32(typed.encode()) % len(_NAME_LOCKS)]:
            return _authenticate(con, typed, password, moment, cfg, via, source)
    finally:
        _VERIFY_SLOTS.release()


def _failure_key(typed: str, source: str | None) -> str:
    """Whose failures count: the name, or the name from that source."""
    return typed if source is None else f"{typed}@{str(source)[:100]}"


def _authenticate(con: duckdb.DuckDBPyConnection, typed: str, password: str, moment: datetime,
                  cfg: AuthSettings, via: str, source: str | None = None) -> Actor:
    global _DUMMY_HASH
    key = _failure_key(typed, source)
    failures, locked_until = _failures(con, key, moment)
    row = _user(con, typed)
    if row is not None and row[2]:
        good = passwords.verify_password(row[2], password)
    else:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = passwords.hash_password("not a password of anyone")
        passwords.verify_password(_DUMMY_HASH, password)
        good = False
    if locked_until is not None:
        record(con, typed, "login_failed", typed, detail={"reason": "locked"}, now=moment, via=via)
        raise _error(LOCKED, "too many failed attempts: the account is locked for a while; try again later")
    if not good or not row[3]:
        _count_failure(con, key, failures + 1, moment, cfg)
        record(con, typed, "login_failed", typed, detail={"reason": "invalid credentials"}, now=moment,
               via=via)
        raise _error(INVALID_CREDENTIALS, "invalid username or password")
    con.execute("DELETE FROM login_failures WHERE username = ?", [key])
    if passwords.needs_rehash(row[2]):
        con.execute("UPDATE users SET password_hash = ? WHERE username = ?",
                    [passwords.hash_password(password), typed])
    con.execute("UPDATE users SET last_login_at = ? WHERE username = ?", [moment, typed])
    actor = Actor(row[0], row[1], via=via)
    record(con, actor, "login", row[0], now=moment)
    return actor


def _failures(con: duckdb.DuckDBPyConnection, typed: str, moment: datetime) -> tuple[int, datetime | None]:
    """Consecutive failures so far and the lock end, if a lock is running at ``moment``."""
    row = con.execute(
        "SELECT failed_attempts, locked_until FROM login_failures WHERE username = ?", [typed]
    ).fetchone()
    if row is None:
        return 0, None
    attempts, locked_until = row
    if locked_until is not None:
        if moment < locked_until:
            return attempts, locked_until
        return 0, None  # the lock has run out: start counting again
    return attempts, None


def _count_failure(
    con: duckdb.DuckDBPyConnection, typed: str, attempts: int, moment: datetime, cfg: AuthSettings
) -> None:
    locked_until = moment + timedelta(minutes=cfg.lockout_minutes) if attempts >= cfg.max_failures else None
    con.execute(
        "INSERT INTO login_failures VALUES (?, ?, ?, ?) ON CONFLICT (username) DO UPDATE SET "
        "failed_attempts = excluded.failed_attempts, last_failed_at = excluded.last_failed_at, "
        "locked_until = excluded.locked_until",
        [typed, attempts, moment, locked_until],
    )
    # Keep the table small: names that failed long ago and are not locked are forgotten.
    con.execute(
        "DELETE FROM login_failures WHERE last_failed_at < ? AND (locked_until IS NULL OR locked_until < ?)",
        [moment - timedelta(days=1), moment],
    )


def logout(con: duckdb.DuckDBPyConnection, actor: Actor, *, reason: str = "user") -> None:
    """Record a logout (``reason``: ``user`` or ``timeout``)."""
    record(con, actor, "logout", actor.username, detail={"reason": reason})


def refresh_actor(con: duckdb.DuckDBPyConnection, actor: Actor) -> Actor | None:
    """A signed-in local account as it is *now*: its current role, or ``None`` once it was
    deactivated or removed. The dashboard calls it on every page run, so that a demotion or a
    deactivation by an admin takes effect at the user's next click, not at their next login."""
    row = _user(con, actor.username)
    if row is None or not row[3]:
        return None
    return actor if row[1] == actor.role else Actor(row[0], row[1], via=actor.via)


def actor_for(con: duckdb.DuckDBPyConnection, username: str, *, via: str = "cli") -> Actor:
    """The Actor of an existing active account, without a password (CLI ``--as``).

    Whoever can open the warehouse file already holds all its data, so the CLI trusts them to
    say whom they act as; the access log records ``via=cli``.
    """
    row = _user(con, username.strip().lower())
    if row is None or not row[3]:
        raise InvalidInput(f"--as {username}: no active account with that name")
    return Actor(row[0], row[1], via=via)


def set_password(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    username: str,
    new_password: str,
    *,
    current_password: str | None = None,
    now: datetime | None = None,
) -> None:
    """Change a password: an admin for anyone, a user for themself with the current password."""
    row = _require_user(con, username)
    name = row[0]
    if actor.username == name and current_password is not None:
        if not (row[2] and passwords.verify_password(row[2], current_password)):
            raise _error(INVALID_CREDENTIALS, "the current password is wrong")
    else:
        require(actor, Permission.MANAGE_USERS)
    passwords.check_password(new_password, name)
    moment = _now(now)
    con.execute(
        "UPDATE users SET password_hash = ?, password_changed_at = ?, is_demo = FALSE WHERE username = ?",
        [passwords.hash_password(new_password), moment, name],
    )
    record(con, actor, "user_change", name, detail={"change": "password"}, now=moment)


def set_role(con: duckdb.DuckDBPyConnection, actor: Actor, username: str, role: str) -> None:
    """Give an account another role (never leaves the warehouse without an active admin)."""
    require(actor, Permission.MANAGE_USERS)
    _valid_role(role)
    name, old_role, _, active = _require_user(con, username)
    if old_role == "admin" and role != "admin" and active and _active_admins(con) == 1:
        raise InvalidInput("account.last_admin", user=name)
    con.execute("UPDATE users SET role = ? WHERE username = ?", [role, name])
    record(con, actor, "user_change", name, detail={"change": "role", "from": old_role, "to": role})


def deactivate(con: duckdb.DuckDBPyConnection, actor: Actor, username: str) -> None:
    """Deactivate an account (kept for the access log's sake; it can no longer log in)."""
    require(actor, Permission.MANAGE_USERS)
    name, role, _, active = _require_user(con, username)
    if role == "admin" and active and _active_admins(con) == 1:
        raise InvalidInput("account.last_admin", user=name)
    con.execute("UPDATE users SET active = FALSE WHERE username = ?", [name])
    record(con, actor, "user_change", name, detail={"change": "deactivate"})
    sessions.STORE.revoke_user(name)  # this server's signed-in sessions of that account end now


def unlock(con: duckdb.DuckDBPyConnection, actor: Actor, username: str) -> bool:
    """Clear the failure count and lock of a name; return whether there was anything to clear."""
    require(actor, Permission.MANAGE_USERS)
    typed = _normalise(username)
    # the name, and the name from every source (keys "name@address")
    had = con.execute("SELECT count(*) FROM login_failures WHERE username = ? OR starts_with(username, ?)",
                      [typed, typed + "@"]).fetchone()[0]
    con.execute("DELETE FROM login_failures WHERE username = ? OR starts_with(username, ?)", [typed, typed + "@"])
    record(con, actor, "user_change", typed, detail={"change": "unlock"})
    return bool(had)


def list_users(con: duckdb.DuckDBPyConnection, actor: Actor) -> pd.DataFrame:
    """Accounts with their role, state and lock (never the password hash)."""
    require(actor, Permission.MANAGE_USERS)
    return con.execute(
        """
        SELECT u.username, u.display_name, u.role, u.active, u.is_demo,
               u.password_hash IS NOT NULL AS has_password,
               coalesce(f.failed_attempts, 0) AS failed_attempts,
               CASE WHEN f.locked_until > now() THEN f.locked_until END AS locked_until,
               u.created_at, u.created_by, u.password_changed_at, u.last_login_at
        FROM users u LEFT JOIN login_failures f ON f.username = u.username
        ORDER BY u.username
        """
    ).df()
