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

from streamlit import net_util
from streamlit.web import cli

from analytics.warehouse.connection import restrict_umask

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


def main() -> None:
    restrict_umask()  # warehouse, WAL, uploads, logs: owner-only from creation
    forbid_public_address_lookup()
    start_owner_services()
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
