"""In a real browser: an analyst's duplicates page carries no identity, a manager's does."""

from __future__ import annotations

import csv
import re

import pytest

from tests.browser.test_dashboard_e2e import login, open_page


def _queue_text(page) -> str:
    """What the duplicates page put in the DOM: headings, captions and the data grids' cells
    (Streamlit's grid keeps an accessible table of its cells beside the canvas)."""
    open_page(page, "Doublons")
    page.get_by_text("Comparaison :").first.wait_for()
    grid = page.get_by_test_id("stDataFrame").first
    grid.wait_for()
    return page.locator("body").inner_text() + "\n" + "\n".join(
        page.locator("[data-testid=stDataFrame] table").all_inner_texts())


def _birth_names() -> set[str]:
    """Every birth and used name of the shipped sample hospital (what the demo imports)."""
    from analytics.demo import default_sample_dir

    path = default_sample_dir() / "patients.csv"
    with path.open(encoding="latin-1", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    return {r[c].strip() for r in rows for c in ("NOM_NAISSANCE", "NOM_USAGE") if len(r[c].strip()) > 2}


def _names(text: str) -> set[str]:
    """The sample's birth names that appear as words in ``text``."""
    return set(re.findall(r"\b[A-ZÉÈÀÇ][A-ZÉÈÀÇ' -]{2,}\b", text)) & _birth_names() | {
        w for w in re.findall(r"\b[A-ZÉÈÀÇ][A-ZÉÈÀÇ'-]{2,}\b", text) if w in _birth_names()}


@pytest.mark.xfail(strict=False, reason="known intermittent (open, issue 14): the manager's control page showed no birth name once in a full run (shared demo server state); passes alone")
def test_analyst_duplicates_page_shows_no_identity(page, server, browser):
    login(page, server, "manager")
    manager = _queue_text(page)
    context = browser.new_context(viewport={"width": 1440, "height": 1800}, locale="fr-FR")
    other = context.new_page()
    other.set_default_timeout(30_000)
    try:
        login(other, server, "analyst")
        analyst = _queue_text(other)
    finally:
        context.close()
    assert _names(manager), "the manager's page shows birth names (so the check below can fail)"
    assert _names(analyst) == set()
    assert re.search(r"Comparaison : \S+ ↔ \S+", analyst)  # the pair is there, by id
