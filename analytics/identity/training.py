"""Learning m from the data, as Splink does: expectation-maximisation on training blocks.

* ``u`` comes from random pairs (:func:`~analytics.identity.model.estimate_u`) and stays fixed.
* ``m`` is estimated by EM separately on the pairs of each *training rule* (an equality on a few
  columns of identity_index, :data:`TRAINING_RULES`). The fields a rule blocks on are *fixed*
  by it (every pair agrees on them by construction): they are left out of that rule's E step
  and are not estimated from its pairs. The m of a field is the mean of the estimates of the
  rules that do not block on it. No field teaches itself.
* Reviewers' decisions are labels: every pair a reviewer decided (latest decision "same person"
  or "not the same") joins every rule's pairs with its posterior fixed at 1 or 0.
* A rule too small to support estimation (fewer than ``MIN_PAIRS`` pairs or ``MIN_MATCHES``
  expected duplicates among them) is skipped; a field no rule estimates keeps its prior. The
  run's log says so, field by field.
* Safeguards kept from the identity rules (docs/IDENTITY_RULES.md): the disagreement level of a
  strict trait is never made more likely among duplicates than its prior says (a household or
  a corrupted benchmark must not teach that a different birth date is common among duplicates),
  and the contact fields' summed weight is capped in the E step as in scoring.

A soft EM over *all candidate pairs* was tried and rejected: the looser blocking rules let the
non-duplicates take over the duplicate class. Here each rule's pairs are a random sample of one
equality (at most ``MAX_PAIRS`` per rule), and the fixed fields keep the E step honest.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.identity.comparisons import FIELDS, IndexArrays, compare
from analytics.identity.model import PRIOR_M, STRICT_TRAITS, Model, estimate_lambda, weights

__all__ = ["TRAINING_RULES", "TrainingRule", "em", "estimate_m", "fit", "reviewed_labels", "training_pairs_sql"]


@dataclass(frozen=True)
class TrainingRule:
    name: str
    description: str
    keys: tuple[str, ...]   # DuckDB SQL expressions over identity_index columns
    fixes: tuple[str, ...]  # fields the rule blocks on (not estimated from its pairs)


TRAINING_RULES: tuple[TrainingRule, ...] = (
    TrainingRule("names", "same birth name and first first name", ("bn_np", "fn1"), ("birth_name", "first_name")),
    TrainingRule("birth_date", "same birth date", ("birth_date",), ("birth_date",)),
    TrainingRule("postcode_year", "same postcode and birth year", ("postcode", "year(birth_date)"),
                 ("address", "birth_date")),
)
#: Pairs sampled per training rule (a random share of the rule's pairs when it has more).
MAX_PAIRS = 75_000
#: Fewest pairs, and fewest expected duplicates among them, for a rule's estimate to be used.
MIN_PAIRS = 30
MIN_MATCHES = 5.0
EM_ROUNDS = 40
EM_TOLERANCE = 1e-4
#: Weight of the priors as pseudo-counts in each M step (regularises the rare levels).
PSEUDO_M = 5.0


def training_pairs_sql(rule: TrainingRule, table: str = "identity_index") -> tuple[str, str]:
    """(count SQL, pairs SQL) of a training rule: the number of pairs its equality gives, and
    the pairs ``(r1, r2)`` themselves, ``r1 < r2``, keeping a pair when a hash of its two rids
    falls below ``$keep`` (a share in [0, 1]; seeded by ``$seed``). Plain DuckDB SQL."""
    not_null = " AND ".join(f"({k}) IS NOT NULL" for k in rule.keys)
    keyed = f"SELECT rid, hash({', '.join(rule.keys)}) AS k FROM {table} WHERE {not_null}"  # noqa: S608 - internal identifiers only
    count = f"SELECT coalesce(sum(n * (n - 1) // 2), 0) FROM (SELECT count(*) AS n FROM ({keyed}) GROUP BY k)"  # noqa: S608
    pairs = f"""
        WITH keyed AS ({keyed})
        SELECT a.rid AS r1, b.rid AS r2 FROM keyed a JOIN keyed b ON a.k = b.k AND a.rid < b.rid
        WHERE hash(a.rid, b.rid, $seed) < $keep * 18446744073709551615
    """  # noqa: S608 - internal identifiers only
    return count, pairs


def reviewed_labels(con: duckdb.DuckDBPyConnection, ix: IndexArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (a, b) of the pairs reviewers decided, and their label: 1 same person, 0 not
    the same (latest decision per pair; 'unsure' is no label). Pairs whose records left the
    index (merged, deactivated) are dropped."""
    rows = con.execute("""
        SELECT patient_id_1, patient_id_2, arg_max(decision, decided_at) AS d FROM pair_reviews GROUP BY ALL
    """).df()
    rows = rows[rows["d"].isin(["same", "not_same"])]
    order = np.argsort(ix.patient_id.astype(str))
    ids = ix.patient_id.astype(str)[order]

    def pos(values: pd.Series) -> np.ndarray:
        v = values.astype(str).to_numpy()
        i = np.clip(np.searchsorted(ids, v), 0, max(len(ids) - 1, 0))
        return np.where((len(ids) > 0) & (ids[i] == v), order[i], -1) if len(ids) else np.full(len(v), -1)

    a, b = pos(rows["patient_id_1"]), pos(rows["patient_id_2"])
    keep = (a >= 0) & (b >= 0)
    return a[keep], b[keep], (rows["d"].to_numpy()[keep] == "same").astype(np.int8)


def em(levels: dict[str, np.ndarray], u: dict[str, np.ndarray], fixed: tuple[str, ...],
       labels: np.ndarray | None = None, m_start: dict[str, np.ndarray] | None = None,
       rounds: int = EM_ROUNDS) -> tuple[dict[str, np.ndarray], float, int, float]:
    """EM on one training rule's pairs: (m of the estimated fields, lambda among the pairs,
    rounds run, expected duplicates among the unlabelled pairs).

    ``fixed`` fields are left out (weight 0 in the E step, not estimated); ``labels`` (-1 none,
    1 same person, 0 not the same) fix a pair's posterior. u stays fixed. Each M step keeps the
    priors as ``PSEUDO_M`` pseudo-counts and the strict-trait safeguard (module docstring)."""
    n = len(next(iter(levels.values())))
    labels = np.full(n, -1, dtype=np.int8) if labels is None else labels
    free = labels < 0
    estimated = [f for f in FIELDS if f not in fixed and bool((levels[f] > 0).any())]
    m = {f: np.asarray((m_start or PRIOR_M)[f], dtype=float).copy() for f in FIELDS}
    blanked = {f: (levels[f] if f in estimated else np.zeros(n, dtype=np.int8)) for f in FIELDS}
    nan_tf = {f: np.full(n, np.nan) for f in FIELDS}
    lam = 0.1
    done = 0
    for done in range(1, rounds + 1):  # noqa: B007 - the count of rounds run is returned
        w = weights(Model(m=m, u=u, u_random=u, lam=lam), blanked, nan_tf)
        logit = np.log2(lam / (1 - lam)) + sum(w.values())
        p = 1.0 / (1.0 + np.exp2(-np.clip(logit, -60, 60)))
        p = np.where(labels == 1, 1.0, np.where(labels == 0, 0.0, p))
        new_lam = float(np.clip(p[free].mean() if free.any() else lam, 1e-6, 1 - 1e-6))
        change = abs(new_lam - lam)
        for f in estimated:
            k = len(FIELDS[f]) - 1
            seen = levels[f] > 0
            counts = np.bincount(levels[f][seen].astype(np.int64) - 1, weights=p[seen], minlength=k)
            est = (counts + PSEUDO_M * np.asarray(PRIOR_M[f])) / (counts.sum() + PSEUDO_M)
            if f in STRICT_TRAITS and est[0] > PRIOR_M[f][0]:
                est[1:] *= (1.0 - PRIOR_M[f][0]) / est[1:].sum()
                est[0] = PRIOR_M[f][0]
            change = max(change, float(np.abs(est - m[f]).max()))
            m[f] = est
        lam = new_lam
        if change < EM_TOLERANCE:
            break
    return {f: m[f] for f in estimated}, lam, done, float(p[free].sum())


def estimate_m(con: duckdb.DuckDBPyConnection, ix: IndexArrays, u: dict[str, np.ndarray], *, seed: int = 42,
               table: str = "identity_index", max_pairs: int = MAX_PAIRS,
               rules: tuple[TrainingRule, ...] = TRAINING_RULES
               ) -> tuple[dict[str, np.ndarray], list[str], tuple[str, ...]]:
    """m per field, learned by EM on each training rule's pairs (module docstring); the log
    lines that say, per rule and per field, what was estimated and what kept its prior; the
    fields whose m was learned."""
    la, lb, lab = reviewed_labels(con, ix)
    log = [f"labels: {int((lab == 1).sum())} pairs reviewed 'same', {int((lab == 0).sum())} 'not the same'"]
    estimates: dict[str, list[np.ndarray]] = {f: [] for f in FIELDS}
    for rule in rules:
        count_sql, pairs_sql = training_pairs_sql(rule, table)
        total = int(con.execute(count_sql).fetchone()[0])
        keep = min(1.0, max_pairs / total) if total else 1.0
        d = con.execute(pairs_sql, {"keep": keep, "seed": seed}).fetchnumpy()
        a = ix.positions(np.asarray(d["r1"], dtype=np.int64))
        b = ix.positions(np.asarray(d["r2"], dtype=np.int64))
        if len(a) < MIN_PAIRS:
            log.append(f"rule {rule.name}: {len(a)} pairs, too few to estimate from (skipped)")
            continue
        a, b = np.concatenate([a, la]), np.concatenate([b, lb])
        labels = np.concatenate([np.full(len(a) - len(la), -1, dtype=np.int8), lab])
        levels, _ = compare(ix, a, b)
        m, lam, rounds, matches = em(levels, u, rule.fixes, labels)
        if matches < MIN_MATCHES:
            log.append(f"rule {rule.name}: {len(a) - len(la)} pairs, {matches:.0f} expected duplicates, "
                       "too few to estimate from (skipped)")
            continue
        for f, v in m.items():
            estimates[f].append(v)
        log.append(f"rule {rule.name}: {len(a) - len(la)} of {total} pairs, EM {rounds} rounds, "
                   f"{matches:.0f} expected duplicates (lambda {lam:.4f}), estimates {', '.join(m)}")
    out = {}
    for f in FIELDS:
        if estimates[f]:
            out[f] = np.mean(estimates[f], axis=0)
        else:
            out[f] = np.asarray(PRIOR_M[f], dtype=float)
            log.append(f"{f}: no training rule could estimate it, prior kept")
    return out, log, tuple(f for f in FIELDS if estimates[f])


def fit(con: duckdb.DuckDBPyConnection, ix: IndexArrays, candidate_levels: dict[str, np.ndarray],
        u: dict[str, np.ndarray], *, seed: int = 42, table: str = "identity_index") -> Model:
    """The model of a full run: u from random pairs (given), m learned on the training rules
    (:func:`estimate_m`), lambda — the share of duplicates among all pairs — measured over the
    candidate pairs with that m."""
    m, log, learned = estimate_m(con, ix, u, seed=seed, table=table)
    absent = [f for f in FIELDS if not bool((candidate_levels[f] > 0).any())]
    log += [f"{f}: absent from every candidate pair (weight 0)" for f in absent]
    model = Model(m=m, u=u, u_random=u, lam=0.5, iterations=0, log=log, learned=learned)
    n = len(next(iter(candidate_levels.values())))
    w = weights(model, candidate_levels, {f: np.full(n, np.nan) for f in FIELDS})
    model.lam = estimate_lambda(sum(w.values()), ix.n)
    return model
