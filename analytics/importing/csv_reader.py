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
from analytics.messages import english

__all__ = ["csv_source", "explain_csv_error"]


def explain_csv_error(exc: duckdb.Error, label: str, width: int) -> str:
    """A one-line message (file, line, problem) from DuckDB's CSV error text."""
    text = str(exc)
    line_match = re.search(r"CSV Error on Line: (\d+)", text)

    def where(message: str) -> str:
        if line_match:
            return english("import.at_line", file=label, line=line_match.group(1), message=message)
        return english("import.somewhere", file=label, message=message)

    found = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if found:
        return where(english("import.ragged", n=found.group(2), m=found.group(1)))
    if "unterminated quote" in text.lower():
        return where(english("import.unclosed_quote"))
    if "unicode" in text.lower():
        return where(english("import.undecodable"))
    first = text.splitlines()[0].removeprefix("Invalid Input Error: ")
    return where(first)


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
                raise InvalidInput("import.at_line", file=label, line=bad[0], message=english(
                    "import.mixed_encoding", bytes=bad[2][:2].hex(" ").upper()))
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
        raise InvalidInput("import.at_line", file=label, line=1, message=english("import.header_twice", column=dup))
    notices = [english("notice.delimiter", delimiter=DELIMITER_NAMES[dialect.delimiter]), *notices]
    if dialect.needs_transcoding:
        return _from_8bit(path, dialect.encoding, dialect.delimiter, dialect.headers, positions, notices,
                          workdir, label)
    return _build(path, path, dialect.encoding, dialect.delimiter, dialect.headers, positions, notices,
                  workdir, label)
