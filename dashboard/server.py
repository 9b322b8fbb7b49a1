"""Start the Streamlit server with no outbound request: what ``hygie serve`` executes.

Streamlit asks ``checkip.amazonaws.com`` for the machine's public address when it prints its
start-up banner on a wildcard address and whenever a request comes from an origin it does not
recognise (a fallback in its CORS/WebSocket origin check). A hospital server must not call out,
so the lookup is answered "unknown" before Streamlit starts; everything else is Streamlit's own
command line, run with the flags ``hygie serve`` passes.
"""

from __future__ import annotations

from streamlit import net_util
from streamlit.web import cli


def forbid_public_address_lookup() -> None:
    """Make Streamlit's public-address lookup answer "unknown" without any network request."""
    # get_external_ip() returns its cached value when it is not None; "" is falsy, so the banner
    # omits the External URL and the origin check matches no host on it.
    net_util._external_ip = ""  # noqa: SLF001 - no public setting exists for this


def main() -> None:
    forbid_public_address_lookup()
    cli.main(prog_name="streamlit")


if __name__ == "__main__":
    main()
