"""Sniff how a hospital CSV file is written: encoding, byte-order mark, separator.

Detect, never assume: UTF-8 (with or without BOM) is tried first on the file's head, then
Windows-1252 (a superset of Latin-1's printable range). 8-bit files are transcoded to a
temporary UTF-8 file in large chunks so that DuckDB's own CSV reader does the parsing.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from analytics.errors import InvalidInput
from analytics.messages import english

__all__ = ["Dialect", "find_undecodable", "sniff", "transcode_to_utf8"]

HEAD_BYTES = 1 << 20
CHUNK_BYTES = 16 << 20
DELIMITERS = (";", ",", "\t", "|")
DELIMITER_NAMES = {";": "semicolon", ",": "comma", "\t": "tab", "|": "pipe"}
# Bytes 0x80-0x9F: printable in Windows-1252 (€, ’, œ...), control codes in Latin-1.
_C1 = re.compile(rb"[\x80-\x9f]")
# A well-formed UTF-8 sequence for an accented letter; in an 8-bit file these pairs are rare.
_UTF8_MULTIBYTE = re.compile(rb"[\xc3\xc5][\x80-\xbf]|\xe2\x80[\x80-\xbf]")


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written."""

    encoding: str  # "utf-8", "utf-8-sig", "windows-1252", "latin-1", "utf-16"
    delimiter: str
    headers: list[str]

    @property
    def needs_transcoding(self) -> bool:
        return self.encoding not in ("utf-8", "utf-8-sig")


def _head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(HEAD_BYTES)


def _detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        if _UTF8_MULTIBYTE.search(head, 0, exc.start):
            line = 1 + head.count(b"\n", 0, exc.start)
            raise InvalidInput(
                f"{{name}}: line {line}: undecodable bytes {head[exc.start:exc.start + 2].hex(' ').upper()} "
                f"(the file is UTF-8 elsewhere: mixed encodings); re-export the file as UTF-8"
            ) from None
    return "windows-1252" if _C1.search(head) else "latin-1"


def find_undecodable(path: Path, encoding: str) -> tuple[int, int, bytes] | None:
    """First byte the encoding cannot decode: ``(line, byte offset, bytes)`` or None."""
    decoder = codecs.getincrementaldecoder("cp1252" if encoding == "windows-1252" else encoding)()
    line = 1
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            try:
                decoder.decode(chunk, final=False)
            except UnicodeDecodeError as exc:
                return line + chunk.count(b"\n", 0, exc.start), offset + exc.start, chunk[exc.start : exc.start + 4]
            line += chunk.count(b"\n")
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return line, offset, b""
    return None


def _choose_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if len(lines) > 1 and not text.endswith("\n"):
        lines = lines[:-1]  # the head may cut the last line short
    best, best_score = None, (0, 0)
    for delim in DELIMITERS:
        try:
            rows = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=delim, quotechar='"'))
        except csv.Error:
            continue
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0])
        consistent = sum(1 for row in rows if len(row) == width)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delim, score
    if best is None:
        return ";" if ";" in lines[0] else ","  # a one-column file: nothing to choose from
    return best


def sniff(path: Path) -> Dialect:
    """Detect encoding, separator and header names from the head of ``path``.

    Raises :class:`InvalidInput` for an empty file or a header that cannot be decoded.
    """
    head = _head(path)
    try:
        encoding = _detect_encoding(head)
    except InvalidInput as exc:
        raise InvalidInput(str(exc).replace("{name}", path.name)) from None
    codec = {"windows-1252": "cp1252", "latin-1": "latin-1"}.get(encoding, encoding)
    try:
        text = codecs.getincrementaldecoder(codec)().decode(head, final=False)
    except UnicodeDecodeError as exc:
        line = 1 + head.count(b"\n", 0, exc.start)
        raise InvalidInput("import.at_line", file=path.name, line=line,
                           message=english("import.undecodable_byte", byte=f"0x{head[exc.start]:02X}")) from None
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InvalidInput("import.at_line", file=path.name, line=1, message=english("import.empty"))
    delimiter = _choose_delimiter(text)
    header_line = text.splitlines()[0]
    headers = next(csv.reader([header_line], delimiter=delimiter, quotechar='"'))
    return Dialect(encoding=encoding, delimiter=delimiter, headers=[h.strip() for h in headers])


def _iconv(path: Path, codec: str, target: Path) -> bool:
    """Transcode with the system's iconv (C, about four times less CPU than Python's codecs).

    Returns False when iconv is missing or fails (the Python path then finds the bad byte).
    """
    iconv = shutil.which("iconv")
    if iconv is None:
        return False
    with target.open("wb") as dst:
        done = subprocess.run([iconv, "-f", codec, "-t", "UTF-8", str(path)], stdout=dst,
                              stderr=subprocess.DEVNULL, check=False)
    return done.returncode == 0


def transcode_to_utf8(path: Path, encoding: str, target: Path, *, use_iconv: bool = True) -> str:
    """Stream ``path`` from an 8-bit or UTF-16 encoding into a UTF-8 file ``target``.

    Returns the encoding found: Windows-1252 when the file's head holds characters only
    Windows-1252 has (€, ’, œ: bytes 0x80-0x9F), else Latin-1 (both decode the rest alike,
    and both are decoded as Windows-1252). Raises :class:`InvalidInput` naming the line of
    the first undecodable byte.
    """
    codec = "cp1252" if encoding in ("windows-1252", "latin-1") else encoding
    if use_iconv and codec == "cp1252" and _iconv(path, "CP1252", target):
        return encoding
    decoder = codecs.getincrementaldecoder(codec)()
    found = encoding
    line = 1
    with path.open("rb") as src, target.open("wb") as dst:
        while chunk := src.read(CHUNK_BYTES):
            if found == "latin-1" and _C1.search(chunk):
                found = "windows-1252"
            try:
                dst.write(decoder.decode(chunk, final=False).encode("utf-8"))
            except UnicodeDecodeError as exc:
                bad_line = line + chunk.count(b"\n", 0, exc.start)
                raise InvalidInput(
                    f"{path.name}: line {bad_line}: undecodable byte 0x{chunk[exc.start]:02X} "
                    f"(not UTF-8, not Windows-1252); re-export the file as UTF-8"
                ) from None
            line += chunk.count(b"\n")
        dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    return found
