"""Snapshots of whole tables, to prove that undo restores them exactly."""

from __future__ import annotations

from typing import Any

import duckdb

TABLES = ("patients", "documents", "audit_events", "staff", "document_routing")


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a job may change, in a stable order."""
    return {t: con.execute(f'SELECT * FROM "{t}" ORDER BY ALL').fetchall() for t in TABLES}


def job_runs(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    return con.execute("SELECT job, status FROM job_runs ORDER BY started_at").fetchall()
