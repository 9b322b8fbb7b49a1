"""What was imported and what each import found: the queries behind the data page.

The list of imports is an aggregate (file names, counts, statuses); the findings of one import
hold raw values of patient records, so reading them needs patient-level access and is traced.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analytics.access import access_log
from analytics.access.roles import Actor, Permission, require
from analytics.identity.masking import MASKED, is_identity_field, may_see_identities

__all__ = ["import_count", "import_findings", "import_findings_count", "imports_page"]


def import_count(con: duckdb.DuckDBPyConnection, actor: Actor) -> int:
    """How many imports the warehouse has recorded."""
    require(actor, Permission.VIEW_AGGREGATES)
    return int(con.execute("SELECT count(*) FROM imports").fetchall()[0][0])


def imports_page(con: duckdb.DuckDBPyConnection, actor: Actor, limit: int, offset: int = 0) -> pd.DataFrame:
    """Imports, newest first: when, table, file name (no server path), format, counts, status."""
    require(actor, Permission.VIEW_AGGREGATES)
    return con.execute(
        "SELECT started_at, table_name, regexp_replace(file_name, '^.*[/\\\\]', '') AS file_name, format, encoding, "
        "status, rows_in_file, rows_inserted, rows_updated, findings, actor, message, import_id "
        "FROM imports ORDER BY started_at DESC, import_id LIMIT ? OFFSET ?",
        [limit, offset],
    ).df()


def import_findings_count(con: duckdb.DuckDBPyConnection, actor: Actor, import_id: str) -> int:
    """How many findings one import recorded."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    return int(con.execute("SELECT count(*) FROM data_quality_findings WHERE import_id = ?",
                           [import_id]).fetchall()[0][0])


def import_findings(con: duckdb.DuckDBPyConnection, actor: Actor, import_id: str, limit: int,
                    offset: int = 0) -> pd.DataFrame:
    """One page of an import's findings (line, column, record key, raw value, problem); traced.
    The raw value of an identity column (name, birth date, INS, phone...) is masked for a role
    without identity access."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    frame = con.execute(
        "SELECT line, column_name, record_key, raw_value, problem FROM data_quality_findings "
        "WHERE import_id = ? ORDER BY line NULLS LAST, column_name LIMIT ? OFFSET ?",
        [import_id, limit, offset],
    ).df()
    if not may_see_identities(actor):  # a malformed INS or phone is still that person's INS or phone
        identity = frame["column_name"].map(lambda c: is_identity_field(str(c))).astype(bool)
        frame["raw_value"] = frame["raw_value"].astype(object).where(~identity | frame["raw_value"].isna(), MASKED)
    access_log.record(con, actor, "view", "data_quality_findings", len(frame), {"import_id": import_id})
    return frame
