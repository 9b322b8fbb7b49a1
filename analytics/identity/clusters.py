"""Clusters of one person's records: connected components of ``match`` edges, guarded.

A chain A–B–C can join two different people through a middle record similar to both. Every
component of three or more records is therefore checked: all its pairs are scored, and when
one of them is incompatible (decided non-match, a twins/collision pair, or marked "not the
same person"), the component is rebuilt greedily from its strongest edges, refusing any union
that would put an incompatible pair together. Components are also capped at ``max_size``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

__all__ = ["components", "guarded_clusters"]


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label (smallest member position) of each of ``n`` nodes; vectorised min-label
    propagation with pointer jumping."""
    label = np.arange(n, dtype=np.int64)
    if len(a) == 0:
        return label
    while True:
        la, lb = label[a], label[b]
        low = np.minimum(la, lb)
        before = label.copy()
        np.minimum.at(label, a, low)
        np.minimum.at(label, b, low)
        np.minimum.at(label, la, low)
        np.minimum.at(label, lb, low)
        label = label[label]  # pointer jumping
        if np.array_equal(label, before):
            return label


def guarded_clusters(
    n: int,
    a: np.ndarray,
    b: np.ndarray,
    score: np.ndarray,
    incompatible: Callable[[np.ndarray, np.ndarray], np.ndarray],
    max_size: int = 12,
) -> np.ndarray:
    """Labels from match edges (``a``, ``b``, ``score``); ``incompatible(x, y)`` tells, for arrays
    of positions, which pairs must not share a cluster."""
    label = components(n, a, b)
    sizes = np.bincount(label, minlength=n)
    big = np.flatnonzero(sizes >= 3)
    if len(big) == 0:
        return label
    members_of = {int(c): np.flatnonzero(label == c) for c in big} if len(big) < 2000 else None
    if members_of is None:
        order = np.argsort(label, kind="stable")
        starts = np.searchsorted(label[order], big)
        members_of = {int(c): order[s:s + sizes[c]] for c, s in zip(big, starts, strict=True)}
    # All intra-cluster pairs of the big components, checked in one vectorised call.
    xs, ys = [], []
    for members in members_of.values():
        i, j = np.triu_indices(len(members), 1)
        xs.append(members[i])
        ys.append(members[j])
    x, y = np.concatenate(xs), np.concatenate(ys)
    bad = incompatible(x, y)
    bad_set = {(int(p), int(q)) for p, q in zip(x[bad], y[bad], strict=True)}
    edge_cluster = label[a]
    for c, members in members_of.items():
        if not any((min(p, q), max(p, q)) in bad_set for p in members for q in members if p < q) \
                and len(members) <= max_size:
            continue
        sel = np.flatnonzero(edge_cluster == c)
        sel = sel[np.argsort(-score[sel], kind="stable")]
        group = {int(m): {int(m)} for m in members}
        for e in sel:
            ga, gb = group[int(a[e])], group[int(b[e])]
            if ga is gb or len(ga) + len(gb) > max_size:
                continue
            if any((min(p, q), max(p, q)) in bad_set for p in ga for q in gb):
                continue
            merged = ga | gb
            for m in merged:
                group[m] = merged
        for m in members:
            label[m] = min(group[int(m)])
    return label
