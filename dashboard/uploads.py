"""Where uploaded and server-side import files may come from, and under which names.

An uploaded file is written under a folder the server creates (``tempfile.mkdtemp``) with a
name reduced to safe characters, never a path the user chose; a server-side file must sit
directly in ``HYGIE_IMPORT_DIR``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["ALLOWED_TYPES", "import_dir", "max_upload_mb", "safe_name", "saved_upload", "server_file"]

ALLOWED_TYPES = ("csv", "txt", "tsv", "parquet", "ndjson", "jsonl")


def max_upload_mb() -> int:
    """Upload size limit in MB (``HYGIE_MAX_UPLOAD_MB``, default 200 as ``hygie serve``)."""
    try:
        return max(1, int(os.environ.get("HYGIE_MAX_UPLOAD_MB", "200")))
    except ValueError:
        return 200


def import_dir() -> Path | None:
    """The only server folder files may be imported from (``HYGIE_IMPORT_DIR``), if any."""
    value = os.environ.get("HYGIE_IMPORT_DIR")
    return Path(value).resolve() if value else None


def safe_name(name: str) -> str:
    """A file name made of safe characters only, without any folder part."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[-100:] or "upload.csv"


def server_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it is a regular file directly inside ``folder``, else ``None``."""
    path = (folder / name).resolve()
    return path if path.parent == folder.resolve() and path.is_file() else None


@contextlib.contextmanager
def saved_upload(name: str, data: bytes | memoryview) -> Iterator[Path]:
    """The upload written to a fresh server-chosen folder; removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="hygie-upload-"))
    try:
        path = workdir / safe_name(name)
        path.write_bytes(data)
        yield path
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
