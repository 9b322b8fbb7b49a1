"""Builders of hospital-like import files for the importer tests."""

from __future__ import annotations

from pathlib import Path

import duckdb

VALID_INS = "184127645108946"  # the NIR example with its published key 46
CORSICAN_INS = "185072A00401205"  # département 2A, key computed with 2A -> 19
PARIS_INS = "280037505612357"  # a woman born in March 1980 in Paris (75056), key 57: coherent with the rows using it


def write_text(folder: Path, name: str, text: str, encoding: str = "utf-8", bom: bool = False,
               newline: str = "\n") -> Path:
    """Write ``text`` (rows separated by \\n) encoded as a hospital export would be."""
    data = text.replace("\n", newline).encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    path = folder / name
    path.write_bytes(data)
    return path


def table_rows(con: duckdb.DuckDBPyConnection, table: str, columns: str = "*", order: str = "1") -> list[tuple]:
    return con.execute(f"SELECT {columns} FROM {table} ORDER BY {order}").fetchall()


def snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Everything an import may change, except the imports log itself."""
    return {t: table_rows(con, t) for t in ("patients", "documents", "audit_events", "staff", "schedules",
                                            "data_quality_findings")}

