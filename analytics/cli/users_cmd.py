"""``hygie users``: local accounts, a thin translator over :mod:`analytics.access.auth`.

Without ``--as`` the CLI acts as the system administrator ``cli:<os user>``: whoever can open
the warehouse file already holds its data. ``--as USER`` acts with that account's role (no
password asked, for the same reason); the access log records ``via=cli`` either way.
"""

from __future__ import annotations

import sys

import click

from analytics.access.roles import ROLES
from analytics.cli.common import HygieGroup, as_option, cli_actor, open_warehouse
from analytics.errors import InvalidInput


def _read_password(from_stdin: bool, prompt: str) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        if password.endswith("\r"):
            password = password[:-1]
        if not password:
            raise InvalidInput("--password-stdin: no password on standard input")
        return password
    return click.prompt(prompt, hide_input=True, confirmation_prompt="Repeat the password")


def _connect(ctx: click.Context):
    return open_warehouse(ctx)


@click.group(cls=HygieGroup)
def users() -> None:
    """Manage local accounts and roles."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True, help="admin, manager, analyst or viewer.")
@click.option("--display-name", default=None, help="Name shown in the dashboard.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of stdin.")
@as_option
@click.pass_context
def add(ctx: click.Context, username: str, role: str, display_name: str | None, password_stdin: bool,
        as_user: str | None) -> None:
    """Create account USERNAME (the first admin of a warehouse can always be created)."""
    from analytics.access.auth import create_user
    from analytics.access.passwords import check_password

    password = _read_password(password_stdin, "Password")
    check_password(password, username.strip().lower())
    con = _connect(ctx)
    try:
        create_user(con, cli_actor(con, as_user), username, role, password, display_name)
    finally:
        con.close()
    click.echo(f"Account '{username.strip().lower()}' created with role {role}.")


@users.command("list")
@as_option
@click.pass_context
def list_(ctx: click.Context, as_user: str | None) -> None:
    """List accounts with their role and state."""
    from analytics.access.auth import list_users

    con = _connect(ctx)
    try:
        frame = list_users(con, cli_actor(con, as_user))
    finally:
        con.close()
    if frame.empty:
        click.echo("No accounts. Create the first admin with: hygie users add NAME --role admin")
        return
    header = f"{'username':<20} {'role':<8} {'state':<12} {'last login':<16} display name"
    click.echo(header)
    for row in frame.itertuples(index=False):
        state = "locked" if row.locked_until is not None and not _is_na(row.locked_until) else (
            "active" if row.active else "deactivated")
        last = "-" if _is_na(row.last_login_at) else row.last_login_at.strftime("%d/%m/%Y %H:%M")
        name = "" if _is_na(row.display_name) else row.display_name
        click.echo(f"{row.username:<20} {row.role:<8} {state:<12} {last:<16} {name}".rstrip())


def _is_na(value: object) -> bool:
    import pandas as pd

    return value is None or bool(pd.isna(value))


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(ROLES))
@as_option
@click.pass_context
def set_role_(ctx: click.Context, username: str, role: str, as_user: str | None) -> None:
    """Give USERNAME the role ROLE."""
    from analytics.access.auth import set_role

    con = _connect(ctx)
    try:
        set_role(con, cli_actor(con, as_user), username, role)
    finally:
        con.close()
    click.echo(f"Account '{username}' now has role {role}.")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from the first line of stdin.")
@as_option
@click.pass_context
def passwd(ctx: click.Context, username: str, password_stdin: bool, as_user: str | None) -> None:
    """Set a new password for USERNAME."""
    from analytics.access.auth import set_password

    password = _read_password(password_stdin, "New password")
    con = _connect(ctx)
    try:
        set_password(con, cli_actor(con, as_user), username, password)
    finally:
        con.close()
    click.echo(f"Password of '{username}' changed.")


@users.command("deactivate")
@click.argument("username")
@as_option
@click.pass_context
def deactivate_(ctx: click.Context, username: str, as_user: str | None) -> None:
    """Deactivate USERNAME (kept for the access log; can no longer log in)."""
    from analytics.access.auth import deactivate

    con = _connect(ctx)
    try:
        deactivate(con, cli_actor(con, as_user), username)
    finally:
        con.close()
    click.echo(f"Account '{username}' deactivated.")


@users.command("unlock")
@click.argument("username")
@as_option
@click.pass_context
def unlock_(ctx: click.Context, username: str, as_user: str | None) -> None:
    """Clear the failed-login count and lock of USERNAME (through the server's job worker when the
    dashboard holds the warehouse: an admin can always get back in)."""
    from analytics.cli.jobs_cmd import _dispatch, _finish

    _finish(_dispatch(ctx, {"kind": "user_unlock", "username": username, "as_user": as_user}))


@users.group("token", cls=HygieGroup)
def token() -> None:
    """API tokens (per account, stored hashed) for systems that call Hygie's API."""


@token.command("add")
@click.argument("username")
@click.option("--days", type=int, default=None, metavar="N",
              help="Days before the token expires (default 365; 0: never).")
@click.option("--label", default=None, help="What will use it, e.g. 'admission desk'.")
@as_option
@click.pass_context
def token_add(ctx: click.Context, username: str, days: int | None, label: str | None, as_user: str | None) -> None:
    """Create an API token acting as USERNAME and print it (shown once, stored hashed)."""
    from analytics.access.tokens import DEFAULT_TOKEN_DAYS, create_token

    con = open_warehouse(ctx)
    try:
        token_id, secret = create_token(con, cli_actor(con, as_user), username,
                                        days=DEFAULT_TOKEN_DAYS if days is None else days, label=label)
    finally:
        con.close()
    click.echo(f"Token {token_id} created for '{username.strip().lower()}' (shown once; keep it secret):", err=True)
    click.echo(secret)


@token.command("revoke")
@click.argument("token_id", metavar="TOKEN_ID")
@as_option
@click.pass_context
def token_revoke(ctx: click.Context, token_id: str, as_user: str | None) -> None:
    """Revoke the API token TOKEN_ID (its id, as listed, or the token itself)."""
    from analytics.access.tokens import revoke_token

    con = open_warehouse(ctx)
    try:
        username = revoke_token(con, cli_actor(con, as_user), token_id)
    finally:
        con.close()
    click.echo(f"Token revoked (account '{username}').")


@token.command("list")
@as_option
@click.pass_context
def token_list(ctx: click.Context, as_user: str | None) -> None:
    """List API tokens: id, account, state, expiry, last use, label."""
    from analytics.access.tokens import list_tokens

    con = open_warehouse(ctx)
    try:
        frame = list_tokens(con, cli_actor(con, as_user))
    finally:
        con.close()
    if frame.empty:
        click.echo("No API tokens. Create one with: hygie users token add USER")
        return
    click.echo(f"{'id':<13} {'account':<20} {'state':<8} {'expires':<11} {'last used':<16} label")
    for row in frame.itertuples(index=False):
        expires = "-" if _is_na(row.expires_at) else row.expires_at.strftime("%d/%m/%Y")
        used = "-" if _is_na(row.last_used_at) else row.last_used_at.strftime("%d/%m/%Y %H:%M")
        label = "" if _is_na(row.label) else row.label
        click.echo(f"{row.token_id:<13} {row.username:<20} {row.state:<8} {expires:<11} {used:<16} {label}".rstrip())
