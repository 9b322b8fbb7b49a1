"""``hygie serve`` as a browser-less client sees it: hardened Streamlit settings, checked over HTTP.

One real server (subprocess, free loopback port, ``HYGIE_MAX_UPLOAD_MB=1``). Its warehouse path
lies under a plain file, so every page run meets an unexpected ``OSError`` inside the app (the
folder cannot be created): what the client receives then is what a user sees after any internal
fault. The session-level settings are read
from the server's own ``NewSession`` message on the WebSocket (the client the browser runs
receives the same), so the checks do not depend on a browser.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard.i18n import t
from tests import hygie_server

HYGIE = hygie_server.HYGIE
FOREIGN = "https://evil.example"
MAX_UPLOAD_MB = 1


def _request(url: str, method: str = "GET", headers: dict[str, str] | None = None,
             data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    req = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(req, timeout=20) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, {k.lower(): v for k, v in exc.headers.items()}, exc.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``hygie serve`` on a warehouse path under a plain file; yields (base URL, pid)."""
    folder = tmp_path_factory.mktemp("serve")
    (folder / "plain-file").write_text("not a folder")
    env = dict(os.environ, HYGIE_MAX_UPLOAD_MB=str(MAX_UPLOAD_MB))
    proc, base = hygie_server.start(folder / "plain-file" / "hygie.duckdb", folder, env)
    yield base, proc.pid
    hygie_server.stop(proc)


def _session(base: str, origin: str | None = None, back_msgs: tuple = (),
             while_open: Callable[[str], None] | None = None) -> list:
    """Open the app's WebSocket, ask for a run, return the ForwardMsgs until the run finished.

    ``while_open(session_id)`` runs before the socket closes (the session is active meanwhile).
    """
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect

    headers = {"Origin": origin} if origin else None
    url = base.replace("http://", "ws://") + "/_stcore/stream"
    msgs = []
    with connect(url, subprotocols=["streamlit"], additional_headers=headers, open_timeout=20) as ws:
        for extra in back_msgs:
            ws.send(extra.SerializeToString())
        run = BackMsg()
        run.rerun_script.query_string = ""
        ws.send(run.SerializeToString())
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=60))
            msgs.append(msg)
            if msg.WhichOneof("type") == "script_finished":
                break
        if while_open is not None:
            while_open(next(m.new_session.initialize.session_id for m in msgs
                            if m.WhichOneof("type") == "new_session"))
    return msgs


def test_health_endpoint_answers_ok(server):
    base, _ = server
    status, _, body = _request(f"{base}/_stcore/health")
    assert (status, body) == (200, b"ok")


HARDENED_FLAGS = [
    ("XSRF protection on", "--server.enableXsrfProtection", "true"),
    ("CORS protection on", "--server.enableCORS", "true"),
    ("no error details to clients", "--client.showErrorDetails", "none"),
    ("no search links with an error's text", "--client.showErrorLinks", "false"),
    ("toolbar in viewer mode", "--client.toolbarMode", "viewer"),
    ("Streamlit's own data export off", "--client.disableDataExport", "true"),
    ("no parent frame may drive the app", "--client.allowedOrigins", ""),
    ("agent API off", "--server.enableAgentApi", "false"),
    ("no static folder", "--server.enableStaticServing", "false"),
    ("no rerun on file change", "--server.allowRunOnSave", "false"),
    ("upload limit from HYGIE_MAX_UPLOAD_MB", "--server.maxUploadSize", str(MAX_UPLOAD_MB)),
    ("no development mode", "--global.developmentMode", "false"),
    ("no usage statistics", "--browser.gatherUsageStats", "false"),
    ("loopback only by default", "--server.address", "127.0.0.1"),
]


@pytest.mark.parametrize("description, flag, value", HARDENED_FLAGS, ids=[f[0] for f in HARDENED_FLAGS])
def test_the_server_process_runs_with_the_hardened_flags(server, description, flag, value):
    _, pid = server  # hygie serve replaces itself with the Streamlit process (same pid)
    args = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    assert "dashboard.server" in args and flag in args, (description, args)
    assert args[args.index(flag) + 1] == value, description


def test_upload_endpoint_refuses_requests_without_the_xsrf_token(server):
    base, _ = server
    url = f"{base}/_stcore/upload_file/some-session/some-file"
    body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\na;b\r\n--b--\r\n"
    multipart = {"Content-Type": "multipart/form-data; boundary=b"}
    _, headers, _ = _request(f"{base}/_stcore/health")
    cookie = headers["set-cookie"].split(";")[0]  # _streamlit_xsrf=...
    token = cookie.split("=", 1)[1]
    cases = [
        ("cross-site PUT, no cookie, no token", {"Origin": FOREIGN}, 403),
        ("cookie but no token header", {"Cookie": cookie}, 403),
        ("token header but no cookie", {"X-Xsrftoken": token}, 403),
        ("cookie and a forged token", {"Cookie": cookie, "X-Xsrftoken": "2|00000000|" + "0" * 32 + "|1"}, 403),
        # the real pair passes the XSRF check but no session is bound to a hygie_session cookie
        # here (this server cannot sign anyone in): the session guard refuses it. The XSRF and size
        # checks behind a bound session, with their 204 control, are in test_session_cookie.py.
        ("cookie and its token (unknown session)", {"Cookie": cookie, "X-Xsrftoken": token}, 403),
    ]
    for description, extra, expected in cases:
        status, _, _ = _request(url, "PUT", {**multipart, **extra}, body)
        assert status == expected, description
    assert _request(url, "POST", {**multipart, "Origin": FOREIGN}, body)[0] == 405


CORS_ROUTES = [("GET", "/_stcore/health"), ("GET", "/_stcore/host-config"), ("GET", "/_stcore/metrics"),
               ("GET", "/"), ("OPTIONS", "/_stcore/upload_file/s/f")]


@pytest.mark.parametrize("method, route", CORS_ROUTES, ids=[f"{m} {r}" for m, r in CORS_ROUTES])
def test_a_foreign_origin_is_not_allowed_by_cors(server, method, route):
    base, _ = server
    headers = {"Origin": FOREIGN, "Access-Control-Request-Method": "PUT"}
    _, answer, _ = _request(base + route, method, headers)
    allowed = answer.get("access-control-allow-origin")
    assert allowed in (None, base.replace("127.0.0.1", "localhost")), (route, allowed)


def test_a_websocket_from_a_foreign_origin_is_refused(server):
    from websockets.exceptions import InvalidStatus

    base, _ = server
    with pytest.raises(InvalidStatus) as refused:
        _session(base, origin=FOREIGN)
    assert refused.value.response.status_code == 403
    assert _session(base)  # control: the same client without a foreign Origin is served


def test_session_settings_and_an_internal_fault_show_only_the_generic_french_message(server, tmp_path_factory):
    from streamlit.proto.NewSession_pb2 import Config

    base, _ = server
    msgs = _session(base)
    new_session = next(m.new_session for m in msgs if m.WhichOneof("type") == "new_session")
    config = new_session.config
    assert config.toolbar_mode == Config.ToolbarMode.VIEWER
    assert config.disable_data_export is True
    assert config.gather_usage_stats is False
    assert config.allow_run_on_save is False
    assert config.show_error_links == Config.ShowErrorLinks.SHOW_ERROR_LINKS_FALSE

    alerts = [m.delta.new_element.alert.body for m in msgs
              if m.WhichOneof("type") == "delta" and m.delta.new_element.WhichOneof("type") == "alert"]
    assert alerts == [t("error.generic")]
    everything = b"".join(m.SerializeToString() for m in msgs)
    for leak in (b"Traceback", b"Error:", b"Errno", b"plain-file", b".py\""):
        assert leak not in everything, leak
    exceptions = [m for m in msgs if m.WhichOneof("type") == "delta"
                  and m.delta.new_element.WhichOneof("type") == "exception"]
    assert exceptions == []


def _put_refusable(url: str, headers: dict[str, str], body: bytes) -> int:
    """PUT ``body`` and return the status, also when the server answers and closes before the
    body is all sent (its 413 for an oversized upload races the client's writes: EPIPE)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=20)
    try:
        conn.putrequest("PUT", parts.path)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            conn.putheader(name, value)
        conn.endheaders()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.send(body)
        return conn.getresponse().status
    finally:
        conn.close()


def test_no_parent_frame_is_trusted_and_the_agent_api_is_off(server):
    import json

    base, _ = server
    host_config = json.loads(_request(f"{base}/_stcore/host-config")[2])
    assert [o for o in host_config["allowedOrigins"] if o] == []
    document = json.loads(_request(f"{base}/_stcore/agent/openapi.json")[2])
    assert document["info"]["x-streamlit-agent-api"] == "disabled"
    status, _, body = _request(f"{base}/_stcore/agent/interact", "POST", {"Content-Type": "application/json"}, b"{}")
    assert status == 403 and json.loads(body)["error"]["code"] == "not_available"


def test_debug_messages_from_a_client_cannot_stop_the_server(server):
    from streamlit.proto.BackMsg_pb2 import BackMsg

    base, _ = server
    shutdown, disconnect = BackMsg(), BackMsg()
    shutdown.debug_shutdown_runtime = True
    disconnect.debug_disconnect_websocket = True
    assert _session(base, back_msgs=(disconnect, shutdown))  # the run still completes on this socket
    time.sleep(0.5)
    assert _request(f"{base}/_stcore/health")[:3:2] == (200, b"ok")


@pytest.mark.parametrize("value", ["abc", "0"])
def test_a_bad_upload_limit_stops_serve_with_a_clear_error(tmp_path, value):
    env = dict(os.environ, HYGIE_MAX_UPLOAD_MB=value)
    done = subprocess.run([HYGIE, "--db", str(tmp_path / "h.duckdb"), "serve", "--port", str(hygie_server.free_port())],
                          capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"Error: HYGIE_MAX_UPLOAD_MB={value!r}: expected a whole number"), done.stderr
