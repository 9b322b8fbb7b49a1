"""From scores to decisions: thresholds, collision guards, reviewer memory."""

from __future__ import annotations

import duckdb
import numpy as np

from analytics.errors import InvalidInput
from analytics.identity.comparisons import FIELDS

__all__ = ["DEFAULT_MATCH", "DEFAULT_REVIEW", "decide", "ins_conflict", "resolve_thresholds", "twins_guard"]

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


def twins_guard(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs that look like twins (or any collision within one household): same or close
    birth name, same or nearly same birth date, same address or phone, but a different first
    name (or one list merely contained in the other: PAUL / JEAN PAUL), or a similar first
    name with a different sex, or masculine/feminine forms of one name (LOUIS / LOUISE), whatever
    the recorded sex. These are never decided ``match``."""
    same_name = levels["birth_name"] >= _lvl("birth_name", "close")
    near_date = levels["birth_date"] >= _lvl("birth_date", "default")
    home = (levels["address"] >= _lvl("address", "close")) | (levels["phone"] == _lvl("phone", "exact"))
    fn_other = levels["first_name"] <= _lvl("first_name", "partial")
    # Masculine/feminine forms (LOUIS / LOUISE) count as different first names (fn_other); a
    # merely similar first name is a twin only when the sexes are known to differ.
    fn_close_other_sex = (levels["first_name"] == _lvl("first_name", "close")) & (
        levels["sex"] == _lvl("sex", "far"))
    ins_agrees = levels["ins"] == _lvl("ins", "exact")  # twins never share an INS
    return same_name & near_date & home & (fn_other | fn_close_other_sex) & (
        levels["first_name"] > 0) & ~ins_agrees


def ins_conflict(levels: dict[str, np.ndarray]) -> np.ndarray:
    """Pairs whose INS are both verified (RECUP/QUAL) and differ: two people, whatever the
    other traits say. Twins can agree on every other trait when one is called by a used first
    name that is the other's first name (GABRIELLE ALICE called ALICE / ALICE): the first
    names then agree and the twins guard cannot see them. Never decided ``match``."""
    return levels["ins"] == _lvl("ins", "far_strong")


def decide(
    score: np.ndarray, levels: dict[str, np.ndarray], threshold_match: float, threshold_review: float,
    reviewed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(decision, rule) per pair. ``reviewed``: '' / 'same' / 'not_same' / 'unsure' per pair."""
    decision = np.where(score >= threshold_match, "match",
                        np.where(score >= threshold_review, "review", "non-match")).astype(object)
    rule = np.full(len(score), None, dtype=object)
    twins = twins_guard(levels) & (decision == "match")
    decision[twins] = "review"
    rule[twins] = "twins"
    conflict = ins_conflict(levels) & (decision == "match")
    decision[conflict] = "review"
    rule[conflict] = "ins_conflict"
    if reviewed is not None:
        same = reviewed == "same"
        not_same = reviewed == "not_same"
        decision[same] = "match"
        rule[same] = "reviewed same"
        decision[not_same] = "non-match"
        rule[not_same] = "reviewed not_same"
    return decision, rule
