"""Spark against DuckDB on the same time-sinks precomputation: wall time and peak memory.

Usage::

    # a synthetic warehouse (bench_timesinks' generator), once per size
    python benchmarks/bench_timesinks.py synth --events 1000000 --staff 300 --db /tmp/ts_1m.duckdb
    # one engine per process, so peak memory is that run's own
    python -m benchmarks.bench_spark timesinks --db /tmp/ts_1m.duckdb --engine duckdb
    python -m benchmarks.bench_spark timesinks --db /tmp/ts_1m.duckdb --engine spark --master 'local[2]'

Each run copies the warehouse first (the precomputation replaces its ``ts_*`` tables), then
times the whole precomputation: on Spark that includes reading the inputs from the warehouse,
the steps, and writing the results back (not the JVM start, timed apart). Peak memory is the
largest resident set of this process plus its children (the JVM), sampled every 0.2 s with
psutil. The load average is printed: the machine is shared.
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


class PeakMemory:
    """Largest RSS of this process and its descendants, sampled in a thread."""

    def __init__(self, interval: float = 0.2) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> int:
        total = 0
        for proc in [self._proc, *self._proc.children(recursive=True)]:
            try:
                total += proc.memory_info().rss
            except Exception:  # noqa: BLE001, S112 - a child that just ended
                continue
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sample())
            time.sleep(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._sample())


@click.group()
def cli() -> None:
    """Spark vs DuckDB benchmarks."""


@cli.command()
@click.option("--db", type=click.Path(dir_okay=False, exists=True), required=True)
@click.option("--engine", type=click.Choice(["duckdb", "spark"]), required=True)
@click.option("--master", default="local[2]", show_default=True)
@click.option("--driver-memory", default="4g", show_default=True)
@click.option("--keep-slices/--no-keep-slices", default=False, show_default=True)
def timesinks(db: str, engine: str, master: str, driver_memory: str, keep_slices: bool) -> None:
    """Time the time-sinks precomputation on one engine."""
    from analytics.timesinks.precompute import precompute
    from analytics.warehouse import connect

    work = Path(db).with_suffix(f".{engine}.duckdb")
    shutil.copyfile(db, work)
    click.echo(f"load average at start: {os.getloadavg()}")
    with PeakMemory() as memory:
        con = connect(work)
        events = con.execute("SELECT count(*) FROM audit_events").fetchone()[0]
        if engine == "duckdb":
            con.execute("SET threads = 2")
            started = time.perf_counter()
            report = precompute(con, keep_slices=keep_slices)
            seconds = time.perf_counter() - started
            startup = 0.0
        else:
            from analytics.engines.spark_session import build_session
            from analytics.timesinks.on_spark import precompute_on_spark

            started = time.perf_counter()
            session = build_session(master, {"spark.driver.memory": driver_memory,
                                             "spark.sql.shuffle.partitions": "8",
                                             "spark.ui.enabled": "false"})
            startup = time.perf_counter() - started
            started = time.perf_counter()
            report = precompute_on_spark(con, session, keep_slices=keep_slices)
            seconds = time.perf_counter() - started
            session.stop()
        con.close()
    work.unlink(missing_ok=True)
    click.echo(f"engine={engine} master={master if engine == 'spark' else '-'} events={events} "
               f"sessions={report.sessions} slices={report.slices} precompute={seconds:.1f} s "
               f"jvm_start={startup:.1f} s peak_rss={memory.peak / 1024**3:.2f} GiB "
               f"load_end={os.getloadavg()}")


if __name__ == "__main__":
    cli()
