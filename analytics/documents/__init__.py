"""Duplicate documents and double entry.

- :func:`find_duplicate_documents` fills ``document_duplicates`` with exact, near and
  re-typed pairs, each with a reason in plain words and, for exact/near pairs, the document
  to keep (:func:`keep_candidate` rule) for the archive job;
- :func:`find_double_entry` measures passages typed again across a patient's documents and
  the minutes they cost (``double_entry``, ``double_entry_passages``);
- the query functions read those tables for the dashboard, checking the actor's role.
"""

from analytics.documents.double_entry import (
    DEFAULT_IDLE_THRESHOLD_S,
    DEFAULT_TYPING_CHARS_PER_MINUTE,
    find_double_entry,
)
from analytics.documents.duplicates import DuplicateSummary, find_duplicate_documents
from analytics.documents.prepare import KEEP_ORDER_SQL, keep_candidate
from analytics.documents.queries import (
    DUPLICATE_KINDS,
    double_entry_pairs,
    double_entry_passages,
    double_entry_summary,
    duplicate_counts,
    duplicate_documents,
    last_run,
)

__all__ = [
    "DEFAULT_IDLE_THRESHOLD_S",
    "DEFAULT_TYPING_CHARS_PER_MINUTE",
    "DUPLICATE_KINDS",
    "KEEP_ORDER_SQL",
    "DuplicateSummary",
    "double_entry_pairs",
    "double_entry_passages",
    "double_entry_summary",
    "duplicate_counts",
    "duplicate_documents",
    "find_double_entry",
    "find_duplicate_documents",
    "keep_candidate",
    "last_run",
]
