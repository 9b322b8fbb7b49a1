"""Signed-in sessions of the dashboard server, bound to a signed cookie rather than to Streamlit.

A Streamlit session ID travels in URLs (``PUT /_stcore/upload_file/<session_id>/…``) and can be
replayed to join a session (``Sec-WebSocket-Protocol: streamlit, x, <session_id>``): it must not
be a login. After a successful password check the page gets a one-time *ticket*
(:meth:`SessionStore.ticket`, 60 s); the browser trades it at ``POST /_hygie/session`` (a route
of ``hygie serve``, ``dashboard/server.py``) for the cookie ``hygie_session`` —
``<session id>.<HMAC-SHA-256(process key, session id)>``, ``HttpOnly``, ``SameSite=Strict``,
``Secure`` when the page is served over HTTPS, ``Path=/`` — which no script of the page can read.
Every script run and every deferred download checks it (:meth:`SessionStore.check`), and F5
opens a new Streamlit session that the cookie signs straight back in.

The server keeps each session in memory (bounded: :data:`MAX_SESSIONS`, expired ones pruned
first): account, channel, creation and last activity. A session ends at logout
(:meth:`revoke`), when its account is deactivated (:meth:`revoke_user`, and the page's re-read
of ``users``), after ``auth.session_timeout_minutes`` without activity (idle) and after
``HYGIE_AUTH_SESSION_MAX_HOURS`` (default 12) in any case (absolute). The signing key is random
per server process: restarting the server signs everyone out.

Nothing here imports Streamlit: the dashboard and its server wrapper call it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from dataclasses import dataclass

from analytics.access.roles import Actor

__all__ = ["COOKIE", "MAX_SESSIONS", "PENDING", "STORE", "Session", "SessionStore", "absolute_limit_s"]

COOKIE = "hygie_session"
MAX_SESSIONS = 10_000
TICKET_TTL_S = 60.0
MAX_TICKETS = 1_000
#: Streamlit sessions remembered with the signed-in session they serve (oldest forgotten first).
MAX_BINDINGS = 4 * MAX_SESSIONS
#: What a Streamlit session is bound to while its login ticket is on its way to the browser: no
#: cookie matches it, so nobody can join that session and read the ticket.
PENDING = "-pending-"


def absolute_limit_s() -> float:
    """Seconds a session may last whatever its activity (``HYGIE_AUTH_SESSION_MAX_HOURS``, 12)."""
    raw = os.environ.get("HYGIE_AUTH_SESSION_MAX_HOURS", "12")
    try:
        hours = float(raw)
    except ValueError:
        hours = 12.0
    return max(hours, 0.01) * 3600


@dataclass
class Session:
    sid: str
    actor: Actor
    created: float
    last_seen: float
    revoked: bool = False


class SessionStore:
    """The server's signed-in sessions (thread-safe; one per server process: :data:`STORE`)."""

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)
        self._sessions: dict[str, Session] = {}
        self._tickets: dict[str, tuple[Actor, float]] = {}
        self._bindings: dict[str, str] = {}  # Streamlit session ID -> the session it serves
        self._lock = threading.Lock()
        #: Set by ``hygie serve``'s server wrapper once its cookie routes exist: the dashboard then
        #: requires the cookie. Without them (AppTest, a bare ``streamlit run``) sessions are
        #: still tracked here, by Streamlit session, for deferred actions.
        self.cookie_routes = False
        #: Idle limit in seconds, refreshed from the warehouse settings by every page run; the
        #: server's routes use it.
        self.idle_s = 30 * 60.0

    # ------------------------------------------------------------------ cookie values

    def _sign(self, sid: str) -> str:
        return hmac.new(self._key, sid.encode("ascii"), hashlib.sha256).hexdigest()

    def cookie_value(self, sid: str) -> str:
        return f"{sid}.{self._sign(sid)}"

    def _sid(self, value: str | None) -> str | None:
        if not value or value.count(".") != 1 or len(value) > 200:
            return None
        sid, mac = value.split(".")
        return sid if hmac.compare_digest(mac, self._sign(sid)) else None

    # ------------------------------------------------------------------ lifecycle

    def open(self, actor: Actor, now: float | None = None) -> Session:
        """A new session for ``actor`` (its cookie: :meth:`cookie_value`)."""
        moment = time.time() if now is None else now
        session = Session(secrets.token_urlsafe(24), actor, moment, moment)
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                self._prune(moment)
            while len(self._sessions) >= MAX_SESSIONS:  # still full: the least recently used goes
                oldest = min(self._sessions.values(), key=lambda s: s.last_seen)
                del self._sessions[oldest.sid]
            self._sessions[session.sid] = session
        return session

    def ticket(self, actor: Actor) -> str:
        """A one-time ticket the browser trades for the cookie within :data:`TICKET_TTL_S`."""
        value = secrets.token_urlsafe(24)
        now = time.time()
        with self._lock:
            for stale in [k for k, (_, born) in self._tickets.items() if now - born > TICKET_TTL_S]:
                del self._tickets[stale]
            if len(self._tickets) >= MAX_TICKETS:
                self._tickets.pop(next(iter(self._tickets)))
            self._tickets[value] = (actor, now)
        return value

    def redeem(self, ticket: str) -> str | None:
        """The cookie value for a valid, unused ticket (then spent), else None."""
        with self._lock:
            entry = self._tickets.pop(ticket, None)
        if entry is None or time.time() - entry[1] > TICKET_TTL_S:
            return None
        return self.cookie_value(self.open(entry[0]).sid)

    def check(self, value: str | None, idle_s: float, *, touch: bool = True,
              now: float | None = None) -> Session | None:
        """The live session a cookie value (or a bare session id from the server) names, or None.

        None when the signature is wrong, the session is unknown, revoked, idle longer than
        ``idle_s`` or older than the absolute limit (the last three are then forgotten).
        """
        sid = self._sid(value) if value and "." in value else None
        return self.check_sid(sid, idle_s, touch=touch, now=now)

    def check_sid(self, sid: str | None, idle_s: float, *, touch: bool = True,
                  now: float | None = None) -> Session | None:
        if sid is None:
            return None
        moment = time.time() if now is None else now
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None
            if session.revoked or moment - session.last_seen > idle_s \
                    or moment - session.created > absolute_limit_s():
                del self._sessions[sid]
                return None
            if touch:
                session.last_seen = moment
            return session

    def peek(self, sid: str | None) -> Session | None:
        """The session as stored (even expired), without checking or touching it."""
        with self._lock:
            return self._sessions.get(sid) if sid else None

    def update_actor(self, sid: str, actor: Actor) -> None:
        with self._lock:
            if sid in self._sessions:
                self._sessions[sid].actor = actor

    # ------------------------------------------------------------------ Streamlit sessions

    def bind(self, streamlit_id: str, sid: str) -> None:
        """Record that the Streamlit session ``streamlit_id`` serves the signed-in session ``sid``
        (or :data:`PENDING`): only a request carrying that session's cookie may then join it
        (WebSocket) or upload into it."""
        with self._lock:
            self._bindings.pop(streamlit_id, None)
            while len(self._bindings) >= MAX_BINDINGS:
                self._bindings.pop(next(iter(self._bindings)))
            self._bindings[streamlit_id] = sid

    def bound(self, streamlit_id: str) -> str | None:
        """The signed-in session (or :data:`PENDING`) a Streamlit session serves, if any."""
        with self._lock:
            return self._bindings.get(streamlit_id)

    def may_enter(self, streamlit_id: str, cookie: str | None, idle_s: float) -> bool:
        """Whether a request carrying ``cookie`` may join or upload into ``streamlit_id``: the
        session must be bound to the live signed-in session that cookie names."""
        bound = self.bound(streamlit_id)
        session = self.check(cookie, idle_s, touch=False)
        return bound is not None and session is not None and session.sid == bound

    def revoke(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)

    def revoke_user(self, username: str) -> int:
        """End every session of ``username`` (deactivation); how many there were."""
        with self._lock:
            gone = [sid for sid, s in self._sessions.items() if s.actor.username == username]
            for sid in gone:
                del self._sessions[sid]
        return len(gone)

    def _prune(self, now: float) -> None:
        limit = absolute_limit_s()
        for sid in [sid for sid, s in self._sessions.items() if now - s.created > limit]:
            del self._sessions[sid]

    def __len__(self) -> int:
        return len(self._sessions)


#: The server process's sessions.
STORE = SessionStore()
