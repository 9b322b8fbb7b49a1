"""Fellegi–Sunter model: m/u probabilities per field level, term frequencies, scores.

* ``u`` (how often two *different* people agree at a level) is measured on random pairs of
  the index (as Splink's ``estimate_u_using_random_sampling``).
* ``m`` (how often two records of the *same* person do) starts from the priors below and is
  learned by expectation-maximisation on the pairs of training blocking rules, each field from
  the rules that do not block on it, reviewers' decisions as labels (:mod:`training`); a field
  the data cannot support keeps its prior. Contact fields (a household shares address, phone
  and often e-mail) have their summed positive weight capped (``CONTACT_CAP``).
* The weight of a level is ``log2(m/u)``; "missing" weighs 0. An exact agreement on a frequent
  value (MARTIN, JEAN, a shared switchboard phone) weighs less: ``log2(m / tf(value))``
  (term-frequency adjustment relative to the average agreeing value).
* The prior ``lambda`` is the share of duplicate pairs among *all* pairs (estimated from the
  candidates); the score is ``1 / (1 + 2^-(log2(lambda/(1-lambda)) + Σw))``, a calibrated
  probability whose thresholds do not depend on the data set's size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analytics.identity.comparisons import FIELDS, TF_FIELDS, IndexArrays, compare

__all__ = ["Model", "PRIOR_M", "default_model", "derive_threshold", "estimate_lambda", "estimate_u",
           "score", "weights"]

#: Prior m per level (same order as FIELDS, "missing" excluded): what a duplicate looks like.
PRIOR_M: dict[str, tuple[float, ...]] = {
    # far, swapped, close, cross, word, particle, inverted, exact
    "birth_name": (0.02, 0.01, 0.08, 0.08, 0.01, 0.01, 0.005, 0.785),
    # far, initial, nickname, swapped, gendered, partial, compound, other_name, close, reordered, used, first_only, exact
    "first_name": (0.02, 0.01, 0.01, 0.01, 0.003, 0.03, 0.01, 0.005, 0.06, 0.02, 0.01, 0.03, 0.782),
    "birth_date": (0.01, 0.02, 0.02, 0.04, 0.91),
    "sex": (0.01, 0.99),
    "birth_place": (0.02, 0.01, 0.97),
    # far_strong, far, traits_differ (one INS, contradicted by the other's traits), exact
    "ins": (0.001, 0.01, 0.02, 0.969),
    "phone": (0.15, 0.85),
    "email": (0.2, 0.1, 0.7),
    # far, postcode, street, close, exact
    "address": (0.13, 0.05, 0.02, 0.05, 0.75),
}
MAX_WEIGHT = 14.0


@dataclass
class Model:
    m: dict[str, np.ndarray]
    u: dict[str, np.ndarray]
    u_random: dict[str, np.ndarray]
    lam: float
    iterations: int = 0
    log: list[str] = field(default_factory=list)
    #: Match threshold derived from this model on the data it was fitted on (None: not derived).
    threshold_match: float | None = None
    #: Fields whose m was learned from the data (the others keep their priors).
    learned: tuple[str, ...] = ()

    def training_note(self) -> str:
        """One line for the run's report: which fields' m the data taught, which kept the prior."""
        kept = [f for f in FIELDS if f not in self.learned]
        if not self.learned:
            return "model: priors only (too few pairs to learn m from the data)"
        return (f"model: m learned from the data (EM on training rules) for {', '.join(self.learned)}"
                + (f"; priors kept for {', '.join(kept)}" if kept else ""))

    def to_json(self) -> dict:
        return {
            "lambda": self.lam, "iterations": self.iterations, "log": self.log,
            "threshold_match": self.threshold_match, "learned": list(self.learned),
            "fields": {f: {"levels": list(FIELDS[f][1:]), "m": self.m[f].tolist(), "u": self.u[f].tolist(),
                           "u_random": self.u_random[f].tolist()} for f in FIELDS},
        }

    @classmethod
    def from_json(cls, data: dict) -> Model:
        fl = data["fields"]
        return cls(m={f: np.asarray(fl[f]["m"]) for f in FIELDS}, u={f: np.asarray(fl[f]["u"]) for f in FIELDS},
                   u_random={f: np.asarray(fl[f]["u_random"]) for f in FIELDS},
                   lam=float(data["lambda"]), iterations=int(data.get("iterations", 0)),
                   threshold_match=data.get("threshold_match"), learned=tuple(data.get("learned", ())))


def estimate_u(ix: IndexArrays, n_pairs: int = 150_000, seed: int = 42) -> dict[str, np.ndarray]:
    """u per level from random pairs of the index (add-one smoothed)."""
    rng = np.random.default_rng(seed)
    n = ix.n
    k = min(n_pairs, max(50 * n, 20_000), max(n * (n - 1) // 2, 1))
    a = rng.integers(0, n, k)
    b = rng.integers(0, n, k)
    keep = a != b
    levels, _ = compare(ix, a[keep], b[keep])
    u = {}
    for f, names in FIELDS.items():
        counts = np.bincount(levels[f], minlength=len(names))[1:].astype(float) + 1.0
        u[f] = counts / counts.sum()
    return u


#: Summed weight from which a pair counts as a sure duplicate (start of the lambda estimate).
CONFIDENT_BITS = 18.0
CONTACT_FIELDS = ("phone", "email", "address")
CONTACT_CAP = 10.0
STRICT_TRAITS = ("birth_name", "first_name", "birth_date", "sex", "birth_place")


def estimate_lambda(total_w: np.ndarray, n_records: int, iterations: int = 20) -> float:
    """Share of duplicate pairs among all n(n-1)/2 pairs, by fixed-point iteration."""
    all_pairs = max(n_records * (n_records - 1) / 2, 1.0)
    lam = max(float((total_w >= CONFIDENT_BITS).sum()), 1.0) / all_pairs
    for _ in range(iterations):
        prior = np.log2(lam / (1 - lam))
        expected = float((1.0 / (1.0 + np.exp2(-np.clip(total_w + prior, -60, 60)))).sum())
        lam = min(max(expected, 1.0) / all_pairs, 0.5)
    return lam


#: Expected precision of the pairs decided ``match`` that the derived threshold aims at.
TARGET_PRECISION = 0.999
#: Bounds of a derived match threshold (a probability).
THRESHOLD_BOUNDS = (0.5, 0.99)
#: Fewest candidate pairs above 0.5 for the fitted probabilities to set a threshold.
MIN_PAIRS_FOR_THRESHOLD = 20


def derive_threshold(probability: np.ndarray, target: float = TARGET_PRECISION) -> float | None:
    """The lowest match threshold at which the model's expected precision of the pairs at or
    above it (their mean probability) is still at least ``target``, within
    ``THRESHOLD_BOUNDS``; None when too few pairs support the estimate (use the fixed default)."""
    p = np.sort(np.asarray(probability, dtype=float))[::-1]
    if int((p >= 0.5).sum()) < MIN_PAIRS_FOR_THRESHOLD:
        return None
    expected_precision = np.cumsum(p) / np.arange(1, len(p) + 1)
    ok = np.flatnonzero(expected_precision >= target)
    if not len(ok):
        return THRESHOLD_BOUNDS[1]
    t = float(p[ok[-1]])
    return float(min(max(t, THRESHOLD_BOUNDS[0]), THRESHOLD_BOUNDS[1]))


#: Typical u of a French hospital index (random pairs of a 20k sample); used before any run.
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "birth_name": (0.98367, 0.00001, 0.004, 0.004, 0.0002, 0.0001, 0.00002, 0.008),
    "first_name": (0.98503, 0.00004, 0.00001, 0.00001, 0.0005, 0.0015, 0.0003, 0.002, 0.002, 0.00001, 0.0001, 0.0005,
                   0.008),
    "birth_date": (0.9982, 0.0001, 0.001, 0.00002, 0.0006),
    "sex": (0.5, 0.5),
    "birth_place": (0.89, 0.08, 0.03),
    "ins": (0.45, 0.3, 0.24998, 0.00002),
    "phone": (0.99997, 0.00003),
    "email": (0.9994, 0.0005, 0.00005),
    "address": (0.905, 0.095, 0.00001, 0.00006, 0.00003),
}


def default_model() -> Model:
    """Priors only (before any matching run, e.g. search on a fresh warehouse)."""
    u = {f: np.asarray(DEFAULT_U[f]) for f in FIELDS}
    return Model(m={f: np.asarray(PRIOR_M[f]) for f in FIELDS}, u=u, u_random=u, lam=1e-5)


def weights(model: Model, levels: dict[str, np.ndarray], tf: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Weight (log2 Bayes factor) per field per pair, with term-frequency adjustment."""
    out = {}
    for f, names in FIELDS.items():
        table = np.concatenate([[0.0], np.clip(np.log2(model.m[f] / model.u[f]), -MAX_WEIGHT, MAX_WEIGHT)])
        w = table[levels[f]]
        if f in TF_FIELDS:
            exact = len(names) - 1
            t = tf[f]
            sel = (levels[f] == exact) & ~np.isnan(t)
            if sel.any():
                # Relative to the average agreeing value: frequent values weigh less, rare more.
                u_exact = model.u_random[f][exact - 1]
                adj = np.log2(u_exact / np.maximum(t[sel], u_exact * 1e-3))
                w[sel] = np.clip(w[sel] + np.clip(adj, -MAX_WEIGHT, 6.0), -MAX_WEIGHT, MAX_WEIGHT + 6.0)
        out[f] = w
    # Contact fields are correlated (a household shares address, phone and often e-mail):
    # their summed positive weight is capped, shared out in proportion.
    pos = sum(np.maximum(out[f], 0.0) for f in CONTACT_FIELDS)
    over = pos > CONTACT_CAP
    if over.any():
        factor = np.where(over, CONTACT_CAP / np.maximum(pos, 1e-9), 1.0)
        for f in CONTACT_FIELDS:
            out[f] = np.where(out[f] > 0, out[f] * factor, out[f])
    return out


def score(model: Model, w: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """(match_weight, probability) per pair."""
    total = np.log2(model.lam / (1 - model.lam)) + sum(w.values())
    return total, 1.0 / (1.0 + np.exp2(-np.clip(total, -60, 60)))
