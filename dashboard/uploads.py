"""Where uploaded and server-side import files may come from, and under which names.

An uploaded file is checked (type by extension, size), then written into a fresh folder the
server creates (``tempfile.mkdtemp``) under ``HYGIE_UPLOAD_DIR`` (default: the system's temporary
folder), under its name reduced to ``[A-Za-z0-9._-]`` without any folder part — never a path the
user chose — readable by the server's account only, and removed after the import. A server-side
file must sit directly in ``HYGIE_IMPORT_DIR``, checked after symlinks are resolved.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from analytics.errors import InvalidInput
from dashboard.i18n import t

__all__ = [
    "ALLOWED_TYPES", "import_dir", "max_upload_mb", "refusal", "safe_name", "saved_upload", "server_file",
    "upload_root",
]

# What the importer reads: CSV, Parquet, FHIR NDJSON (.json is read as NDJSON).
ALLOWED_TYPES = ("csv", "parquet", "ndjson", "json")


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


def upload_root() -> Path:
    """The folder uploads are written under (``HYGIE_UPLOAD_DIR``, else the system's temporary one)."""
    root = Path(os.environ.get("HYGIE_UPLOAD_DIR") or tempfile.gettempdir()).resolve()
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    return root


def safe_name(name: str) -> str:
    """A file name made of safe characters only, without any folder part."""
    base = re.sub(r"[^A-Za-z0-9._-]", "_", Path(name.replace("\\", "/")).name).lstrip(".")
    return base[-100:] or "upload.csv"


def refusal(name: str, size: int) -> str | None:
    """Why an upload named ``name`` of ``size`` bytes is refused (in French), or ``None``."""
    suffix = Path(safe_name(name)).suffix.lstrip(".").lower()
    if suffix not in ALLOWED_TYPES:
        return t("data.bad_type", types=", ".join(f".{ext}" for ext in ALLOWED_TYPES))
    if size > max_upload_mb() * 1024 * 1024:
        return t("data.too_big", mb=max_upload_mb())
    return None


def server_file(folder: Path, name: str) -> Path | None:
    """``folder/name`` if it is a regular file directly inside ``folder``, else ``None``.

    Both sides are resolved first, so ``..``, an absolute name or a symlink leading out of the
    folder is refused.
    """
    if not name or "\0" in name:
        return None
    path = (folder / name).resolve()
    return path if path.parent == folder.resolve() and path.is_file() else None


@contextlib.contextmanager
def saved_upload(name: str, data: bytes | memoryview) -> Iterator[Path]:
    """The upload written to a fresh server-chosen folder; removed afterwards.

    Raises :class:`InvalidInput` (French message) for a type or size the server does not take.
    """
    reason = refusal(name, len(data))
    if reason is not None:
        raise InvalidInput(reason)
    workdir = Path(tempfile.mkdtemp(prefix="hygie-upload-", dir=upload_root()))
    try:
        path = workdir / safe_name(name)
        if path.resolve().parent != workdir.resolve():  # cannot happen with a safe name; kept as a guard
            raise InvalidInput(t("data.bad_path"))
        # exclusive create, never through a symlink; the file holds patient data: owner only
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        yield path
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
