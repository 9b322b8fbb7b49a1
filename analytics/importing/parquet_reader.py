"""Parquet files through DuckDB's read_parquet; typed columns are read as text and re-checked."""

# SQL here is assembled from allow-listed identifiers (quote_ident) and fixed fragments;
# every value from a file or a user is bound as a parameter.
# ruff: noqa: S608

from __future__ import annotations

from pathlib import Path

import duckdb

from analytics.errors import InvalidInput
from analytics.importing.headers import resolve_headers
from analytics.importing.source import Source
from analytics.importing.validate import quote_ident, trimmed

__all__ = ["parquet_source"]


def parquet_source(con: duckdb.DuckDBPyConnection, path: Path, table: str,
                   mapping: dict[str, str] | None) -> Source:
    """Describe a Parquet file as a :class:`Source`; ``_line`` is the 1-based row number."""
    label = path.name
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise InvalidInput(f"{label}: not a readable Parquet file: {str(exc).splitlines()[0]}") from None
    headers = [row[0] for row in described]
    positions, notices = resolve_headers(table, headers, mapping, label)
    projections = []
    for pos, name in sorted(positions.items()):
        source_col = '"' + headers[pos].replace('"', '""') + '"'
        projections.append(f"{trimmed(f'CAST({source_col} AS VARCHAR)')} AS {quote_ident(name)}")
    sql = f"SELECT {', '.join(projections)} FROM read_parquet(?)"

    def on_error(exc: duckdb.Error) -> Source:
        raise InvalidInput(f"{label}: cannot read the Parquet data: {str(exc).splitlines()[0]}")

    return Source(sql=sql, params=[str(path)], format="parquet", columns=list(positions.values()),
                  notices=notices, on_error=on_error, line_offset=1)
