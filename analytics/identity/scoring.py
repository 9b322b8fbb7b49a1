"""Scoring candidate pairs end to end (shared by the full run and incremental matching)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.identity import decide as decide_mod
from analytics.identity.clusters import guarded_clusters
from analytics.identity.comparisons import FIELDS, IndexArrays, compare
from analytics.identity.model import Model, score, weights

__all__ = ["INCOMPATIBLE_RULES", "ScoredPairs", "cluster_labels", "reviewed_decisions", "score_pairs"]

#: Guards whose pairs must never share a cluster (a chain through a third record included).
INCOMPATIBLE_RULES = ("twins", "ins_conflict", "ins_collision", "fictitious_identity", "doubtful_identity", "homonyms_confirmed")


@dataclass
class ScoredPairs:
    a: np.ndarray                      # positions in the IndexArrays
    b: np.ndarray
    levels: dict[str, np.ndarray]
    tf: dict[str, np.ndarray]
    match_weight: np.ndarray
    score: np.ndarray
    decision: np.ndarray
    rule: np.ndarray


def reviewed_decisions(con: duckdb.DuckDBPyConnection, ix: IndexArrays, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Latest reviewer decision per pair ('' when never reviewed)."""
    rows = con.execute("""
        SELECT patient_id_1, patient_id_2, arg_max(decision, decided_at) FROM pair_reviews
        GROUP BY ALL
    """).fetchall()
    out = np.full(len(a), "", dtype=object)
    if not rows or len(a) == 0:
        return out
    lookup = {(p1, p2): d for p1, p2, d in rows}
    pa, pb = ix.patient_id[a], ix.patient_id[b]
    lo = np.where(pa < pb, pa, pb)
    hi = np.where(pa < pb, pb, pa)
    keys = pd.Series(list(zip(lo, hi, strict=True)))
    hit = keys.isin(lookup.keys()).to_numpy()
    out[hit] = [lookup[k] for k in keys[hit]]
    return out


def score_pairs(
    con: duckdb.DuckDBPyConnection, ix: IndexArrays, a: np.ndarray, b: np.ndarray, model: Model,
    t_match: float, t_review: float, levels: dict[str, np.ndarray] | None = None,
) -> ScoredPairs:
    """Compare (unless ``levels`` are given), weigh, score and decide the pairs."""
    if levels is None:
        levels, tf = compare(ix, a, b)
    else:
        tf = _tf_from_levels(ix, a, levels)
    w = weights(model, levels, tf)
    total, prob = score(model, w)
    attributes = (ix.attrs[a], ix.attrs[b]) if ix.attrs is not None else None
    decision, rule = decide_mod.decide(prob, levels, t_match, t_review, reviewed_decisions(con, ix, a, b),
                                       attributes=attributes)
    return ScoredPairs(a, b, levels, tf, total, prob, decision, rule)


def _tf_from_levels(ix: IndexArrays, a: np.ndarray, levels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f: np.where(levels[f] == len(FIELDS[f]) - 1, ix.tf[f][a], np.nan) for f in ix.tf}


def cluster_labels(con: duckdb.DuckDBPyConnection, ix: IndexArrays, sp: ScoredPairs, model: Model,
                   t_match: float, t_review: float) -> np.ndarray:
    """Guarded clusters over match edges; label = smallest member position."""
    edge = sp.decision == "match"

    def incompatible(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        other = score_pairs(con, ix, x, y, model, t_match, t_review)
        return (other.decision == "non-match") | np.isin(other.rule, list(INCOMPATIBLE_RULES))

    return guarded_clusters(ix.n, sp.a[edge], sp.b[edge], sp.score[edge], incompatible)
