"""A real Hygie server on a demo warehouse, and a headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests import hygie_server

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "hygie-demo-browser"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]


def require_chromium() -> None:
    """Skip without Debian's Chromium on a developer's machine; fail in CI (``CI`` set), where
    ``make test`` installs it: a CI run whose browser tests all skipped would prove nothing."""
    if CHROMIUM.exists():
        return
    message = "Debian's chromium is not installed (/usr/bin/chromium): apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(f"CI: {message}", pytrace=False)
    pytest.skip(message)


def build_warehouse(path: Path) -> None:
    """The demo hospital with its accounts, duplicate detection and time-sinks tables."""
    from analytics.access.auth import create_demo_accounts
    from analytics.access.roles import system_actor
    from analytics.demo import build_demo
    from analytics.documents import find_duplicate_documents
    from analytics.identity import find_duplicates
    from analytics.timesinks import ensure_precomputed
    from analytics.warehouse import connect

    previous = os.environ.get("HYGIE_DEMO_PASSWORD")
    os.environ["HYGIE_DEMO_PASSWORD"] = PASSWORD  # build_demo creates the demo accounts with it
    try:
        build_demo(path)
    finally:
        if previous is None:
            del os.environ["HYGIE_DEMO_PASSWORD"]
        else:
            os.environ["HYGIE_DEMO_PASSWORD"] = previous
    con = connect(path)
    try:
        create_demo_accounts(con, PASSWORD)  # no-op when build_demo made them
        if not con.execute("SELECT count(*) FROM users WHERE username = 'vigilance'").fetchone()[0]:
            from analytics.access.auth import create_user  # the role without a demo account

            create_user(con, system_actor(), "vigilance", "identitovigilance", PASSWORD, "Identitovigilance")
        if not con.execute("SELECT count(*) FROM match_runs").fetchone()[0]:
            find_duplicates(con, actor=system_actor())
        ensure_precomputed(con)
        find_duplicate_documents(con, actor=system_actor())
    finally:
        con.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """``hygie serve`` on a free loopback port; yields the base URL."""
    require_chromium()
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    folder = tmp_path_factory.mktemp("browser")
    db = folder / "hygie.duckdb"
    build_warehouse(db)
    env = dict(os.environ, HYGIE_DB=str(db), HYGIE_IMPORT_DIR=str(folder))
    proc, base = hygie_server.start(db, folder, env)
    yield base
    hygie_server.stop(proc)


@pytest.fixture(scope="session")
def browser(server, chromium):
    """Chromium, once the shared demo server is up."""
    return chromium


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 1800}, accept_downloads=True, locale="fr-FR")
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    yield tab
    context.close()


def shoot(page, name: str) -> Path | None:
    """With ``HYGIE_SCREENSHOTS=1``, save a full-page screenshot under artifacts/screenshots/
    (gitignored) for a person to look at; otherwise nothing (no test reads them)."""
    if not os.environ.get("HYGIE_SCREENSHOTS"):
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.wait_for_timeout(600)  # let charts finish their transition
    page.screenshot(path=str(path), full_page=True)
    return path
