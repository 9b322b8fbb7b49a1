"""API tokens: created by an admin, stored hashed, refused once revoked, expired or orphaned."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from analytics.access.roles import Actor
from analytics.access.tokens import authenticate_token, create_token, list_tokens, revoke_token
from analytics.cli import main
from analytics.errors import AccessDenied, AuthenticationError, InvalidInput

ADMIN = Actor("root", "admin", via="cli")


@pytest.fixture
def accounts(con):
    con.execute("""INSERT INTO users (username, role, created_at, active) VALUES
                   ('desk', 'analyst', now(), TRUE), ('gone', 'viewer', now(), FALSE)""")
    return con


def _kind(exc: pytest.ExceptionInfo) -> str:
    return exc.value.kind  # type: ignore[attr-defined]


def test_a_token_acts_as_its_account_and_only_its_hash_is_stored(accounts):
    token_id, token = create_token(accounts, ADMIN, "desk", label="admission")
    assert token.startswith(f"hyg_{token_id}_") and len(token) == 4 + 12 + 1 + 43
    stored = accounts.execute("SELECT token_hash, username, label FROM api_tokens").fetchall()
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(), "desk", "admission")]
    assert token not in str(accounts.execute("SELECT * FROM api_tokens").fetchall())
    actor = authenticate_token(accounts, token)
    assert (actor.username, actor.role, actor.via) == ("desk", "analyst", "api")
    # the role is read at each call: a demotion takes effect at once
    accounts.execute("UPDATE users SET role = 'viewer' WHERE username = 'desk'")
    assert authenticate_token(accounts, token).role == "viewer"
    log = accounts.execute("SELECT action, object, detail->>'change' FROM access_log").fetchall()
    assert log == [("user_change", "desk", "api token added")]


@pytest.mark.parametrize(
    ("description", "mangle", "kind", "message"),
    [
        ("not a token", lambda t, i: "secret", "malformed",
         "the API token is malformed (expected hyg_<id>_<secret>)"),
        ("right id, wrong secret", lambda t, i: t[:-3] + ("aaa" if not t.endswith("aaa") else "bbb"), "unknown",
         "unknown API token"),
        ("unknown id", lambda t, i: "hyg_000000000000_" + t.rsplit("_", 1)[1][-43:].rjust(43, "x"), "unknown",
         "unknown API token"),
    ],
)
def test_a_wrong_token_is_refused(accounts, description, mangle, kind, message):
    token_id, token = create_token(accounts, ADMIN, "desk")
    with pytest.raises(AuthenticationError) as exc:
        authenticate_token(accounts, mangle(token, token_id))
    assert (_kind(exc), str(exc.value)) == (kind, message), description


def test_revoked_expired_and_deactivated_tokens_are_refused(accounts):
    now = datetime(2026, 12, 7, 12, tzinfo=UTC)
    token_id, token = create_token(accounts, ADMIN, "desk", days=30, now=now)
    assert authenticate_token(accounts, token, now=now + timedelta(days=29)).username == "desk"
    with pytest.raises(AuthenticationError) as exc:
        authenticate_token(accounts, token, now=now + timedelta(days=30))
    assert _kind(exc) == "expired" and str(exc.value) == f"API token {token_id} expired on 2027-01-06"
    accounts.execute("UPDATE users SET active = FALSE WHERE username = 'desk'")
    with pytest.raises(AuthenticationError) as exc:
        authenticate_token(accounts, token, now=now)
    assert _kind(exc) == "inactive"
    assert revoke_token(accounts, ADMIN, token_id) == "desk"
    with pytest.raises(AuthenticationError) as exc:
        authenticate_token(accounts, token, now=now)
    assert _kind(exc) == "revoked" and str(exc.value) == f"API token {token_id} was revoked"
    with pytest.raises(InvalidInput, match=f"API token '{token_id}' was already revoked"):
        revoke_token(accounts, ADMIN, token)  # the whole token names it too
    assert list(list_tokens(accounts, ADMIN)["state"]) == ["revoked"]


def test_only_an_admin_manages_tokens_and_only_for_active_accounts(accounts):
    with pytest.raises(AccessDenied, match=r"desk \(role analyst\) may not manage accounts"):
        create_token(accounts, Actor("desk", "analyst"), "desk")
    with pytest.raises(InvalidInput, match="no account named 'nobody'"):
        create_token(accounts, ADMIN, "nobody")
    with pytest.raises(InvalidInput, match="account 'gone' is deactivated: a token would be refused"):
        create_token(accounts, ADMIN, "gone")
    with pytest.raises(InvalidInput, match=r"--days: -1 must be 0 \(no expiry\) or more"):
        create_token(accounts, ADMIN, "desk", days=-1)
    assert accounts.execute("SELECT count(*) FROM api_tokens").fetchone()[0] == 0


def test_cli_token_add_list_revoke(db_path: Path, accounts):
    accounts.close()
    runner = CliRunner()
    added = runner.invoke(main, ["--db", str(db_path), "users", "token", "add", "desk", "--label", "admission"])
    assert added.exit_code == 0, added.output
    token = added.stdout.strip()
    token_id = token.split("_")[1]
    assert f"Token {token_id} created for 'desk' (shown once; keep it secret):" in added.stderr
    listed = runner.invoke(main, ["--db", str(db_path), "users", "token", "list"])
    assert listed.exit_code == 0
    row = listed.stdout.splitlines()[1]
    assert row.startswith(f"{token_id:<13} desk") and " active " in row and row.endswith("admission")
    assert token not in listed.output
    revoked = runner.invoke(main, ["--db", str(db_path), "users", "token", "revoke", token_id])
    assert revoked.exit_code == 0 and revoked.stdout == "Token revoked (account 'desk').\n"
    again = runner.invoke(main, ["--db", str(db_path), "users", "token", "revoke", token_id])
    assert again.exit_code == 2 and f"Error: API token '{token_id}' was already revoked" in again.stderr
    refused = runner.invoke(main, ["--db", str(db_path), "users", "token", "add", "desk", "--as", "desk"])
    assert refused.exit_code == 4 and "desk (role analyst) may not manage accounts" in refused.stderr
