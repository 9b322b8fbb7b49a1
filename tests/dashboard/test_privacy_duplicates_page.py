"""An analyst's duplicates page shows pseudonymous pairs and comparison levels, no identity
(names, birth dates, phones, addresses, INS); a manager and the identitovigilance role see them."""

from __future__ import annotations

import pytest

IDENTITY_VALUES = ("DUPONT", "DUPOND", "JEAN PIERRE", "JEAN-PIERRE", "12/05/1970", "1970-05-12",
                   "06 12 34 56 78")


def _everything_shown(at) -> str:
    """Every value the page rendered: tables, texts, captions, headers, metrics."""
    parts = [frame.value.astype(str).to_string() for frame in at.dataframe]
    for kind in (at.markdown, at.caption, at.subheader, at.header, at.title, at.info, at.warning, at.error,
                 at.metric, at.text):
        parts += [str(getattr(e, "value", "")) for e in kind]
    return "\n".join(parts)


def _duplicates(app, warehouse, role: str):
    at = app(warehouse, role).run()
    at.switch_page("views/duplicates.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at


def test_analyst_sees_no_identity_on_the_review_queue(app, warehouse):
    shown = _everything_shown(_duplicates(app, warehouse, "analyst"))
    assert "P9001" in shown  # the pair is there, by patient id
    assert [v for v in IDENTITY_VALUES if v in shown] == []


@pytest.mark.parametrize("role", ["manager", "identitovigilance"])
def test_reviewers_see_the_identities(app, warehouse, role):
    """The same page for those who review and merge: the check above can fail."""
    shown = _everything_shown(_duplicates(app, warehouse, role))
    assert "DUPONT" in shown and "JEAN PIERRE" in shown


def test_analyst_search_returns_levels_not_identities(app, warehouse):
    at = _duplicates(app, warehouse, "analyst")
    at.text_input(key="dup_s_name").input("DUPONT")
    at.text_input(key="dup_s_first").input("JEAN")
    at.text_input(key="dup_s_born").input("12/05/1970")
    next(b for b in at.button if b.label == "Rechercher").click()
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    found = next(d.value for d in at.dataframe if "Rang" in d.value.columns)
    assert "P9001" in set(found["Patient"])
    shown = found.astype(str).to_string()
    assert [v for v in ("DUPONT", "DUPOND", "JEAN PIERRE", "JEAN-PIERRE") if v in shown] == []
