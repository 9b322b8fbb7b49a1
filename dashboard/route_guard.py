"""What a Streamlit session ID alone opens on ``hygie serve``: nothing of a signed-in user.

A Streamlit session ID travels in URLs (``PUT /_stcore/upload_file/<session_id>/…``) and so in
proxy access logs. Each Streamlit session that serves a signed-in user is bound to that user's
session in :data:`analytics.access.sessions.STORE` (``dashboard.auth`` binds it on every script
run), and the server checks the HttpOnly cookie ``hygie_session`` against that binding:

- **WebSocket join** (``Sec-WebSocket-Protocol: streamlit, x, <session_id>``): resuming a bound
  session needs the cookie it is bound to; anyone else gets a new session (the login page), and
  the signed-in session is left untouched, so no message of a script run already under way
  reaches the newcomer.
- **Uploads** (``PUT``/``DELETE /_stcore/upload_file/<session_id>/<file_id>``): only with the
  cookie the target session is bound to (403 otherwise).
- **Media** (``GET /media/<file>``, downloads included): a file some anonymous session shows
  (the favicon of the login page) is public; any other file needs the cookie of a session that
  shows it or asked for it (a deferred download's file is remembered with the Streamlit session
  whose click made it); a file no session claims needs a live cookie.

Each refusal is written to the access log (``request_refused``: websocket, upload, media).
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Awaitable, Callable
from typing import Any

from analytics.access import access_log, sessions

__all__ = ["allowed", "guard_deferred_downloads", "guard_routes", "guard_session_resume", "media_owners"]

log = logging.getLogger("hygie.dashboard")

Endpoint = Callable[[Any], Awaitable[Any]]

NO_COOKIE = "Streamlit session ID presented without the signed-in cookie it is bound to"

#: File id of each deferred download's file -> the Streamlit sessions whose click made it.
_MADE_FOR: dict[str, set[str]] = {}
MAX_MADE_FOR = 10_000
_made_lock = threading.Lock()


def _record(kind: str, cookie: str | None, target: str | None) -> None:
    """Log a refused request; never let logging turn a refusal into an error."""
    session = sessions.STORE.check(cookie, sessions.STORE.idle_s, touch=False)
    who = session.actor.username if session is not None else "anonymous"
    owner = sessions.STORE.peek(target) if target and target != sessions.PENDING else None
    detail = {"reason": NO_COOKIE, "target_user": owner.actor.username if owner else None}
    try:
        from dashboard import state

        cursor = state.root_connection().cursor()
        try:
            access_log.record(cursor, who, "request_refused", kind, detail=detail, via="dashboard")
        finally:
            cursor.close()
    except Exception:  # noqa: BLE001 - the request is refused whether or not the log is reachable
        log.exception("refused %s request not written to the access log", kind)


def guard_session_resume() -> None:
    """Make Streamlit resume a bound session only for the cookie it is bound to."""
    from streamlit.runtime.runtime import Runtime

    original = Runtime.connect_session
    if getattr(original, "_hygie", False):
        return

    def connect_session(self: Runtime, client: Any, user_info: Any, existing_session_id: str | None = None,
                        session_id_override: str | None = None) -> str:
        if existing_session_id:
            bound = sessions.STORE.bound(existing_session_id)
            cookies = getattr(getattr(client, "client_context", None), "cookies", None) or {}
            cookie = cookies.get(sessions.COOKIE)
            if bound is not None and not sessions.STORE.may_enter(existing_session_id, cookie,
                                                                   sessions.STORE.idle_s):
                log.warning("refused to resume a signed-in Streamlit session without its cookie")
                _record("websocket", cookie, bound)
                existing_session_id = None  # a new session: the login page
        return original(self, client, user_info, existing_session_id=existing_session_id,
                        session_id_override=session_id_override)

    connect_session._hygie = True  # type: ignore[attr-defined]
    Runtime.connect_session = connect_session  # type: ignore[method-assign]


def guard_deferred_downloads() -> None:
    """Remember which Streamlit session each deferred download's file was made for (Streamlit
    stores that file referenced by no session)."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    original = MediaFileManager.execute_deferred
    if getattr(original, "_hygie", False):
        return

    def execute_deferred(self: MediaFileManager, file_id: str) -> str:
        with self._lock:  # noqa: SLF001 - the asking session is only in this private table
            entry = self._deferred_callables.get(file_id)  # noqa: SLF001
        url = original(self, file_id)
        if entry is not None and entry.get("session_id"):
            made = url.rsplit("/", 1)[-1].split(".", 1)[0]
            with _made_lock:
                while len(_MADE_FOR) >= MAX_MADE_FOR:
                    _MADE_FOR.pop(next(iter(_MADE_FOR)))
                _MADE_FOR.setdefault(made, set()).add(entry["session_id"])
        return url

    execute_deferred._hygie = True  # type: ignore[attr-defined]
    MediaFileManager.execute_deferred = execute_deferred  # type: ignore[method-assign]


def media_owners(manager: Any, filename: str) -> list[str]:
    """The Streamlit sessions that show the media file ``filename`` (``<id>.<ext>``) or asked for it."""
    file_id = os.path.splitext(filename)[0]
    with manager._lock:  # noqa: SLF001 - Streamlit has no public index of a file's sessions
        showing = [sid for sid, coords in manager._files_by_session_and_coord.items()  # noqa: SLF001
                   if file_id in coords.values()]
    with _made_lock:
        return showing + sorted(_MADE_FOR.get(file_id, set()) - set(showing))


def allowed(kind: str, path_params: dict[str, str], cookie: str | None, manager: Any = None) -> bool:
    """Whether a request of ``kind`` (upload, media) carrying ``cookie`` may go on."""
    store, idle_s = sessions.STORE, sessions.STORE.idle_s
    if kind == "upload":
        return store.may_enter(path_params.get("session_id", ""), cookie, idle_s)
    owners = media_owners(manager, path_params.get("file_id", "")) if manager is not None else []
    if any(store.bound(owner) is None for owner in owners):
        return True  # shown to an anonymous visitor (the login page's favicon)
    session = store.check(cookie, idle_s, touch=False)
    return session is not None and (not owners or any(store.bound(o) == session.sid for o in owners))


def _guarded(kind: str, endpoint: Endpoint, manager: Any) -> Endpoint:
    async def guarded(request: Any) -> Any:
        from starlette.responses import Response

        cookie = request.cookies.get(sessions.COOKIE)
        params = dict(request.path_params)
        if not allowed(kind, params, cookie, manager):
            _record(kind, cookie, sessions.STORE.bound(params.get("session_id", "")))
            return Response(status_code=403, headers={"Cache-Control": "no-store"})
        return await endpoint(request)

    return guarded


def guard_routes(routes: list[Any], runtime: Any) -> list[Any]:
    """Streamlit's routes with its upload and media endpoints wrapped by the cookie check."""
    from starlette.routing import Route

    guarded: list[Any] = []
    for route in routes:
        path = getattr(route, "path", "")
        methods = set(getattr(route, "methods", None) or ())
        kind = ("upload" if "/_stcore/upload_file/" in path and methods & {"PUT", "DELETE"}
                else "media" if path.endswith("media/{file_id:path}") and "GET" in methods else None)
        if kind is None:
            guarded.append(route)
            continue
        guarded.append(Route(path, _guarded(kind, route.endpoint, runtime.media_file_mgr), methods=sorted(methods)))
    return guarded
