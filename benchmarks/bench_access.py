"""Access benchmark: login cost, access-log append/verify, pseudonymised CSV export.

Usage::

    python benchmarks/bench_access.py --rows 1000000 --log-rows 10000

Synthetic patient-like frame (no sample files needed): patient_id, names, birth date,
postcode, phone, a float measure. Figures are wall-clock seconds on whatever else the machine
is doing; run it on a quiet machine for reference numbers.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import click
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    ids = rng.integers(0, rows, rows)
    return pd.DataFrame(
        {
            "patient_id": [f"IPP{i:08d}" for i in ids],
            "birth_name": rng.choice(["DUPONT", "MARTIN", "=HYPERLINK(\"x\")", "N'DIAYE"], rows),
            "first_names": rng.choice(["Jean Paul", "Marie", "-Zoé"], rows),
            "birth_date": pd.to_datetime("1930-01-01") + pd.to_timedelta(rng.integers(0, 30000, rows), unit="D"),
            "sex": rng.choice(["M", "F"], rows),
            "postcode": rng.choice(["75012", "97110", "20000", "69003"], rows),
            "phone": rng.choice(["0601020304", "+33 6 01 02 03 04"], rows),
            "service": rng.choice(["Cardiologie", "Urgences", "-Pédiatrie"], rows),
            "score": rng.normal(0, 3, rows),
        }
    )


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


@click.command()
@click.option("--rows", default=1_000_000, show_default=True, help="Rows of the exported frame.")
@click.option("--log-rows", default=10_000, show_default=True, help="Access-log rows to append then verify.")
def main(rows: int, log_rows: int) -> None:
    from analytics.access import Actor
    from analytics.access.access_log import record, verify_chain
    from analytics.access.auth import authenticate, create_user
    from analytics.exports import build_export, to_csv_bytes
    from analytics.pseudonymise import pseudonymise_frame
    from analytics.warehouse import connect

    results: dict[str, float | int] = {"rows": rows, "log_rows": log_rows}
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        create_user(con, None, "alice", "admin", "Blue-Horse42")
        times = [_timed(lambda: authenticate(con, "alice", "Blue-Horse42"))[1] for _ in range(5)]
        results["login_median_s"] = round(sorted(times)[2], 3)

        admin = Actor("alice", "admin", via="bench")
        _, spent = _timed(lambda: [record(con, admin, "view", "patients", i) for i in range(log_rows)])
        results["log_append_per_row_ms"] = round(spent / log_rows * 1000, 3)
        (ok, _), spent = _timed(lambda: verify_chain(con))
        assert ok
        results["log_verify_s"] = round(spent, 3)

        frame = _frame(rows)
        key = b"k" * 32
        pseudo, spent = _timed(lambda: pseudonymise_frame(frame, key))
        results["pseudonymise_s"] = round(spent, 2)
        data, spent = _timed(lambda: to_csv_bytes(pseudo, "excel-fr"))
        results["csv_excel_fr_s"] = round(spent, 2)
        results["csv_mb"] = round(len(data) / 1e6, 1)
        export, spent = _timed(lambda: build_export(con, Actor("anna", "analyst"), "patients", frame,
                                                    "excel-fr", secret=key))
        results["export_frame_total_s"] = round(spent, 2)
        con.close()
    click.echo(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
