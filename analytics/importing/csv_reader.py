"""Hospital CSV files through DuckDB's own strict CSV reader."""

# SQL here is assembled from allow-listed identifiers (quote_ident) and fixed fragments;
# every value from a file or a user is bound as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from analytics.errors import InvalidInput
from analytics.importing.detect import DELIMITER_NAMES, find_undecodable, sniff, transcode_to_utf8
from analytics.importing.headers import resolve_headers
from analytics.importing.source import Source
from analytics.importing.validate import quote_ident, trimmed

__all__ = ["csv_source", "explain_csv_error"]


def explain_csv_error(exc: duckdb.Error, label: str, width: int) -> str:
    """A one-line message (file, line, problem) from DuckDB's CSV error text."""
    text = str(exc)
    line_match = re.search(r"CSV Error on Line: (\d+)", text)
    where = f"line {line_match.group(1)}" if line_match else "somewhere in the file"
    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if found:
        return (f"{label}: {where}: {found.group(2)} fields where the header has {found.group(1)} "
                f"(ragged row)")
    if "unterminated quote" in text.lower():
        return f"{label}: {where}: unclosed quote (a field opens '\"' and never closes it)"
    if "unicode" in text.lower():
        return f"{label}: {where}: undecodable bytes (not UTF-8)"
    first = text.splitlines()[0].removeprefix("Invalid Input Error: ")
    return f"{label}: {where}: {first}"


def _build(path: Path, read_path: Path, encoding: str, delimiter: str, headers: list[str],
           positions: dict[int, str], notices: list[str], workdir: Path, label: str) -> Source:
    width = len(headers)
    columns_struct = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    projections = ", ".join(
        f"{trimmed(f'c{pos}')} AS {quote_ident(name)}" for pos, name in sorted(positions.items())
    )
    sql = (
        f"SELECT {projections} FROM read_csv(?, "
        f"delim = ?, quote = '\"', escape = '\"', header = true, auto_detect = false, "
        f"columns = {columns_struct}, strict_mode = true, null_padding = false, "
        f"ignore_errors = false, parallel = true)"
    )

    def on_error(exc: duckdb.Error) -> Source:
        text = str(exc).lower()
        if "unicode" in text and encoding == "utf-8":
            bad = find_undecodable(path, "utf-8")
            if bad is not None and not _has_utf8_multibyte(path, bad[1]):
                # The head was plain ASCII: the file is 8-bit after all. Transcode and retry once.
                return _from_8bit(path, "latin-1", delimiter, headers, positions, notices, workdir, label)
            if bad is not None:
                raise InvalidInput(
                    f"{label}: line {bad[0]}: undecodable bytes {bad[2][:2].hex(' ').upper()} "
                    f"(the file is UTF-8 elsewhere: mixed encodings); re-export the file as UTF-8"
                )
        raise InvalidInput(explain_csv_error(exc, label, width))

    return Source(sql=sql, params=[str(read_path), delimiter], format="csv", columns=list(positions.values()),
                  encoding=encoding, delimiter=delimiter, notices=notices, on_error=on_error)


def _has_utf8_multibyte(path: Path, upto: int) -> bool:
    """True when valid UTF-8 multi-byte sequences appear before byte ``upto``."""
    with path.open("rb") as fh:
        data = fh.read(min(upto, 64 << 20))
    return re.search(rb"[\xc2-\xf4][\x80-\xbf]", data) is not None


def _from_8bit(path: Path, encoding: str, delimiter: str, headers: list[str], positions: dict[int, str],
               notices: list[str], workdir: Path, label: str) -> Source:
    target = workdir / (path.stem + ".utf8.csv")
    found = transcode_to_utf8(path, encoding, target)
    return _build(path, target, found, delimiter, headers, positions, notices, workdir, label)


def csv_source(path: Path, table: str, mapping: dict[str, str] | None, workdir: Path) -> Source:
    """Sniff ``path`` and describe it as a :class:`Source` (8-bit files transcoded into ``workdir``)."""
    label = path.name
    dialect = sniff(path)
    positions, notices = resolve_headers(table, dialect.headers, mapping, label)
    named = [h for h in dialect.headers if h]  # a trailing separator gives an unnamed last column
    if len(set(named)) != len(named):
        dup = next(h for h in named if named.count(h) > 1)
        raise InvalidInput(f"{label}: line 1: column '{dup}' appears twice in the header")
    notices = [f"delimiter detected: {DELIMITER_NAMES[dialect.delimiter]}", *notices]
    if dialect.needs_transcoding:
        return _from_8bit(path, dialect.encoding, dialect.delimiter, dialect.headers, positions, notices,
                          workdir, label)
    return _build(path, path, dialect.encoding, dialect.delimiter, dialect.headers, positions, notices,
                  workdir, label)
