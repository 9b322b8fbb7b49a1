"""``hygie export``."""

from __future__ import annotations

import click


@click.command()
@click.argument("table")
def export(table: str) -> None:
    """Export TABLE as CSV (pseudonymised unless the role allows otherwise)."""
    raise click.ClickException("export is not available yet")
