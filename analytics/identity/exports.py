"""Frames behind ``hygie duplicates export``: scored pairs with per-field levels, clusters."""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.identity.comparisons import FIELDS
from analytics.identity.reviews import log_access

__all__ = ["DECISION_VALUES", "export_clusters", "export_pairs"]

DECISION_VALUES = ("match", "review", "non-match")


def export_pairs(con: duckdb.DuckDBPyConnection, actor: Actor, *,
                 decisions: tuple[str, ...] = ("match", "review")) -> pd.DataFrame:
    """Pairs of the latest run: patient_id_1, patient_id_2, score, decision, rule, match_weight
    and one ``<field>_level`` column per field."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    bad = [d for d in decisions if d not in DECISION_VALUES]
    if bad or not decisions:
        raise InvalidInput(f"decision: '{bad[0] if bad else ''}' is not one of match, review, non-match")
    levels = ", ".join(f"{f} AS {f}_level" for f in FIELDS)
    marks = ", ".join("?" for _ in decisions)
    frame = con.execute(f"""
        SELECT patient_id_1, patient_id_2, round(score, 6) AS score, decision, rule,
               round(match_weight, 3) AS match_weight, {levels}
        FROM match_pairs WHERE decision IN ({marks})
        ORDER BY score DESC, patient_id_1, patient_id_2
    """, list(decisions)).df()  # noqa: S608 - internal identifiers only
    log_access(con, actor, "view", "match_pairs", len(frame), {"decisions": list(decisions)})
    return frame


def export_clusters(con: duckdb.DuckDBPyConnection, actor: Actor) -> pd.DataFrame:
    """patient_id, cluster_id of the latest run (records in clusters of two or more)."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    frame = con.execute(
        "SELECT patient_id, cluster_id FROM match_clusters ORDER BY cluster_id, patient_id").df()
    log_access(con, actor, "view", "match_clusters", len(frame))
    return frame
