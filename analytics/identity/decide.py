"""From scores to decisions: thresholds, collision guards, reviewer memory."""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import numpy as np

from analytics.errors import InvalidInput
from analytics.identity.attributes import DOUBTFUL, FICTITIOUS, HOMA
from analytics.identity.comparisons import FIELDS

__all__ = ["AUTO_MERGE_TRAITS", "DEFAULT_MATCH", "DEFAULT_REVIEW", "auto_merge_blockers", "auto_merge_eligible", "decide",
           "ins_collision",
           "ins_conflict", "resolve_thresholds", "twins_guard"]

DEFAULT_MATCH = 0.9
DEFAULT_REVIEW = 0.2
_SETTING_MATCH = "matching.threshold_match"
_SETTING_REVIEW = "matching.threshold_review"


def _lvl(field: str, name: str) -> int:
    return FIELDS[field].index(name)


def resolve_thresholds(
    con: duckdb.DuckDBPyConnection | None, threshold_match: float | None, threshold_review: float | None
) -> tuple[float, float]:
    """Explicit values, else the ``settings`` table, else the defaults; checked."""
    stored: dict[str, str] = {}
    if con is not None and (threshold_match is None or threshold_review is None):
        stored = dict(con.execute(
            "SELECT key, value FROM settings WHERE key IN (?, ?)", [_SETTING_MATCH, _SETTING_REVIEW]).fetchall())
    values = []
    for label, given, key, default in (
        ("threshold_match", threshold_match, _SETTING_MATCH, DEFAULT_MATCH),
        ("threshold_review", threshold_review, _SETTING_REVIEW, DEFAULT_REVIEW),
    ):
        raw = given if given is not None else stored.get(key, default)
        try:
            value = float(raw)
        except (TypeError, ValueError):
            raise InvalidInput(f"{label}: '{raw}' is not a number between 0 and 1") from None
        if not 0.0 <= value <= 1.0 or value != value:
            raise InvalidInput(f"{label}: {raw} is outside [0, 1]")
        values.append(value)
    match, review = values
    if review > match:
        raise InvalidInput(f"threshold_review ({review}) must not exceed threshold_match ({match})")
    return match, review


def _any(levels: np.ndarray, field: str, names: tuple[str, ...]) -> np.ndarray:
    """Pairs whose ``field`` level is one of ``names`` (by name: no level order assumed)."""
    return np.isin(levels, [_lvl(field, n) for n in names])


#: Birth-name levels that count as "the same family name" for the twins/siblings guard.
SAME_FAMILY_NAME = ("close", "cross", "word", "particle", "inverted", "exact")
#: Birth-date levels of a multiple birth (or a sibling's date typed for the other's).
NEAR_BIRTH_DATE = ("default", "typo", "swap", "exact")
#: Address levels of a shared household (a postcode typo included: ``street``).
SAME_HOME = ("street", "close", "exact")
#: First-name levels of two different first names: every level but a typo of a non-name
#: (``close``), the same names reordered, identical, and a compound reduced to its first part
#: (JEAN-PIERRE / JEAN: how a desk shortens a first name, not how twins are named; it is never
#: eligible for automatic merge either). On the medium sample, guarding ``compound`` held back
#: ~0.1 % of the true duplicates and no twin.
#: An initial (J / JADE) cannot tell twins apart either (issue 12's name variants), nor a
#: nickname-like pair of two given names (ADÈLE / ADÉLAÏDE: twins of the 1M sample were matched).
OTHER_FIRST_NAME = ("far", "gendered", "partial", "other_name", "used", "initial", "nickname")
#: First-name levels that a desk's typing explains (a typo of a non-name, a name shortened:
#: ALEXANDRE / ALEX): twins only when the sexes are known to differ.
NEAR_FIRST_NAME = ("close", "compound")


def twins_guard(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs that look like twins or siblings (RNIV: a collision risk): same family name, same or
    nearly the same birth date, a shared household (same address or phone), and first names
    that are not the same after normalisation — however close they are, when both are real first
    names (LEA / LENA, ``other_name``), when one is the other's used first name or the other
    gender's form, or a nickname of it (ADÈLE / ADÉLAÏDE). Only a typo of a non-name (LEA / LEAA,
    ``close``) or a shortened name (ALEXANDRE / ALEX, ``compound``) is let through, unless the
    sexes differ. A shared INS rules twins out. Never decided ``match``.
    """
    same_name = _any(levels["birth_name"], "birth_name", SAME_FAMILY_NAME)
    near_date = _any(levels["birth_date"], "birth_date", NEAR_BIRTH_DATE)
    home = _any(levels["address"], "address", SAME_HOME) | (levels["phone"] == _lvl("phone", "exact"))
    fn_other = _any(levels["first_name"], "first_name", OTHER_FIRST_NAME)
    # A typo-like or shortened first name is a twin only when the sexes are known to differ.
    fn_close_other_sex = _any(levels["first_name"], "first_name", NEAR_FIRST_NAME) & (
        levels["sex"] == _lvl("sex", "far"))
    ins_agrees = levels["ins"] == _lvl("ins", "exact")  # twins never share an INS
    return same_name & near_date & home & (fn_other | fn_close_other_sex) & ~ins_agrees


def ins_conflict(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs whose INS are both verified (RECUP/QUAL) and differ: two people, whatever the
    other traits say. Twins can agree on every other trait when one is called by a used first
    name that is the other's first name (GABRIELLE ALICE called ALICE / ALICE): the first
    names then agree and the twins guard cannot see them. Never decided ``match``."""
    return levels["ins"] == _lvl("ins", "far_strong")


def ins_collision(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs that share an INS while both their birth name and their first name differ: one
    identifier on two people (a collision, an INS attached to the wrong record, an usurped
    identity), not a duplicate. Never decided ``match``."""
    return ((levels["ins"] == _lvl("ins", "exact")) & (levels["birth_name"] == _lvl("birth_name", "far"))
            & (levels["first_name"] == _lvl("first_name", "far")))


def decide(
    score: np.ndarray, levels: dict[str, np.ndarray], threshold_match: float, threshold_review: float,
    reviewed: np.ndarray | None = None, attributes: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(decision, rule) per pair. ``reviewed``: '' / 'same' / 'not_same' / 'unsure' per pair;
    ``attributes``: the two records' identity attribute bits (attributes.py), when known.

    Guards, in this order (the rule names the first that fired): ``twins``, ``ins_conflict``,
    ``ins_collision``,
    ``fictitious_identity`` / ``doubtful_identity`` (RNIV: a FICT or DOUT identity is never merged
    without a person deciding: review), ``homonyms_confirmed`` (both records HOMA: the CIV already
    checked them, not proposed again: non-match); then reviewers' decisions override all."""
    decision = np.where(score >= threshold_match, "match",
                        np.where(score >= threshold_review, "review", "non-match")).astype(object)
    rule = np.full(len(score), None, dtype=object)
    # Possible twins go to review labelled as such, whether the score said match or review.
    twins = twins_guard(levels) & (decision != "non-match")
    decision[twins] = "review"
    rule[twins] = "twins"
    conflict = ins_conflict(levels) & (decision == "match")
    decision[conflict] = "review"
    rule[conflict] = "ins_conflict"
    shared = ins_collision(levels) & (decision != "non-match")
    decision[shared] = "review"
    rule[shared] = "ins_collision"
    if attributes is not None:
        bits_a, bits_b = attributes
        either = bits_a | bits_b
        free = rule == None  # noqa: E711 - elementwise on an object array
        for bit, name in ((FICTITIOUS, "fictitious_identity"), (DOUBTFUL, "doubtful_identity")):
            held = ((either & bit) > 0) & (decision != "non-match") & free
            decision[held] = "review"
            rule[held] = name
            free &= ~held
        homonyms = ((bits_a & bits_b & HOMA) > 0) & (decision != "non-match")
        decision[homonyms] = "non-match"
        rule[homonyms] = "homonyms_confirmed"
    if reviewed is not None:
        same = reviewed == "same"
        not_same = reviewed == "not_same"
        decision[same] = "match"
        rule[same] = "reviewed same"
        decision[not_same] = "non-match"
        rule[not_same] = "reviewed not_same"
    return decision, rule


#: RNIV strict traits that must agree up to formatting for an automatic merge.
AUTO_MERGE_TRAITS = ("birth_name", "first_name", "birth_date", "sex", "birth_place")


def auto_merge_eligible(levels: dict[str, np.ndarray], decision: np.ndarray, rule: np.ndarray) -> np.ndarray:
    """Pairs that may be merged without a person checking them (RNIV: tools propose, the CIV
    decides, except where the strict traits agree exactly): decided ``match`` by the score with
    no guard or reviewer involved, birth name, first first name, birth date, sex and birth place
    all ``exact`` (formatting differences only), and the INS equal or absent on a side. Every other
    ``match`` needs a reviewer's "same person" before the merge job uses it."""
    ok = (decision == "match") & np.array([r is None for r in rule], dtype=bool)
    for f in AUTO_MERGE_TRAITS:
        ok &= levels[f] == _lvl(f, "exact")
    ok &= np.isin(levels["ins"], [_lvl("ins", "exact"), _lvl("ins", "missing")])
    return ok


#: INS levels that do not forbid an automatic merge (equal, or absent on a side).
_INS_AUTO = ("exact", "missing")


def auto_merge_blockers(levels: Mapping[str, object]) -> list[str]:
    """Why a pair decided ``match`` by its score is not eligible for automatic merge (the
    :func:`auto_merge_eligible` conditions, by level name): the strict traits whose level is not
    ``exact`` (formatting only), then ``ins`` when the INS differ or contradict the traits.
    ``levels``: level name per field (a ``match_pairs`` row, an explanation). Empty when every
    condition on the levels holds (then a guard or a reviewer is why)."""
    held = [f for f in AUTO_MERGE_TRAITS if levels.get(f) != "exact"]
    if levels.get("ins") not in _INS_AUTO:
        held.append("ins")
    return held
