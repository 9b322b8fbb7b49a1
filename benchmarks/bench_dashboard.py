"""Dashboard page timings: first render and a rerun of every page, driven through AppTest.

    python benchmarks/bench_dashboard.py [--sample-dir DIR] [--repeat 3]

Builds a warehouse from a sample hospital (default: the shipped small one) with the demo
accounts, duplicate detection and time-sinks tables, then renders every page as ``admin``
with Streamlit's AppTest: the server-side script time (queries, figures, serialisation), not
the browser's drawing. "first" is a fresh session with the data caches cleared; "rerun" is the
same session rendered again (what an interaction costs when the page's data is cached).

With ``duplicates`` among the pages, a manager's review flow on that page is timed too (each
step is one AppTest run: the script time a browser would wait for): deciding a pair ("not the
same person", then the rerun that shows the next pair), moving to page 2, narrowing the score
filter, changing the sort, opening the duplicate-documents tab and its page 2. The decisions
are undone afterwards (reviews deleted, pair decisions restored), so ``--db`` stays as it was.
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


def _timed(at, step) -> float:
    step(at)
    started = time.perf_counter()
    at.run()
    took = time.perf_counter() - started
    if at.exception or at.error:
        raise SystemExit(f"interaction: {[e.value for e in at.exception]} {[e.value for e in at.error]}")
    return took


def _restore(db: Path, pairs: list[tuple], username: str) -> None:
    """Undo the benchmark's decisions: its reviews go, the pairs get back their decision."""
    import duckdb

    con = duckdb.connect(str(db))
    try:
        con.execute("DELETE FROM pair_reviews WHERE reviewer = ?", [username])
        con.executemany("UPDATE match_pairs SET decision = ?, rule = ? WHERE patient_id_1 = ? AND patient_id_2 = ?",
                        [(decision, rule, a, b) for a, b, decision, rule in pairs])
    finally:
        con.close()


def interactions(db: Path) -> dict[str, float]:
    """A manager's review flow on the duplicates page: seconds per step."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from analytics.access.roles import Actor

    username = "bench-manager"
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=300)
    at.session_state["hygie_actor"] = Actor(username, "manager")
    at.run()
    at.switch_page("views/duplicates.py")
    times = {"first render (manager)": _timed(at, lambda at: None)}
    shown = at.dataframe[0].value
    first = (str(shown["patient_id_1"].iloc[0]), str(shown["patient_id_2"].iloc[0]))  # the pair decided
    import duckdb

    with duckdb.connect(str(db), read_only=False) as peek:
        before = peek.execute("SELECT patient_id_1, patient_id_2, decision, rule FROM match_pairs "
                              "WHERE patient_id_1 = ? AND patient_id_2 = ?", sorted(first)).fetchall()
    try:
        times["decide a pair (not the same person)"] = _timed(
            at, lambda at: at.button(key="dup_not_same").click())
        times["rerun after the decision"] = _timed(at, lambda at: None)
        times["page 2 of the queue"] = _timed(at, lambda at: at.number_input(key="dup_page").set_value(2))
        times["score filter 0.5–1"] = _timed(at, lambda at: at.slider(key="dup_score").set_range(0.5, 1.0))
        times["sort by newest record"] = _timed(at, lambda at: at.selectbox(key="dup_sort").set_value("newest"))
        times["open the duplicate-documents tab"] = _timed(
            at, lambda at: at.session_state.__setitem__("dup_tab", "Documents en double"))
        times["documents page 2"] = _timed(at, lambda at: at.number_input(key="dup_docs_page").set_value(2))
    finally:
        _restore(db, before, username)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--db", type=Path, default=None,
        help="keep the warehouse at this path; reused when it exists (the large one takes minutes)",
    )
    parser.add_argument("--pages", default=",".join(PAGES), help="comma-separated subset")
    parser.add_argument("--interactions", action=argparse.BooleanOptionalAction, default=True,
                        help="time a manager's review flow when duplicates is among the pages")
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
        if args.interactions and "duplicates" in args.pages.split(","):
            runs = [interactions(db) for _ in range(args.repeat)]
            print("\n| duplicates, as manager | median | max |")
            print("|---|---|---|")
            for step in runs[0]:
                values = [r[step] for r in runs]
                print(f"| {step} | {statistics.median(values):.2f} s | {max(values):.2f} s |")


if __name__ == "__main__":
    main()
