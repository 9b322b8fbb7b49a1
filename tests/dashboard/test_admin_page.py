"""Admin page: accounts are managed through the engine, the access log is shown read-only."""

from __future__ import annotations

from analytics.warehouse import connect


def test_admin_creates_an_account_and_reads_the_log(app, fresh_warehouse):
    at = app(fresh_warehouse, "admin").run()
    at.switch_page("views/admin.py").run()
    assert not at.error, [e.value for e in at.error]
    at.text_input(key="admin_new_username").input("claire.m")
    at.text_input(key="admin_new_display").input("Claire M.")
    at.selectbox(key="admin_new_role").select("analyst")
    at.text_input(key="admin_new_password").input("Correct-Horse-42-battery")
    next(b for b in at.button if b.label == "Créer le compte").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value == "Compte « claire.m » créé."
    con = connect(fresh_warehouse)
    try:
        assert con.execute("SELECT role FROM users WHERE username = 'claire.m'").fetchone() == ("analyst",)
    finally:
        con.close()
    log = at.dataframe[1].value
    assert "user_change" in set(log["action"])


def test_admin_turns_four_eyes_review_on_traced(app, fresh_warehouse):
    """Issue 11: the four-eyes setting has its control on the admin page, for an administrator
    only, recorded in the access log."""
    at = app(fresh_warehouse, "admin").run()
    at.switch_page("views/admin.py").run()
    toggle = at.toggle(key="admin_four_eyes")
    assert toggle.label == "Double validation des fusions d'identités" and toggle.value is False
    toggle.set_value(True).run()
    assert not at.error, [e.value for e in at.error]
    assert at.success[0].value == "Double validation activée : chaque « Même personne » attend un second relecteur."
    assert at.toggle(key="admin_four_eyes").value is True
    con = connect(fresh_warehouse)
    try:
        assert con.execute("SELECT value, updated_by FROM settings WHERE key = 'review.four_eyes'").fetchall() == [
            ("on", "test-admin")]
        assert con.execute("SELECT actor, detail->>'after' FROM access_log WHERE action = 'settings_change'"
                           ).fetchall() == [("test-admin", "on")]
    finally:
        con.close()
    at.toggle(key="admin_four_eyes").set_value(False).run()
    assert at.success[0].value == "Double validation désactivée : un seul avis « Même personne » suffit."

