"""The DuckDB warehouse: one file, opened through :func:`connect`, upgraded by migrations."""

from analytics.warehouse.connection import connect, schema_version, warehouse_fault
from analytics.warehouse.migrations import LATEST_VERSION, MIGRATIONS

__all__ = ["LATEST_VERSION", "MIGRATIONS", "connect", "schema_version", "warehouse_fault"]
