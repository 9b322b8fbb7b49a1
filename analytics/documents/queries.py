"""Read-side queries for the dashboard, each checking the actor's role first.

Patient-level lists need ``VIEW_PATIENT_DATA`` and are traced in the access log (action
``view``, with the filters and the number of rows returned); counts and aggregates need
``VIEW_AGGREGATES`` (a viewer sees them, never a patient's document).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from analytics.access.access_log import record
from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput

__all__ = [
    "DUPLICATE_KINDS",
    "double_entry_pairs",
    "double_entry_passages",
    "double_entry_summary",
    "duplicate_counts",
    "duplicate_documents",
    "last_run",
]

DUPLICATE_KINDS = ("exact", "near", "retyped")
#: Columns double entry may be grouped by (interpolated only after this allow-list).
SUMMARY_DIMENSIONS = ("document_type", "service", "author_id")
PERIODS = ("month", "week")


def _check_limit(limit: int) -> None:
    if not (isinstance(limit, int) and limit > 0):
        raise InvalidInput(f"limit must be a positive whole number, got {limit!r}")


def duplicate_documents(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    *,
    kind: str | None = None,
    patient_id: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> pd.DataFrame:
    """Duplicate document pairs of the latest run with their reason and both documents'
    title, type and date; exact first, then by decreasing score.

    The page (``limit`` pairs from ``offset``) is chosen on ``document_duplicates`` alone, then
    joined to ``documents``: at the large sample (400k pairs) joining first cost ~0.7 s a page.
    """
    require(actor, Permission.VIEW_PATIENT_DATA)
    if kind is not None and kind not in DUPLICATE_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(DUPLICATE_KINDS)}, got {kind!r}")
    _check_limit(limit)
    if not (isinstance(offset, int) and offset >= 0):
        raise InvalidInput(f"offset must be a whole number, zero or more, got {offset!r}")
    result = con.execute(
        """
        WITH page AS (
            SELECT * FROM document_duplicates d
            WHERE ($kind IS NULL OR d.kind = $kind)
              AND ($patient_id IS NULL OR d.patient_id = $patient_id)
            ORDER BY CASE d.kind WHEN 'exact' THEN 0 WHEN 'near' THEN 1 ELSE 2 END,
                     d.score DESC, d.document_id_1, d.document_id_2
            LIMIT $limit OFFSET $offset
        )
        SELECT d.kind, d.score, d.reason, d.patient_id,
               d.document_id_1, a.document_type AS document_type_1, a.title AS title_1,
               a.created_at AS created_at_1, a.status AS status_1,
               d.document_id_2, b.document_type AS document_type_2, b.title AS title_2,
               b.created_at AS created_at_2, b.status AS status_2,
               d.keep_document_id, d.match_run_id AS run_id
        FROM page d
        LEFT JOIN documents a ON a.document_id = d.document_id_1
        LEFT JOIN documents b ON b.document_id = d.document_id_2
        ORDER BY CASE d.kind WHEN 'exact' THEN 0 WHEN 'near' THEN 1 ELSE 2 END,
                 d.score DESC, d.document_id_1, d.document_id_2
        """,
        {"kind": kind, "patient_id": patient_id, "limit": limit, "offset": offset},
    ).df()
    record(con, actor, "view", "document_duplicates", len(result),
           {"kind": kind, "patient_id": patient_id, "limit": limit, "offset": offset})
    return result


def duplicate_counts(con: duckdb.DuckDBPyConnection, actor: Actor) -> pd.DataFrame:
    """Pairs and distinct documents per kind (every kind listed, zero when none)."""
    require(actor, Permission.VIEW_AGGREGATES)
    return con.execute(
        """
        WITH kinds(kind, pos) AS (VALUES ('exact', 0), ('near', 1), ('retyped', 2)),
        pairs AS (
            SELECT kind, count(*) AS pairs, count(keep_document_id) AS archivable_pairs
            FROM document_duplicates GROUP BY kind),
        docs AS (
            SELECT kind, count(DISTINCT document_id) AS documents FROM (
                SELECT kind, document_id_1 AS document_id FROM document_duplicates
                UNION ALL SELECT kind, document_id_2 FROM document_duplicates)
            GROUP BY kind)
        SELECT k.kind, coalesce(p.pairs, 0) AS pairs, coalesce(d.documents, 0) AS documents,
               coalesce(p.archivable_pairs, 0) AS archivable_pairs
        FROM kinds k LEFT JOIN pairs p USING (kind) LEFT JOIN docs d USING (kind)
        ORDER BY k.pos
        """
    ).df()


def double_entry_pairs(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    *,
    patient_id: str | None = None,
    stay_id: str | None = None,
    limit: int = 1000,
) -> pd.DataFrame:
    """Document pairs with re-typed passages (latest run), most costly first."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    _check_limit(limit)
    result = con.execute(
        """
        SELECT * EXCLUDE (run_id), run_id FROM double_entry
        WHERE ($patient_id IS NULL OR patient_id = $patient_id)
          AND ($stay_id IS NULL OR stay_id = $stay_id)
        ORDER BY estimated_minutes DESC, target_document_id, source_document_id
        LIMIT $limit
        """,
        {"patient_id": patient_id, "stay_id": stay_id, "limit": limit},
    ).df()
    record(con, actor, "view", "double_entry", len(result),
           {"patient_id": patient_id, "stay_id": stay_id, "limit": limit})
    return result


def double_entry_passages(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    target_document_id: str,
    *,
    source_document_id: str | None = None,
) -> pd.DataFrame:
    """The re-typed passages of one later document, side by side with their source."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    result = con.execute(
        """
        SELECT source_document_id, target_document_id, source_passage, target_passage,
               chars, similarity
        FROM double_entry_passages
        WHERE target_document_id = $target
          AND ($source IS NULL OR source_document_id = $source)
        ORDER BY source_document_id, target_passage
        """,
        {"target": target_document_id, "source": source_document_id},
    ).df()
    record(con, actor, "view", "double_entry_passages", len(result),
           {"target_document_id": target_document_id, "source_document_id": source_document_id})
    return result


def double_entry_summary(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    *,
    by: Sequence[str] = ("document_type", "service"),
    period: str | None = "month",
) -> pd.DataFrame:
    """Double entry per ``by`` columns (and per local month/week of the later document):
    documents affected, passages, re-typed characters, estimated and audit minutes.

    Every row carries the typing speed and idle threshold that produced its minutes.
    """
    require(actor, Permission.VIEW_AGGREGATES)
    dims = list(by)
    bad = [d for d in dims if d not in SUMMARY_DIMENSIONS]
    if bad:
        raise InvalidInput(
            f"cannot group double entry by {', '.join(bad)}; choose from {', '.join(SUMMARY_DIMENSIONS)}"
        )
    if period is not None and period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)} or None, got {period!r}")
    keys = [f"coalesce({d}, '(unknown)') AS {d}" for d in dims]
    if period is not None:
        keys.insert(0, f"CAST(date_trunc('{period}', target_created_at) AS DATE) AS {period}")
    select_keys = ", ".join(keys) + ", " if keys else ""
    group = "GROUP BY ALL" if keys else ""
    order = ", ".join(str(i + 1) for i in range(len(keys))) if keys else "1"
    return con.execute(
        f"""
        SELECT {select_keys}
               count(DISTINCT target_document_id) AS documents,
               count(*) AS document_pairs,
               CAST(sum(passages) AS BIGINT) AS passages,
               CAST(sum(retyped_chars) AS BIGINT) AS retyped_chars,
               round(sum(estimated_minutes), 2) AS estimated_minutes,
               round(sum(audit_retyped_minutes), 2) AS audit_retyped_minutes,
               any_value(typing_chars_per_minute) AS typing_chars_per_minute,
               any_value(idle_threshold_s) AS idle_threshold_s
        FROM double_entry
        {group}
        ORDER BY {order}
        """  # noqa: S608 - dimensions and period passed the allow-lists above
    ).df()


def last_run(
    con: duckdb.DuckDBPyConnection, actor: Actor, analysis: str = "duplicates"
) -> dict[str, Any] | None:
    """The latest run of ``analysis`` ('duplicates' or 'double_entry') with its parameters
    and counts, or None if it never ran."""
    require(actor, Permission.VIEW_AGGREGATES)
    if analysis not in ("duplicates", "double_entry"):
        raise InvalidInput(f"analysis must be 'duplicates' or 'double_entry', got {analysis!r}")
    rows = con.execute(
        """
        SELECT run_id, actor, started_at, finished_at, params, summary FROM document_runs
        WHERE analysis = $analysis ORDER BY started_at DESC LIMIT 1
        """,
        {"analysis": analysis},
    ).fetchall()  # fetch to the end: DuckDB 2 refuses new work on an unfinished result
    if not rows:
        return None
    run_id, who, started, finished, params, summary = rows[0]
    return {
        "run_id": run_id,
        "actor": who,
        "started_at": started,
        "finished_at": finished,
        "params": json.loads(params) if params else {},
        "summary": json.loads(summary) if summary else {},
    }
