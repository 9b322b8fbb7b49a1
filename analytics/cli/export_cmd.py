"""``hygie export``: a thin translator over :func:`analytics.exports.export_table`.

Same rules as the dashboard's download buttons: pseudonymised and k-anonymous unless
``--identified`` is asked by a role that may (admin), formulas neutralised, every export (or
refusal) in the access log with ``via=cli``. Without ``--as`` the CLI acts as the system administrator (whoever can open
the warehouse file already holds its data) and exports are still pseudonymised by default.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

import click

from analytics.cli.common import as_option, cli_actor, open_warehouse
from analytics.errors import InvalidInput


@contextmanager
def _private_file(path: Path) -> Iterator[BinaryIO]:
    """A file written atomically at ``path``, readable by the owner only (patient data)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            yield fh
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise InvalidInput(f"{path}: cannot write the export ({exc.strerror})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only (patient data)."""
    with _private_file(path) as fh:
        fh.write(data)


def _report_lines(privacy: dict) -> list[str]:
    lines = []
    if privacy.get("generalised"):
        lines.append(f"k-anonymity: k={privacy['k']}, smallest group {privacy['k_smallest_group']}")
        lines += [f"  generalised: {step}" for step in privacy["generalised"]]
        lines += [f"  suppressed: {n} row(s) of {name}" for name, n in privacy.get("suppressed_rows", {}).items()]
    for name, cols in privacy.get("dropped_unique_columns", {}).items():
        lines.append(f"  dropped from {name} (unique per row): {', '.join(cols)}")
    if privacy.get("masked_small_cells"):
        lines.append(f"masked the figures of {privacy['masked_small_cells']} row(s) counting fewer than "
                     f"{privacy.get('small_cell')} people")
    return lines


@click.command()
@click.argument("table")
@click.option("--out", "out", required=True, metavar="FILE.csv", help="Output file ('-' for stdout).")
@click.option("--dialect", type=click.Choice(["excel-fr", "standard"]), default="excel-fr", show_default=True,
              help="excel-fr: ';' + UTF-8 BOM + decimal comma; standard: ',' + UTF-8.")
@click.option("--identified", is_flag=True, help="Do not pseudonymise (admin role only).")
@click.option("--staff", type=click.Choice(["keep", "pseudonymise"]), default="pseudonymise", show_default=True,
              help="Clinicians' identifiers: pseudonymised, or kept in clear (admin only).")
@click.option("--domain", default=None, help="Pseudonym domain (admin only; default: a new one per export).")
@click.option("--reason", default=None,
              help="Why (required for per-clinician time tables ts_user_day, ts_sessions; logged).")
@as_option
@click.pass_context
def export(ctx: click.Context, table: str, out: str, dialect: str, identified: bool, staff: str,
           domain: str | None, reason: str | None, as_user: str | None) -> None:
    """Export warehouse TABLE as CSV (pseudonymised, k-anonymous, unless --identified and allowed).

    The table is streamed in chunks. Beside FILE.csv, FILE.csv.report.json says what was
    generalised, suppressed or masked (also in the access log).
    """
    from analytics.exports import export_table

    con = open_warehouse(ctx)
    try:
        actor = cli_actor(con, as_user)
        if out == "-":
            sys.stdout.flush()
            result = export_table(con, actor, table, dialect, identified, staff=staff, domain=domain,
                                  reason=reason, out=sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            path = Path(out)
            with _private_file(path) as fh:
                result = export_table(con, actor, table, dialect, identified, staff=staff, domain=domain,
                                      reason=reason, out=fh)
            if result.privacy:
                report = {"table": table, "rows": result.rows, "columns": result.columns, **result.privacy}
                with _private_file(path.with_name(path.name + ".report.json")) as fh:
                    fh.write(json.dumps(report, ensure_ascii=False, indent=2, default=str).encode("utf-8"))
    finally:
        con.close()
    how = "pseudonymised" if result.pseudonymised else ("aggregate" if result.aggregate else "identified")
    lines = [f"Exported {result.rows} rows of {table} to {out} ({dialect}, {how}).", *_report_lines(result.privacy)]
    for line in lines:
        click.echo(line, err=out == "-")
