"""Name variants beyond French spelling: names swapped, nicknames and diminutives, initials.

Used by :mod:`analytics.identity.comparisons` as comparison levels of their own (each with its
own m and u), never as agreement:

* **swapped**: the birth name of one record is (nearly) the first first name of the other and
  the reverse (SMITH JOHN / JOHN SMITH, JOHN SMITHE / SMITH JON): Jaro–Winkler ≥ 0.9 both ways;
* **nickname**: one first name is a diminutive or nickname of the other (WILLIAM / BILL,
  ALEXANDER / SANDY), from the maintained ``nicknames`` package (Old Dominion University's
  hand-curated English list, 1,000+ names), read once, upper-cased, accents removed;
* **initial**: one first name is a single letter, the initial of the other (J / JOHN). An
  initial does not tell twins apart: the twins guard treats it as another first name.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import JaroWinkler

__all__ = ["initial", "nickname", "nickname_pairs", "swapped"]

SWAP_SIMILARITY = 0.9


def _key(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.upper())
    return "".join(ch for ch in text if "A" <= ch <= "Z")


@lru_cache(maxsize=1)
def nickname_pairs() -> frozenset[tuple[str, str]]:
    """(name, nickname) pairs of the ``nicknames`` package, both orders, normalised as first
    names are in the identity index (upper case, letters only)."""
    from nicknames import NickNamer

    namer = NickNamer()
    pairs: set[tuple[str, str]] = set()
    for canonical, nicks in namer.nickname_lookup.items():
        for nick in nicks:
            a, b = _key(canonical), _key(nick)
            if a and b and a != b:
                pairs.update(((a, b), (b, a)))
    return frozenset(pairs)


def swapped(bn: np.ndarray, fn: np.ndarray, a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Birth name of ``a`` ≈ first name of ``b`` and first name of ``a`` ≈ birth name of ``b``
    (strings, '' when absent); only the masked pairs are compared."""
    out = np.zeros(len(mask), dtype=bool)
    idx = np.flatnonzero(mask & (bn[a] != "") & (fn[a] != "") & (bn[b] != "") & (fn[b] != ""))
    if len(idx):
        ab = process.cpdist(bn[a[idx]], fn[b[idx]], scorer=JaroWinkler.normalized_similarity, workers=-1)
        near = idx[ab >= SWAP_SIMILARITY]
        if len(near):
            ba = process.cpdist(fn[a[near]], bn[b[near]], scorer=JaroWinkler.normalized_similarity, workers=-1)
            out[near[ba >= SWAP_SIMILARITY]] = True
    return out


def nickname(left: np.ndarray, right: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One first name is a nickname or diminutive of the other; only the masked pairs."""
    out = np.zeros(len(mask), dtype=bool)
    idx = np.flatnonzero(mask)
    if len(idx):
        known = nickname_pairs()
        out[idx] = [(x, y) in known for x, y in zip(left[idx], right[idx], strict=True)]
    return out


def initial(left: np.ndarray, right: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """One first name is a single letter, the first letter of the other; only masked pairs."""
    out = np.zeros(len(mask), dtype=bool)
    idx = np.flatnonzero(mask)
    if len(idx):
        out[idx] = [bool(x) and bool(y) and min(len(x), len(y)) == 1 and x[0] == y[0] and x != y
                    for x, y in zip(left[idx], right[idx], strict=True)]
    return out
