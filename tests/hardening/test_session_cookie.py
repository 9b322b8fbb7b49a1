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


def _join(base: str, session_id: str) -> tuple[str, str]:
    """Join ``session_id`` over a raw WebSocket, as the holder of a leaked ID would: the session
    the server put this connection in, and the text of the messages up to its script's end."""
    from google.protobuf import text_format
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
    from websockets.sync.client import connect as ws_connect

    url = base.replace("http://", "ws://") + "/_stcore/stream"
    texts, joined = [], ""
    with ws_connect(url, subprotocols=["streamlit", "x", session_id], open_timeout=20) as ws:
        run = BackMsg()
        run.rerun_script.query_string = ""
        ws.send(run.SerializeToString())
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            msg = ForwardMsg()
            msg.ParseFromString(ws.recv(timeout=90))
            texts.append(text_format.MessageToString(msg, as_utf8=True))
            if msg.WhichOneof("type") == "new_session":
                joined = msg.new_session.initialize.session_id
            if msg.WhichOneof("type") == "script_finished":
                break
    return joined, "\n".join(texts)


def test_a_stolen_session_id_over_a_raw_websocket_is_not_a_login(chromium, server):
    """Before: the ID alone resumed the admin's session (and the tail of a script run already under
    way, drawn for the admin, went to the newcomer). Now a signed-in session is resumed only with
    the cookie it is bound to; anyone else gets a new session and the login page."""
    context, page = _tab(chromium)
    try:
        ids = _session_id_of(page)
        _login(page, server, "root")
        assert ids, "no session id seen on the page's WebSocket"
        stolen = ids[-1]  # the session the signed-in admin is using now
        joined, seen = _join(server, stolen)
        assert joined and joined != stolen  # a session of its own, not the admin's
        assert LOGIN in seen
        assert OVERVIEW not in seen and "root" not in seen.replace("root_container", "")
        page.reload()  # the admin, with the cookie, is still signed in
        assert _heading(page) == OVERVIEW
    finally:
        context.close()


def _change_account(page, username: str, action: str, role: str | None = None) -> None:
    """On the Administration page, apply ``action`` (its French label) to ``username``."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Administration").click()
    form = page.get_by_test_id("stForm").filter(has_text="Appliquer")
    form.get_by_test_id("stSelectbox").first.click()
    page.get_by_role("option", name=username, exact=True).click()
    form.get_by_text(action).click()
    if role is not None:
        form.get_by_test_id("stSelectbox").nth(1).click()
        page.get_by_role("option", name=role, exact=True).click()
    form.get_by_role("button", name="Appliquer").click()
    page.get_by_text(f"Compte « {username} » modifié.").wait_for(timeout=120_000)  # an apply and a rerun, under load


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


def _rows(db: Path, sql: str) -> list[tuple]:
    con = connect(db, read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _download_after_an_admin_change(chromium, folder: Path, action: str, role: str | None = None) -> Path:
    """lou (analyst) draws the exports page and downloads once (the control); root applies
    ``action`` to lou; lou clicks the same button again, which must deliver nothing. The warehouse."""
    (proc, base), db = _serve(folder)
    try:
        analyst_ctx, analyst = _tab(chromium)
        admin_ctx, admin = _tab(chromium)
        _login(analyst, base, "lou")
        _open_exports(analyst)
        assert _click_download(analyst)  # the control: the same button works before the change
        _login(admin, base, "root")
        _change_account(admin, "lou", action, role)
        assert not _click_download(analyst)  # the button drawn before the change
        analyst_ctx.close()
        admin_ctx.close()
    finally:
        hygie_server.stop(proc)
    return db


def test_a_download_button_does_not_outlive_deactivation(chromium, tmp_path: Path):
    db = _download_after_an_admin_change(chromium, tmp_path, "Désactiver")
    assert _rows(db, "SELECT count(*) FROM access_log WHERE actor = 'lou' AND action = 'export'") == [(1,)]
    assert _rows(db, "SELECT object, detail->>'reason' FROM access_log WHERE actor = 'lou' "
                     "AND action = 'request_refused'") == \
        [("download", "session ended (logout, deactivation, idle or absolute timeout)")]


def test_a_download_button_does_not_outlive_a_demotion(chromium, tmp_path: Path):
    """Demoted to viewer after the page was drawn: the click runs as a viewer, who may export
    aggregate tables only, so the patient-level table drawn for the analyst is refused."""
    db = _download_after_an_admin_change(chromium, tmp_path, "Changer le rôle", role="lecteur")
    assert _rows(db, "SELECT object, detail->>'refused' FROM access_log WHERE actor = 'lou' "
                     "AND action = 'export' ORDER BY log_id") == \
        [("audit_events", None),
         ("audit_events", "lou (role viewer) may export aggregate tables only; 'audit_events' holds patient-level rows")]


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


def _xsrf() -> dict[str, dict[str, str]]:
    """A header and cookie pair that passes Streamlit's double-submit XSRF check: anyone can make
    one, so it proves nothing about who sends the request."""
    from streamlit.web.server.starlette.starlette_app_utils import generate_xsrf_token_string

    token = generate_xsrf_token_string()
    return {"headers": {"X-Xsrftoken": token}, "cookies": {"_streamlit_xsrf": token}}


def _put_upload(base: str, session_id: str, cookie: str | None, xsrf: str = "pair") -> int:
    """PUT a file into ``session_id``; ``xsrf``: "pair" (Streamlit's cookie and its header),
    "none" (neither) or "forged" (the cookie with another token in the header)."""
    import requests

    pair = _xsrf()
    headers = {} if xsrf == "none" else pair["headers"]
    if xsrf == "forged":
        headers = {"X-Xsrftoken": "2|00000000|" + "0" * 32 + "|1"}
    cookies = ({} if xsrf == "none" else pair["cookies"]) | ({"hygie_session": cookie} if cookie else {})
    answer = requests.put(f"{base}/_stcore/upload_file/{session_id}/planted", timeout=30,
                          files={"file": ("planted.csv", b"IPP;NOM\n1;=HYPERLINK(1)\n", "text/csv")},
                          headers=headers, cookies=cookies)
    return answer.status_code


def _put_oversized(base: str, session_id: str, cookie: str) -> int:
    """PUT one byte over HYGIE_MAX_UPLOAD_MB=1 with the XSRF pair and ``cookie``."""
    from tests.hardening.test_server_settings import _put_refusable

    pair = _xsrf()
    token = pair["cookies"]["_streamlit_xsrf"]
    headers = {"Cookie": f"_streamlit_xsrf={token}; hygie_session={cookie}", "X-Xsrftoken": token,
               "Content-Type": "multipart/form-data; boundary=b"}
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\r\n"
            + b"a" * (1024 * 1024 + 1) + b"\r\n--b--\r\n")
    return _put_refusable(f"{base}/_stcore/upload_file/{session_id}/big", headers, body)


def _get(url: str, cookie: str | None) -> tuple[int, bytes]:
    import requests

    answer = requests.get(url, timeout=30, cookies={"hygie_session": cookie} if cookie else {})
    return answer.status_code, answer.content


def test_a_stolen_session_id_uploads_nothing_and_a_download_url_serves_only_its_session(chromium, tmp_path: Path):
    """Before: ``PUT /_stcore/upload_file/<session_id>/…`` took a file into a signed-in session
    from anyone holding the ID (a proxy log shows it), and ``GET /media/<file>`` of an export
    served the patients' CSV to anyone holding the URL."""
    (proc, base), db = _serve(tmp_path, HYGIE_MAX_UPLOAD_MB="1")
    try:
        lea_ctx, lea = _tab(chromium)
        root_ctx, root = _tab(chromium)
        ids = _session_id_of(lea)
        _login(lea, base, "lea")
        _login(root, base, "root")
        _open_exports(lea)
        with lea.expect_download(timeout=60_000) as info:
            lea.get_by_role("button", name="Télécharger le CSV").click()
        media_url = info.value.url
        cookie = {c["name"]: c["value"] for c in lea_ctx.cookies()}["hygie_session"]
        other = {c["name"]: c["value"] for c in root_ctx.cookies()}["hygie_session"]  # another signed-in user
        session_id = ids[-1]
        assert "/media/" in media_url
        uploads = [_put_upload(base, session_id, c) for c in (None, "forged.cookie", other, cookie)]
        # with the right cookie, Streamlit's own checks still apply: its XSRF pair, then the size
        # limit (HYGIE_MAX_UPLOAD_MB=1); the 204 above is their control
        checked = [_put_upload(base, session_id, cookie, xsrf="none"),
                   _put_upload(base, session_id, cookie, xsrf="forged"),
                   _put_oversized(base, session_id, cookie)]
        downloads = [_get(media_url, c) for c in (None, other, cookie)]
        joined, seen = _join(base, session_id)  # and the WebSocket join, for its access-log row
        lea_ctx.close()
        root_ctx.close()
    finally:
        hygie_server.stop(proc)
    assert uploads == [403, 403, 403, 204]  # only lea's own cookie uploads into lea's session
    assert checked == [403, 403, 413]
    assert [status for status, _ in downloads] == [403, 403, 200]
    assert "patient_id" in downloads[2][1].decode("utf-8-sig").splitlines()[0]  # the control: the real CSV
    refused = _rows(db, "SELECT actor, object, detail->>'target_user' FROM access_log "
                        "WHERE action = 'request_refused' ORDER BY log_id")
    assert joined != session_id and LOGIN in seen
    assert refused == [("anonymous", "upload", "lea"), ("anonymous", "upload", "lea"), ("root", "upload", "lea"),
                       ("anonymous", "media", None), ("root", "media", None), ("anonymous", "websocket", "lea")]
