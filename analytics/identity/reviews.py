"""Reviewer decisions on pairs, and the queue of pairs waiting for one.

A pair marked ``not_same`` ("not the same person") never comes back: not in the queue, and
never decided ``match`` by later runs (the decision is replayed on every run). ``same``
forces ``match``; ``unsure`` leaves the pair in the queue.

Four-eyes review (setting ``review.four_eyes`` = ``on``): a first "same person" is stored as
``same_pending`` (the pair stays in the queue for other reviewers and changes nothing else); it
becomes ``same`` (what later runs and the merge job read) only when a second reviewer, another
account, says "same person" too. "Not the same person" needs one reviewer: it only prevents.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput

__all__ = ["DECISIONS", "FOUR_EYES_SETTING", "SAME_PENDING", "four_eyes", "log_access", "record_review",
           "review_queue", "set_four_eyes"]

DECISIONS = ("same", "not_same", "unsure")
#: Stored decision of a first "same person" while four-eyes review is on.
SAME_PENDING = "same_pending"
FOUR_EYES_SETTING = "review.four_eyes"
_ON = {"on", "true", "1", "yes", "oui"}
_OFF = {"off", "false", "0", "no", "non", ""}


def four_eyes(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether a "same person" decision needs a second reviewer (setting ``review.four_eyes``)."""
    row = con.execute("SELECT value FROM settings WHERE key = ?", [FOUR_EYES_SETTING]).fetchall()
    value = str(row[0][0]).strip().lower() if row and row[0][0] is not None else "off"
    if value not in _ON | _OFF:
        raise InvalidInput(f"setting {FOUR_EYES_SETTING}: '{row[0][0]}' is not on or off")
    return value in _ON


def set_four_eyes(con: duckdb.DuckDBPyConnection, actor: Actor, on: bool) -> None:
    """Turn four-eyes review on or off (setting ``review.four_eyes``): an administrator's change,
    recorded in the access log (``settings_change``) with the stored value before and after (a
    value :func:`four_eyes` refuses can be replaced this way). A first "same person" already
    stored as ``same_pending`` stays in the queue until another "same person" settles it."""
    require(actor, Permission.CHANGE_SETTINGS)
    row = con.execute("SELECT value FROM settings WHERE key = ?", [FOUR_EYES_SETTING]).fetchall()
    before = row[0][0] if row else None
    value = "on" if on else "off"
    con.execute(
        "INSERT INTO settings VALUES (?, ?, now(), ?) ON CONFLICT (key) DO UPDATE "
        "SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        [FOUR_EYES_SETTING, value, actor.username])
    from analytics.access.access_log import record

    record(con, actor, "settings_change", "settings", 1,
           {"key": FOUR_EYES_SETTING, "before": before, "after": value})


def log_access(con: duckdb.DuckDBPyConnection, actor: Actor, action: str, obj: str,
               row_count: int | None = None, detail: dict | None = None) -> None:
    """Trace an access to patient data (``action``: view / review) in the access log."""
    from analytics.access.access_log import record

    record(con, actor, action, obj, row_count=row_count, detail=detail)


def record_review(
    con: duckdb.DuckDBPyConnection, actor: Actor, patient_id_1: str, patient_id_2: str, decision: str,
    comment: str | None = None,
) -> str:
    """Store a reviewer's decision on a pair and apply it to the latest run's pair; returns the
    decision stored (``same_pending`` for a first "same person" under four-eyes review)."""
    require(actor, Permission.REVIEW_PAIRS)
    if decision not in DECISIONS:
        raise InvalidInput(f"decision: '{decision}' is not one of same, not_same, unsure")
    if patient_id_1 == patient_id_2:
        raise InvalidInput("a pair needs two different patients")
    p1, p2 = sorted([str(patient_id_1), str(patient_id_2)])
    found = con.execute("SELECT count(DISTINCT patient_id) FROM patients WHERE patient_id IN (?, ?)", [p1, p2]).fetchone()[0]
    if found < 2:
        missing = [p for p in (p1, p2) if not con.execute(
            "SELECT 1 FROM patients WHERE patient_id = ?", [p]).fetchone()]
        raise InvalidInput(f"patient '{missing[0]}' not found")
    stored = decision
    if decision == "same" and four_eyes(con):
        stored = _four_eyes_same(con, actor, p1, p2)
    con.execute("INSERT INTO pair_reviews VALUES (?, ?, ?, ?, now(), ?)", [p1, p2, stored, actor.username, comment])
    if stored in ("same", "not_same"):
        new = "match" if decision == "same" else "non-match"
        con.execute(
            "UPDATE match_pairs SET decision = ?, rule = ? WHERE patient_id_1 = ? AND patient_id_2 = ?",
            [new, f"reviewed {decision}", p1, p2])
    log_access(con, actor, "review", "pair_reviews", 1, {"patient_id_1": p1, "patient_id_2": p2, "decision": stored})
    return stored


def _four_eyes_same(con: duckdb.DuckDBPyConnection, actor: Actor, p1: str, p2: str) -> str:
    """``same`` when another reviewer's "same person" is waiting on the pair (the latest review),
    else ``same_pending``; the first reviewer cannot confirm their own decision."""
    latest = con.execute(
        "SELECT decision, reviewer FROM pair_reviews WHERE patient_id_1 = ? AND patient_id_2 = ? "
        "ORDER BY decided_at DESC LIMIT 1", [p1, p2]).fetchall()
    if latest and latest[0][0] == SAME_PENDING:
        if latest[0][1] == actor.username:
            raise InvalidInput("review.four_eyes", user=actor.username, pair=f"{p1}/{p2}")
        return "same"
    return SAME_PENDING


def review_queue(
    con: duckdb.DuckDBPyConnection, actor: Actor, *, limit: int = 100, offset: int = 0,
    include_matches: bool = False,
) -> pd.DataFrame:
    """Pairs decided ``review`` (and ``match`` if asked) not yet settled by a reviewer, best
    score first, with both identities side by side (``*_1`` / ``*_2`` columns)."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    if limit < 1 or offset < 0:
        raise InvalidInput(f"limit ({limit}) must be at least 1 and offset ({offset}) not negative")
    from analytics.identity.queue import page_frame  # queue.py builds on this module

    frame = page_frame(con, limit=limit, offset=offset, include_matches=include_matches, reviewer=actor.username)
    frame = frame[frame["patient_id_1"].notna()].reset_index(drop=True)
    frame = frame.drop(columns=["pending", "total", "service_choices", "status_choices", "created_at_1",
                                "created_at_2", "service", "newest_record"])
    log_access(con, actor, "view", "review_queue", len(frame), {"limit": limit, "offset": offset})
    from analytics.identity.masking import mask_identities

    return mask_identities(frame, actor)
