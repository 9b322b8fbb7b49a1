"""No request leaves the machine from the browser, and the overview's monthly report downloads.

A hospital dashboard must not make its users' browsers call the outside world (fonts, icons,
analytics): every request of a full tour of the pages, as the role that sees them all, goes to
the Hygie server on loopback.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.browser.test_dashboard_e2e import login, open_page, settle

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

PAGES = [("Temps documentaire", None), ("Doublons", None), ("Travaux de nettoyage", None), ("Imports", None),
         ("Exports", None), ("Administration", None), ("Vue d'ensemble", None)]


def test_a_tour_of_every_page_requests_only_the_local_server(page, server):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    login(page, server, "admin")
    for title, heading in PAGES:
        open_page(page, title, heading)
    page.wait_for_timeout(1500)  # late requests (favicon, fonts, icons)
    outside = sorted({url for url in requested
                      if urlsplit(url).scheme in ("http", "https", "ws", "wss")
                      and urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1")})
    assert outside == []
    assert len(requested) > 20  # the tour really loaded the app


def test_the_overview_downloads_the_monthly_report_as_pdf(page, server):
    login(page, server, "manager")
    page.get_by_role("heading", name="Rapport mensuel").wait_for()
    with page.expect_download(timeout=120_000) as info:
        page.get_by_role("button", name="Télécharger le rapport (PDF)").click()
    settle(page)
    download = info.value
    data = open(download.path(), "rb").read()
    assert data.startswith(b"%PDF-")
    assert download.suggested_filename.startswith("rapport_mensuel_") and download.suggested_filename.endswith(".pdf")
