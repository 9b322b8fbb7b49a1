"""The DuckDB warehouse: one file, opened through :func:`connect`, upgraded by migrations."""

from analytics.warehouse.connection import (
    connect,
    database_path,
    disk_full,
    schema_version,
    warehouse_fault,
)
from analytics.warehouse.migrations import LATEST_VERSION, MIGRATIONS

__all__ = ["LATEST_VERSION", "MIGRATIONS", "connect", "database_path", "disk_full", "schema_version", "warehouse_fault"]
