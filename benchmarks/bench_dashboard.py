"""Dashboard page timings: first render and a rerun of every page, driven through AppTest.

    python benchmarks/bench_dashboard.py [--sample-dir DIR] [--repeat 3]

Builds a warehouse from a sample hospital (default: the shipped small one) with the demo
accounts, duplicate detection and time-sinks tables, then renders every page as ``admin``
with Streamlit's AppTest: the server-side script time (queries, figures, serialisation), not
the browser's drawing. "first" is a fresh session with the data caches cleared; "rerun" is the
same session rendered again (what an interaction costs when the page's data is cached).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = ["overview", "time_sinks", "duplicates", "jobs", "data", "exports", "admin"]


def build(path: Path, sample_dir: Path | None) -> float:
    from analytics.access.auth import create_demo_accounts
    from analytics.access.roles import system_actor
    from analytics.demo import build_demo
    from analytics.identity import find_duplicates
    from analytics.timesinks import ensure_precomputed
    from analytics.warehouse import connect

    started = time.perf_counter()
    build_demo(path, sample_dir=sample_dir)
    con = connect(path)
    try:
        create_demo_accounts(con, "bench-password")  # no-op when build_demo made them
        if not con.execute("SELECT count(*) FROM match_runs").fetchone()[0]:
            find_duplicates(con, actor=system_actor())
        ensure_precomputed(con)
    finally:
        con.close()
    return time.perf_counter() - started


def render(page: str) -> tuple[float, float]:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from analytics.access.roles import Actor

    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=300)
    at.session_state["hygie_actor"] = Actor("admin", "admin")
    started = time.perf_counter()
    at.run()  # lands on the overview
    first = time.perf_counter() - started
    if page != "overview":
        at.switch_page(f"views/{page}.py")
        started = time.perf_counter()
        at.run()
        first = time.perf_counter() - started
    if at.exception or at.error:
        raise SystemExit(f"{page}: {[e.value for e in at.exception]} {[e.value for e in at.error]}")
    started = time.perf_counter()
    at.run()
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--db", type=Path, default=None,
        help="keep the warehouse at this path; reused when it exists (the large one takes minutes)",
    )
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated subset")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "hygie.duckdb"
        if args.db is not None and db.exists():
            print(f"reusing warehouse {db}")
        else:
            print(f"warehouse built in {build(db, args.sample_dir):.1f} s")
        os.environ["HYGIE_DB"] = str(db)
        print("| page | first render (median) | rerun (median) |")
        print("|---|---|---|")
        for page in args.pages.split(","):
            runs = [render(page) for _ in range(args.repeat)]
            first = statistics.median(r[0] for r in runs)
            again = statistics.median(r[1] for r in runs)
            print(f"| {page} | {first:.2f} s | {again:.2f} s |")


if __name__ == "__main__":
    main()
