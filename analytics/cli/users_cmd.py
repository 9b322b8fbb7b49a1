"""``hygie users``."""

from __future__ import annotations

import click

from analytics.cli.common import HygieGroup


@click.group(cls=HygieGroup)
def users() -> None:
    """Manage local accounts and roles."""
