import pytest

from analytics.access import Actor
from analytics.access.auth import create_user, deactivate
from analytics.access.oidc import OidcSettings, actor_from_claims, oidc_login, oidc_settings
from analytics.errors import AuthenticationError, InvalidInput

SETTINGS = OidcSettings(group_roles={"dsi-admins": "admin", "identitovigilance": "manager",
                                     "dim": "analyst", "direction": "viewer"})

CASES = [
    # (description, claims, expected actor or error kind)
    ("one group", {"preferred_username": "J.Dupont", "groups": ["dim"]}, ("j.dupont", "analyst")),
    ("most privileged group wins", {"preferred_username": "x", "groups": ["direction", "dsi-admins"]},
     ("x", "admin")),
    ("groups as a string", {"email": "a@chu.fr", "groups": "direction, dim"}, ("a@chu.fr", "analyst")),
    ("unmapped groups", {"preferred_username": "x", "groups": ["cuisine"]}, "oidc_no_role"),
    ("no groups claim", {"preferred_username": "x"}, "oidc_no_role"),
    ("falls back to sub", {"sub": "1234", "groups": ["dim"]}, ("1234", "analyst")),
    ("no username at all", {"groups": ["dim"]}, "oidc_invalid"),
]


@pytest.mark.parametrize(("description", "claims", "expected"), CASES, ids=[c[0] for c in CASES])
def test_actor_from_claims(description, claims, expected):
    if isinstance(expected, tuple):
        actor = actor_from_claims(claims, SETTINGS)
        assert (actor.username, actor.role, actor.via) == (*expected, "oidc")
    else:
        with pytest.raises(AuthenticationError) as err:
            actor_from_claims(claims, SETTINGS)
        assert err.value.kind == expected


def test_dotted_claim_and_default_role():
    settings = OidcSettings(group_roles={"hygie-admin": "admin"}, groups_claim="realm_access.roles",
                            default_role="viewer")
    assert actor_from_claims({"sub": "u", "realm_access": {"roles": ["hygie-admin"]}}, settings).role == "admin"
    assert actor_from_claims({"sub": "u"}, settings).role == "viewer"


def test_settings_sources(con, monkeypatch):
    monkeypatch.delenv("HYGIE_OIDC_GROUP_ROLES", raising=False)
    con.execute("""INSERT INTO settings VALUES ('oidc.group_roles', '{"g": "manager"}', now(), 't')""")
    assert oidc_settings(con).group_roles == {"g": "manager"}
    monkeypatch.setenv("HYGIE_OIDC_GROUP_ROLES", '{"e": "viewer"}')
    assert oidc_settings(con).group_roles == {"e": "viewer"}
    assert oidc_settings(con, {"oidc_roles": {"m": "admin"}, "oidc_groups_claim": "roles"}) == \
        OidcSettings(group_roles={"m": "admin"}, groups_claim="roles")
    with pytest.raises(InvalidInput, match="^OIDC group 'm': role 'root' is not one of admin, manager, analyst, viewer, "
                                           "identitovigilance$"):
        oidc_settings(con, {"oidc_roles": {"m": "root"}})
    monkeypatch.setenv("HYGIE_OIDC_GROUP_ROLES", "not json")
    with pytest.raises(InvalidInput, match="^HYGIE_OIDC_GROUP_ROLES: not a JSON object of group -> role$"):
        oidc_settings(con)


def test_oidc_login_records_and_honours_deactivation(con):
    actor = oidc_login(con, {"preferred_username": "marc", "groups": ["identitovigilance"]}, SETTINGS)
    assert actor == Actor("marc", "manager")
    create_user(con, None, "root", "admin", "Blue-Horse42")
    create_user(con, Actor("root", "admin"), "marc", "manager", None)
    deactivate(con, Actor("root", "admin"), "marc")
    with pytest.raises(AuthenticationError, match="^marc: this account was deactivated in Hygie$"):
        oidc_login(con, {"preferred_username": "marc", "groups": ["identitovigilance"]}, SETTINGS)
    rows = con.execute("SELECT actor, via, action FROM access_log WHERE actor = 'marc' ORDER BY log_id").fetchall()
    assert rows == [("marc", "oidc", "login"), ("marc", "oidc", "login_failed")]
