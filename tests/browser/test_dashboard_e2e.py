"""End to end in headless Chromium: log in, review a pair, run a job, download a CSV, every page.

Each page is also saved as a screenshot under ``artifacts/screenshots/`` for a human to look at.
"""

from __future__ import annotations

import csv
import io

import pytest

from tests.browser.conftest import PASSWORD, shoot

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def settle(page) -> None:
    """Wait until the script run triggered by the last action has finished."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => document.querySelector('[data-testid=\"stApp\"]')"
        "?.getAttribute('data-test-script-state') === 'notRunning'",
        timeout=60_000,
    )


def login(page, base: str, username: str) -> None:
    page.goto(base)
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_label("Mot de passe").press("Enter")
    page.get_by_role("heading", name="Vue d'ensemble").wait_for()
    settle(page)


def open_page(page, title: str, heading: str | None = None) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=title).click()
    page.get_by_role("heading", name=heading or title).first.wait_for()
    settle(page)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option).first.click()
    settle(page)


def test_login_refused_with_a_wrong_password(page, server):
    page.goto(server)
    page.get_by_label("Identifiant").fill("manager")
    page.get_by_label("Mot de passe").fill("not the password")
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_text("Identifiant ou mot de passe incorrect.").wait_for()
    shoot(page, "00_login_refused")


def test_manager_reviews_a_pair_and_runs_a_job(page, server):
    login(page, server, "manager")
    shoot(page, "01_overview_manager")

    open_page(page, "Doublons")
    page.get_by_text("Comparaison :").first.wait_for()
    # Streamlit's own CSV download is off: hovering a patient-level table offers no download.
    page.get_by_test_id("stDataFrame").first.hover()
    page.wait_for_timeout(300)
    assert page.get_by_role("button", name="Download as CSV").count() == 0
    assert page.get_by_label("Download as CSV").count() == 0
    pending_before = page.get_by_test_id("stMetricValue").first.inner_text()
    shoot(page, "02_duplicates_queue")
    page.get_by_role("button", name="Personnes différentes").click()
    page.get_by_text("décision(s) enregistrée(s)").wait_for()
    settle(page)
    assert page.get_by_test_id("stMetricValue").nth(1).inner_text() == "1"  # decisions this session
    assert page.get_by_test_id("stMetricValue").first.inner_text() != pending_before
    page.get_by_role("tab", name="Documents en double").click()
    settle(page)
    assert page.get_by_text("Une erreur inattendue").count() == 0
    shoot(page, "02b_duplicate_documents")

    open_page(page, "Travaux de nettoyage")
    choose(page, "Travail de nettoyage", "normalise-identities")
    page.get_by_role("button", name="Prévisualiser").click()
    page.get_by_text("Aperçu :").wait_for()
    settle(page)
    shoot(page, "03_jobs_preview")
    page.get_by_role("button", name="Appliquer…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_text("Confirmer l'application").wait_for()
    shoot(page, "04_jobs_confirm")
    dialog.get_by_role("button", name="Confirmer").click()
    page.get_by_text("appliqué").first.wait_for()
    settle(page)
    shoot(page, "05_jobs_applied")
    assert page.get_by_test_id("stDataFrame").count() >= 1  # the history lists the run


def test_analyst_downloads_a_pseudonymised_excel_csv(page, server):
    login(page, server, "analyst")
    open_page(page, "Exports")
    choose(page, "Table", "Patients (patients)")
    shoot(page, "06_exports")
    with page.expect_download() as info:
        page.get_by_role("button", name="Télécharger le CSV").click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel-FR: UTF-8 BOM
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    assert 2500 * 0.95 <= len(rows) < 2500  # k=5 enforced: the patients alone in their group are suppressed
    assert "patient_id" in rows[0]
    assert not rows[0]["patient_id"].isdigit()  # the IPP is replaced by a pseudonym
    assert "birth_name" not in rows[0] or not rows[0]["birth_name"] or rows[0]["birth_name"] != rows[1]["birth_name"]


def test_admin_exports_the_whole_filtered_review_queue(page, server):
    """The queue is shown a page at a time; its export reads every pending pair on download.
    (An analyst's pseudonymised export of the demo's few pairs cannot reach k=5 and is refused:
    the identified export, an administrator's explicit choice, has every row.)"""
    login(page, server, "admin")
    open_page(page, "Doublons")
    page.get_by_text("Comparaison :").first.wait_for()
    pending = int(page.get_by_test_id("stMetricValue").first.inner_text().replace("\u202f", "").replace(" ", ""))
    assert pending > 0
    page.get_by_role("button", name="Exporter").first.click()
    page.get_by_text("Export nominatif (non pseudonymisé)").first.click()
    settle(page)
    with page.expect_download() as info:
        page.get_by_role("button", name=f"Télécharger le CSV ({pending} lignes)").click()
    rows = list(csv.DictReader(io.StringIO(open(info.value.path(), "rb").read().decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == pending
    assert all(row["patient_id_1"].isdigit() for row in rows)  # identified: the IPPs themselves


def test_every_page_renders_for_admin(page, server):
    login(page, server, "admin")
    for title, name in [
        ("Temps documentaire", "07_time_sinks"),
        ("Imports", "08_data"),
        ("Administration", "09_admin"),
    ]:
        open_page(page, title)
        assert page.get_by_test_id("stException").count() == 0
        assert page.get_by_text("Une erreur inattendue").count() == 0
        if title == "Temps documentaire":  # the first tab's two charts are drawn by plotly.js
            page.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 2")
        shoot(page, name)
        if title == "Temps documentaire":
            for i, tab in enumerate(["Quand", "Comparaison aux pairs", "Non signés"]):
                page.get_by_role("tab", name=tab).click()
                settle(page)
                assert page.get_by_text("Une erreur inattendue").count() == 0
                shoot(page, f"{name}_{i + 1}")


def test_viewer_sees_aggregates_only(page, server):
    login(page, server, "viewer")
    nav = page.get_by_test_id("stSidebarNav")
    assert nav.get_by_role("link", name="Doublons").count() == 0
    assert nav.get_by_role("link", name="Administration").count() == 0
    shoot(page, "10_overview_viewer")
