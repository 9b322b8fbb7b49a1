"""Benchmark duplicate documents and double entry on the generated sample hospital.

    python benchmarks/bench_documents.py --scale medium            # generate if needed
    python benchmarks/bench_documents.py --data DIR                # an existing sample folder

Steps: (1) generate the sample (``python -m sample_data.generate``) unless ``--data`` is
given, (2) import documents and audit events into a fresh warehouse (not timed as part of
detection), (3) in a fresh child process, run ``find_duplicate_documents`` then
``find_double_entry`` and report wall time and the child's peak resident memory, (4) compare
the pairs with ``truth_documents.csv``: precision and recall per kind.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _generate(scale: str, out: Path, seed: int) -> None:
    if (out / "documents.csv").exists():
        return
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sample_data.generate", "--scale", scale, "--out", str(out), "--seed", str(seed)],
        check=True,
        cwd=ROOT,
    )
    print(f"generated {scale} sample in {time.perf_counter() - started:.0f} s -> {out}")


def _load(data: Path, db: Path, *, audit: bool = True) -> None:
    from analytics.access.roles import system_actor
    from analytics.importing import import_file
    from analytics.warehouse import connect, schema_version
    from analytics.warehouse.migrations import m0006_documents

    con = connect(db)
    if schema_version(con) < 6:  # until m0006 is registered
        m0006_documents.apply(con)
    tables = [("documents", "documents.csv")] + ([("audit_events", "audit_events.csv")] if audit else [])
    for table, name in tables:
        started = time.perf_counter()
        report = import_file(con, table, data / name, actor=system_actor())
        print(f"imported {report.rows_inserted} {table} in {time.perf_counter() - started:.1f} s")
    con.execute(
        "CREATE TABLE bench_truth AS SELECT document_id_1, document_id_2, kind "
        "FROM read_csv($path, delim = ';', header = true, all_varchar = true)",
        {"path": str(data / "truth_documents.csv")},
    )
    con.close()


def _run(db: Path, params: dict) -> dict:
    """Child process: detection only, timed, with its own peak memory."""
    from analytics.access.roles import system_actor
    from analytics.documents import find_double_entry, find_duplicate_documents
    from analytics.warehouse import connect

    con = connect(db)
    out: dict = {}
    started = time.perf_counter()
    summary = find_duplicate_documents(con, actor=system_actor(), **params)
    out["duplicates_s"] = round(time.perf_counter() - started, 2)
    out["documents"] = summary.documents
    out["near_candidates"] = summary.near_candidates
    out["passage_candidates"] = summary.passage_candidates
    started = time.perf_counter()
    double = find_double_entry(con, actor=system_actor(), **params)
    out["double_entry_s"] = round(time.perf_counter() - started, 2)
    out["double_entry_pairs"] = len(double)
    out["retyped_chars"] = int(double["retyped_chars"].sum()) if len(double) else 0
    out["estimated_minutes"] = round(float(double["estimated_minutes"].sum()), 1) if len(double) else 0.0
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    rows = con.execute(
        """
        WITH f AS (SELECT document_id_1 d1, document_id_2 d2, kind FROM document_duplicates),
             t AS (SELECT document_id_1 d1, document_id_2 d2, kind FROM bench_truth)
        SELECT k.kind,
               (SELECT count(*) FROM f WHERE f.kind = k.kind),
               (SELECT count(*) FROM t WHERE t.kind = k.kind),
               (SELECT count(*) FROM f JOIN t USING (d1, d2, kind) WHERE f.kind = k.kind)
        FROM (VALUES ('exact'), ('near'), ('retyped')) k(kind)
        """
    ).fetchall()
    out["quality"] = {
        kind: {
            "found": found,
            "truth": truth,
            "precision": round(tp / found, 3) if found else None,
            "recall": round(tp / truth, 3) if truth else None,
        }
        for kind, found, truth, tp in rows
    }
    con.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="medium", choices=("small", "medium", "large"))
    parser.add_argument("--data", type=Path, help="existing sample folder (skips generation)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--params", default="{}", help="JSON parameters for both detections")
    parser.add_argument("--skip-audit", action="store_true",
                        help="do not import audit events (audit minutes then stay empty)")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    params = json.loads(args.params)
    if args.child:
        print(json.dumps(_run(args.child, params)))
        return
    data = args.data or Path(tempfile.gettempdir()) / f"hygie-docbench-{args.scale}"
    if args.data is None:
        _generate(args.scale, data, args.seed)
    with tempfile.TemporaryDirectory(prefix="hygie-docbench-") as tmp:
        db = Path(tmp) / "bench.duckdb"
        _load(data, db, audit=not args.skip_audit)
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(db), "--params", json.dumps(params)],
            check=True, capture_output=True, text=True, cwd=ROOT,
        )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    result["data"] = str(data)
    result["params"] = params
    result["audit_events_loaded"] = not args.skip_audit
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
