"""``hygie jobs``."""

from __future__ import annotations

import click

from analytics.cli.common import HygieGroup


@click.group(cls=HygieGroup)
def jobs() -> None:
    """Preview, apply, undo and schedule cleanup jobs."""
