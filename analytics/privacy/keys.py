"""Where the pseudonymisation key lives: outside the warehouse folder, readable by its owner only.

A key beside the warehouse (the old ``<warehouse>.secret``) travels with every copy and every
backup of the folder, and the pseudonyms of every extract are then one HMAC away from the IPPs.
So the key is looked for, in order, at:

1. ``HYGIE_SECRET_FILE`` (a path);
2. the warehouse setting ``privacy.secret_file``;
3. ``$HYGIE_SECRET_DIR`` (default ``$XDG_CONFIG_HOME/hygie/keys``, i.e. ``~/.config/hygie/keys``)
   ``/<warehouse name>-<hash of its absolute path>.secret``, created on first use (folder 0700,
   file 0600) — what ``make run`` and ``hygie demo`` use out of the box.

It is refused, with the reason, when it sits inside the warehouse's folder or when other
accounts may read it. A key left beside the warehouse by an older Hygie is not used silently:
the refusal says where to move it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from analytics.errors import InvalidInput

__all__ = ["default_key_path", "key_path", "load_key"]

SECRET_BYTES = 32
MIN_SECRET = 16


def _key_dir() -> Path:
    env = os.environ.get("HYGIE_SECRET_DIR")
    if env:
        return Path(env)
    config = os.environ.get("XDG_CONFIG_HOME")
    return (Path(config) if config else Path.home() / ".config") / "hygie" / "keys"


def default_key_path(db_path: str | Path) -> Path:
    """The default key of warehouse ``db_path``: one per warehouse, in the user's key folder."""
    db = Path(db_path).resolve()
    digest = hashlib.sha256(str(db).encode("utf-8")).hexdigest()[:12]
    return _key_dir() / f"{db.stem}-{digest}.secret"


def key_path(db_path: str | Path | None, setting: str | None = None) -> Path:
    """The key file of warehouse ``db_path``: ``HYGIE_SECRET_FILE``, the setting, or the default."""
    env = os.environ.get("HYGIE_SECRET_FILE")
    if env:
        return Path(env)
    if setting:
        return Path(setting)
    if db_path is None or str(db_path) == ":memory:":
        raise InvalidInput("an in-memory warehouse has no key file of its own; set HYGIE_SECRET_FILE")
    return default_key_path(db_path)


def _refuse_inside(path: Path, db_path: str | Path | None) -> None:
    if db_path is None or str(db_path) == ":memory:":
        return
    folder = Path(db_path).resolve().parent
    if path.resolve().is_relative_to(folder):
        raise InvalidInput(
            f"{path}: the pseudonymisation key must not be inside the warehouse folder {folder} (a copy or a "
            f"backup of the folder would carry the key with the data); set HYGIE_SECRET_FILE or the setting "
            f"privacy.secret_file to a file elsewhere, e.g. {default_key_path(db_path)}")


def _refuse_readable(path: Path) -> None:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise InvalidInput(
            f"{path}: the pseudonymisation key is readable by other accounts (mode {mode:04o}); "
            f"run: chmod 600 {path}")


def _create(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # created meanwhile by another process: read theirs
        return
    with os.fdopen(fd, "wb") as fh:
        fh.write(secrets.token_bytes(SECRET_BYTES))


def load_key(db_path: str | Path | None, setting: str | None = None) -> bytes:
    """The pseudonymisation key of warehouse ``db_path`` (created on first use), checked."""
    path = key_path(db_path, setting)
    _refuse_inside(path, db_path)
    if not path.exists():
        legacy = Path(f"{db_path}.secret") if db_path is not None and str(db_path) != ":memory:" else None
        if legacy is not None and legacy.exists() and not os.environ.get("HYGIE_SECRET_FILE") and not setting:
            raise InvalidInput(
                f"{legacy}: the pseudonymisation key sits beside the warehouse, where backups of the folder "
                f"carry it; move it out of the folder (mv {legacy} {path}) or point HYGIE_SECRET_FILE at it "
                "once moved elsewhere")
        _create(path)
    try:
        _refuse_readable(path)
        key = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the pseudonymisation key ({exc.strerror})") from None
    if len(key) < MIN_SECRET:
        raise InvalidInput(f"{path}: the pseudonymisation secret is too short (at least {MIN_SECRET} bytes)")
    return key
