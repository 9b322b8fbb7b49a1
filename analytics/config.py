"""Settings shared by the engine, the CLI and the dashboard.

Values come from (highest first): explicit arguments, environment variables, the warehouse's
``settings`` table, then the defaults below.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["DEFAULT_DB", "TIMEZONE", "default_db_path"]

#: Where the warehouse lives unless ``--db`` or ``HYGIE_DB`` says otherwise.
DEFAULT_DB = Path("data") / "hygie.duckdb"

#: Local time of the hospital; every TIMESTAMPTZ is shown and bucketed in this zone.
TIMEZONE = os.environ.get("HYGIE_TIMEZONE", "Europe/Paris")


def default_db_path() -> Path:
    """The warehouse path from ``HYGIE_DB`` or the default ``./data/hygie.duckdb``."""
    env = os.environ.get("HYGIE_DB")
    return Path(env) if env else DEFAULT_DB
