"""dashboard.server: the Streamlit server never asks the Internet for the machine's address."""

from __future__ import annotations

import pytest
from streamlit import config, net_util
from streamlit.web.server import server_util

from dashboard import server


@pytest.fixture
def outbound_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every HTTP request Streamlit's network helper would make (none may be made)."""
    calls: list[str] = []
    monkeypatch.setattr(net_util, "_external_ip", None)
    monkeypatch.setattr(net_util, "_make_blocking_http_get", lambda url, timeout=5: calls.append(url))
    monkeypatch.setattr(net_util, "get_internal_ip", lambda: None)
    config.set_option("server.enableCORS", True)
    return calls


def test_streamlit_alone_would_call_out_for_a_foreign_origin(outbound_calls):
    # Control: without the guard, the origin check falls back to checkip.amazonaws.com.
    assert not server_util.is_url_from_allowed_origins("https://intranet.example.org")
    assert any("checkip.amazonaws.com" in url for url in outbound_calls)


def test_the_guarded_server_refuses_a_foreign_origin_without_calling_out(outbound_calls):
    server.forbid_public_address_lookup()
    assert not server_util.is_url_from_allowed_origins("https://intranet.example.org")
    assert server_util.is_url_from_allowed_origins("http://localhost:8501")
    assert net_util.get_external_ip() == ""
    assert outbound_calls == []
