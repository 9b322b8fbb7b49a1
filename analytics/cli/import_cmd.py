"""``hygie import``: a thin translator over :func:`analytics.importing.import_file`."""

from __future__ import annotations

import click

from analytics.cli.common import (
    as_option,
    borrowed_connection,
    cli_actor,
    open_warehouse,
    parse_mapping,
)
from analytics.errors import FileRefused


@click.command(name="import")
@click.argument("table", type=click.Choice(["patients", "documents", "audit", "staff", "schedules"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "file_format", type=click.Choice(["csv", "parquet", "fhir"]), default=None,
              help="File format (default: from the extension; .parquet, .ndjson/.jsonl, else CSV).")
@click.option("--source", default="default", show_default=True,
              help="Source system the patient identifiers belong to.")
@click.option("--map", "mapping", default=None, metavar="SRC=DEST,...",
              help="Explicit header mapping, e.g. --map 'N_PAT=patient_id,NOM_JF=birth_name'.")
@as_option
@click.pass_context
def import_(ctx: click.Context, table: str, file: str, file_format: str | None, source: str,
            mapping: str | None, as_user: str | None) -> None:
    """Import FILE (CSV, Parquet or FHIR NDJSON) into TABLE, upserting on its source key.

    A structurally broken file is refused whole (non-zero exit, nothing changed); bad values
    are loaded empty and listed as findings.
    """
    from analytics.identity.arrival import match_on_arrival
    from analytics.importing import import_file, mark_interrupted_imports

    parsed = parse_mapping(mapping)
    con = open_warehouse(ctx)
    try:
        con.execute("SET enable_progress_bar = false")  # the report is the output; no bar on big files
        if borrowed_connection.get() is None:  # in the owner, another thread's import may be running
            mark_interrupted_imports(con)
        acting = cli_actor(con, as_user)
        try:
            report = import_file(con, table, file, source=source, mapping=parsed, actor=acting,
                                 file_format=file_format)
        except FileRefused as exc:
            if exc.report is not None:
                for line in exc.report.summary_lines():
                    click.echo(line)
            raise
        match_on_arrival(con, acting, report)  # new identities join the index and the review queue
        for line in report.summary_lines():
            click.echo(line)
    finally:
        con.close()
