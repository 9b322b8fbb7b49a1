"""Identity matching benchmark: Hygie vs Splink on the sample generator's ground truth.

    python -m benchmarks.bench_matching --scale medium            # 100k: Hygie and Splink, 2 data sets
    python -m benchmarks.bench_matching --scale large --no-splink # 1M: Hygie only (speed, memory)

Data sets (patients come straight from ``sample_data.identities.generate_patients``; import is
excluded from every timing):

* ``sample``: the generator's patients as they are;
* ``variant``: the same patients with sex, INS (and identity status) and birth place removed,
  and other error patterns injected into half of the duplicate records (single-digit birth-date
  typos, dropped double letters and letter confusions in names, truncated birth names, phone
  typos, address abbreviations, missing postcode/e-mail) — thresholds are *not* retuned.

Each (data set, tool) runs in its own process; wall time covers blocking → clusters (Hygie:
``find_duplicates`` including normalisation, training, storage; Splink: registration, training
(u by random sampling, EM), prediction and clustering). Peak memory is the process's peak RSS
sampled every 20 ms during the run. Pairwise precision/recall compare the pairs a tool decides
``match`` (Splink: match probability ≥ the same 0.9) with all same-person pairs.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import random
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

SCALES = {"small": 2_500, "medium": 100_000, "large": 1_000_000}
THRESHOLD = 0.9


# ---------------------------------------------------------------- data sets
def sample_frames(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """patients, truth_patients (patient_id, person_id, kind), truth_pairs (negatives' kinds)."""
    from sample_data.identities import generate_patients

    p = generate_patients(n, seed)
    df = pd.DataFrame(p.columns).drop(columns=["created_s"])
    df["birth_date"] = pd.to_datetime(df["birth_date"], format="%d/%m/%Y", errors="coerce").dt.date
    for c in df.columns:
        if c != "birth_date":
            df[c] = df[c].astype(object).where(df[c].astype(object) != "", None)
    truth = pd.DataFrame(p.truth_patients, columns=["patient_id", "person_id", "kind", "errors"])
    pairs = pd.DataFrame(p.truth_pairs, columns=["patient_id_1", "patient_id_2", "same", "kind", "errors"])
    return df, truth, pairs[pairs["same"] == 0][["patient_id_1", "patient_id_2", "kind"]]


def cached_sample_frames(n: int, seed: int, cache: str | None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """:func:`sample_frames`, kept as parquet files in ``cache`` (if given) for the next run."""
    if not cache:
        return sample_frames(n, seed)
    files = [Path(cache) / f"{part}_{n}_{seed}.parquet" for part in ("patients", "truth", "negatives")]
    if all(f.exists() for f in files):
        df, truth, negatives = (pd.read_parquet(f) for f in files)
        for c in df.columns:  # back to object columns with None, as sample_frames makes them
            df[c] = df[c].astype(object).where(df[c].notna(), None)
        return df, truth, negatives
    frames = sample_frames(n, seed)
    Path(cache).mkdir(parents=True, exist_ok=True)
    for frame, f in zip(frames, files, strict=True):
        frame.to_parquet(f)
    return frames


_CONFUSIONS = [("M", "N"), ("I", "Y"), ("C", "K"), ("S", "Z"), ("E", "A"), ("PH", "F"), ("LL", "L"),
               ("NN", "N"), ("TT", "T"), ("SS", "S"), ("AU", "O"), ("EAU", "O")]


def _date_typo(d, rnd: random.Random):
    if d is None or pd.isna(d):
        return d
    text = d.strftime("%Y%m%d")
    for _ in range(20):
        i = rnd.randrange(8)
        new = text[:i] + str(rnd.randrange(10)) + text[i + 1:]
        try:
            return pd.Timestamp(new).date() if new != text else d
        except ValueError:
            continue
    return d


def _name_error(name, rnd: random.Random):
    if not name:
        return name
    upper = str(name).upper()
    hits = [(a, b) for a, b in _CONFUSIONS if a in upper[1:]]
    if hits and rnd.random() < 0.7:
        a, b = rnd.choice(hits)
        i = upper.find(a, 1)
        return upper[:i] + b + upper[i + len(a):]
    return upper[: max(4, len(upper) - 2)]  # truncated


def variant(df: pd.DataFrame, truth: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Other columns missing, other error patterns (see the module docstring)."""
    rnd = random.Random(seed)
    out = df.copy()
    for col in ("sex", "ins", "identity_status", "birth_place_code"):
        out[col] = None
    dup_ids = set(truth.loc[truth["kind"] == "duplicate", "patient_id"])
    rows = out.index[out["patient_id"].isin(dup_ids)]
    kinds = ["date_typo", "name_error", "first_name_error", "phone_typo", "address_abbrev", "contact_missing"]
    for i in rows:
        if rnd.random() >= 0.5:
            continue
        kind = rnd.choice(kinds)
        if kind == "date_typo":
            out.at[i, "birth_date"] = _date_typo(out.at[i, "birth_date"], rnd)
        elif kind == "name_error":
            out.at[i, "birth_name"] = _name_error(out.at[i, "birth_name"], rnd)
        elif kind == "first_name_error":
            names = str(out.at[i, "first_names"] or "").split(" ")
            names[0] = _name_error(names[0], rnd)
            out.at[i, "first_names"] = " ".join(names)
        elif kind == "phone_typo" and out.at[i, "phone"]:
            phone = str(out.at[i, "phone"])
            digits = [k for k, ch in enumerate(phone) if ch.isdigit()]
            k = digits[-1 - rnd.randrange(4)]
            out.at[i, "phone"] = phone[:k] + str((int(phone[k]) + 1) % 10) + phone[k + 1:]
        elif kind == "address_abbrev" and out.at[i, "address"]:
            out.at[i, "address"] = (str(out.at[i, "address"]).replace("RUE", "R.").replace("AVENUE", "AV.")
                                    .replace("BOULEVARD", "BD").replace("PLACE", "PL."))
        else:
            out.at[i, "postcode"] = None
            out.at[i, "email"] = None
    return out


# ---------------------------------------------------------------- evaluation
def evaluate(pred: pd.DataFrame, truth: pd.DataFrame, negatives: pd.DataFrame) -> dict:
    """Pairwise precision / recall / F1 of predicted match pairs; hard negatives decided match."""
    person = truth.set_index("patient_id")["person_id"]
    sizes = truth.groupby("person_id").size()
    true_pairs = int((sizes * (sizes - 1) // 2).sum())
    if len(pred):
        lo = pred[["patient_id_1", "patient_id_2"]].min(axis=1)
        hi = pred[["patient_id_1", "patient_id_2"]].max(axis=1)
        pred = pd.DataFrame({"patient_id_1": lo, "patient_id_2": hi}).drop_duplicates()
        same = person.reindex(pred["patient_id_1"]).to_numpy() == person.reindex(pred["patient_id_2"]).to_numpy()
    else:
        same = np.zeros(0, dtype=bool)
    tp = int(same.sum())
    precision = tp / len(pred) if len(pred) else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    hard = negatives.merge(pred, on=["patient_id_1", "patient_id_2"]) if len(pred) else negatives.iloc[:0]
    return {"precision": precision, "recall": recall, "f1": f1, "predicted": len(pred), "true_pairs": true_pairs,
            "twins_matched": int((hard["kind"] == "twin").sum()),
            "namesakes_matched": int((hard["kind"] == "namesake").sum()),
            "households_matched": int((hard["kind"] == "household").sum())}


class PeakRSS:
    """Peak resident memory of this process, sampled in a thread."""

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process()
        self.peak = self._proc.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self._proc.memory_info().rss)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)


# ---------------------------------------------------------------- tools
def _search_latency(con, n: int) -> dict:
    """Search before create for ``n`` random patients' traits (index built): latency in ms."""
    from analytics.access.roles import system_actor
    from analytics.identity import search_identities

    rows = con.execute(
        "SELECT birth_name, used_name, first_names, birth_date FROM patients WHERE birth_name IS NOT NULL "
        "AND first_names IS NOT NULL AND birth_date IS NOT NULL ORDER BY hash(patient_id) LIMIT ?", [n]).fetchall()
    search_identities(con, system_actor(), birth_name=rows[0][0], first_names=rows[0][2], birth_date=rows[0][3])  # warm-up
    times, found = [], 0
    for birth, used, first, date in rows:
        t0 = time.perf_counter()
        res = search_identities(con, system_actor(), birth_name=birth, used_name=used, first_names=first, birth_date=date)
        times.append((time.perf_counter() - t0) * 1000)
        found += bool(len(res))
    return {"search_ms_median": float(np.median(times)), "search_ms_p95": float(np.percentile(times, 95)),
            "searches": len(times), "searches_with_candidates": found}


def run_hygie(parquet: str, searches: int = 0) -> tuple[pd.DataFrame, dict]:
    from analytics.access.roles import system_actor
    from analytics.identity import find_duplicates
    from analytics.warehouse import connect

    # A file warehouse, as deployed (DuckDB may spill to disk), with a stated memory budget.
    con = connect(Path(parquet).with_suffix(".duckdb"))
    con.execute("SET memory_limit = '2GB'")
    con.execute("INSERT INTO patients BY NAME SELECT * FROM read_parquet(?)", [parquet])
    con.execute("CHECKPOINT")
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        summary = find_duplicates(con, actor=system_actor())
        seconds = time.perf_counter() - t0
    pred = con.execute("SELECT patient_id_1, patient_id_2 FROM match_pairs WHERE decision = 'match'").df()
    info = {"seconds": seconds, "peak_mb": mem.peak / 2**20, "candidate_pairs": summary.candidate_pairs,
            "timings": summary.timings}
    if searches:
        info.update(_search_latency(con, searches))
    return pred, info


def _splink_input(con, has: set[str]):
    """Light cleaning as in Splink's person-data examples: upper case, no accents, digits."""
    def name(col: str) -> str:
        return f"nullif(trim(regexp_replace(strip_accents(upper(coalesce({col}, ''))), '[^A-Z ]+', ' ', 'g')), '')"

    return con.execute(f"""
        SELECT patient_id AS unique_id, {name('birth_name')} AS surname, {name('used_name')} AS used_name,
               split_part({name('first_names')}, ' ', 1) AS first_name, birth_date,
               {'sex' if 'sex' in has else 'NULL::VARCHAR AS sex'},
               {'birth_place_code' if 'birth_place_code' in has else 'NULL::VARCHAR'} AS birth_place,
               {'ins' if 'ins' in has else 'NULL::VARCHAR AS ins'},
               nullif(right(regexp_replace(coalesce(phone, ''), '[^0-9]', '', 'g'), 9), '') AS phone,
               lower(email) AS email, postcode, upper(address) AS address
        FROM patients
    """).df()  # noqa: S608 - fixed columns


def run_splink(parquet: str) -> tuple[pd.DataFrame, dict]:
    import duckdb
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    src = duckdb.connect()
    src.execute("CREATE TABLE patients AS SELECT * FROM read_parquet(?)", [parquet])
    has = {c for (c,) in src.execute(
        "SELECT column_name FROM (DESCRIBE patients) WHERE column_name IN ('sex', 'ins', 'birth_place_code')"
    ).fetchall() if src.execute(f'SELECT count("{c}") FROM patients').fetchone()[0] > 0}  # noqa: S608
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        frame = _splink_input(src, has)
        comparisons = [
            cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.DateOfBirthComparison("birth_date", input_is_string=False),
            cl.ExactMatch("phone"),
            cl.EmailComparison("email"),
            cl.ExactMatch("postcode"),
            cl.JaroWinklerAtThresholds("address", [0.95, 0.85]),
        ]
        if "sex" in has:
            comparisons.append(cl.ExactMatch("sex"))
        if "birth_place_code" in has:
            comparisons.append(cl.ExactMatch("birth_place"))
        if "ins" in has:
            comparisons.append(cl.ExactMatch("ins"))
        settings = SettingsCreator(
            link_type="dedupe_only",
            comparisons=comparisons,
            blocking_rules_to_generate_predictions=[
                block_on("first_name", "surname"),
                block_on("surname", "birth_date"),
                block_on("first_name", "birth_date"),
                block_on("used_name", "first_name"),
                block_on("phone"),
                block_on("email"),
            ],
            retain_intermediate_calculation_columns=False,
            retain_matching_columns=False,
        )
        splink_con = duckdb.connect()
        splink_con.execute("SET memory_limit = '6GB'")  # a shared machine: never starve the others
        db_api = DuckDBAPI(connection=splink_con)
        linker = Linker(db_api.register(frame), settings, log_level="WARNING")
        linker.training.estimate_probability_two_random_records_match(
            [block_on("first_name", "surname", "birth_date")], recall=0.7)
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=42)
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("birth_date"))
        linker.training.estimate_parameters_using_expectation_maximisation(block_on("surname", "first_name"))
        pred = linker.inference.predict()  # every blocked pair, scored (as Hygie stores them all)
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(pred, THRESHOLD)
        clusters.as_pandas_dataframe()
        match = splink_con.execute(
            f"SELECT unique_id_l, unique_id_r FROM {pred.physical_name} WHERE match_probability >= ?",  # noqa: S608
            [THRESHOLD]).df()
        seconds = time.perf_counter() - t0
    candidate = splink_con.execute(f"SELECT count(*) FROM {pred.physical_name}").fetchall()[0][0]  # noqa: S608
    out = pd.DataFrame({"patient_id_1": match["unique_id_l"].astype(str), "patient_id_2": match["unique_id_r"].astype(str)})
    return out, {"seconds": seconds, "peak_mb": mem.peak / 2**20, "candidate_pairs": candidate}


def _child(tool: str, parquet: str, truth_file: str, negatives_file: str, queue, searches: int = 0) -> None:
    try:
        pred, info = run_hygie(parquet, searches) if tool == "hygie" else run_splink(parquet)
        info.update(evaluate(pred, pd.read_parquet(truth_file), pd.read_parquet(negatives_file)))
        queue.put(info)
    except Exception as exc:  # reported in the table, not hidden
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_tool(tool: str, parquet: str, truth_file: str, negatives_file: str, searches: int = 0) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(tool, parquet, truth_file, negatives_file, queue, searches))
    proc.start()
    info = queue.get()
    proc.join()
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="medium")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-splink", action="store_true")
    parser.add_argument("--datasets", default="sample,variant")
    parser.add_argument("--json", help="Also write the results to this JSON file.")
    parser.add_argument("--searches", type=int, default=0, help="Also time N searches before create (Hygie).")
    parser.add_argument("--cache", help="Directory keeping the generated frames between runs (saves ~5 min at 1M).")
    args = parser.parse_args()
    n = SCALES[args.scale]
    df, truth, negatives = cached_sample_frames(n, args.seed, args.cache)
    load = os.getloadavg()[0]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        truth_file, neg_file = f"{tmp}/truth.parquet", f"{tmp}/neg.parquet"
        truth.to_parquet(truth_file)
        negatives.to_parquet(neg_file)
        for name in args.datasets.split(","):
            data = df if name == "sample" else variant(df, truth, args.seed)
            parquet = f"{tmp}/{name}.parquet"
            data.to_parquet(parquet)
            for tool in ("hygie", *(() if args.no_splink else ("splink",))):
                info = run_tool(tool, parquet, truth_file, neg_file, args.searches if name == "sample" else 0)
                info.update(dataset=f"{name} ({args.scale}, {n:,} patients)", tool=tool)
                rows.append(info)
                print(json.dumps(info, default=str), flush=True)
    print(f"\nload average at start: {load:.1f}, at end: {os.getloadavg()[0]:.1f}, on {os.cpu_count()} cores\n")
    print("| data set | tool | precision | recall | F1 | seconds | peak MB | candidate pairs | twins/namesakes matched |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        if "error" in r:
            print(f"| {r['dataset']} | {r['tool']} | error: {r['error']} | | | | | | |")
            continue
        print(f"| {r['dataset']} | {r['tool']} | {r['precision']:.4f} | {r['recall']:.4f} | {r['f1']:.4f} | "
              f"{r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['candidate_pairs']:,} | "
              f"{r['twins_matched']}/{r['namesakes_matched']} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
