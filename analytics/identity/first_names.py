"""Known first names: tells two real first names (LEA / LENA, twins) from a typo (LEA / LEAA).

The list is the per-country first-name dictionary shipped by the ``gender-guesser`` package
(Jörg Michael's ``nam_dict.txt``, ~45,000 names with a popularity digit per country). A name
counts as known when it is at least of popularity 2 (on the dictionary's 1–13 scale) in one of
the countries a French hospital's patients mostly come from (:data:`COUNTRIES`): France and its
neighbours, Britain/USA, the Maghreb and Middle East (``arabia``), Turkey, and the dictionary's
catch-all. Names are normalised as ``normalise.py`` normalises first names (upper case, no
accents, hyphens and apostrophes joined: JEAN-PIERRE → JEANPIERRE).

Why these cut-offs (measured on 10,000 random typos of the sample generator's first names): with
every country and every popularity, 9.7 % of typos land on some real name somewhere; with these
countries and popularity ≥ 2, 3.8 %, while every name of the twin pairs the identity-safety tests
use (Léa/Léna, Louis/Lucas, Emma/Emmy, Jade/Jad, Théo/Tom, Manon/Marion) stays known.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

import numpy as np
import pandas as pd

__all__ = ["COUNTRIES", "is_known_first_name", "known_first_names", "normalise_first_name"]

#: Countries (gender-guesser's column names) whose common first names count as known.
COUNTRIES = ("france", "belgium", "swiss", "luxembourg", "italy", "spain", "portugal", "great_britain", "usa",
             "germany", "arabia", "turkey", "other_countries")
MIN_POPULARITY = 2

# Column order of nam_dict.txt (gender_guesser.detector.Detector.COUNTRIES).
_ALL_COUNTRIES = """great_britain ireland usa italy malta portugal spain france belgium luxembourg the_netherlands
    east_frisia germany austria swiss iceland denmark norway sweden finland estonia latvia lithuania poland
    czech_republic slovakia hungary romania bulgaria bosniaand croatia kosovo macedonia montenegro serbia slovenia
    albania greece russia belarus moldova ukraine armenia azerbaijan georgia the_stans turkey arabia israel china
    india japan korea vietnam other_countries""".split()


def normalise_first_name(name: str) -> str:
    """Upper case, accents removed, anything but letters dropped (as first names are indexed)."""
    text = "".join(ch for ch in unicodedata.normalize("NFKD", name.upper()) if not unicodedata.combining(ch))
    return re.sub("[^A-Z]", "", text)


@functools.cache
def _known() -> frozenset[str]:
    columns = [30 + _ALL_COUNTRIES.index(c) for c in COUNTRIES]
    text = resources.files("gender_guesser").joinpath("data/nam_dict.txt").read_text(encoding="utf-8")
    out: set[str] = set()
    for line in text.splitlines():
        if not line or line[0] in "#=":
            continue
        if not any(len(line) > col and line[col] != " " and int(line[col], 16) >= MIN_POPULARITY
                   for col in columns):
            continue
        name = line[3:29].strip()
        # '+' joins the parts of a compound name (JEAN+PIERRE): glued, as first names are indexed.
        out.add(normalise_first_name(name.replace("+", "")))
    out.discard("")
    return frozenset(out)


def is_known_first_name(name: str | None) -> bool:
    """Whether ``name`` (any spelling) is a known first name."""
    return bool(name) and normalise_first_name(str(name)) in _known()


def known_first_names(values: np.ndarray) -> np.ndarray:
    """Vectorised membership of already-normalised first names ('' or None → False)."""
    return pd.Series(values, dtype=object).isin(_known()).to_numpy(dtype=bool)
