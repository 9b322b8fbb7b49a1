"""French phonetic key: Soundex2 (F. Brouard's French adaptation of Soundex).

Implemented once, as a DuckDB SQL macro, so that it runs vectorised over whole columns (on the
distinct names only) and identically for a single typed name at the identity desk. English
Soundex groups letters by English pronunciation and is wrong for French names.

Steps (input already upper-case, accent-free):

1. ``GUI→KI, GUE→KE, GA→KA, GO→KO, GU→K, CA→KA, CO→KO, CU→KU, Q→K, CC→K, CK→K``;
2. every vowel ``E I O U`` except the first letter becomes ``A``;
3. prefixes ``MAC→MCC, ASA→AZA, KN→NN, PF→FF, SCH→SSS, PH→FF`` (``PH→FF`` also inside the
   name: STEPHANE and STEFANE sound alike);
4. ``H`` is dropped unless it follows ``C`` or ``S``; ``Y`` is dropped unless it follows ``A``;
5. a final ``A, D, S`` or ``T`` is dropped;
6. every ``A`` except a leading one is dropped; runs of one letter collapse to one;
7. the blocking key keeps the first 4 characters (the full key is kept for comparisons).
"""

from __future__ import annotations

import re
from functools import lru_cache

import duckdb

__all__ = ["install_macros", "soundex2", "soundex2_py"]

_COMBIN = [
    ("GUI", "KI"), ("GUE", "KE"), ("GA", "KA"), ("GO", "KO"), ("GU", "K"), ("CA", "KA"),
    ("CO", "KO"), ("CU", "KU"), ("Q", "K"), ("CC", "K"), ("CK", "K"),
]
_PREFIXES = [("MAC", "MCC"), ("ASA", "AZA"), ("KN", "NN"), ("PF", "FF"), ("SCH", "SSS")]


def _soundex2_sql(arg: str = "s") -> str:
    e = f"regexp_replace(coalesce({arg}, ''), '[^A-Z]', '', 'g')"
    for old, new in _COMBIN:
        e = f"replace({e}, '{old}', '{new}')"
    e = f"(left({e}, 1) || regexp_replace(substr({e}, 2), '[EIOU]', 'A', 'g'))"
    for old, new in _PREFIXES:
        e = f"regexp_replace({e}, '^{old}', '{new}')"
    e = f"replace({e}, 'PH', 'FF')"
    # H after anything but C/S goes (twice: a regex pass cannot see overlapping matches).
    e = f"regexp_replace(regexp_replace(regexp_replace({e}, '^H+', ''), '([^CS])H', '\\1', 'g'), '([^CS])H', '\\1', 'g')"
    e = f"regexp_replace(regexp_replace(regexp_replace({e}, '^Y+', ''), '([^A])Y', '\\1', 'g'), '([^A])Y', '\\1', 'g')"
    e = f"regexp_replace({e}, '[ADST]$', '')"
    e = f"(left({e}, 1) || replace(substr({e}, 2), 'A', ''))"
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        e = f"regexp_replace({e}, '{letter}{letter}+', '{letter}', 'g')"
    return e


_MACRO = _soundex2_sql("s")


def install_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Define ``hy_soundex2(name)`` (full key) on this connection (temporary macro)."""
    con.execute(f"CREATE OR REPLACE TEMP MACRO hy_soundex2(s) AS ({_MACRO})")


_LOCAL: duckdb.DuckDBPyConnection | None = None


def soundex2(name: str | None, length: int | None = 4) -> str:
    """Soundex2 key of one already normalised name (``length=None``: the full key)."""
    global _LOCAL
    if _LOCAL is None:
        _LOCAL = duckdb.connect(":memory:")
        install_macros(_LOCAL)
    key = _LOCAL.execute("SELECT hy_soundex2(?)", [name]).fetchone()[0]
    return key if length is None else key[:length]


@lru_cache(maxsize=65536)
def soundex2_py(name: str | None) -> str:
    """The same full key in Python, for one typed name at the identity desk (no SQL round trip).
    Kept identical to the SQL macro by a test over the sample name pools."""
    e = re.sub("[^A-Z]", "", name or "")
    for old, new in _COMBIN:
        e = e.replace(old, new)
    e = e[:1] + re.sub("[EIOU]", "A", e[1:])
    for old, new in _PREFIXES:
        if e.startswith(old):
            e = new + e[len(old):]
    e = e.replace("PH", "FF")
    e = re.sub("^H+", "", e)
    for _ in range(2):
        e = re.sub("([^CS])H", r"\1", e)
    e = re.sub("^Y+", "", e)
    for _ in range(2):
        e = re.sub("([^A])Y", r"\1", e)
    e = re.sub("[ADST]$", "", e)
    e = e[:1] + e[1:].replace("A", "")
    return re.sub(r"([A-Z])\1+", r"\1", e)
