"""Login form, idle session timeout, logout, and optional OIDC sign-in (``st.login``).

Passwords are checked by the engine (``analytics.access.auth.authenticate``: argon2, lock-out);
this module only keeps the resulting :class:`~analytics.access.roles.Actor` in the session
and forgets it after ``HYGIE_SESSION_TIMEOUT_MINUTES`` (default 30) of inactivity.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import streamlit as st

from analytics.access import auth, oidc
from analytics.access.roles import Actor
from analytics.errors import HygieError
from dashboard import state
from dashboard.i18n import t

__all__ = ["current_actor", "login_page", "logout", "oidc_configured"]

log = logging.getLogger("hygie.dashboard")

ACTOR_KEY = "hygie_actor"
SEEN_KEY = "hygie_last_seen"
EXPIRED_KEY = "hygie_expired"
OIDC_REFUSED_KEY = "hygie_oidc_refused"


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


def current_actor() -> Actor | None:
    """The signed-in actor, or ``None`` (never signed in, logged out or idle too long)."""
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
    if actor.via == "dashboard":  # a local account: an admin may have demoted or deactivated it
        current = auth.refresh_actor(state.con(), actor)
        if current is None:
            _record_logout(actor, "deactivated")
            _forget()
            return None
        if current != actor:
            st.session_state[ACTOR_KEY] = actor = current
    st.session_state[SEEN_KEY] = now
    return actor


def _forget() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def logout() -> None:
    """Forget the session (and the identity provider's cookie when OIDC was used)."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is not None:
        _record_logout(actor, "user")
    _forget()
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        st.logout()


_LOGIN_ERRORS = ("invalid_credentials", "locked")


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
        actor = auth.authenticate(state.con(), username.strip(), password)
    except HygieError as exc:
        kind = getattr(exc, "kind", None)
        st.error(t(f"login.error.{kind}") if kind in _LOGIN_ERRORS else str(exc))
        return
    st.session_state[ACTOR_KEY] = actor
    st.session_state[SEEN_KEY] = time.monotonic()
    st.rerun()
