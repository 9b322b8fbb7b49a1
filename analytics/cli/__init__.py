"""``hygie``: the command line, a thin translator over the ``analytics`` library.

Each command group lives in its own module; this one only wires them and turns a
:class:`~analytics.errors.HygieError` into a clean message and exit code.
"""

from __future__ import annotations

import sys

import click

from analytics.cli.common import HygieGroup, db_option_callback
from analytics.cli.duplicates_cmd import duplicates
from analytics.cli.export_cmd import export
from analytics.cli.import_cmd import import_
from analytics.cli.jobs_cmd import jobs
from analytics.cli.report_cmd import report
from analytics.cli.spark_cmd import spark
from analytics.cli.timesinks_cmd import timesinks
from analytics.cli.users_cmd import users
from analytics.cli.warehouse_cmd import demo, info, serve
from analytics.warehouse.connection import restrict_umask

__all__ = ["main"]


@click.group(cls=HygieGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False),
    default=None,
    envvar="HYGIE_DB",
    callback=db_option_callback,
    help="Warehouse file (default: $HYGIE_DB or ./data/hygie.duckdb).",
)
@click.version_option(package_name="hygie")
@click.pass_context
def main(ctx: click.Context, db: str) -> None:
    """Hygie: clean hospital data and find where clinicians lose their time."""
    restrict_umask()  # everything this command writes is owner-only from creation
    ctx.ensure_object(dict)
    ctx.obj["db"] = db


for command in (info, demo, serve, import_, duplicates, timesinks, jobs, export, users, report, spark):
    main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
