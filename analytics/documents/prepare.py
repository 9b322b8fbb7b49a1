"""The working set of documents, normalised once in DuckDB, and the keep rule.

Every detector reads the temporary table ``_docs`` built here: one row per live document
(archived ones are left out, so that re-running after the archive job finds nothing new),
with its text normalised for comparison and its rank under the keep rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import duckdb

__all__ = [
    "FILLED_FIELDS",
    "KEEP_ORDER_SQL",
    "keep_candidate",
    "prepare_documents",
    "record_run",
]

#: SHA-1 of the empty string: documents whose hash is this carry no content to compare.
EMPTY_SHA1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709"

#: Statuses that count as signed for the keep rule (besides a non-null ``signed_at``).
SIGNED_STATUSES = ("signed", "sent")

#: The keep rule as an ORDER BY over ``documents`` columns: the first row is kept.
#: Signed first (a signed document is the legal one), then the most complete (descriptive
#: fields filled, then text length), then the oldest, then the smallest id so that the choice
#: is always deterministic. The archive job (analytics.jobs) applies the same order.
KEEP_ORDER_SQL = (
    "(signed_at IS NOT NULL OR lower(coalesce(status, '')) IN ('signed', 'sent')) DESC, "
    "((patient_id IS NOT NULL)::INT + (document_type IS NOT NULL)::INT + (title IS NOT NULL)::INT"
    " + (author_id IS NOT NULL)::INT + (service IS NOT NULL)::INT + (stay_id IS NOT NULL)::INT) DESC, "
    "length(coalesce(text, '')) DESC, created_at ASC NULLS LAST, document_id ASC"
)

#: Descriptive fields counted for "most complete" (same list as the archive job's rule).
FILLED_FIELDS = ("patient_id", "document_type", "title", "author_id", "service", "stay_id")


def _keep_key(doc: Mapping[str, Any]) -> tuple:
    signed = doc.get("signed_at") is not None or str(doc.get("status") or "").lower() in SIGNED_STATUSES
    created = doc.get("created_at")
    filled = sum(doc.get(f) is not None for f in FILLED_FIELDS)
    return (
        not signed,
        -filled,
        -len(doc.get("text") or ""),
        created is None,
        created if isinstance(created, datetime) else datetime.min,
        str(doc["document_id"]),
    )


def keep_candidate(documents: Iterable[Mapping[str, Any]]) -> str:
    """The ``document_id`` to keep among duplicate documents (same rule as :data:`KEEP_ORDER_SQL`).

    Each document is a mapping with ``document_id`` and optionally ``signed_at``, ``status``,
    ``text``, ``created_at`` (timezone-aware datetimes) and the :data:`FILLED_FIELDS`. Signed
    first, then the most filled fields, then the longest text, then the oldest, then the
    smallest id.
    """
    docs = list(documents)
    if not docs:
        raise ValueError("keep_candidate needs at least one document")
    return str(min(docs, key=_keep_key)["document_id"])


_PREPARE_SQL = f"""
CREATE OR REPLACE TEMP TABLE _docs AS
SELECT *, length(norm_text) AS norm_chars, md5(norm_text) AS text_md5 FROM (
SELECT
    document_id,
    patient_id,
    document_type,
    service,
    author_id,
    stay_id,
    created_at,
    CAST(created_at AS DATE) AS created_day,
    title,
    text,
    length(coalesce(text, '')) AS text_chars,
    -- the numbers of the text (dates, doses, measures) in order: a near duplicate keeps them
    regexp_replace(coalesce(text, ''), '[^0-9]+', '', 'g') AS text_digits,
    -- titles often carry the document's date or a "(copie)" mark: compare their words only
    trim(regexp_replace(lower(strip_accents(coalesce(title, ''))), '[^a-z]+', ' ', 'g')) AS norm_title,
    trim(regexp_replace(lower(strip_accents(coalesce(text, ''))), '\\s+', ' ', 'g')) AS norm_text,
    CASE
        WHEN nullif(trim(content_hash), '') IS NULL THEN NULL
        WHEN lower(trim(content_hash)) = '{EMPTY_SHA1}' THEN NULL
        ELSE lower(trim(content_hash))
    END AS hash_key,
    row_number() OVER (ORDER BY {KEEP_ORDER_SQL}) AS keep_rank,
    -- chronological order: the later document of a pair is the one that re-typed text
    row_number() OVER (ORDER BY created_at ASC NULLS LAST, document_id ASC) AS doc_seq
FROM documents
WHERE patient_id IS NOT NULL
  AND lower(coalesce(status, '')) <> 'archived'
)
"""  # noqa: S608 - module constants only


def prepare_documents(con: duckdb.DuckDBPyConnection) -> int:
    """Build the temporary table ``_docs``; return how many documents it holds."""
    con.execute(_PREPARE_SQL)
    return con.execute("SELECT count(*) FROM _docs").fetchall()[0][0]


def record_run(con: duckdb.DuckDBPyConnection, run_id: str, kind: str, actor, seconds: float,
               params: dict, counts: dict) -> None:
    """Append the ``document_runs`` row of a detection (inside the caller's transaction)."""
    con.execute(
        """
        INSERT INTO document_runs VALUES
            ($run_id, $kind, $actor, now() - to_microseconds($us), now(), $params, $summary)
        """,
        {
            "run_id": run_id,
            "kind": kind,
            "actor": actor.username if actor else "system",
            "us": int(seconds * 1_000_000),
            "params": json.dumps(params),
            "summary": json.dumps(counts),
        },
    )
