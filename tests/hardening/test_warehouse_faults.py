"""A damaged, foreign or read-only warehouse at ``--db``: a clear ``Error:`` line and exit code, no traceback.

Runs the real ``hygie`` CLI. Damage past the file header is only noticed when DuckDB reads the
damaged block (checksums are checked per block), so each damaged file is also exported and
imported into, not only opened.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from analytics.access.roles import system_actor
from analytics.importing import import_file
from analytics.warehouse import connect

SYSTEM = system_actor()

HYGIE = str(Path(sys.executable).with_name("hygie"))
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "small" / "patients.csv"


def _hygie(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HYGIE, "--db", str(db), *args], capture_output=True, text=True, timeout=120,
                          check=False, env=os.environ.copy())


#: DuckDB's file layout: three 4 KiB headers, then blocks of 256 KiB (each starting with its checksum).
HEADERS, BLOCK = 3 * 4096, 262144


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, int]:
    """Bytes of a real warehouse holding the small sample's 2,500 patients, and the file offset
    of the block that holds the patients' birth names (read by every export of the table)."""
    path = tmp_path_factory.mktemp("faults") / "loaded.duckdb"
    con = connect(path)
    import_file(con, "patients", SAMPLE, actor=SYSTEM)
    # The fixed damage offsets below were chosen for a file holding patients + imports only: the
    # import's access-log row is removed so the layout stays the one they were checked against.
    con.execute("DELETE FROM access_log")
    con.execute("CHECKPOINT")
    (block,) = con.execute("SELECT min(block_id) FROM pragma_storage_info('patients') "
                           "WHERE column_name = 'birth_name' AND persistent AND block_id >= 0").fetchone()
    con.close()
    data = path.read_bytes()
    assert block is not None and HEADERS + (block + 1) * BLOCK <= len(data)
    return data, HEADERS + block * BLOCK


@pytest.fixture(scope="module")
def loaded_warehouse(loaded: tuple[bytes, int]) -> bytes:
    return loaded[0]


def _clean_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stderr.startswith("Error: "), done.stderr
    return done.stderr


# Each damage gets the file's bytes and the offset of a block of the patients table.
DAMAGE: list[tuple[str, Callable[[bytes, int], bytes]]] = [
    ("truncated to its first block", lambda b, _: b[:4096]),
    ("header block overwritten", lambda b, _: b[:12] + b"\xa5" * 8192 + b[8204:]),
    ("second block overwritten", lambda b, _: b[:4096] + b"\x5a" * 8192 + b[12288:]),
    ("truncated to half", lambda b, _: b[: len(b) // 2]),
    # aimed at the table's data, not at "the middle": free blocks there would make it a no-op
    ("64 KiB zeroed in a block of the patients table", lambda b, at: b[:at] + b"\0" * 65536 + b[at + 65536:]),
    ("tail overwritten from 256 KiB", lambda b, _: b[:262144] + b"\x33" * (len(b) - 262144)),
]


@pytest.mark.parametrize("description, damage", DAMAGE, ids=[d for d, _ in DAMAGE])
def test_damaged_warehouse_is_refused_cleanly(loaded: tuple[bytes, int], tmp_path: Path, description, damage):
    db = tmp_path / "damaged.duckdb"
    db.write_bytes(damage(*loaded))
    info = _hygie(db, "info")
    if info.returncode == 0:  # damage in data blocks: the catalogue still reads
        assert "patients: 2500 rows" in info.stdout
    else:
        assert str(db) in _clean_error(info, 3)
    export = _hygie(db, "export", "patients", "--out", str(tmp_path / "out.csv"))
    imported = _hygie(db, "import", "patients", str(SAMPLE))
    for done in (export, imported):
        message = _clean_error(done, 3)
        assert str(db) in message
        assert "damaged" in message or "corrupted" in message or "cannot open the warehouse" in message
        assert "patients.csv:" not in message  # the warehouse's fault is not blamed on the file
    if description.startswith("64 KiB zeroed"):  # the block's checksum catches it, and the fix is said
        assert export.stderr == imported.stderr
        assert export.stderr.startswith(f"Error: {db}: the warehouse file is damaged (corrupted or truncated): ")
        assert export.stderr.rstrip().endswith("restore it from a backup")


def _foreign_duckdb(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE invoices (id INTEGER)")
    con.close()


def _sqlite(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()


FOREIGN = [
    ("a DuckDB database of another application", _foreign_duckdb,
     "a DuckDB database that is not a Hygie warehouse (no schema_version table); refusing to modify it"),
    ("a SQLite database", _sqlite, "not a DuckDB database file; refusing to open it as a warehouse"),
    ("a CSV file", lambda p: p.write_bytes(SAMPLE.read_bytes()),
     "not a DuckDB database file; refusing to open it as a warehouse"),
]


@pytest.mark.parametrize("description, make, expected", FOREIGN, ids=[d for d, _, _ in FOREIGN])
def test_foreign_file_at_db_is_refused_untouched(tmp_path: Path, description, make, expected):
    db = tmp_path / "foreign.duckdb"
    make(db)
    before = db.read_bytes()
    for args in (("info",), ("import", "patients", str(SAMPLE))):
        assert _clean_error(_hygie(db, *args), 3) == f"Error: {db}: {expected}\n"
    assert db.read_bytes() == before


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable even for root (immutable flag), or by mode bits when not root."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root (mode bits do not stop root) and chattr is not installed")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode != 0:
        pytest.skip("running as root (mode bits do not stop root) and this file system refuses chattr +i")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.mark.parametrize("target", ["file", "folder"])
def test_read_only_warehouse_gives_a_clear_message_and_stays_intact(loaded_warehouse: bytes, tmp_path: Path, target):
    folder = tmp_path / "ro"
    folder.mkdir()
    db = folder / "hygie.duckdb"
    db.write_bytes(loaded_warehouse)
    with _read_only(db if target == "file" else folder):
        done = _hygie(db, "import", "patients", str(SAMPLE))
        if target == "file":
            assert _clean_error(done, 3) == f"Error: {db}: the warehouse cannot be written (read-only file or folder)\n"
        else:
            message = _clean_error(done, 3)
            assert str(db) in message
    assert db.read_bytes() == loaded_warehouse or target == "folder"
    con = connect(db, read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM patients").fetchone()[0] == 2500
    finally:
        con.close()
