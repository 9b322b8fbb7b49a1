"""Benchmark the cleanup jobs: preview, apply and undo times on a synthetic warehouse.

    python benchmarks/bench_jobs.py --patients 100000

Builds N patients (untidy names, phones in national format), 3 documents and 5 audit events
per patient, and one match cluster of two per 10 patients; then previews, applies and undoes
normalise-identities and merge-identities, checking that undo restores the tables.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics import jobs  # noqa: E402
from analytics.access.roles import Actor  # noqa: E402
from analytics.warehouse import connect  # noqa: E402

ADMIN = Actor("bench", "admin")


def build(con, n: int) -> None:
    con.execute(
        """
        INSERT INTO patients (patient_id, birth_name, first_names, birth_date, sex, identity_status, phone,
                              postcode, created_at)
        SELECT printf('P%07d', i), ' dupont' || (i // 2) || ' ', 'jean  ' || (i // 2), DATE '1950-01-01' + CAST(i % 20000 AS INTEGER),
               CASE WHEN i % 2 = 0 THEN 'M' ELSE 'F' END,
               CASE WHEN i % 3 = 0 THEN 'QUAL' WHEN i % 3 = 1 THEN 'VALI' ELSE 'PROV' END,
               printf('06 %02d %02d %02d %02d', (i // 1000000) % 100, (i // 10000) % 100, (i // 100) % 100, i % 100),
               '750' || lpad(CAST(i % 20 AS VARCHAR), 2, '0'),
               TIMESTAMPTZ '2020-01-01 00:00:00+01' + to_minutes(CAST(i AS BIGINT))
        FROM range($n) t(i)
        """,
        {"n": n},
    )
    con.execute(
        "INSERT INTO documents (document_id, patient_id, status, created_at) "
        "SELECT printf('D%08d', i), printf('P%07d', i // 3), 'signed', now() FROM range($m) t(i)",
        {"m": 3 * n},
    )
    con.execute(
        "INSERT INTO audit_events (event_id, user_id, timestamp, patient_id) "
        "SELECT printf('E%08d', i), 'U1', now(), printf('P%07d', i // 5) FROM range($m) t(i)",
        {"m": 5 * n},
    )
    con.execute("INSERT INTO match_runs (match_run_id, started_at, threshold_match, threshold_review) "
                "VALUES ('B1', now(), 0.9, 0.5)")
    con.execute(
        "INSERT INTO match_clusters SELECT 'B1', printf('P%07d', i), 'C' || (i // 2) "
        "FROM range($k) t(i)",
        {"k": n // 5},
    )
    con.execute(
        "INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision) "
        "SELECT 'B1', printf('P%07d', i), printf('P%07d', i + 1), 0.99, 12, 'match' FROM range(0, $k, 2) t(i)",
        {"k": n // 5},
    )


def snapshot(con) -> list:
    tables = ("patients", "documents", "audit_events")
    return [con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables]  # noqa: S608 - fixed names


def timed(label: str, fn):
    t0 = time.perf_counter()
    out = fn()
    print(f"  {label}: {time.perf_counter() - t0:.2f} s")
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HYGIE_JOBS_OUTPUT_DIR"] = str(Path(tmp) / "out")
        con = connect(Path(tmp) / "bench.duckdb")
        timed(f"build {args.patients} patients, {3 * args.patients} documents, {5 * args.patients} events",
              lambda: build(con, args.patients))
        start = snapshot(con)
        for job in ("normalise-identities", "merge-identities"):
            print(job)
            prev = timed("preview", lambda job=job: jobs.preview(con, ADMIN, job))
            print(f"  changes: {prev.change_count}, files: {len(prev.outputs)}")
            t0 = time.perf_counter()
            run = jobs.apply(con, ADMIN, prev.preview_id)
            elapsed = time.perf_counter() - t0
            print(f"  apply: {elapsed:.2f} s ({run.rows_changed / elapsed:,.0f} row changes/s)")
            timed("undo", lambda run=run: jobs.undo(con, ADMIN, run.run_id))
        assert snapshot(con) == start, "undo did not restore the tables"
        print("undo restored every table exactly")
        con.close()


if __name__ == "__main__":
    main()
