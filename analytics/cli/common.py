"""Pieces shared by the CLI command modules."""

from __future__ import annotations

import contextvars
from pathlib import Path

import click

from analytics.config import default_db_path
from analytics.errors import HygieError


class HygieGroup(click.Group):
    """A click group that reports :class:`HygieError` as ``Error: ...`` with its exit code."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            if ctx.parent is None:
                _forward_if_held(ctx)
            return super().invoke(ctx)
        except HygieError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)
        except Exception as exc:
            # A warehouse damaged past its header, or in a read-only folder, opens and then fails on
            # the first read or write: a clear message, no traceback.
            from analytics.warehouse import warehouse_fault

            damage = warehouse_fault(exc, ctx.obj["db"]) if isinstance(ctx.obj, dict) and "db" in ctx.obj else None
            if damage is None:
                raise
            click.echo(f"Error: {damage}", err=True)
            ctx.exit(damage.exit_code)


#: Set by the process that owns the warehouse while it runs a command a CLI process forwarded
#: (:mod:`analytics.api.cli_bridge`): commands then work on a cursor of its connection.
borrowed_connection: contextvars.ContextVar = contextvars.ContextVar("hygie_borrowed_connection", default=None)


def _forward_if_held(ctx: click.Context) -> None:
    """When another process holds the warehouse and serves its API, run the command there."""
    db = ctx.params.get("db")
    if borrowed_connection.get() is not None or db is None:
        return
    args = [*getattr(ctx, "_protected_args", []), *ctx.args]
    from analytics.cli.forward import forward

    code = forward(db, args)
    if code is not None:
        ctx.exit(code)


def open_warehouse(ctx: click.Context):
    """The warehouse for a command: opened here, or the owner's cursor when it runs a forwarded
    command. Close it when done either way."""
    from analytics.warehouse import connect

    owner = borrowed_connection.get()
    if owner is not None:
        return owner.cursor()
    return connect(db_path(ctx))


def db_option_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Path:
    return Path(value) if value else default_db_path()


#: ``--as USER`` on commands that act on behalf of an account.
as_option = click.option(
    "--as", "as_user", default=None, metavar="USER",
    help="Act with this account's role (default: the system administrator).",
)


def api_options(func):
    """``--api-port`` and ``--api-address``, on the commands that hold the warehouse."""
    func = click.option("--api-address", default="127.0.0.1", show_default=True,
                        help="Address the API listens on (loopback unless a reverse proxy adds TLS).")(func)
    return click.option("--api-port", type=click.IntRange(0, 65535), default=8502, show_default=True,
                        help="Port of the local API (FHIR Patient/$match, CLI forwarding); 0: no API.")(func)


def cli_actor(con, as_user: str | None):
    """The acting user for a CLI command: ``--as USER`` or the system administrator."""
    from analytics.access.auth import actor_for
    from analytics.access.roles import system_actor

    return actor_for(con, as_user, via="cli") if as_user else system_actor()


def db_path(ctx: click.Context) -> Path:
    """The warehouse path chosen by ``--db`` / ``HYGIE_DB`` on the ``hygie`` group."""
    return ctx.find_root().obj["db"]


def parse_mapping(text: str | None) -> dict[str, str]:
    """Parse ``src=dest,src2=dest2`` into a dict; raise InvalidInput on malformed pairs."""
    from analytics.errors import InvalidInput

    if not text:
        return {}
    mapping: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise InvalidInput(f"--map: '{item}' is not of the form source_column=canonical_column")
        src, dest = (part.strip() for part in item.split("=", 1))
        if not src or not dest:
            raise InvalidInput(f"--map: '{item}' is not of the form source_column=canonical_column")
        mapping[src] = dest
    return mapping
