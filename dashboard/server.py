"""Start the Streamlit server with no outbound request: what ``hygie serve`` executes.

Streamlit asks ``checkip.amazonaws.com`` for the machine's public address when it prints its
start-up banner on a wildcard address and whenever a request comes from an origin it does not
recognise (a fallback in its CORS/WebSocket origin check). A hospital server must not call out,
so the lookup is answered "unknown" before Streamlit starts; everything else is Streamlit's own
command line, run with the flags ``hygie serve`` passes.

Before Streamlit starts, this process takes the warehouse (the connection the pages share, see
:mod:`dashboard.state`), its job worker and its API (``HYGIE_API_PORT``, ``HYGIE_API_ADDRESS``,
set by ``hygie serve``): the CLI and other systems can talk to it before anyone opens a page.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from streamlit import net_util
from streamlit.web import cli

from analytics.access import sessions
from analytics.warehouse.connection import restrict_umask
from dashboard import route_guard

log = logging.getLogger("hygie.dashboard")


def forbid_public_address_lookup() -> None:
    """Make Streamlit's public-address lookup answer "unknown" without any network request."""
    # get_external_ip() returns its cached value when it is not None; "" is falsy, so the banner
    # omits the External URL and the origin check matches no host on it.
    net_util._external_ip = ""  # noqa: SLF001 - no public setting exists for this


def start_owner_services() -> None:
    """Open the warehouse, start the job worker and the API; on failure, say so and go on
    (each page run reports a warehouse it cannot open, as before)."""
    path = os.environ.get("HYGIE_DB")
    port = int(os.environ.get("HYGIE_API_PORT") or 0)
    if not path:
        return
    from dashboard import state

    try:
        con = state.root_connection()
        state.start_worker(path)
    except Exception as exc:  # noqa: BLE001 - the pages show the error to users
        log.warning("warehouse not opened at start-up (%s); the API is off", exc)
        return
    if not port:
        return
    from analytics.api.server import start_api

    try:
        start_api(con, path, address=os.environ.get("HYGIE_API_ADDRESS") or "127.0.0.1", port=port)
    except Exception as exc:  # noqa: BLE001 - the dashboard serves without its API
        log.warning("API not started: %s", exc)


async def _open_session(request: Any) -> Any:
    """``POST /_hygie/session`` (body: a one-time login ticket) → the HttpOnly session cookie."""
    from starlette.responses import Response

    ticket = (await request.body())[:200].decode("ascii", "replace").strip()
    value = sessions.STORE.redeem(ticket)
    if value is None:
        return Response(status_code=403, headers={"Cache-Control": "no-store"})
    answer = Response(status_code=204, headers={"Cache-Control": "no-store"})
    https = request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"
    answer.set_cookie(sessions.COOKIE, value, path="/", httponly=True, samesite="strict", secure=https)
    return answer


async def _close_session(request: Any) -> Any:
    """``POST /_hygie/logout``: end the cookie's session and delete the cookie."""
    from starlette.responses import Response

    value = request.cookies.get(sessions.COOKIE)
    if value and "." in value:
        sessions.STORE.revoke(value.split(".", 1)[0] if sessions.STORE.check(value, float("inf"), touch=False)
                              else None)
    answer = Response(status_code=204, headers={"Cache-Control": "no-store"})
    answer.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="strict")
    return answer


def install_session_routes() -> None:
    """Add the session-cookie routes to the Starlette app Streamlit builds (before its catch-all)."""
    from starlette.routing import Route
    from streamlit import config
    from streamlit.web.server.starlette import starlette_app

    original = starlette_app.create_streamlit_routes
    if getattr(original, "_hygie", False):
        return

    def create_streamlit_routes(runtime: Any) -> list[Any]:
        base = str(config.get_option("server.baseUrlPath") or "").strip("/")
        prefix = f"/{base}" if base else ""
        ours = [Route(f"{prefix}/_hygie/session", _open_session, methods=["POST"]),
                Route(f"{prefix}/_hygie/logout", _close_session, methods=["POST"])]
        return ours + route_guard.guard_routes(list(original(runtime)), runtime)

    create_streamlit_routes._hygie = True  # type: ignore[attr-defined]
    starlette_app.create_streamlit_routes = create_streamlit_routes
    route_guard.guard_session_resume()  # a session ID without its cookie joins nothing
    route_guard.guard_deferred_downloads()  # a download's file is served to the session that made it
    sessions.STORE.cookie_routes = True


def main() -> None:
    restrict_umask()  # warehouse, WAL, uploads, logs: owner-only from creation
    forbid_public_address_lookup()
    start_owner_services()
    install_session_routes()  # a signed-in user is bound to an HttpOnly cookie, not a session ID
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
