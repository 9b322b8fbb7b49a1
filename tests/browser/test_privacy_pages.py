"""In a real browser: an analyst's duplicates page carries no identity, a manager's does."""

from __future__ import annotations

import csv
import re

from tests.browser.test_dashboard_e2e import login, open_page

#: Whether every data grid of the page has drawn its cells: Streamlit's grid paints a canvas and
#: fills an accessible table of the visible cells beside it once drawn, which under load comes
#: well after the grid element itself appears. The queue's grid holds the compared pair's ids.
_GRIDS_DRAWN = """([first, grids]) => {
    const tables = [...document.querySelectorAll('[data-testid=stDataFrame] table')];
    return tables.length >= grids && tables[0].innerText.includes(first)
        && tables.slice(0, grids).every(t => t.querySelectorAll('td').length > 0);
}"""
#: The grids' rows, cell by cell. (Read whole, a table's text runs its cells together —
#: "100001903MARTINÉLISE1957-07-11" — and no name stands out as a word: the manager's control
#: then found a birth name only when the first pair's address named a street after one.)
_GRID_ROWS = """() => [...document.querySelectorAll('[data-testid=stDataFrame] table tr')]
    .map(tr => [...tr.querySelectorAll('th, td')].map(cell => cell.innerText.trim()))"""
#: The comparison's rows that carry an identity value (French trait labels).
IDENTITY_TRAITS = ("Nom de naissance", "Prénoms", "Date de naissance", "Lieu de naissance", "INS",
                   "Téléphone", "Courriel", "Adresse")


def _duplicates_page(page) -> tuple[str, list[list[str]]]:
    """What the duplicates page put in the DOM (headings, captions) and its grids' rows, read
    once the grids have drawn them (the queue and the pair's comparison)."""
    open_page(page, "Doublons")
    heading = page.get_by_text(re.compile(r"^Comparaison : \S+ ↔ \S+$")).first
    heading.wait_for()
    first = re.search(r"Comparaison : (\S+) ↔", heading.inner_text())[1]
    page.wait_for_function(_GRIDS_DRAWN, arg=[first, 2])
    rows = page.evaluate(_GRID_ROWS)
    return page.locator("body").inner_text() + "\n" + "\n".join("\n".join(r) for r in rows), rows


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


def test_analyst_duplicates_page_shows_no_identity(page, server, browser):
    login(page, server, "manager")
    manager, manager_rows = _duplicates_page(page)
    context = browser.new_context(viewport={"width": 1440, "height": 1800}, locale="fr-FR")
    other = context.new_page()
    other.set_default_timeout(30_000)
    try:
        login(other, server, "analyst")
        analyst, analyst_rows = _duplicates_page(other)
    finally:
        context.close()
    assert len(_names(manager)) >= 5, "the manager's page shows birth names (so the check below can fail)"
    assert _names(analyst) == set()
    assert re.search(r"Comparaison : \S+ ↔ \S+", analyst)  # the pair is there, by id
    # the comparison lists every trait with its level; an identity's values are "—" on both sides
    traits = {row[0]: row[1:3] for row in analyst_rows if row and row[0] in IDENTITY_TRAITS}
    assert sorted(traits) == sorted(IDENTITY_TRAITS)
    assert {trait: values for trait, values in traits.items() if values != ["—", "—"]} == {}
    shown = {row[0]: row[1:3] for row in manager_rows if row and row[0] in IDENTITY_TRAITS}
    assert shown["Nom de naissance"] != ["—", "—"]  # the control: a manager sees the values
    assert not re.search(r"\b0\d(?: \d\d){4}\b|\b[12]\d{12}(?:\d{2})?\b|\bRUE\b", analyst)  # phone, INS, address
