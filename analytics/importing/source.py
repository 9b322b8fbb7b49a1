"""What a reader hands the loader: one SQL SELECT giving ``_line`` and raw canonical columns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import duckdb

__all__ = ["Source"]


@dataclass
class Source:
    """A file seen as rows of trimmed text.

    ``sql`` selects one VARCHAR column per canonical column in ``columns`` (trimmed, empty
    strings as NULL), in file order; the n-th row (0-based) is at line ``n + line_offset``. ``on_error`` turns a
    DuckDB error raised while reading into either a retry (a new Source) or an
    :class:`~analytics.errors.InvalidInput` naming file, line and problem.
    """

    sql: str
    params: list[object]
    format: str
    columns: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    line_offset: int = 2
    notices: list[str] = field(default_factory=list)
    on_error: Callable[[duckdb.Error], Source] | None = None
    check: Callable[[duckdb.DuckDBPyConnection, str], None] | None = None  # extra structural check on the staged rows
