"""Login form, signed session cookie, idle and absolute timeouts, logout, optional OIDC (``st.login``).

Passwords are checked by the engine (``analytics.access.auth.authenticate``: argon2, lock-out).
Served by ``hygie serve`` (its cookie routes installed, ``sessions.STORE.cookie_routes``), the
signed-in user lives in the server's session store and the browser's HttpOnly cookie
``hygie_session``, checked on every script run (:func:`current_actor`) and by every deferred
action (:func:`deferred_guard`): a Streamlit session ID alone is no login, and F5 keeps the user
signed in. Login hands a one-time ticket to the browser, which trades it for the cookie at
``POST /_hygie/session`` and reloads. Without those routes (AppTest) the actor is kept in the
Streamlit session as before, and a store session still backs deferred actions.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analytics.access import access_log, auth, oidc, sessions
from analytics.access.roles import Actor
from analytics.errors import AccessDenied, HygieError
from dashboard import state
from dashboard.i18n import t

__all__ = ["current_actor", "deferred_guard", "login_page", "logout", "oidc_configured"]

log = logging.getLogger("hygie.dashboard")

ACTOR_KEY = "hygie_actor"
SEEN_KEY = "hygie_last_seen"
EXPIRED_KEY = "hygie_expired"
OIDC_REFUSED_KEY = "hygie_oidc_refused"
SID_KEY = "hygie_sid"
SESSION_ROUTE = "_hygie/session"
ENDED = "session ended (logout, deactivation, idle or absolute timeout)"


def timeout_minutes() -> float:
    """Idle minutes after which a session must log in again (the engine's auth setting)."""
    try:
        return float(auth.auth_settings(state.con()).session_timeout_minutes)
    except HygieError:
        log.exception("invalid session timeout setting; using 30 minutes")
        return 30.0


def _secrets_section(name: str) -> Mapping | None:
    try:
        return st.secrets[name] if name in st.secrets else None
    except Exception:  # no secrets file at all
        return None


def oidc_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` configures an identity provider for ``st.login``."""
    return _secrets_section("auth") is not None


def _oidc_actor() -> Actor | None:
    """The Actor of an ``st.login`` user, mapped by the engine (groups -> role), or None.

    A refusal (no mapped group, deactivated account) is remembered so the login page says why.
    """
    if not oidc_configured() or not getattr(st.user, "is_logged_in", False):
        return None
    if st.session_state.get(OIDC_REFUSED_KEY):  # refused once: do not log a failure per rerun
        return None
    con = state.con()
    try:
        settings = oidc.oidc_settings(con, _secrets_section("hygie"))
        return oidc.oidc_login(con, st.user.to_dict(), settings)
    except HygieError as exc:
        st.session_state[OIDC_REFUSED_KEY] = str(exc)
        return None


def _record_logout(actor: Actor, reason: str) -> None:
    auth.logout(state.con(), actor, reason=reason)


def _cookie_mode() -> bool:
    return sessions.STORE.cookie_routes


def current_actor() -> Actor | None:
    """The signed-in actor, or ``None`` (never signed in, logged out, idle or too long)."""
    sessions.STORE.idle_s = timeout_minutes() * 60
    if _cookie_mode():
        return _cookie_actor()
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None:
        actor = _oidc_actor()
        if actor is None:
            return None
        st.session_state[ACTOR_KEY] = actor  # oidc_login recorded the login
    now = time.monotonic()
    last = st.session_state.get(SEEN_KEY, now)
    if now - last > timeout_minutes() * 60:
        _record_logout(actor, "timeout")
        _forget()
        st.session_state[EXPIRED_KEY] = True
        if actor.via == "oidc" and getattr(st.user, "is_logged_in", False):
            st.logout()  # else the identity provider's cookie would sign them straight back in
        return None
    actor = _follow_account(actor)
    if actor is None:
        return None
    st.session_state[SEEN_KEY] = now
    _keep_store_session(actor)
    return actor


def _follow_account(actor: Actor, sid: str | None = None) -> Actor | None:
    """A local account as it is now (an admin may have demoted or deactivated it)."""
    if actor.via != "dashboard":
        return actor
    current = auth.refresh_actor(state.con(), actor)
    if current is None:
        _record_logout(actor, "deactivated")
        sessions.STORE.revoke(sid or st.session_state.get(SID_KEY))
        _forget()
        return None
    if current != actor:
        st.session_state[ACTOR_KEY] = current
        if sid:
            sessions.STORE.update_actor(sid, current)
    return current


def _keep_store_session(actor: Actor) -> None:
    """Without the cookie routes (AppTest): a store session per Streamlit session, for deferred checks."""
    sid = st.session_state.get(SID_KEY)
    live = sessions.STORE.check_sid(sid, sessions.STORE.idle_s)
    if live is None or live.actor.username != actor.username:
        st.session_state[SID_KEY] = sessions.STORE.open(actor).sid
    elif live.actor != actor:
        sessions.STORE.update_actor(live.sid, actor)


def _cookie_actor() -> Actor | None:
    """The actor of the browser's session cookie (this connection's, not the Streamlit session's)."""
    value = st.context.cookies.get(sessions.COOKIE)
    sid = value.split(".", 1)[0] if value else None
    before = sessions.STORE.peek(sid) if value else None
    session = sessions.STORE.check(value, sessions.STORE.idle_s)
    if session is None:
        if before is not None:
            _record_logout(before.actor, "timeout")  # the session ran out (idle or absolute)
            _forget()
            st.session_state[EXPIRED_KEY] = True
        elif st.session_state.get(ACTOR_KEY) is not None:
            _forget()  # joined without the cookie (a replayed session ID), or signed out elsewhere
        oidc_actor = _oidc_actor()
        if oidc_actor is not None:
            _hand_over(oidc_actor)
        return None
    actor = _follow_account(session.actor, session.sid)
    if actor is None:
        return None
    _bind_streamlit_session(session.sid)
    st.session_state[ACTOR_KEY] = actor
    st.session_state[SID_KEY] = session.sid
    return actor


def _bind_streamlit_session(sid: str) -> None:
    """Tie this Streamlit session to the signed-in session ``sid`` (or ``sessions.PENDING``): the
    server then lets only that cookie join it or upload into it (``dashboard/server.py``)."""
    ctx = get_script_run_ctx()
    if ctx is not None:
        sessions.STORE.bind(ctx.session_id, sid)


def _hand_over(actor: Actor) -> None:
    """Give the browser a one-time ticket to trade for the HttpOnly cookie, then reload the page."""
    _bind_streamlit_session(sessions.PENDING)  # nobody may join this session to read the ticket
    ticket = sessions.STORE.ticket(actor)
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    route = "/" + "/".join(p for p in (base, SESSION_ROUTE) if p)
    st.info(t("login.signing_in"))
    st.html(
        "<script>fetch(" + json.dumps(route) + ", {method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'text/plain'}, body: " + json.dumps(ticket) + "})"
        ".finally(() => window.location.reload());</script>",
        unsafe_allow_javascript=True,
    )


def deferred_guard() -> Callable[[], Actor]:
    """A check for an action Streamlit runs later without rerunning the page (a download).

    Called when the action runs, it returns the account as it is *then* (role re-read from
    ``users``), or raises :class:`AccessDenied` — logged — when the session was revoked, idle
    past the timeout or too old, or the account deactivated meanwhile.
    """
    sid = st.session_state.get(SID_KEY)
    idle_s = sessions.STORE.idle_s
    drawn_for = st.session_state.get(ACTOR_KEY)

    def check() -> Actor:
        session = sessions.STORE.check_sid(sid, idle_s, touch=False)
        reason = ENDED if session is None else None
        current: Actor | None = session.actor if session else None
        cursor = state.root_connection().cursor()
        try:
            if session is not None and session.actor.via == "dashboard":
                current = auth.refresh_actor(cursor, session.actor)
                if current is None:
                    sessions.STORE.revoke(sid)
                    reason = "account deactivated"
            if current is None:
                who = drawn_for.username if drawn_for is not None else "?"
                access_log.record(cursor, who, "request_refused", "download", detail={"reason": reason},
                                  via="dashboard")
                raise AccessDenied(f"download refused: {reason}")
            return current
        finally:
            cursor.close()

    return check


def _forget() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def logout() -> None:
    """End the session (store and cookie), forget it (and the identity provider's cookie for OIDC)."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is not None:
        _record_logout(actor, "user")
    sessions.STORE.revoke(st.session_state.get(SID_KEY))
    _forget()
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


_LOGIN_ERRORS = ("invalid_credentials", "locked")


def _client_address() -> str:
    """The peer address of this connection (not a forwarded header: that would be spoofable);
    ``loopback`` for a local browser or a reverse proxy on the same machine."""
    try:
        address = st.context.ip_address
    except Exception:  # noqa: BLE001 - no client context (bare runs)
        address = None
    return address if isinstance(address, str) and address else "loopback"  # (AppTest: a stand-in object)


def login_page() -> None:
    """The only page an anonymous visitor sees."""
    st.title(t("login.title"))
    st.caption(t("login.intro"))
    if st.session_state.pop(EXPIRED_KEY, False):
        st.warning(t("login.expired", minutes=int(timeout_minutes())))
    if oidc_configured():
        if getattr(st.user, "is_logged_in", False):
            st.error(t("login.oidc_no_role"))
            if refused := st.session_state.get(OIDC_REFUSED_KEY):
                st.caption(refused)
            if st.button(t("logout.button"), key="oidc_logout"):
                st.logout()
        elif st.button(t("login.oidc"), type="primary"):
            st.login()
    with st.form("login", enter_to_submit=True, clear_on_submit=True):
        username = st.text_input(t("login.username"), key="login_username", autocomplete="username")
        password = st.text_input(
            t("login.password"), type="password", key="login_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button(t("login.submit"), type="primary")
    if not submitted:
        return
    if not username or not password:
        st.error(t("login.missing"))
        return
    try:
        actor = auth.authenticate(state.con(), username.strip(), password, source=_client_address())
    except HygieError as exc:
        kind = getattr(exc, "kind", None)
        st.error(t(f"login.error.{kind}") if kind in _LOGIN_ERRORS else str(exc))
        return
    if _cookie_mode():
        _hand_over(actor)  # the cookie, not this Streamlit session, carries the login
        return
    st.session_state[ACTOR_KEY] = actor
    st.session_state[SEEN_KEY] = time.monotonic()
    st.rerun()
