"""Import benchmark: 1M patients and 10M audit events from French CSV (issue 2, item 8).

Usage::

    python benchmarks/bench_import.py                       # generate the large sample if needed, then measure
    python benchmarks/bench_import.py --data-dir /tmp/large  # reuse files written by sample_data.generate

Each import runs in a fresh subprocess on a fresh warehouse, so the peak RSS reported
(``ru_maxrss`` of that process) is the import's own. The patients file is imported a second
time into the same warehouse to time the idempotent re-import (1M updates).
Targets: patients <= 15 s, audit events <= 60 s on the 2-core machine.
"""

# Fixed SQL built from constants (benchmark data only).
# ruff: noqa: S608

from __future__ import annotations

import codecs
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"patients": 15.0, "audit_events": 60.0}


def _child(table: str, file: str, db: str) -> None:
    """Run one import in this process and print its figures as JSON."""
    sys.path.insert(0, str(ROOT))
    from analytics.access.roles import system_actor
    from analytics.importing import import_file
    from analytics.warehouse import connect

    con = connect(db)
    con.execute("SET enable_progress_bar = false")
    started = time.perf_counter()
    report = import_file(con, table, file, actor=system_actor())
    seconds = time.perf_counter() - started
    con.close()
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # iconv
    cpu = own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps({
        "table": table, "seconds": seconds, "rows": report.rows_in_file, "inserted": report.rows_inserted,
        "updated": report.rows_updated, "findings": report.findings_count, "encoding": report.encoding,
        "peak_rss_mib": own.ru_maxrss / 1024, "cpu_seconds": cpu,
    }))


SERVICES = ["Cardiologie", "Pédiatrie", "Gériatrie", "Réanimation", "Urgences", "Néphrologie",
            "Pneumologie", "Chirurgie orthopédique", "Maternité", "Médecine interne"]
ACTIVITIES = ["documentation", "chart_review", "orders", "inbox", "other"]


def synthesise_events(path: Path, events: int, seed: int = 42) -> None:
    """A French audit-log export (``;``, Windows-1252, ``dd/mm/yyyy HH:MM:SS``) written by DuckDB.

    Used when the sample generator's large ``audit_events.csv`` is not at hand.
    """
    import duckdb

    con = duckdb.connect()
    utf8 = path.with_suffix(".utf8.tmp")
    services = "[" + ", ".join(f"'{name}'" for name in SERVICES) + "]"
    activities = "[" + ", ".join(f"'{name}'" for name in ACTIVITIES) + "]"
    # Deterministic (no random draws): ids, users, 3-second steps, rotating codes.
    con.execute(
        f"COPY (SELECT printf('EV%09d', i) AS ID_EVENEMENT, printf('u%04d', i % 3000) AS UTILISATEUR, "
        f"strftime(TIMESTAMP '2026-01-05 07:00:00' + (i * 3) * INTERVAL 1 SECOND, '%d/%m/%Y %H:%M:%S') "
        f"AS HORODATAGE, (['R', 'U', 'C'])[1 + i % 3] AS ACTION, {activities}[1 + (i * 7) % 5] AS ACTIVITE, "
        f"CAST(100000000 + (i * 7919) % 1000000 AS VARCHAR) AS IPP, "
        f"CASE WHEN i % 4 = 0 THEN printf('DOC%08d', i // 4) END AS ID_DOCUMENT, "
        f"CASE WHEN i % 4 = 0 THEN 'Compte rendu' END AS TYPE_DOCUMENT, "
        f"{services}[1 + (i // 1000) % 10] AS SERVICE, printf('PC-%03d', i % 400) AS POSTE "
        f"FROM range({int(events)}) t(i)) TO '{utf8}' (FORMAT csv, DELIMITER ';', HEADER)"
    )
    con.close()
    decoder = codecs.getincrementaldecoder("utf-8")()
    with utf8.open("rb") as src, path.open("wb") as dst:
        while chunk := src.read(16 << 20):
            dst.write(decoder.decode(chunk).encode("cp1252"))
    utf8.unlink()


def _measure(table: str, file: Path, db: Path) -> dict:
    code = f"import benchmarks.bench_import as b; b._child({table!r}, {str(file)!r}, {str(db)!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise click.ClickException(f"import of {file} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@click.command()
@click.option("--data-dir", type=click.Path(file_okay=False), default="/tmp/hygie_bench_import/large",
              show_default=True, help="Folder with patients.csv and audit_events.csv (generated if missing).")
@click.option("--events", type=int, default=10_000_000, show_default=True,
              help="Synthetic audit events to write when the data folder has no audit_events.csv.")
@click.option("--db-dir", type=click.Path(file_okay=False), default="/tmp/hygie_bench_import", show_default=True)
def main(data_dir: str, events: int, db_dir: str) -> None:
    """Measure import wall time and peak RSS at the large scale."""
    data, dbs = Path(data_dir), Path(db_dir)
    dbs.mkdir(parents=True, exist_ok=True)
    if not (data / "patients.csv").exists():
        click.echo(f"generating the large sample into {data} ...")
        subprocess.run([sys.executable, "-m", "sample_data.generate", "--scale", "large", "--out", str(data),
                        "--seed", "42"], cwd=ROOT, check=True)
    if not (data / "audit_events.csv").exists():
        click.echo(f"writing {events:,} synthetic audit events into {data} ...")
        synthesise_events(data / "audit_events.csv", events)
    click.echo(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
               f"load average {os.getloadavg()[0]:.1f} at start")
    results = []
    for table, name in (("patients", "patients.csv"), ("audit_events", "audit_events.csv")):
        db = dbs / f"bench_{table}.duckdb"
        db.unlink(missing_ok=True)
        size = (data / name).stat().st_size / 1024**2
        result = _measure(table, data / name, db)
        result["label"] = f"{table} ({size:.0f} MiB CSV)"
        click.echo(f"  {result}")
        results.append(result)
        if table == "patients":
            again = _measure(table, data / name, db)
            again["label"] = "patients re-import (all updates)"
            click.echo(f"  {again}")
            results.append(again)
    click.echo("| import | rows | encoding | wall time | CPU time (all threads) | peak RSS | target |")
    click.echo("|---|---:|---|---:|---:|---:|---|")
    for r in results:
        target = TARGETS.get(r["table"])
        verdict = f"<= {target:.0f} s: {'met' if r['seconds'] <= target else 'NOT met'}" if target else ""
        click.echo(f"| {r['label']} | {r['rows']:,} | {r['encoding']} | {r['seconds']:.1f} s | "
                   f"{r.get('cpu_seconds', float('nan')):.1f} s | {r['peak_rss_mib']:.0f} MiB | {verdict} |")
    click.echo(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
