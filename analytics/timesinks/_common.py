"""Small pieces shared by the query modules: results, filters, allow-lists."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.timesinks.labels import settings_label
from analytics.timesinks.precompute import ensure_precomputed
from analytics.timesinks.settings import TimeSinkSettings

#: Period keys -> SQL expression over a ``day`` column (allow-list for interpolation).
PERIODS = {
    "week": "CAST(date_trunc('week', day) AS DATE)",
    "month": "CAST(date_trunc('month', day) AS DATE)",
    "all": "CAST(NULL AS DATE)",
}


@dataclass(frozen=True)
class TimeFigure:
    """A figure's data, the settings that produced it and the French label stating them."""

    frame: pd.DataFrame
    label: str
    settings: TimeSinkSettings


def period_expr(period: str) -> str:
    if period not in PERIODS:
        raise InvalidInput(f"period: '{period}' is not one of {', '.join(PERIODS)}")
    return PERIODS[period]


def check_dates(date_from: date | None, date_to: date | None) -> None:
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidInput(f"dates: from {date_from:%d/%m/%Y} is after to {date_to:%d/%m/%Y}")


def prepare(
    con: duckdb.DuckDBPyConnection,
    actor: Actor | None,
    settings: TimeSinkSettings | None,
    permission: Permission = Permission.VIEW_AGGREGATES,
) -> TimeSinkSettings:
    """Check the actor's permission, then make the precomputed tables match ``settings``."""
    if actor is not None:
        require(actor, permission)
    return ensure_precomputed(con, settings, actor=actor)


def figure(frame: pd.DataFrame, settings: TimeSinkSettings, extra: str | None = None) -> TimeFigure:
    label = settings_label(settings)
    return TimeFigure(frame, f"{label} · {extra}" if extra else label, settings)
