"""identity/clusters.py's guard, directly: a chain A–B–C must not join A and C when they are
incompatible (twins, marked "not the same person"), and no cluster grows past the size cap."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.identity.clusters import components, guarded_clusters


def _incompatible(pairs: set[tuple[int, int]]):
    def check(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.array([(min(p, q), max(p, q)) in pairs for p, q in zip(x, y, strict=True)], dtype=bool)
    return check


def _groups(labels: np.ndarray) -> list[list[int]]:
    out: dict[int, list[int]] = {}
    for node, label in enumerate(labels):
        out.setdefault(int(label), []).append(node)
    return sorted(sorted(g) for g in out.values())


CHAIN_CASES = [
    # description, n, edges (a, b, score), incompatible pairs, expected groups
    ("chain A-B-C, nothing against: one cluster", 3, [(0, 1, 0.99), (1, 2, 0.95)], set(), [[0, 1, 2]]),
    ("chain A-B-C, A and C twins: B stays with its stronger edge (A)", 3, [(0, 1, 0.99), (1, 2, 0.95)], {(0, 2)},
     [[0, 1], [2]]),
    ("chain A-B-C, A and C marked not the same: B goes with C, the stronger edge", 3,
     [(0, 1, 0.92), (1, 2, 0.98)], {(0, 2)}, [[0], [1, 2]]),
    ("star around B, two incompatible leaves among three", 4, [(1, 0, 0.99), (1, 2, 0.97), (1, 3, 0.93)],
     {(0, 3)}, [[0, 1, 2], [3]]),
    ("two separate pairs are left alone", 4, [(0, 1, 0.99), (2, 3, 0.99)], {(0, 3)}, [[0, 1], [2, 3]]),
]


@pytest.mark.parametrize(("description", "n", "edges", "bad", "expected"), CHAIN_CASES, ids=[c[0] for c in CHAIN_CASES])
def test_chain_guard(description, n, edges, bad, expected):
    a = np.array([e[0] for e in edges])
    b = np.array([e[1] for e in edges])
    score = np.array([e[2] for e in edges])
    labels = guarded_clusters(n, a, b, score, _incompatible(bad))
    assert _groups(labels) == expected, description
    # without the guard the chain is one component: the guard is what split it
    assert len(_groups(components(n, a, b))) <= len(expected)


def test_cluster_size_cap():
    n = 30
    a = np.zeros(n - 1, dtype=np.int64)          # a star: node 0 matched to everyone
    b = np.arange(1, n, dtype=np.int64)
    score = np.linspace(0.999, 0.95, n - 1)    # strongest edges first
    labels = guarded_clusters(n, a, b, score, _incompatible(set()), max_size=12)
    sizes = sorted((len(g) for g in _groups(labels)), reverse=True)
    assert sizes[0] == 12                      # capped, built from the 11 strongest edges
    assert _groups(labels)[0] == list(range(12))
    assert sum(sizes) == n and all(s == 1 for s in sizes[1:])


def test_small_components_skip_the_check():
    calls = []

    def spy(x, y):
        calls.append(len(x))
        return np.zeros(len(x), dtype=bool)

    labels = guarded_clusters(4, np.array([0, 2]), np.array([1, 3]), np.array([0.99, 0.99]), spy)
    assert _groups(labels) == [[0, 1], [2, 3]] and calls == []
