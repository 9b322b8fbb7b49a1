"""Settings shared by the engine, the CLI and the dashboard.

Values come from (highest first): explicit arguments, environment variables, the warehouse's
``settings`` table, then the defaults below.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
import zoneinfo
from pathlib import Path

__all__ = ["DEFAULT_DB", "TIMEZONE", "default_db_path", "validated_timezone"]

#: Where the warehouse lives unless ``--db`` or ``HYGIE_DB`` says otherwise.
DEFAULT_DB = Path("data") / "hygie.duckdb"

_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")


def validated_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone this machine knows (it reaches SQL), else ValueError."""
    if not _ZONE_NAME.fullmatch(name) or name not in zoneinfo.available_timezones():
        raise ValueError(f"HYGIE_TIMEZONE={name[:60]!r}: not a known IANA time zone (e.g. Europe/Paris)")
    return name


def _timezone_from_environment() -> str:
    """``HYGIE_TIMEZONE`` (default Europe/Paris), checked; an unknown zone stops the process with
    an ``Error:`` line naming the variable, the allowed values and the nearest known names (exit
    code 2, as for any invalid input) instead of a traceback from whichever module imported this.
    """
    value = os.environ.get("HYGIE_TIMEZONE", "Europe/Paris")
    try:
        return validated_timezone(value)
    except ValueError as exc:
        known = zoneinfo.available_timezones()
        near = difflib.get_close_matches(value[:60], sorted(known), n=3, cutoff=0.6)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        print(f"Error: {exc}. Allowed values: the {len(known)} names of this machine's time-zone "
              "database (tzdata), such as Europe/Paris, UTC, America/Cayenne, Indian/Reunion, "
              f"Pacific/Noumea; unset HYGIE_TIMEZONE for Europe/Paris.{hint}", file=sys.stderr)
        raise SystemExit(2) from None


#: Local time of the hospital; every TIMESTAMPTZ is shown and bucketed in this zone. Checked
#: against the time-zone database (an allow-list) before it is ever put into SQL.
TIMEZONE = _timezone_from_environment()


def default_db_path() -> Path:
    """The warehouse path from ``HYGIE_DB`` or the default ``./data/hygie.duckdb``."""
    env = os.environ.get("HYGIE_DB")
    return Path(env) if env else DEFAULT_DB
