"""Uploads on the Data page in headless Chromium: type, size and file-name attacks against a real server.

The server runs with ``HYGIE_MAX_UPLOAD_MB=1`` and ``HYGIE_UPLOAD_DIR`` set, from a working folder
two levels below the test folder (so ``../../x.csv`` from there would land in the test folder).
A real browser never sends a file name with a folder part, so the hostile names are forged on
the wire: the browser's upload request is intercepted and its multipart ``filename`` rewritten,
which is what an attacker scripting the upload endpoint would send.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import hygie_server
from tests.browser.conftest import CHROMIUM, PASSWORD, shoot
from tests.browser.test_dashboard_e2e import settle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

STAFF_CSV = "UTILISATEUR;NOM;FONCTION;SERVICE\r\nu901;Dr Neuf;médecin;Pédiatrie\r\nu902;Dr Dix;médecin;Cardiologie\r\n"
MAX_MB = 1


@contextlib.contextmanager
def serving(folder: Path) -> Iterator[SimpleNamespace]:
    """``hygie serve`` on a fresh warehouse with the demo accounts, run from ``folder/run/deep``."""
    from analytics.access.auth import create_demo_accounts
    from analytics.warehouse import connect

    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    db = folder / "hygie.duckdb"
    con = connect(db)
    create_demo_accounts(con, PASSWORD)
    con.close()
    uploads, work = folder / "upload-root", folder / "run" / "deep"
    work.mkdir(parents=True)
    env = dict(os.environ, HYGIE_MAX_UPLOAD_MB=str(MAX_MB), HYGIE_UPLOAD_DIR=str(uploads))
    env.pop("HYGIE_IMPORT_DIR", None)
    proc, base = hygie_server.start(db, folder, env, cwd=work)
    server = SimpleNamespace(base=base, folder=folder, uploads=uploads, db=db, proc=proc)
    try:
        yield server
    finally:
        hygie_server.stop(proc)


@pytest.fixture(scope="module")
def upload_server(tmp_path_factory):
    with serving(tmp_path_factory.mktemp("uploads")) as server:
        yield server


@pytest.fixture
def tab(chromium):
    context = chromium.new_context(viewport={"width": 1440, "height": 1600}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def open_data_page(page, base: str) -> None:
    page.goto(base)
    page.get_by_label("Identifiant").fill("admin")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.get_by_role("heading", name="Vue d'ensemble").wait_for()
    settle(page)
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Imports").click()
    page.get_by_role("heading", name="Importer un fichier").wait_for()
    settle(page)


def choose_table(page, label: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text="Table").first.click()
    page.get_by_role("option", name=label).first.click()
    page.wait_for_timeout(200)


def attach(page, name: str, data: bytes, mime: str = "text/csv") -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
        files=[{"name": name, "mimeType": mime, "buffer": data}])
    page.wait_for_timeout(800)


def forge_file_name(page, name: bytes) -> list[bytes]:
    """Rewrite the multipart ``filename`` of the browser's next uploads to ``name``; return what was sent."""
    sent: list[bytes] = []

    def rewrite(route) -> None:
        body = route.request.post_data_buffer
        if route.request.method != "PUT" or body is None:
            route.continue_()
            return
        start = body.index(b'filename="') + len(b'filename="')
        end = body.index(b'"', start)
        forged = body[:start] + name + body[end:]
        sent.append(forged[start - len(b'filename="'):start + len(name) + 1])
        route.continue_(post_data=forged)

    page.route("**/_stcore/upload_file/**", rewrite)
    return sent


def submit(page) -> None:
    page.get_by_role("button", name="Importer").click()
    settle(page)


def files_outside(root: Path, allowed: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file() and allowed not in p.parents}


def test_a_valid_csv_is_loaded_and_its_report_shown_in_french(tab, upload_server):
    open_data_page(tab, upload_server.base)
    choose_table(tab, "Personnels")
    attach(tab, "personnel.csv", STAFF_CSV.encode("cp1252"))
    submit(tab)
    tab.get_by_text("Import terminé.").wait_for()
    body = tab.locator("body").inner_text()
    assert "Rapport de validation" in body and "personnel.csv" in body
    assert "Lignes du fichier" in body and "Ajoutées" in body
    assert "Une erreur inattendue" not in body
    shoot(tab, "uploads_01_valid_csv")


REFUSED_TYPE = "Type de fichier refusé : seuls .csv, .parquet, .ndjson, .json sont acceptés."


WRONG_TYPES = [
    # description, name the browser picks, name forged on the wire (None: not forged)
    ("spreadsheet", "rapport.xlsx", None),
    ("executable", "outil.exe", None),
    ("forged .exe name", "personnel.csv", b"x.exe"),
    ("forged double extension", "personnel.csv", b"x.csv.sh"),
]


def test_a_wrong_type_is_refused_in_french_and_nothing_is_imported(tab, upload_server):
    open_data_page(tab, upload_server.base)  # one session for all cases: logins are slow under load
    for description, name, forged in WRONG_TYPES:
        sent = forge_file_name(tab, forged) if forged else None
        choose_table(tab, "Personnels")
        attach(tab, name, STAFF_CSV.encode("cp1252"))
        submit(tab)
        tab.get_by_text(REFUSED_TYPE).wait_for()
        if forged:
            assert sent == [b'filename="' + forged + b'"'], description  # the server got the forged name
            tab.unroute("**/_stcore/upload_file/**")
        body = tab.locator("body").inner_text()
        assert "Import terminé." not in body and "Rapport de validation" not in body, description
        assert "Une erreur inattendue" not in body and "This app has encountered an error" not in body
        # refused before anything was written (the folder is made by the first accepted upload)
        assert not upload_server.uploads.exists() or list(upload_server.uploads.iterdir()) == [], description
    shoot(tab, "uploads_02_wrong_type")


def test_a_file_over_the_limit_is_refused(tab, upload_server):
    open_data_page(tab, upload_server.base)
    label = tab.get_by_test_id("stFileUploader").inner_text()
    assert f"au plus {MAX_MB} Mo" in label, label  # the limit, in French, in the label
    choose_table(tab, "Personnels")
    big = STAFF_CSV.encode("cp1252") + b"u999;x;y;z\r\n" * (MAX_MB * 1024 * 1024 // 12)
    attach(tab, "gros.csv", big)
    # Streamlit's uploader refuses it before sending it (its own text, in English)
    tab.get_by_text(f"File must be {MAX_MB}.0MB or smaller.").first.wait_for()  # alert (and its tooltip)
    shoot(tab, "uploads_04_over_the_limit")
    submit(tab)
    tab.get_by_text("Choisissez un fichier à importer.").wait_for()
    assert "Import terminé." not in tab.locator("body").inner_text()


HOSTILE = [b"../../x.csv", b"..\\..\\y.csv", b"%2e%2e%2fz.csv", b"ABSOLUTE/abs.csv", b"\xe2\x80\xae\xf0\x9f\x98\x80 v.csv"]


def test_hostile_file_names_stay_in_the_upload_folder(chromium, tmp_path):
    """Forged names through a real session; then the server is stopped and the warehouse read."""
    import re

    from analytics.warehouse import connect

    with serving(tmp_path) as server:
        before = files_outside(tmp_path, server.uploads)
        context = chromium.new_context(viewport={"width": 1440, "height": 1600}, locale="fr-FR")
        page = context.new_page()
        page.set_default_timeout(30_000)
        try:
            open_data_page(page, server.base)
            for name in HOSTILE:
                name = name.replace(b"ABSOLUTE", str(tmp_path).encode())
                sent = forge_file_name(page, name)
                choose_table(page, "Personnels")
                attach(page, "personnel.csv", STAFF_CSV.encode("cp1252"))
                submit(page)
                page.get_by_text("Import terminé.").wait_for()
                assert sent == [b'filename="' + name + b'"']
                page.unroute("**/_stcore/upload_file/**")
            shoot(page, "uploads_03_hostile_names")
        finally:
            context.close()
        hygie_server.stop(server.proc)
        new = files_outside(tmp_path, server.uploads) - before
        # nothing outside the upload folder but the warehouse's own files (WAL, job queue)
        assert {p for p in new if not p.name.startswith(server.db.name)} == set(), new
        for stray in (tmp_path / "x.csv", tmp_path / "abs.csv", Path("/x.csv"), Path("/y.csv")):
            assert not stray.exists(), stray
        assert list(server.uploads.iterdir()) == []  # each upload removed after its import
        con = connect(server.db, read_only=True)
        try:
            stored = [Path(r[0]) for r in con.execute(
                "SELECT file_name FROM imports WHERE table_name = 'staff' ORDER BY started_at").fetchall()]
        finally:
            con.close()
    assert len(stored) == len(HOSTILE)
    for path in stored:
        assert path.parent.parent == server.uploads.resolve(), path  # upload root / generated folder / name
        assert path.parent.name.startswith("hygie-upload-")
        assert re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.csv", path.name), path
