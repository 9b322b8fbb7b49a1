"""Time-sinks benchmark: precompute + every measure on the large sample, then page re-queries.

Usage::

    # 1. build a warehouse (once): from the sample generator's large files, or synthetic
    python -m sample_data.generate --scale large --out /tmp/ts_large --seed 42
    python benchmarks/bench_timesinks.py load --from-dir /tmp/ts_large --db /tmp/bench_ts.duckdb
    python benchmarks/bench_timesinks.py synth --events 10000000 --staff 3000 --db /tmp/bench_ts.duckdb
    # 2. measure, in a fresh process so peak RSS is the measures' own
    python benchmarks/bench_timesinks.py run --db /tmp/bench_ts.duckdb [--memory-limit 3GiB]

Targets (issue 4): all measures <= 15 s and <= 4 GiB on the 2-core machine; a re-query for one
service or one month <= 1 s from the precomputed tables.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import click

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import timesinks as ts  # noqa: E402
from analytics.warehouse import connect  # noqa: E402


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(label: str, call: Callable[[], object], rows: list) -> object:
    started, cpu = time.perf_counter(), _cpu()
    result = call()
    seconds = time.perf_counter() - started
    cpu = _cpu() - cpu
    frame = getattr(result, "frame", None)
    size = len(frame) if frame is not None else ""
    rows.append((label, seconds, size))
    click.echo(f"  {label:<52} {seconds:7.3f} s wall {cpu:7.2f} s CPU  {size}")
    return result


@click.group()
def cli() -> None:
    """Time-sinks benchmark."""


@cli.command()
@click.option("--from-dir", "src", type=click.Path(file_okay=False, exists=True), required=True)
@click.option("--db", type=click.Path(dir_okay=False), required=True)
def load(src: str, db: str) -> None:
    """Import the generator's files through the real importer."""
    from analytics.access.roles import system_actor
    from analytics.demo import IMPORT_ORDER
    from analytics.importing import import_file

    Path(db).unlink(missing_ok=True)
    con = connect(db)
    for table, name in IMPORT_ORDER:
        started = time.perf_counter()
        report = import_file(con, table, Path(src) / name, actor=system_actor())
        click.echo(f"{table}: {report.rows_inserted} rows in {time.perf_counter() - started:.1f} s")
    con.close()


@cli.command()
@click.option("--db", type=click.Path(dir_okay=False), required=True)
@click.option("--events", type=int, default=10_000_000, show_default=True)
@click.option("--staff", "n_staff", type=int, default=3_000, show_default=True)
@click.option("--weeks", type=int, default=26, show_default=True)
def synth(db: str, events: int, n_staff: int, weeks: int) -> None:
    """A synthetic warehouse in DuckDB SQL (when the sample generator is not available)."""
    Path(db).unlink(missing_ok=True)
    con = connect(db)
    started = time.perf_counter()
    con.execute(
        """INSERT INTO staff (user_id, role, service)
           SELECT 'u' || i, ['physician', 'nurse', 'resident', 'secretary'][1 + i % 4],
                  'service_' || (i % 40) FROM range($n) t(i)""",
        {"n": n_staff},
    )
    # 90 % of users scheduled 08:30-12:30 and 13:30-18:00 on weekdays
    con.execute(
        """INSERT INTO schedules (user_id, "start", "end")
           SELECT 'u' || i, (d + h.s)::TIMESTAMPTZ, (d + h.e)::TIMESTAMPTZ
           FROM range($n) t(i),
                (SELECT CAST(x AS DATE) AS d FROM generate_series(DATE '2026-04-06',
                     DATE '2026-04-06' + 7 * $weeks - 1, INTERVAL 1 DAY) g(x)) days,
                (VALUES (TIME '08:30', TIME '12:30'), (TIME '13:30', TIME '18:00')) h(s, e)
           WHERE i % 10 <> 0 AND isodow(d) <= 5""",
        {"n": n_staff, "weeks": weeks},
    )
    # bursts of events: per event a user, a day, a burst start and a position in the burst
    con.execute(
        """INSERT INTO audit_events (event_id, user_id, "timestamp", action, activity, document_id,
                                     document_type, service)
           SELECT 'E' || i, 'u' || (i // 20 % $n),
                  (DATE '2026-04-06' + CAST(hash(i // 20) % (7 * $weeks) AS INTEGER)
                   + TIME '07:00')::TIMESTAMPTZ
                   + to_seconds(CAST(hash(i // 20 + 1) % 46800 AS BIGINT) + (i % 20) * (5 + hash(i) % 120)),
                  'R', ['documentation', 'chart_review', 'orders', 'inbox', 'other'][1 + CAST(hash(i // 20 + 7) % 5 AS INTEGER)],
                  CASE WHEN hash(i // 20 + 7) % 5 = 0 THEN 'D' || (i // 20) END,
                  CASE WHEN hash(i // 20 + 7) % 5 = 0 THEN ['CRH', 'CRO', 'Ordonnance', 'Lettre'][1 + CAST(hash(i // 20 + 3) % 4 AS INTEGER)] END,
                  'service_' || ((i // 20 % $n) % 40)
           FROM range($events) t(i)""",
        {"n": n_staff, "weeks": weeks, "events": events},
    )
    con.execute(
        """INSERT INTO documents (document_id, document_type, service, author_id, created_at, signed_at)
           SELECT document_id, min(document_type), min(service), min(user_id), min("timestamp"),
                  CASE WHEN hash(document_id) % 10 < 8 THEN min("timestamp") + INTERVAL 5 HOUR END
           FROM audit_events WHERE document_id IS NOT NULL GROUP BY document_id"""
    )
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608 - constants
              for t in ("staff", "schedules", "audit_events", "documents")}
    click.echo(f"synthetic warehouse {counts} in {time.perf_counter() - started:.1f} s")
    con.close()


@cli.command()
@click.option("--db", type=click.Path(dir_okay=False, exists=True), required=True)
@click.option("--memory-limit", default="3GiB", show_default=True, help="DuckDB memory_limit.")
@click.option("--threads", type=int, default=2, show_default=True)
@click.option("--keep-slices/--no-keep-slices", default=True, show_default=True)
def run(db: str, memory_limit: str, threads: int, keep_slices: bool) -> None:
    """Precompute and every measure, then page-like re-queries; print timings and peak RSS."""
    con = connect(db)
    con.execute(f"SET memory_limit = '{memory_limit}'")
    con.execute(f"SET threads = {int(threads)}")
    con.execute("DELETE FROM ts_runs")  # force a full rebuild
    n = con.execute("SELECT count(*), count(DISTINCT user_id) FROM audit_events").fetchone()
    click.echo(f"{n[0]} audit events, {n[1]} users; memory_limit {memory_limit}, threads {threads}")
    rows: list = []
    total_start, total_cpu = time.perf_counter(), _cpu()
    click.echo(f"load average before: {os.getloadavg()}")
    con.execute("SET enable_progress_bar = false")
    _timed(f"precompute (keep_slices={keep_slices})",
           lambda: ts.precompute(con, keep_slices=keep_slices), rows)
    measures = {
        "summary": lambda: ts.summary(con),
        "clinician_measures month (+peers)": lambda: ts.clinician_measures(con, period="month"),
        "clinician_measures week (+peers)": lambda: ts.clinician_measures(con, period="week"),
        "peer_stats month": lambda: ts.peer_stats(con, period="month"),
        "group_measures service month": lambda: ts.group_measures(con, by="service"),
        "group_measures role month": lambda: ts.group_measures(con, by="role"),
        "period_measures week": lambda: ts.period_measures(con, period="week"),
        "document_type_measures month": lambda: ts.document_type_measures(con),
        "document_type_time": lambda: ts.document_type_time(con),
        "signature_delay": lambda: ts.signature_delay(con),
        "unsigned_backlog by service": lambda: ts.unsigned_backlog(con),
        "unsigned_backlog by author": lambda: ts.unsigned_backlog(con, by="author_id"),
        "ranking document_type": lambda: ts.time_sink_ranking(con, by="document_type"),
        "ranking activity": lambda: ts.time_sink_ranking(con, by="activity"),
        "ranking service": lambda: ts.time_sink_ranking(con, by="service"),
        "export --by user": lambda: ts.export_table(con, by="user"),
    }
    for label, call in measures.items():
        _timed(label, call, rows)
    total = time.perf_counter() - total_start
    click.echo(f"ALL MEASURES incl. precompute: {total:.1f} s wall, {_cpu() - total_cpu:.1f} s CPU, "
               f"peak RSS {_peak_rss_gib():.2f} GiB; load average after: {os.getloadavg()}")

    service = con.execute(
        "SELECT service FROM staff GROUP BY service ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    month = con.execute("SELECT date_trunc('month', max(day))::DATE FROM ts_user_day").fetchone()[0]
    end = date(month.year + (month.month == 12), month.month % 12 + 1, 1).toordinal() - 1
    month_end = date.fromordinal(end)
    click.echo(f"re-queries (service '{service}', month {month:%Y-%m}):")
    requery = {
        "service: clinician_measures month": lambda: ts.clinician_measures(con, service=service),
        "service: summary": lambda: ts.summary(con, service=service),
        "service: ranking document_type": lambda: ts.time_sink_ranking(con, service=service),
        "month: clinician_measures": lambda: ts.clinician_measures(con, date_from=month, date_to=month_end),
        "month: summary": lambda: ts.summary(con, date_from=month, date_to=month_end),
        "month: ranking service": lambda: ts.time_sink_ranking(
            con, by="service", date_from=month, date_to=month_end),
    }
    slowest = 0.0
    for label, call in requery.items():
        before = len(rows)
        _timed(label, call, rows)
        slowest = max(slowest, rows[before][1])
    click.echo(f"SLOWEST RE-QUERY: {slowest:.3f} s; peak RSS {_peak_rss_gib():.2f} GiB")
    con.close()


if __name__ == "__main__":
    cli()
