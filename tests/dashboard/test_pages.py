"""Every page renders for every role that may see it, and only those roles see it."""

from __future__ import annotations

import pytest

ROLES = ("admin", "manager", "analyst", "viewer")

# page file -> roles that have it in their navigation
PAGES = {
    "views/overview.py": {"admin", "manager", "analyst", "viewer"},
    "views/time_sinks.py": {"admin", "manager", "analyst", "viewer"},
    "views/duplicates.py": {"admin", "manager", "analyst"},
    "views/jobs.py": {"admin", "manager", "analyst"},
    "views/data.py": {"admin", "manager", "analyst", "viewer"},
    "views/exports.py": {"admin", "manager", "analyst", "viewer"},
    "views/admin.py": {"admin"},
}


def test_anonymous_visitor_sees_only_the_login_form(app, warehouse):
    at = app(warehouse).run()
    assert not at.exception
    assert at.title[0].value == "Connexion à Hygie"
    assert [w.label for w in at.text_input] == ["Identifiant", "Mot de passe"]
    assert not at.sidebar.button  # no logout, no navigation


@pytest.mark.parametrize("role", ROLES)
def test_overview_lists_loaded_tables(app, warehouse, role):
    at = app(warehouse, role).run()
    assert not at.exception
    assert not at.error
    assert at.title[0].value == "Vue d'ensemble"
    table = at.dataframe[0].value
    assert dict(zip(table["Table"], table["Lignes"], strict=True))["Patients"] == 43


CASES = [(page, role) for page, roles in PAGES.items() for role in ROLES if role in roles]


@pytest.mark.parametrize(("page", "role"), CASES)
def test_page_renders_for_allowed_role(app, warehouse, page, role):
    at = app(warehouse, role).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    assert not [e.value for e in at.error]


@pytest.mark.parametrize(
    ("page", "role"), [(p, r) for p, roles in PAGES.items() for r in ROLES if r not in roles]
)
def test_page_is_not_routed_for_other_roles(app, warehouse, page, role):
    at = app(warehouse, role).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(page)


def test_logout_forgets_the_session(app, warehouse):
    at = app(warehouse, "manager").run()
    at.sidebar.button(key="logout").click().run()
    assert at.title[0].value == "Connexion à Hygie"
    assert "hygie_actor" not in at.session_state


@pytest.mark.parametrize(
    ("role", "sees_duplicate_links"), [("manager", True), ("analyst", True), ("viewer", False)]
)
def test_overview_figures_link_only_to_pages_the_role_has(app, warehouse, role, sees_duplicate_links):
    at = app(warehouse, role).run()
    labels = [m.label for m in at.metric]
    assert labels[:3] == ["Taux de doublons", "Paires à examiner", "Documents non signés"]
    assert at.metric[0].value.endswith(" %")
    links = {link.label for link in at.get("page_link")}
    assert ("Examiner les paires" in links) is sees_duplicate_links
    assert "Voir les non-signés" in links


def test_idle_session_expires_and_is_logged_out(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager")
    at.session_state["hygie_last_seen"] = -1e9  # idle far longer than the timeout
    at.run()
    assert at.title[0].value == "Connexion à Hygie"
    assert at.warning[0].value.startswith("Votre session a expiré après 30 minutes")
    from analytics.warehouse import connect

    con = connect(fresh_warehouse)
    try:
        assert con.execute(
            "SELECT actor, action, detail->>'reason' FROM access_log WHERE action = 'logout'"
        ).fetchall() == [("test-manager", "logout", "timeout")]
    finally:
        con.close()


def test_login_with_a_real_account(app, fresh_warehouse):
    from analytics.access.auth import create_demo_accounts
    from analytics.warehouse import connect

    con = connect(fresh_warehouse)
    try:
        create_demo_accounts(con, "a-demo-password")
    finally:
        con.close()
    at = app(fresh_warehouse).run()
    at.text_input(key="login_username").input("analyst")
    at.text_input(key="login_password").input("wrong")
    at.button[0].click()
    at.run()
    assert [e.value for e in at.error] == ["Identifiant ou mot de passe incorrect."]
    at.text_input(key="login_username").input("analyst")
    at.text_input(key="login_password").input("a-demo-password")
    at.button[0].click()
    at.run()
    assert at.title[0].value == "Vue d'ensemble"
    assert at.session_state["hygie_actor"].role == "analyst"


def test_viewing_the_review_queue_is_recorded(app, fresh_warehouse):
    from analytics.warehouse import connect

    at = app(fresh_warehouse, "analyst").run()
    at.switch_page("views/duplicates.py").run()
    con = connect(fresh_warehouse)
    try:
        objects = {r[0] for r in con.execute(
            "SELECT object FROM access_log WHERE action = 'view' AND actor = 'test-analyst'").fetchall()}
    finally:
        con.close()
    assert {"review_queue", "explain_pair"} <= objects


OIDC_SECRETS = {
    "auth": {"redirect_uri": "http://localhost/oauth2callback", "cookie_secret": "x" * 32,
             "client_id": "hygie", "client_secret": "s", "server_metadata_url": "https://idp/.well-known"},
    "hygie": {"oidc_roles": {"dsi-identito": "manager"}},
}


@pytest.mark.parametrize(
    ("description", "groups", "expected_title", "expected_role"),
    [
        ("a mapped group signs in with its role", ["dsi-identito"], "Vue d'ensemble", "manager"),
        ("no mapped group is refused", ["cafeteria"], "Connexion à Hygie", None),
    ],
)
def test_oidc_sign_in_maps_groups_to_roles(app, fresh_warehouse, description, groups, expected_title,
                                          expected_role):
    at = app(fresh_warehouse)
    at.secrets = OIDC_SECRETS
    at.user = {"is_logged_in": True, "preferred_username": "jdoe", "email": "jdoe@h.fr", "groups": groups}
    at.run()
    assert at.title[0].value == expected_title, description
    actor = at.session_state["hygie_actor"] if "hygie_actor" in at.session_state else None
    assert (actor.role if actor else None) == expected_role, description
    if expected_role is None:
        assert at.error[0].value.startswith("Votre compte de l'établissement n'est rattaché à aucun rôle")


@pytest.mark.parametrize(
    ("role", "offers_access_log", "offers_patients"),
    [("admin", True, True), ("analyst", False, True), ("viewer", False, False)],
)
def test_exports_page_offers_only_what_the_role_may_export(app, warehouse, role, offers_access_log,
                                                           offers_patients):
    at = app(warehouse, role).run()
    at.switch_page("views/exports.py").run()
    assert not at.exception
    options = at.selectbox(key="exports_table").options
    assert any("(access_log)" in o or o == "access_log" for o in options) is offers_access_log
    assert any("(patients)" in o or o == "patients" for o in options) is offers_patients
