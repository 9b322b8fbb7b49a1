"""Key files kept beside the warehouse (never inside it): created once, 32 random bytes, 0600.

The access log's chain key (``<db>.logkey``) and the job queue's request key (``<db>.queue.key``)
live here; each may be moved elsewhere with an environment variable naming its file (for
instance a folder only the service account reads, backed up apart from the data). A copy of the
warehouse (a backup, an extract) therefore never carries them.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from analytics.errors import InvalidInput

__all__ = ["KEY_BYTES", "key_path", "load_key"]

KEY_BYTES = 32
_MIN_KEY = 16


def key_path(db_path: str | Path, suffix: str, env: str) -> Path | None:
    """``$env`` if set, else ``<db><suffix>`` beside the warehouse; None for ``:memory:``."""
    override = os.environ.get(env)
    if override:
        return Path(override)
    if str(db_path) == ":memory:":
        return None
    base = Path(db_path)
    return base.with_name(base.name + suffix)


def load_key(path: Path, what: str) -> tuple[bytes, bool]:
    """The key in ``path`` (created with mode 0600 on first use) and whether it was just created."""
    created = False
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # created meanwhile by another process: read theirs
            pass
        else:
            with os.fdopen(fd, "wb") as fh:
                fh.write(secrets.token_bytes(KEY_BYTES))
            created = True
    try:
        key = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the {what} key ({exc.strerror})") from None
    if len(key) < _MIN_KEY:
        raise InvalidInput(f"{path}: the {what} key is too short (at least {_MIN_KEY} bytes)")
    return key, created
