"""``hygie export``: a thin translator over :func:`analytics.exports.export_table`.

Same rules as the dashboard's download buttons: pseudonymised unless ``--identified`` is asked
by a role that may (admin), formulas neutralised, every export (or refusal) in the access log
with ``via=cli``. Without ``--as`` the CLI acts as the system administrator (whoever can open
the warehouse file already holds its data) and exports are still pseudonymised by default.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from analytics.cli.common import as_option, cli_actor, open_warehouse
from analytics.errors import InvalidInput


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only (patient data)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot write the export ({exc.strerror})") from None


@click.command()
@click.argument("table")
@click.option("--out", "out", required=True, metavar="FILE.csv", help="Output file ('-' for stdout).")
@click.option("--dialect", type=click.Choice(["excel-fr", "standard"]), default="excel-fr", show_default=True,
              help="excel-fr: ';' + UTF-8 BOM + decimal comma; standard: ',' + UTF-8.")
@click.option("--identified", is_flag=True, help="Do not pseudonymise (admin role only).")
@click.option("--staff", type=click.Choice(["keep", "pseudonymise"]), default="keep", show_default=True,
              help="Clinicians' identifiers: kept (time-sink analysis) or pseudonymised.")
@as_option
@click.pass_context
def export(ctx: click.Context, table: str, out: str, dialect: str, identified: bool, staff: str,
           as_user: str | None) -> None:
    """Export warehouse TABLE as CSV (pseudonymised unless --identified and allowed)."""
    from analytics.exports import export_table

    con = open_warehouse(ctx)
    try:
        result = export_table(con, cli_actor(con, as_user), table, dialect, identified, staff=staff)
    finally:
        con.close()
    how = "pseudonymised" if result.pseudonymised else ("aggregate" if result.aggregate else "identified")
    summary = f"Exported {result.rows} rows of {table} to {out} ({dialect}, {how})."
    if out == "-":
        sys.stdout.flush()
        sys.stdout.buffer.write(result.data)
        sys.stdout.buffer.flush()
        click.echo(summary, err=True)
    else:
        _write_private(Path(out), result.data)
        click.echo(summary)
