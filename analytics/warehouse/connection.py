"""Open the warehouse file, refuse what is not ours, and bring its schema up to date.

Files are owner-only from creation: :func:`restrict_umask` (called by :func:`connect`, by the
CLI and by ``hygie serve`` before anything is written) adds ``077`` to the process umask, so the
warehouse, its WAL, the secrets beside it, exports, job outputs, uploads and logs are created
``0600`` (folders ``0700``). An existing warehouse file (or WAL) that is group/world-readable is
tightened to ``0600`` when it is opened read-write, with a warning naming the old mode; when that
is not possible (another owner), the warehouse is refused with the command that fixes it.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import stat
from pathlib import Path

import duckdb

from analytics.config import TIMEZONE, default_db_path
from analytics.errors import WarehouseError
from analytics.warehouse.migrations import LATEST_VERSION, MIGRATIONS

__all__ = [
    "connect",
    "copy_warehouse",
    "database_path",
    "disk_full",
    "owner_only",
    "restrict_umask",
    "schema_version",
    "warehouse_fault",
]

log = logging.getLogger("hygie.warehouse")

#: Bits the process never grants on what it creates: nothing for group or others.
PRIVATE_UMASK = 0o077


#: Files beside a warehouse that belong with it: pseudonymisation secret, access-log key and anchor.
SIDECARS = (".secret", ".logkey", ".loghead")


def copy_warehouse(source: str | Path, target: str | Path) -> Path:
    """Copy a (closed, checkpointed) warehouse file and its key files beside it, owner-only.

    Without its ``.logkey`` and ``.loghead`` a copy's access log can no longer be vouched for
    (``verify_chain`` fails at its first keyed row), which is the point of keeping them apart.
    """
    import shutil

    restrict_umask()
    source, target = Path(source), Path(target)
    shutil.copyfile(source, target)
    for suffix in SIDECARS:
        side = source.with_name(source.name + suffix)
        if side.exists():
            shutil.copyfile(side, target.with_name(target.name + suffix))
    return target


def restrict_umask() -> int:
    """Add ``077`` to the process umask (files 0600, folders 0700 from creation); the old umask."""
    old = os.umask(PRIVATE_UMASK)
    os.umask(old | PRIVATE_UMASK)
    return old


def owner_only(path: Path, *, refuse: bool = False) -> None:
    """Make ``path`` (if it exists) readable and writable by its owner only.

    A file that was open to group or others is tightened with a warning; when it cannot be
    (not ours), a :class:`WarehouseError` names the fix if ``refuse``, else a warning does.
    """
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if not mode & 0o077:
        return
    try:
        os.chmod(path, mode & 0o700)
    except OSError:
        message = (f"{path}: readable by other local accounts (mode {mode:04o}) and not ours to fix; "
                   f"run `chmod 600 {path}` as its owner (or root)")
        if refuse:
            raise WarehouseError(message) from None
        log.warning("%s", message)
        return
    log.warning("%s: was readable by other local accounts (mode %04o); now %04o", path, mode, mode & 0o700)

# DuckDB database files carry the magic bytes "DUCK" at offset 8.
_DUCKDB_MAGIC = b"DUCK"


def _check_file(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as fh:
        head = fh.read(12)
    if head[8:12] != _DUCKDB_MAGIC:
        raise WarehouseError(f"{path}: not a DuckDB database file; refusing to open it as a warehouse")


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        text = str(exc)
        if "lock" in text.lower():
            holder = re.search(r"PID (\d+)", text)
            who = f" (held by process {holder.group(1)})" if holder else ""
            raise WarehouseError(
                f"{path}: the warehouse is locked by another process{who}. "
                "If the dashboard is running, hand the work to it (see `hygie jobs run`) "
                "or stop it first."
            ) from None
        if any(marker in text.lower() for marker in (*_READ_ONLY_MARKERS, "permission")):
            raise WarehouseError(f"{path}: the warehouse cannot be written (read-only file or folder)") from None
        if disk_full(exc):  # replaying the WAL on open needs room to write
            raise warehouse_fault(exc, path) from None
        raise WarehouseError(f"{path}: cannot open the warehouse: {text.splitlines()[0]}") from None
    except duckdb.Error as exc:
        if disk_full(exc):
            raise warehouse_fault(exc, path) from None
        raise WarehouseError(
            f"{path}: cannot open the warehouse (corrupted or incompatible file): {str(exc).splitlines()[0]}"
        ) from None


# DuckDB checks block checksums only when a block is read: a file damaged past its header opens
# fine and fails on the first query that reads the damaged data. Likewise a read-only folder
# (or an immutable file) is only noticed at the first write, when the WAL cannot be created.
_DAMAGE_MARKERS = ("corrupt database file", "could not read enough bytes from file")
_READ_ONLY_MARKERS = ("read-only", "permission denied", "operation not permitted")


# A full disk (ENOSPC), a quota (EDQUOT) or the process's file size limit (EFBIG): DuckDB says
# so in the text of its IO/transaction errors, Python in an OSError's errno (temporary files).
_DISK_FULL_MARKERS = ("no space left on device", "file too large", "disk quota exceeded")
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})


def disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` says a write failed for lack of disk space (or over the file size limit)."""
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    return isinstance(exc, Exception) and any(m in str(exc).lower() for m in _DISK_FULL_MARKERS)


def database_path(con: duckdb.DuckDBPyConnection) -> str:
    """The file behind ``con`` (``:memory:`` for an in-memory warehouse), to name it in messages."""
    try:
        row = con.execute(
            "SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchone()
    except duckdb.Error:
        row = None
    return row[0] if row and row[0] else ":memory:"


def warehouse_fault(exc: BaseException, path: Path | str) -> WarehouseError | None:
    """A clear :class:`WarehouseError` when ``exc`` says the warehouse file is damaged, unwritable
    or the disk is full."""
    text = str(exc)
    lowered = text.lower()
    if disk_full(exc):
        detail = text.splitlines()[0] if text else type(exc).__name__
        return WarehouseError(f"{path}: not enough disk space (disk full or file size limit reached): "
                              f"{detail}. The operation was stopped and rolled back; free some space "
                              "and try again")
    if any(marker in lowered for marker in _DAMAGE_MARKERS):
        return WarehouseError(f"{path}: the warehouse file is damaged (corrupted or truncated): "
                              f"{text.splitlines()[0]}; restore it from a backup")
    if any(marker in lowered for marker in _READ_ONLY_MARKERS) and str(path) in text:
        return WarehouseError(f"{path}: the warehouse cannot be written (read-only file or folder)")
    return None


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The warehouse's schema version (0 for an empty database)."""
    exists = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
    ).fetchone()[0]
    if not exists:
        return 0
    return con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]


def _migrate(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    current = schema_version(con)
    if current == 0:
        user_tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main'"
        ).fetchone()[0]
        if user_tables:
            raise WarehouseError(
                f"{path}: a DuckDB database that is not a Hygie warehouse (no schema_version table); "
                "refusing to modify it"
            )
        con.execute(
            "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)"
        )
    if current > LATEST_VERSION:
        raise WarehouseError(
            f"{path}: warehouse schema version {current} is newer than this Hygie "
            f"(knows up to {LATEST_VERSION}); upgrade Hygie instead of opening it with an older one"
        )
    for migration in MIGRATIONS:
        if migration.version <= current:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            migration.apply(con)
            con.execute(
                "INSERT INTO schema_version VALUES (?, ?, now())",
                [migration.version, migration.name],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def connect(
    path: str | Path | None = None,
    *,
    read_only: bool = False,
    migrate: bool = True,
) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at ``path`` (default: ``HYGIE_DB`` or ``./data/hygie.duckdb``).

    A new file is created with the latest schema; an older one is upgraded in place; a newer,
    foreign or corrupted one is refused with a :class:`WarehouseError`. ``":memory:"`` gives a
    throw-away warehouse (tests, previews).
    """
    target = default_db_path() if path is None else Path(path) if str(path) != ":memory:" else None
    if target is not None:
        restrict_umask()
        if read_only and not target.exists():
            raise WarehouseError(f"{target}: no warehouse here; build one with `hygie demo` or `hygie import`")
        _check_file(target)
        if not read_only:
            target.parent.mkdir(parents=True, exist_ok=True)
        for part in (target, target.with_name(target.name + ".wal")):
            owner_only(part, refuse=not read_only)
        con = _open(target, read_only)
        if not read_only:
            try:
                os.chmod(target, 0o600)  # DuckDB creates it with the umask; say it explicitly
            except OSError:
                log.warning("%s: cannot set its mode to 0600", target)
        label = target
    else:
        con = duckdb.connect(":memory:")
        label = Path(":memory:")
    try:
        # GLOBAL: cursors (one per dashboard session, the job worker, deferred downloads) are
        # connections of their own and would otherwise compute local hours in UTC.
        con.execute(f"SET GLOBAL TimeZone = '{TIMEZONE}'")
        if read_only:
            version = schema_version(con)
            if version != LATEST_VERSION:
                raise WarehouseError(
                    f"{label}: warehouse schema version {version}, expected {LATEST_VERSION}; "
                    "open it once read-write to upgrade it"
                )
        elif migrate:
            _migrate(con, label)
    except duckdb.Error as exc:
        con.close()
        if disk_full(exc):  # a migration could not be written
            raise warehouse_fault(exc, label) from None
        raise WarehouseError(f"{label}: cannot use the warehouse: {str(exc).splitlines()[0]}") from None
    except Exception:
        con.close()
        raise
    return con
