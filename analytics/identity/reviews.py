"""Reviewer decisions on pairs, and the queue of pairs waiting for one.

A pair marked ``not_same`` ("not the same person") never comes back: not in the queue, and
never decided ``match`` by later runs (the decision is replayed on every run). ``same``
forces ``match``; ``unsure`` leaves the pair in the queue.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput

__all__ = ["DECISIONS", "log_access", "record_review", "review_queue"]

DECISIONS = ("same", "not_same", "unsure")


def log_access(con: duckdb.DuckDBPyConnection, actor: Actor, action: str, obj: str,
               row_count: int | None = None, detail: dict | None = None) -> None:
    """Trace an access to patient data (``action``: view / review) in the access log."""
    from analytics.access.access_log import record

    record(con, actor, action, obj, row_count=row_count, detail=detail)


def record_review(
    con: duckdb.DuckDBPyConnection, actor: Actor, patient_id_1: str, patient_id_2: str, decision: str,
    comment: str | None = None,
) -> None:
    """Store a reviewer's decision on a pair and apply it to the latest run's pair."""
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
    con.execute("INSERT INTO pair_reviews VALUES (?, ?, ?, ?, now(), ?)", [p1, p2, decision, actor.username, comment])
    if decision != "unsure":
        new = "match" if decision == "same" else "non-match"
        con.execute(
            "UPDATE match_pairs SET decision = ?, rule = ? WHERE patient_id_1 = ? AND patient_id_2 = ?",
            [new, f"reviewed {decision}", p1, p2])
    log_access(con, actor, "review", "pair_reviews", 1, {"patient_id_1": p1, "patient_id_2": p2, "decision": decision})


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

    frame = page_frame(con, limit=limit, offset=offset, include_matches=include_matches)
    frame = frame[frame["patient_id_1"].notna()].reset_index(drop=True)
    frame = frame.drop(columns=["pending", "total", "service_choices", "status_choices", "created_at_1",
                                "created_at_2", "service", "newest_record"])
    log_access(con, actor, "view", "review_queue", len(frame), {"limit": limit, "offset": offset})
    return frame
