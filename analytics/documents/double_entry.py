"""Double entry (*double saisie*): information typed again across documents of a patient,
and the minutes it costs.

Two figures per later document, side by side:

- **estimated minutes** = re-typed characters / ``typing_chars_per_minute``. The default,
  200 characters a minute (about 40 words a minute), is an assumption for a clinician typing
  on a hospital keyboard; it is a parameter, stored with every row, and shown with the figure.
  Text pasted rather than typed costs less, so this is an upper estimate of typing effort.
- **audit minutes**: the active time the audit log shows on the later document (per user,
  gaps between consecutive events on that document up to ``idle_threshold_s``; longer gaps
  count nothing), and its share pro rata of the re-typed characters. The full time model
  (sessions, schedules, after hours) belongs to :mod:`analytics.timesinks`.
"""

from __future__ import annotations

import time
import uuid

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.documents.duplicates import check_params, detect_exact, detect_near
from analytics.documents.passages import match_passages
from analytics.documents.prepare import prepare_documents, record_run
from analytics.errors import InvalidInput

__all__ = ["DEFAULT_IDLE_THRESHOLD_S", "DEFAULT_TYPING_CHARS_PER_MINUTE", "find_double_entry"]

#: Typing speed assumed for the minutes estimate (≈ 40 words a minute).
DEFAULT_TYPING_CHARS_PER_MINUTE = 200.0
#: Longest gap between two audit events on a document still counted as active time.
DEFAULT_IDLE_THRESHOLD_S = 300

_AUDIT_SQL = """
CREATE OR REPLACE TEMP TABLE _docs_audit AS
WITH ev AS (
    SELECT document_id, "timestamp" AS ts,
           lead("timestamp") OVER (
               PARTITION BY user_id, document_id ORDER BY "timestamp", event_id) AS nxt
    FROM audit_events
    WHERE document_id IN (SELECT target_document_id FROM _docs_retyped_pairs)
)
SELECT document_id,
       sum(CASE WHEN epoch(nxt) - epoch(ts) <= $idle THEN epoch(nxt) - epoch(ts) ELSE 0 END)
           / 60.0 AS minutes
FROM ev GROUP BY document_id
"""

_RESULT_SQL = """
SELECT $run_id AS run_id, r.patient_id, r.stay_id, r.source_document_id, r.target_document_id,
       t.document_type, t.service, t.author_id, t.created_at AS target_created_at,
       CAST(r.passages AS INTEGER) AS passages, CAST(r.retyped_chars AS BIGINT) AS retyped_chars,
       CAST(t.text_chars AS BIGINT) AS target_chars,
       r.mean_similarity,
       r.retyped_chars / $speed AS estimated_minutes,
       a.minutes AS audit_active_minutes,
       a.minutes * least(1.0, r.retyped_chars / greatest(t.text_chars, 1)) AS audit_retyped_minutes,
       CAST($speed AS DOUBLE) AS typing_chars_per_minute,
       CAST($idle AS INTEGER) AS idle_threshold_s
FROM _docs_retyped_pairs r
JOIN _docs t ON t.document_id = r.target_document_id
LEFT JOIN _docs_audit a ON a.document_id = r.target_document_id
ORDER BY r.patient_id, r.stay_id NULLS LAST, t.created_at, r.target_document_id, r.source_document_id
"""


def find_double_entry(
    con: duckdb.DuckDBPyConnection,
    *,
    actor: Actor,
    min_chars: int = 25,
    typing_chars_per_minute: float = DEFAULT_TYPING_CHARS_PER_MINUTE,
    idle_threshold_s: int = DEFAULT_IDLE_THRESHOLD_S,
    retyped_threshold: float = 90.0,
    scope: str = "stay",
    near_days: int = 10,
    near_threshold: float = 90.0,
    template_min_patients: int | None = 10,
    template_share: float = 0.2,
) -> pd.DataFrame:
    """Find passages typed again in a later document of the same patient (or stay, with
    ``scope="stay"``) and what they cost; store them in ``double_entry`` and
    ``double_entry_passages`` (latest run wins) and return one row per document pair.

    Exact and near duplicate documents (see :func:`find_duplicate_documents`, same
    ``near_days`` / ``near_threshold``) are not double entry and are left out.
    """
    require(actor, Permission.VIEW_PATIENT_DATA)
    params = {
        "min_chars": min_chars,
        "typing_chars_per_minute": typing_chars_per_minute,
        "idle_threshold_s": idle_threshold_s,
        "retyped_threshold": retyped_threshold,
        "scope": scope,
        "near_days": near_days,
        "near_threshold": near_threshold,
        "template_min_patients": template_min_patients,
        "template_share": template_share,
    }
    check_params(**params)
    if not (isinstance(typing_chars_per_minute, int | float) and typing_chars_per_minute > 0):
        raise InvalidInput(
            f"typing_chars_per_minute must be a positive number, got {typing_chars_per_minute!r}"
        )
    if not (isinstance(idle_threshold_s, int) and idle_threshold_s > 0):
        raise InvalidInput(f"idle_threshold_s must be a whole number of seconds > 0, got {idle_threshold_s!r}")
    started = time.perf_counter()
    run_id = f"docdbl-{uuid.uuid4().hex[:12]}"
    n_docs = prepare_documents(con)
    detect_exact(con)
    detect_near(con, near_days=near_days, near_threshold=near_threshold)
    stats = match_passages(
        con,
        min_chars=min_chars,
        threshold=retyped_threshold,
        scope=scope,
        template_min_patients=template_min_patients,
        template_share=template_share,
    )
    con.execute(_AUDIT_SQL, {"idle": idle_threshold_s})
    binds = {"run_id": run_id, "speed": float(typing_chars_per_minute), "idle": idle_threshold_s}
    con.execute(f"CREATE OR REPLACE TEMP TABLE _docs_double_entry AS {_RESULT_SQL}", binds)
    result = con.execute("SELECT * FROM _docs_double_entry").df()
    seconds = time.perf_counter() - started
    counts = {
        "documents": n_docs,
        "passages": stats.passages,
        "template_passages": stats.template_passages,
        "passage_candidates": stats.candidate_pairs,
        "retyped_passages": stats.retyped_passages,
        "document_pairs": len(result),
        "retyped_chars": int(result["retyped_chars"].sum()) if len(result) else 0,
        "estimated_minutes": round(float(result["estimated_minutes"].sum()), 3) if len(result) else 0.0,
        "seconds": round(seconds, 3),
    }
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM double_entry")
        con.execute("DELETE FROM double_entry_passages")
        con.execute("INSERT INTO double_entry BY NAME SELECT * FROM _docs_double_entry")
        con.execute(
            """
            INSERT INTO double_entry_passages
            SELECT $run_id, source_document_id, target_document_id, source_passage,
                   target_passage, chars, similarity
            FROM _docs_retyped
            """,
            {"run_id": run_id},
        )
        record_run(con, run_id, "double_entry", actor, seconds, params, counts)
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise
    return result
