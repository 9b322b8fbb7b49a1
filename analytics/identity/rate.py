"""The duplicate rate of the patient index: the figure a DSI reports against the ≤ 1 % target.

Rate = surplus records / patients indexed, for a matching run. Surplus records are the
records beyond the first of each cluster of one person's records (a cluster of 3 records
holds 2 surplus records): the records a merge would retire. For the latest run the rate is as
the index stands now: a record merged away since the run (``merged_into`` set) counts neither
as surplus nor as a record, so a merge lowers the rate at once, without a new detection. The latest run's numerator is
counted from ``match_clusters``; earlier runs' from the count each run stored in its
``params`` (``surplus_records``), since ``match_clusters`` only holds the latest run. A run
recorded before that count existed has an unknown rate (None), never a made-up 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.identity.awaiting import AWAITING_REVIEW_SQL, UNDECIDED_SQL

__all__ = ["DUPLICATE_RATE_TARGET", "DuplicateRate", "duplicate_rate"]

#: Recommended ceiling for duplicate records in a master patient index (AHIMA): 1 %.
DUPLICATE_RATE_TARGET = 0.01


@dataclass(frozen=True)
class DuplicateRate:
    """The latest run's rate (a fraction: 0.0123 is 1.23 %) with its parts, the target, the
    pairs still waiting for a reviewer, and ``trend``: one row per matching run, oldest first
    (match_run_id, started_at, kind, patients, surplus_records, rate, reviews)."""

    rate: float | None
    numerator: int | None
    denominator: int | None
    target: float
    meets_target: bool | None
    match_run_id: str | None
    pending_reviews: int
    trend: pd.DataFrame


_TREND_SQL = """
WITH latest AS (SELECT match_run_id FROM match_runs ORDER BY started_at DESC, match_run_id DESC LIMIT 1),
-- The latest run's clusters as they are now: a record merged away since (merged_into set) is
-- no longer a surplus record, nor a record of the index.
members AS (
    SELECT c.cluster_id, coalesce(p.retired, FALSE) AS retired
    FROM match_clusters c
    LEFT JOIN (SELECT patient_id, bool_or(merged_into IS NOT NULL) AS retired FROM patients GROUP BY ALL) p
        USING (patient_id)
    WHERE c.match_run_id = (SELECT match_run_id FROM latest)
),
live AS (
    SELECT count(*) FILTER (WHERE NOT retired) - count(DISTINCT cluster_id) FILTER (WHERE NOT retired) AS surplus,
           count(*) FILTER (WHERE retired) AS retired
    FROM members
),
runs AS (
    SELECT r.match_run_id, r.started_at, r.kind, r.reviews,
           CASE WHEN r.match_run_id = (SELECT match_run_id FROM latest) THEN r.patients - (SELECT retired FROM live)
                ELSE r.patients END AS patients,
           CASE WHEN r.match_run_id = (SELECT match_run_id FROM latest) THEN (SELECT surplus FROM live)
                WHEN r.clusters = 0 THEN 0
                ELSE TRY_CAST(json_extract_string(r.params, '$.surplus_records') AS BIGINT)
           END AS surplus_records
    FROM match_runs r
)
SELECT match_run_id, started_at, kind, patients, surplus_records,
       surplus_records / nullif(patients, 0) AS rate, reviews
FROM runs ORDER BY started_at, match_run_id
"""

#: Pairs of the latest run waiting for a reviewer (awaiting.py) whose latest review is not
#: same/not_same.
_PENDING_SQL = """
SELECT count(*) FROM match_pairs m
WHERE """ + AWAITING_REVIEW_SQL + " AND " + UNDECIDED_SQL


def duplicate_rate(con: duckdb.DuckDBPyConnection, actor: Actor) -> DuplicateRate:
    """The duplicate rate of the patient index, its parts and its trend per matching run.

    An aggregate: every role that sees aggregates (viewer included) may read it.
    """
    require(actor, Permission.VIEW_AGGREGATES)
    trend = con.execute(_TREND_SQL).df()
    pending = int(con.execute(_PENDING_SQL).fetchall()[0][0])
    if trend.empty:
        return DuplicateRate(None, None, None, DUPLICATE_RATE_TARGET, None, None, pending, trend)
    last = trend.iloc[-1]
    known = pd.notna(last["surplus_records"]) and pd.notna(last["rate"])
    rate = float(last["rate"]) if known else None
    return DuplicateRate(
        rate=rate,
        numerator=int(last["surplus_records"]) if pd.notna(last["surplus_records"]) else None,
        denominator=int(last["patients"]) if pd.notna(last["patients"]) else None,
        target=DUPLICATE_RATE_TARGET,
        meets_target=None if rate is None else rate <= DUPLICATE_RATE_TARGET,
        match_run_id=str(last["match_run_id"]),
        pending_reviews=pending,
        trend=trend,
    )
