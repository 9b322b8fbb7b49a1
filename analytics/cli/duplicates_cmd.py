"""``hygie duplicates``."""

from __future__ import annotations

import click

from analytics.cli.common import HygieGroup


@click.group(cls=HygieGroup)
def duplicates() -> None:
    """Find duplicate patient identities and duplicate documents."""
