"""Hours an automation could give back, from what the data shows rather than a flat share.

Per document type (or service), over the documents of the period:

* **re-typed passages**: the active minutes measured in the audit log on later documents,
  pro rata of the characters re-typed from an earlier document of the same patient
  (``double_entry.audit_retyped_minutes``, else its typing-speed estimate), counted once per
  document; a pre-filled form or a copied section would spare ``retyped_recovery`` of them
  (default 1: all, an upper bound);
* **duplicated documents**: the active time spent on the later document of an exact or near
  duplicate pair (``document_duplicates``): a document that need not have been written.

Both are NaN when the documents area has not stored its results (unknown, not zero).
``evidence_hours_saved_per_month`` = (``retyped_recovery`` × re-typed hours + duplicate hours) /
months of the period.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

__all__ = ["add_evidence"]

_RETYPED_SQL = """
SELECT {by} AS k, sum(minutes) / 60 AS retyped_hours
FROM (
    SELECT target_document_id, any_value({by}) AS {by},
           max(coalesce(audit_retyped_minutes, estimated_minutes)) AS minutes
    FROM double_entry
    WHERE ($date_from IS NULL OR CAST(target_created_at AS DATE) >= $date_from)
      AND ($date_to IS NULL OR CAST(target_created_at AS DATE) <= $date_to)
    GROUP BY target_document_id
)
GROUP BY ALL
"""

_DUPLICATE_SQL = """
SELECT t.{by} AS k, sum(t.active_s) / 3600 AS duplicate_hours
FROM ts_document_time t
SEMI JOIN (SELECT document_id_2 AS document_id FROM document_duplicates WHERE kind IN ('exact', 'near')) d
     USING (document_id)
WHERE ($date_from IS NULL OR t.first_day >= $date_from) AND ($date_to IS NULL OR t.first_day <= $date_to)
GROUP BY ALL
"""

# `by` is allow-listed by the caller: document_type or service
_SQL = {
    (name, by): sql.format(by=by)
    for name, sql in (("retyped", _RETYPED_SQL), ("duplicate", _DUPLICATE_SQL))
    for by in ("document_type", "service")
}


def _has_rows(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchone()[0]
    return bool(exists) and con.execute(f"SELECT count(*) > 0 FROM {table}").fetchone()[0]  # noqa: S608 - constant names


def add_evidence(
    con: duckdb.DuckDBPyConnection,
    frame: pd.DataFrame,
    by: str,
    date_from: date | None,
    date_to: date | None,
    retyped_recovery: float,
) -> pd.DataFrame:
    """``frame`` (a ranking by ``by``) with ``retyped_hours``, ``duplicate_hours`` and
    ``evidence_hours_saved_per_month``."""
    frame = frame.copy()
    params = {"date_from": date_from, "date_to": date_to}
    for name, table in (("retyped", "double_entry"), ("duplicate", "document_duplicates")):
        column = f"{name}_hours"
        if not _has_rows(con, table):
            frame[column] = float("nan")
            continue
        extra = con.execute(_SQL[(name, by)], params).df()
        frame = frame.merge(extra, how="left", left_on=by, right_on="k").drop(columns=["k"])
        frame[column] = frame[column].fillna(0.0)
    months = frame["hours"] / frame["hours_per_month"]
    frame["retyped_recovery"] = retyped_recovery
    frame["evidence_hours_saved_per_month"] = (
        retyped_recovery * frame["retyped_hours"] + frame["duplicate_hours"]
    ) / months
    return frame
