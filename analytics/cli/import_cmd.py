"""``hygie import``."""

from __future__ import annotations

import click


@click.command(name="import")
@click.argument("table", type=click.Choice(["patients", "documents", "audit", "staff", "schedules"]))
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_(table: str, file: str) -> None:
    """Import FILE (CSV, Parquet or FHIR NDJSON) into TABLE."""
    raise click.ClickException("import is not available yet")
