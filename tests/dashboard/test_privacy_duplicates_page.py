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


def _collisions(app, db, role: str):
    """The possible-collisions tab, on a record whose INS (a woman born in March 1975 in
    Ille-et-Vilaine) contradicts its sex and birth year."""
    from analytics.warehouse import connect

    con = connect(db)
    try:
        con.execute("UPDATE patients SET ins = '275033523801222', sex = 'M', birth_date = DATE '1957-03-14', "
                    "birth_place_code = '35238', phone = '06 12 34 56 78' WHERE patient_id = 'P0001'")
        name = con.execute("SELECT birth_name FROM patients WHERE patient_id = 'P0001'").fetchone()[0]
    finally:
        con.close()
    at = app(db, role).run()
    at.session_state["dup_tab"] = "Collisions possibles"
    at.switch_page("views/duplicates.py").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    return at, name


def test_analyst_sees_collisions_by_record_id_without_ins_or_name(app, fresh_warehouse):
    at, name = _collisions(app, fresh_warehouse, "analyst")
    texts = [m.value for m in at.markdown]
    assert "**IPP P0001** — sexe M — PROV — identité masquée pour votre rôle" in texts
    assert ("- L'année de naissance encodée dans l'INS diffère de celle du dossier.\n"
            "- Le sexe encodé dans l'INS diffère de celui du dossier.") in texts
    shown = _everything_shown(at)
    assert [v for v in (name, "275033523801222", "14/03/1957", "1957", "35238") if v in shown] == []


def test_manager_sees_the_collision_with_its_ins(app, fresh_warehouse):
    """The control: the same tab shows the identity and the INS to a reviewing role."""
    at, name = _collisions(app, fresh_warehouse, "manager")
    shown = _everything_shown(at)
    assert name in shown and "275033523801222" in shown and "1957" in shown


def test_analyst_job_preview_shows_which_identity_fields_change_not_their_values(app, fresh_warehouse):
    """normalise-identities tidies P0007's ' leroy ' and its phone: an analyst may preview it and
    sees the fields, a manager sees the values."""
    from analytics import jobs
    from analytics.access.roles import Actor
    from analytics.warehouse import connect

    con = connect(fresh_warehouse)
    try:
        pid = jobs.preview(con, Actor("test-analyst", "analyst"), "normalise-identities", {}).preview_id
        masked = jobs.preview_changes(con, Actor("test-analyst", "analyst"), pid)
        clear = jobs.preview_changes(con, Actor("test-manager", "manager"), pid)
    finally:
        con.close()
    row = clear[clear["row_key"].str.contains("P0007")].index[0]
    assert "leroy" in clear.loc[row, "before"] and "LEROY" in clear.loc[row, "after"]
    assert "leroy" not in masked.loc[row, "before"] and "LEROY" not in masked.loc[row, "after"]
    assert '"birth_name":"***"' in masked.loc[row, "before"]
    assert [v for v in ("leroy", "LEROY", "06 12 34 56 78", "0612345678")
            if v in masked[["before", "after"]].to_string()] == []
