"""``hygie timesinks``."""

from __future__ import annotations

import click

from analytics.cli.common import HygieGroup


@click.group(cls=HygieGroup)
def timesinks() -> None:
    """Measure documentation time sinks from EHR audit logs."""
