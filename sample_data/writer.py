"""Write Arrow tables as CSV files the way French hospital exports look.

DuckDB's COPY writes UTF-8 quickly (quoting only where needed, empty cells for NULL); the
file is then re-encoded in large chunks to Windows-1252 with CRLF line ends. Ground-truth
files stay UTF-8 with LF line ends.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import duckdb
import pyarrow as pa

CHUNK = 16 << 20
DATE = "%d/%m/%Y"
DATETIME = "%d/%m/%Y %H:%M:%S"


def seconds_to_timestamps(values) -> pa.Array:  # noqa: ANN001 - numpy array or list with None
    """Local wall-clock seconds (naive) as an Arrow timestamp column."""
    return pa.array(values, type=pa.int64()).cast(pa.timestamp("s"))


def _select_list(table: pa.Table, headers: dict[str, str], sql: dict[str, str]) -> str:
    parts = []
    for name, header in headers.items():
        kind = table.schema.field(name).type
        column = f'"{name}"'
        if name in sql:
            expr = sql[name].format(column=column)
        elif pa.types.is_timestamp(kind):
            fmt = DATE if header.startswith("DATE_NAISSANCE") else DATETIME
            expr = f"strftime({column}, '{fmt}')"
        elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
            expr = column
        else:
            expr = f"NULLIF(CAST({column} AS VARCHAR), '')"
        parts.append(f'{expr} AS "{header}"')
    return ", ".join(parts)


def write_csv(
    path: Path, table: pa.Table, headers: dict[str, str], *, french: bool = True,
    sql: dict[str, str] | None = None,
) -> int:
    """Write ``table``'s columns under ``headers`` (column -> file header); return bytes written.

    ``sql`` gives a DuckDB expression for some columns (``{column}`` stands for the column).
    """
    tmp = path.with_name(path.name + ".utf8.tmp")
    con = duckdb.connect()
    try:
        con.register("t", table)
        target = str(tmp).replace("'", "''")
        new_line = "\r\n" if french else "\n"
        con.execute(
            f"COPY (SELECT {_select_list(table, headers, sql or {})} FROM t) TO '{target}' "  # noqa: S608 - own column names
            f"(FORMAT csv, HEADER true, DELIMITER ';', QUOTE '\"', NEW_LINE '{new_line}')"
        )
    finally:
        con.close()
    if not french:
        tmp.replace(path)
        return path.stat().st_size
    decoder = codecs.getincrementaldecoder("utf-8")()
    with tmp.open("rb") as src, path.open("wb") as dst:
        while chunk := src.read(CHUNK):
            dst.write(to_cp1252(decoder.decode(chunk)))
        dst.write(to_cp1252(decoder.decode(b"", final=True)))
    tmp.unlink()
    return path.stat().st_size


#: Characters Windows-1252 has in 0x80-0x9F that the sample uses, as their Latin-1 stand-ins.
_CP1252_EXTRAS = {"\u2019": "\x92", "\u0153": "\x9c", "\u0152": "\x8c"}


def to_cp1252(text: str) -> bytes:
    """Encode to Windows-1252 fast: map the few 0x80-0x9F characters, then Latin-1 (a C fast
    path); any other character falls back to the (slower) cp1252 codec, which is strict."""
    mapped = text
    for char, byte in _CP1252_EXTRAS.items():
        mapped = mapped.replace(char, byte)
    try:
        return mapped.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("cp1252")
