"""``find_duplicates``: the full matching run, from patients to stored pairs and clusters."""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.identity import blocking
from analytics.identity import decide as decide_mod
from analytics.identity.comparisons import FIELDS, IndexArrays, load_index
from analytics.identity.decide import auto_merge_eligible, resolve_thresholds
from analytics.identity.model import TARGET_PRECISION, Model, derive_threshold, estimate_u
from analytics.identity.normalise import build_index
from analytics.identity.scoring import ScoredPairs, cluster_labels, score_pairs
from analytics.identity.training import fit

__all__ = ["MatchSummary", "find_duplicates", "latest_model", "store_results", "surplus_records"]


@dataclass
class MatchSummary:
    match_run_id: str
    patients: int
    candidate_pairs: int
    matches: int
    reviews: int
    clusters: int
    threshold_match: float
    threshold_review: float
    seconds: float
    blocking: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    threshold_source: str = "fixed default"
    training: str = ""
    #: matches no automatic merge may take (RNIV): they wait in the review queue with the reviews
    held: int = 0

    def summary_lines(self) -> list[str]:
        return [
            f"match run {self.match_run_id}: {self.patients} patients, {self.candidate_pairs} candidate pairs",
            f"{self.matches} pairs decided match (score >= {self.threshold_match:.4g}), "
            f"{self.reviews} to review (score >= {self.threshold_review})",
            f"{self.held} of the matches wait for a reviewer too (not eligible for automatic merge, RNIV)",
            f"match threshold: {self.threshold_source}",
            *([self.training] if self.training else []),
            f"{self.clusters} clusters of duplicates, in {self.seconds:.1f} s",
        ]


def held_matches(sp: ScoredPairs) -> int:
    """Pairs decided ``match`` that no automatic merge may take and no reviewer has decided
    (awaiting.py: they wait in the review queue)."""
    reviewed = np.array([isinstance(r, str) and r.startswith("reviewed ") for r in sp.rule], dtype=bool)
    return int(((sp.decision == "match") & ~auto_merge_eligible(sp.levels, sp.decision, sp.rule) & ~reviewed).sum())


def _pairs_positions(con: duckdb.DuckDBPyConnection, ix: IndexArrays, sql: str) -> tuple[np.ndarray, np.ndarray]:
    d = con.execute(sql).fetchnumpy()
    return ix.positions(np.asarray(d["r1"], dtype=np.int64)), ix.positions(np.asarray(d["r2"], dtype=np.int64))


def latest_model(con: duckdb.DuckDBPyConnection) -> Model | None:
    """The model of the latest full run, if any, and if it was fitted on today's comparison
    levels: a model stored by an older Hygie (other levels per field) is not used — callers fall
    back to the priors, and incremental matching runs a full detection that refits it."""
    row = con.execute(
        "SELECT params FROM match_runs WHERE kind = 'full' AND params IS NOT NULL ORDER BY started_at DESC LIMIT 1"
    ).fetchone()
    if not row:
        return None
    stored = json.loads(row[0]).get("model")
    fields = (stored or {}).get("fields", {})
    if any(fields.get(f, {}).get("levels") != list(FIELDS[f][1:]) for f in FIELDS):
        return None
    return Model.from_json(stored)


def surplus_records(labels: np.ndarray) -> int:
    """Records beyond the first of each cluster (the duplicate-rate numerator of the run)."""
    sizes = np.bincount(labels, minlength=len(labels))
    return int(sizes[sizes >= 2].sum() - (sizes >= 2).sum())


def store_results(
    con: duckdb.DuckDBPyConnection, run_id: str, ix: IndexArrays, sp: ScoredPairs, labels: np.ndarray,
    *, replace: bool = True,
) -> int:
    """Write pairs (all candidates, with levels) and clusters (records in groups of 2+)."""
    pa, pb = ix.patient_id[sp.a], ix.patient_id[sp.b]
    swap = pa > pb
    frame = pd.DataFrame({
        "match_run_id": run_id,
        "patient_id_1": np.where(swap, pb, pa),
        "patient_id_2": np.where(swap, pa, pb),
        "score": sp.score, "match_weight": sp.match_weight,
        "decision": pd.Categorical(sp.decision, categories=["match", "review", "non-match"]),
        "rule": sp.rule,
        "auto_merge": auto_merge_eligible(sp.levels, sp.decision, sp.rule),
        **{f: pd.Categorical.from_codes(sp.levels[f].astype(np.int64), categories=list(FIELDS[f])) for f in FIELDS},
    })
    if replace:
        con.execute("DELETE FROM match_pairs")
    con.register("_hy_frame", frame)
    # Pairs to look at (match, review) stored before the non-matches (98 % of the rows): the
    # review queue's scan then skips the non-match row groups by their min/max statistics.
    con.execute("INSERT INTO match_pairs BY NAME SELECT * FROM _hy_frame WHERE decision <> 'non-match'")
    con.execute("INSERT INTO match_pairs BY NAME SELECT * FROM _hy_frame WHERE decision = 'non-match'")
    con.unregister("_hy_frame")
    sizes = np.bincount(labels, minlength=len(labels))
    grouped = np.flatnonzero(sizes[labels] >= 2)
    clusters = pd.DataFrame({
        "match_run_id": run_id,
        "patient_id": ix.patient_id[grouped],
        "cluster_id": ix.patient_id[labels[grouped]],
    })
    con.execute("DELETE FROM match_clusters")
    con.register("_hy_clusters", clusters)
    con.execute("INSERT INTO match_clusters BY NAME SELECT * FROM _hy_clusters")
    con.unregister("_hy_clusters")
    return int((sizes >= 2).sum())


def _match_threshold_given(con: duckdb.DuckDBPyConnection, threshold_match: float | None) -> str | None:
    """Where the match threshold comes from when it is not to be derived: 'given' (argument),
    'setting' (the settings table), else None."""
    if threshold_match is not None:
        return "given"
    row = con.execute("SELECT 1 FROM settings WHERE key = ?", [decide_mod._SETTING_MATCH]).fetchone()
    return "setting" if row else None


def find_duplicates(
    con: duckdb.DuckDBPyConnection,
    *,
    threshold_match: float | None = None,
    threshold_review: float | None = None,
    actor: Actor,
    model: Model | None = None,
    max_block: int = 50,
    seed: int = 42,
) -> MatchSummary:
    """Match every active patient against the others; store the run, pairs and clusters.

    ``model``: reuse given m/u parameters instead of estimating them (reproducible reruns,
    incremental-equals-full checks). ``actor`` is required: the CLI and the scheduler pass
    :func:`~analytics.access.roles.system_actor` (or the ``--as`` account).

    The match threshold, unless given or set in the settings table, is derived from the fitted
    model: the lowest probability at which the pairs at or above it have an expected precision
    of ``TARGET_PRECISION`` (:func:`~analytics.identity.model.derive_threshold`); the fixed
    default is the fallback when too few pairs support the estimate. The summary says which.
    """
    require(actor, Permission.VIEW_PATIENT_DATA)
    t_match, t_review = resolve_thresholds(con, threshold_match, threshold_review)
    source = {"given": "given", "setting": "settings table"}.get(_match_threshold_given(con, threshold_match) or "")
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    run_id = uuid.uuid4().hex[:12]
    started = pd.Timestamp.now(tz="UTC")

    def lap(name: str, since: list[float] = [t0]) -> None:  # noqa: B006 - a timer cell
        now = time.perf_counter()
        timings[name] = round(now - since[0], 3)
        since[0] = now

    n = build_index(con)
    lap("normalise")
    if n < 2:  # nothing to compare: an empty run, recorded
        con.execute("DELETE FROM match_pairs; DELETE FROM match_clusters")
        con.execute(
            """INSERT INTO match_runs (match_run_id, started_at, finished_at, kind, actor, threshold_match,
                   threshold_review, patients, candidate_pairs, matches, reviews, clusters)
               VALUES (?, ?, now(), 'full', ?, ?, ?, ?, 0, 0, 0, 0)""",
            [run_id, started, actor.username if actor else "system", t_match, t_review, n])
        return MatchSummary(run_id, n, 0, 0, 0, 0, t_match, t_review, round(time.perf_counter() - t0, 3))
    report = blocking.candidate_pairs(con, max_block=max_block)
    lap("blocking")
    ix = load_index(con)
    a, b = _pairs_positions(con, ix, "SELECT r1, r2 FROM _hy_pairs")
    # Blocking intermediates can be large (10M keys at 1M patients): free them now.
    con.execute("DROP TABLE IF EXISTS _hy_keys; DROP TABLE IF EXISTS _hy_blocks; DROP TABLE IF EXISTS _hy_pairs")
    lap("load")
    training = "model: given (not refitted)" if model is not None else ""
    if model is None:
        from analytics.identity.comparisons import compare

        levels, _ = compare(ix, a, b)
        lap("compare")
        model = fit(con, ix, levels, estimate_u(ix, seed=seed), seed=seed)
        training = model.training_note()
        lap("train")
        sp = score_pairs(con, ix, a, b, model, t_match, t_review, levels=levels)
        model.threshold_match = derive_threshold(sp.score)
    else:
        sp = score_pairs(con, ix, a, b, model, t_match, t_review)
    if source is None:
        if model.threshold_match is not None:
            t_match = max(float(model.threshold_match), t_review)
            source = f"derived from the fitted model (expected precision >= {TARGET_PRECISION})"
            sp = score_pairs(con, ix, a, b, model, t_match, t_review, levels=sp.levels)
        else:
            source = "fixed default (too few pairs to derive one from the model)"
    lap("score")
    labels = cluster_labels(con, ix, sp, model, t_match, t_review)
    lap("cluster")
    n_clusters = store_results(con, run_id, ix, sp, labels)
    params = {"model": model.to_json(), "max_block": max_block, "seed": seed, "threshold_source": source,
              "surplus_records": surplus_records(labels)}
    summary = MatchSummary(
        match_run_id=run_id, patients=n, candidate_pairs=len(a),
        matches=int((sp.decision == "match").sum()), reviews=int((sp.decision == "review").sum()),
        clusters=n_clusters, threshold_match=t_match, threshold_review=t_review,
        seconds=0.0, blocking=report, timings=timings, threshold_source=source, held=held_matches(sp),
        training=training,
    )
    lap("store")
    summary.seconds = round(time.perf_counter() - t0, 3)
    con.execute(
        """INSERT INTO match_runs (match_run_id, started_at, finished_at, kind, actor, threshold_match,
               threshold_review, patients, candidate_pairs, matches, reviews, clusters, params, blocking_report)
           VALUES (?, ?, now(), 'full', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [run_id, started, actor.username if actor else "system", t_match, t_review, n, len(a),
         summary.matches, summary.reviews, n_clusters, json.dumps(params), json.dumps(report)],
    )
    con.execute("DROP TABLE IF EXISTS _hy_keys; DROP TABLE IF EXISTS _hy_blocks")
    return summary
