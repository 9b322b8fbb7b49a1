"""``hygie spark``: the batch pipelines on Apache Spark, from Parquet to Parquet.

For inputs that do not fit one machine. Nothing here opens the warehouse: the results are
written as Parquet, which ``hygie timesinks attach`` loads into a warehouse. The options
shared with ``--engine spark`` (``--spark-master``, ``--spark-conf``) are defined here.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from analytics.cli.common import HygieGroup

__all__ = ["spark", "spark_options", "spark_session"]


def spark_options(function: Callable) -> Callable:
    """``--spark-master URL`` and repeated ``--spark-conf key=value``."""
    function = click.option(
        "--spark-conf", "spark_conf", multiple=True, metavar="KEY=VALUE",
        help="A Spark setting (repeatable), e.g. spark.driver.memory=8g; spark-defaults.conf "
             "and spark-submit --conf apply too.",
    )(function)
    return click.option(
        "--spark-master", "spark_master", default=None, metavar="URL",
        help="Spark master (local[*] by default; spark://, yarn, k8s://) or Spark Connect sc:// URL.",
    )(function)


def spark_session(master: str | None, conf: tuple[str, ...]):  # noqa: ANN201 - pyspark SparkSession
    """Start (or join) the Spark session the options ask for."""
    from analytics.engines.spark_session import build_session, parse_conf

    return build_session(master, parse_conf(list(conf)))


@click.group(cls=HygieGroup)
def spark() -> None:
    """Run the batch pipelines on Apache Spark, reading and writing Parquet."""


@spark.command("timesinks")
@click.option("--events", required=True, metavar="PATH",
              help="Audit events as Parquet: a file, a folder (partitioned by month or not) or a glob.")
@click.option("--schedules", required=True, metavar="PATH", help="Schedules as Parquet.")
@click.option("--staff", required=True, metavar="PATH", help="Staff as Parquet.")
@click.option("--documents", default=None, metavar="PATH",
              help="Documents as Parquet (teamwork for orders); none: no orders measured.")
@click.option("--activity-map", "activity_map", default=None, metavar="PATH",
              help="Activity map as Parquet (field, value, activity); default: Hygie's.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for the result tables (one Parquet folder per table).")
@click.option("--idle-threshold", type=int, default=None, help="Idle threshold in seconds (default 300).")
@click.option("--holidays", default=None, help="Public holiday calendar: FR (default), 57/67/68, 971-976.")
@click.option("--no-slices", is_flag=True, help="Do not write ts_slices (one row per active run).")
@spark_options
def spark_timesinks(events: str, schedules: str, staff: str, documents: str | None,
                    activity_map: str | None, out_dir: str, idle_threshold: int | None,
                    holidays: str | None, no_slices: bool, spark_master: str | None,
                    spark_conf: tuple[str, ...]) -> None:
    """Time sinks (sessions, slices, per-user-day aggregates) on Spark, Parquet in and out."""
    from analytics.timesinks.on_spark import timesinks_parquet
    from analytics.timesinks.settings import DEFAULT_SETTINGS

    settings = DEFAULT_SETTINGS.with_threshold(idle_threshold).with_holidays(holidays)
    session = spark_session(spark_master, spark_conf)
    counts = timesinks_parquet(
        session, events=events, schedules=schedules, staff=staff, documents=documents,
        activity_map=activity_map, out=out_dir, settings=settings, keep_slices=not no_slices,
    )
    click.echo(f"Time sinks on Spark {session.version}: {counts.events_used} events "
               f"({counts.events_in} read), {counts.sessions} sessions, {counts.slices} active slices "
               f"(idle threshold {settings.idle_threshold_s} s)")
    click.echo(f"Wrote the result tables to {out_dir}; load them with: hygie timesinks attach {out_dir}")
