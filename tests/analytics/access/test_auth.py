from datetime import UTC, datetime, timedelta

import pytest

from analytics.access import Actor
from analytics.access.auth import (
    AuthSettings,
    actor_for,
    auth_settings,
    authenticate,
    check_session,
    create_demo_accounts,
    create_user,
    deactivate,
    list_users,
    session_expired,
    set_password,
    set_role,
    unlock,
)
from analytics.errors import AccessDenied, AuthenticationError, InvalidInput

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor("alice", "admin")
GOOD = "Blue-Horse42"


@pytest.fixture
def users(con):
    create_user(con, None, "alice", "admin", GOOD, "Alice Admin")
    for name, role in [("marc", "manager"), ("anna", "analyst"), ("victor", "viewer")]:
        create_user(con, ADMIN, name, role, GOOD)
    return con


def _fail(con, username, password="wrong-password", at=T0):
    with pytest.raises(AuthenticationError) as err:
        authenticate(con, username, password, now=at)
    return err.value


def test_authenticate_returns_actor_and_records_login(users):
    actor = authenticate(users, "Anna ", GOOD, now=T0)
    assert actor == Actor("anna", "analyst") and actor.via == "dashboard"
    last = users.execute("SELECT actor, role, action FROM access_log ORDER BY log_id DESC LIMIT 1").fetchone()
    assert last == ("anna", "analyst", "login")


FAILURES = [
    # (description, username, password)
    ("wrong password", "anna", "Blue-Horse43"),
    ("unknown user", "nobody", GOOD),
    ("empty password", "anna", ""),
]


@pytest.mark.parametrize(("description", "username", "password"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failure_message_does_not_reveal_whether_user_exists(users, description, username, password):
    err = _fail(users, username, password)
    assert str(err) == "invalid username or password"
    assert err.kind == "invalid_credentials"


def test_deactivated_account_gets_the_same_message(users):
    deactivate(users, ADMIN, "anna")
    err = _fail(users, "anna", GOOD)
    assert (str(err), err.kind) == ("invalid username or password", "invalid_credentials")


@pytest.mark.parametrize("username", ["anna", "ghost"])
def test_lockout_after_five_failures_then_unlock_after_delay(users, username):
    for i in range(5):
        assert _fail(users, username, at=T0 + timedelta(seconds=i)).kind == "invalid_credentials"
    locked = _fail(users, username, GOOD, at=T0 + timedelta(minutes=1))
    assert locked.kind == "locked"
    assert str(locked) == "too many failed attempts: the account is locked for a while; try again later"
    assert _fail(users, username, GOOD, at=T0 + timedelta(minutes=14, seconds=3)).kind == "locked"
    if username == "anna":
        assert authenticate(users, "anna", GOOD, now=T0 + timedelta(minutes=15, seconds=5)).role == "analyst"
    else:
        assert _fail(users, username, at=T0 + timedelta(minutes=16)).kind == "invalid_credentials"


def test_four_failures_then_success_resets_the_count(users):
    for i in range(4):
        _fail(users, "anna", at=T0 + timedelta(seconds=i))
    authenticate(users, "anna", GOOD, now=T0 + timedelta(seconds=10))
    for i in range(4):
        assert _fail(users, "anna", at=T0 + timedelta(seconds=20 + i)).kind == "invalid_credentials"


def test_lockout_settings_from_warehouse(users):
    users.execute("INSERT INTO settings VALUES ('auth.max_failures', '2', now(), 'test')")
    assert auth_settings(users) == AuthSettings(max_failures=2)
    _fail(users, "anna")
    _fail(users, "anna")
    assert _fail(users, "anna", GOOD).kind == "locked"


def test_bad_setting_is_named(users, monkeypatch):
    monkeypatch.setenv("HYGIE_AUTH_LOCKOUT_MINUTES", "quinze")
    with pytest.raises(InvalidInput, match="^HYGIE_AUTH_LOCKOUT_MINUTES: 'quinze' is not a whole number$"):
        auth_settings(users)


def test_admin_unlocks(users):
    for _ in range(5):
        _fail(users, "anna")
    assert unlock(users, ADMIN, "anna") is True
    assert authenticate(users, "anna", GOOD, now=T0).username == "anna"


SESSIONS = [
    # (description, idle, timeout, expired)
    ("29 minutes idle, default 30", timedelta(minutes=29), None, False),
    ("30 minutes idle, default 30", timedelta(minutes=30), None, True),
    ("10 minutes idle, timeout 5 minutes", timedelta(minutes=10), 5, True),
    ("10 minutes idle, timeout 1 hour", timedelta(minutes=10), timedelta(hours=1), False),
]


@pytest.mark.parametrize(("description", "idle", "timeout", "expired"), SESSIONS, ids=[s[0] for s in SESSIONS])
def test_session_expired(description, idle, timeout, expired):
    assert session_expired(T0, T0 + idle, timeout) is expired


def test_check_session_raises_with_kind():
    with pytest.raises(AuthenticationError) as err:
        check_session(T0, T0 + timedelta(hours=1))
    assert err.value.kind == "session_expired"


def test_first_admin_bootstrap_only_when_no_admin(con):
    with pytest.raises(AccessDenied, match="only an administrator may create accounts"):
        create_user(con, None, "bob", "viewer", GOOD)
    create_user(con, None, "alice", "admin", GOOD)
    with pytest.raises(AccessDenied, match="only an administrator may create accounts"):
        create_user(con, None, "eve", "admin", GOOD)


ROLE_REFUSALS = [
    ("manager", "marc"),
    ("analyst", "anna"),
    ("viewer", "victor"),
]


@pytest.mark.parametrize(("role", "name"), ROLE_REFUSALS)
def test_only_admins_manage_accounts(users, role, name):
    actor = Actor(name, role)
    message = f"{name} (role {role}) may not manage accounts"
    for call in (
        lambda: create_user(users, actor, "newbie", "viewer", GOOD),
        lambda: set_role(users, actor, "victor", "admin"),
        lambda: deactivate(users, actor, "victor"),
        lambda: set_password(users, actor, "alice", "Other-Horse42"),
        lambda: list_users(users, actor),
        lambda: unlock(users, actor, "victor"),
    ):
        with pytest.raises(AccessDenied) as err:
            call()
        assert str(err.value) == message


def test_user_changes_own_password_with_current_one(users):
    anna = Actor("anna", "analyst")
    with pytest.raises(AuthenticationError, match="^the current password is wrong$"):
        set_password(users, anna, "anna", "Other-Horse42", current_password="nope")
    set_password(users, anna, "anna", "Other-Horse42", current_password=GOOD)
    assert authenticate(users, "anna", "Other-Horse42", now=T0).username == "anna"


def test_policy_applies_to_new_passwords(users):
    with pytest.raises(InvalidInput, match="^password refused: the password must not contain the username$"):
        create_user(users, ADMIN, "claire", "viewer", "Claire-2026-ok")


INPUT_ERRORS = [
    ("bad username", "Jean Dupont", "viewer", "username 'Jean Dupont': use 2 to 64 characters among a-z, "
     "0-9, '.', '_' and '-', starting with a letter or digit"),
    ("bad role", "jean", "root", "role 'root': expected one of admin, manager, analyst, viewer, identitovigilance"),
    ("duplicate", "anna", "viewer", "an account named 'anna' already exists"),
]


@pytest.mark.parametrize(("description", "username", "role", "message"), INPUT_ERRORS,
                         ids=[c[0] for c in INPUT_ERRORS])
def test_create_user_input_errors(users, description, username, role, message):
    with pytest.raises(InvalidInput) as err:
        create_user(users, ADMIN, username, role, GOOD)
    assert str(err.value) == message


def test_last_admin_cannot_be_demoted_or_deactivated(users):
    with pytest.raises(InvalidInput, match="^'alice' is the last active admin; make another admin first$"):
        set_role(users, ADMIN, "alice", "viewer")
    with pytest.raises(InvalidInput, match="last active admin"):
        deactivate(users, ADMIN, "alice")
    set_role(users, ADMIN, "marc", "admin")
    set_role(users, ADMIN, "alice", "viewer")
    assert authenticate(users, "alice", GOOD, now=T0).role == "viewer"


def test_list_users_never_shows_hashes(users):
    frame = list_users(users, ADMIN)
    assert list(frame["username"]) == ["alice", "anna", "marc", "victor"]
    assert "password_hash" not in frame.columns
    assert not frame.astype(str).apply(lambda col: col.str.contains("argon2")).any().any()


def test_demo_accounts(con, monkeypatch):
    monkeypatch.setenv("HYGIE_DEMO_PASSWORD", "demo")
    assert create_demo_accounts(con) == ["admin", "manager", "analyst", "viewer"]
    assert authenticate(con, "viewer", "demo", now=T0) == Actor("viewer", "viewer")
    assert create_demo_accounts(con) == []


def test_demo_password_default(con, monkeypatch):
    monkeypatch.delenv("HYGIE_DEMO_PASSWORD", raising=False)
    create_demo_accounts(con)
    assert authenticate(con, "admin", "hygie-demo", now=T0).role == "admin"


def test_actor_for_cli(users):
    assert actor_for(users, "anna").via == "cli"
    deactivate(users, ADMIN, "anna")
    with pytest.raises(InvalidInput, match="^--as anna: no active account with that name$"):
        actor_for(users, "anna")


def test_failed_login_recorded_with_channel_and_typed_name(users):
    _fail(users, "Ghost")
    row = users.execute("SELECT actor, role, via, action, detail FROM access_log ORDER BY log_id DESC LIMIT 1").fetchone()
    assert row == ("ghost", None, "dashboard", "login_failed", '{"reason":"invalid credentials"}')


def test_parallel_wrong_guesses_all_count(users):
    import threading

    def guess(i):
        try:
            authenticate(users.cursor(), "anna", f"Wrong-{i}-password", now=T0)
        except AuthenticationError:
            pass

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert _fail(users, "anna", GOOD).kind == "locked"
