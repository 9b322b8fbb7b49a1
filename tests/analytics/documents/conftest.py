"""Fixtures for the documents tests: a migrated warehouse and a small document builder."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOC_COLUMNS = (
    "document_id",
    "patient_id",
    "document_type",
    "title",
    "author_id",
    "service",
    "created_at",
    "signed_at",
    "status",
    "content_hash",
    "text",
    "stay_id",
)


def insert_documents(con, docs: Iterable[Mapping[str, Any]]) -> None:
    """Insert documents given as dicts; missing columns are NULL, status defaults to draft."""
    rows = []
    for doc in docs:
        row = {"status": "draft", **doc}
        rows.append([row.get(col) for col in DOC_COLUMNS])
    if rows:
        con.executemany(
            f"INSERT INTO documents ({', '.join(DOC_COLUMNS)}) VALUES ({', '.join('?' * len(DOC_COLUMNS))})",
            rows,
        )


def insert_events(con, events: Iterable[tuple[str, str, str, str]]) -> None:
    """Audit events as (event_id, user_id, timestamp, document_id)."""
    rows = [list(e) for e in events]
    if rows:
        con.executemany(
            'INSERT INTO audit_events (event_id, user_id, "timestamp", document_id) VALUES (?, ?, ?, ?)',
            rows,
        )
