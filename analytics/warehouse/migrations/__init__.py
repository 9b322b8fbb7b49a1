"""Versioned schema migrations, applied in order, each in its own transaction.

Like sqlite-utils' migrations: a registry of functions, each recorded in ``schema_version``
once applied. Never edit a migration that has shipped; add a new one instead. Each area of
the engine owns its module (core data, matching, jobs, access, time sinks).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from analytics.warehouse.migrations import (
    m0001_core,
    m0002_matching,
    m0003_jobs,
    m0004_access,
    m0005_timesinks,
    m0006_documents,
    m0007_timesinks_heatmap,
    m0008_timesinks_denominators,
    m0009_message_outbox,
    m0010_api_tokens,
    m0011_identity_safety,
    m0012_identitovigilance_role,
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[duckdb.DuckDBPyConnection], None]


MIGRATIONS: list[Migration] = [
    Migration(1, "core data tables", m0001_core.apply),
    Migration(2, "identity matching tables", m0002_matching.apply),
    Migration(3, "cleanup job tables", m0003_jobs.apply),
    Migration(4, "accounts and access log", m0004_access.apply),
    Migration(5, "time sinks tables", m0005_timesinks.apply),
    Migration(6, "duplicate documents and double entry", m0006_documents.apply),
    Migration(7, "time sinks per local hour", m0007_timesinks_heatmap.apply),
    Migration(8, "time sinks denominators, calendar and activity map", m0008_timesinks_denominators.apply),
    Migration(9, "message delivery attempts", m0009_message_outbox.apply),
    Migration(10, "per-account API tokens", m0010_api_tokens.apply),
    Migration(11, "identity attributes and auto-merge eligibility", m0011_identity_safety.apply),
    Migration(12, "identitovigilance role", m0012_identitovigilance_role.apply),
]

LATEST_VERSION = MIGRATIONS[-1].version

assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1)), "gap in migrations"

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration"]
