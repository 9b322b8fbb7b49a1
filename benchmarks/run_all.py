"""``make bench``: every benchmark, one after the other, each in its own process.

Each script prints its figures; they are copied by hand into ``benchmarks/RESULTS.md`` with the
machine's state at the time (a figure measured while other work ran is marked as such).
Data sets are generated under ``$HYGIE_BENCH_DIR`` (default ``/tmp/hygie_bench``) and reused.

    python -m benchmarks.run_all [--only import,matching,...] [--quick]

``--quick`` runs the medium scale only (100k patients, 1M events): a few minutes instead of
the better part of an hour.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import click

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable


def _steps(data: Path, quick: bool) -> dict[str, list[list[str]]]:
    large = data / "large"
    scale = "medium" if quick else "large"
    events = "1000000" if quick else "10000000"
    ts_db = str(data / f"timesinks_{scale}.duckdb")
    return {
        "generate": [[PY, "-m", "benchmarks.bench_generate", "--scale", scale, "--out", str(data / scale)]],
        "import": [[PY, "benchmarks/bench_import.py", "--data-dir", str(data / scale) if quick else str(large),
                    "--events", events, "--db-dir", str(data / "import")]],
        "matching": [
            [PY, "-m", "benchmarks.bench_matching", "--scale", "medium", "--searches", "50"],
            *([] if quick else [[PY, "-m", "benchmarks.bench_matching", "--scale", "large", "--no-splink",
                                 "--datasets", "sample", "--searches", "50"]]),
        ],
        "public": [[PY, "-m", "benchmarks.bench_public", "--n", "20000" if quick else "100000"]],
        "documents": [[PY, "benchmarks/bench_documents.py", "--scale", "medium"]],
        "timesinks": [
            [PY, "benchmarks/bench_timesinks.py", "synth", "--events", events, "--db", ts_db],
            [PY, "benchmarks/bench_timesinks.py", "run", "--db", ts_db],
        ],
        "spark": [
            [PY, "benchmarks/bench_timesinks.py", "synth", "--events", events, "--staff", "300",
             "--db", str(data / f"spark_{scale}.duckdb")],
            *[[PY, "-m", "benchmarks.bench_spark", "timesinks", "--db", str(data / f"spark_{scale}.duckdb"),
               "--engine", engine] for engine in ("duckdb", "spark")],
        ],
        "jobs": [[PY, "benchmarks/bench_jobs.py", "--patients", "100000"]],
        "access": [[PY, "benchmarks/bench_access.py", "--rows", "1000000"]],
        "dashboard": [[PY, "benchmarks/bench_dashboard.py"]],
        "load": [[PY, "benchmarks/bench_load.py", "--sessions", "20", "--duration", "180",
                  "--sample-dir", str(data / "medium"), "--db", str(data / "load_medium.duckdb")]],
    }


@click.command()
@click.option("--only", default="", help="Comma-separated subset, e.g. import,matching.")
@click.option("--quick", is_flag=True, help="Medium scale only (minutes).")
def main(only: str, quick: bool) -> None:
    data = Path(os.environ.get("HYGIE_BENCH_DIR", "/tmp/hygie_bench"))
    data.mkdir(parents=True, exist_ok=True)
    steps = _steps(data, quick)
    wanted = [name.strip() for name in only.split(",") if name.strip()] or list(steps)
    unknown = sorted(set(wanted) - set(steps))
    if unknown:
        raise click.UsageError(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(steps)}")
    failed = []
    for name in wanted:
        for cmd in steps[name]:
            click.echo(f"\n=== {name}: {' '.join(cmd[1:])}", err=True)
            start = time.perf_counter()
            code = subprocess.call(cmd, cwd=ROOT)
            click.echo(f"=== {name}: exit {code} after {time.perf_counter() - start:.1f} s", err=True)
            if code:
                failed.append(name)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
