"""SIGKILL of a real ``hygie import`` process at three points: nothing half-written, run shown interrupted.

The kill points are found by watching the warehouse files, not by sleeping, so they hold on a
loaded machine:
- ``staging``: the ``running`` imports row has just been committed (the WAL appeared); the file
  is being sniffed and staged;
- ``writing``: the data transaction is writing row groups into the database file (the file grew
  by more than 1 MB) but has not committed (the WAL did not grow);
- ``checkpointing``: the data transaction committed (the WAL grew) and DuckDB is checkpointing.
After each kill the warehouse must open, hold either none (first two) or all (last) of the
file's rows, and ``mark_interrupted_imports`` must flip exactly the killed run to ``interrupted``.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from analytics.access.roles import system_actor
from analytics.importing import import_file, mark_interrupted_imports
from analytics.warehouse import connect

SYSTEM = system_actor()

HYGIE = str(Path(sys.executable).with_name("hygie"))
ROWS = 400_000
BASE = "IPP;NOM_NAISSANCE;PRENOMS;DATE_NAISSANCE\nA1;DUPONT;JEAN;01/02/1960\nA2;MARTIN;ANNE;31/12/1975\n"


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("kill") / "big_patients.csv"
    duckdb.execute(
        "COPY (SELECT '9' || lpad(i::VARCHAR, 8, '0') AS IPP, 'NOM' || i AS NOM_NAISSANCE, "
        "'JEAN MARIE' AS PRENOMS, lpad((1 + i % 28)::VARCHAR, 2, '0') || '/' || lpad((1 + i % 12)::VARCHAR, 2, '0') "
        "|| '/19' || (50 + i % 50) AS DATE_NAISSANCE, 'M' AS SEXE FROM range(?) t(i)) "
        "TO '" + str(path).replace("'", "''") + "' (HEADER, DELIMITER ';')", [ROWS])
    return path


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return -1


def _kill_at(point: str, db: Path, big: Path, log: Path) -> bool:
    """Start ``hygie import``, SIGKILL it at ``point``; return True if it was still running then."""
    wal = Path(str(db) + ".wal")
    start_size = _size(db)
    with log.open("w") as out:
        proc = subprocess.Popen([HYGIE, "--db", str(db), "import", "patients", str(big)],
                                stdout=out, stderr=subprocess.STDOUT, env=os.environ.copy())
    running_wal = None
    deadline = time.monotonic() + 120
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            wal_size = _size(wal)
            if running_wal is None and wal_size > 0:
                running_wal = wal_size
            if running_wal is not None:
                if point == "staging":
                    break
                if point == "writing" and _size(db) > start_size + (1 << 20) and _size(wal) == running_wal:
                    break
                if point == "checkpointing" and _size(wal) > running_wal:
                    break
            time.sleep(0.005)
        alive = proc.poll() is None
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        return alive
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("point, expect_all", [("staging", False), ("writing", False), ("checkpointing", True)])
def test_sigkill_mid_import_leaves_all_or_nothing(fresh_db: Path, big_file: Path, tmp_path: Path, point, expect_all):
    base = tmp_path / "base.csv"
    base.write_text(BASE, encoding="utf-8")
    con = connect(fresh_db)
    import_file(con, "patients", base, actor=SYSTEM)
    before = con.execute("SELECT count(*), sum(hash(p)) FROM patients p").fetchone()
    con.close()

    alive = _kill_at(point, fresh_db, big_file, tmp_path / "import.log")
    if not expect_all:
        assert alive, f"the import ended before the '{point}' kill point: {(tmp_path / 'import.log').read_text()}"

    con = connect(fresh_db)  # the warehouse opens after the kill
    try:
        count, digest = con.execute("SELECT count(*), sum(hash(p)) FROM patients p").fetchone()
        big_rows = con.execute("SELECT count(*) FROM patients WHERE patient_id LIKE '9%'").fetchone()[0]
        assert big_rows in (0, ROWS), f"half-written import: {big_rows} of {ROWS} rows"
        flipped = mark_interrupted_imports(con)
        statuses = con.execute("SELECT status FROM imports WHERE file_name = ?", [str(big_file)]).fetchall()
        if expect_all:
            assert (count, big_rows, statuses, flipped) == (before[0] + ROWS, ROWS, [("loaded",)], 0)
        else:
            assert (count, digest, big_rows) == (*before, 0)
            assert (flipped, statuses) == (1, [("interrupted",)])
            message = con.execute("SELECT message FROM imports WHERE file_name = ?", [str(big_file)]).fetchone()[0]
            assert message == "the import stopped before finishing (process ended); nothing was loaded"
            assert con.execute("SELECT count(*) FROM data_quality_findings").fetchone()[0] == 0
    finally:
        con.close()
    if point == "writing":
        # the warehouse is usable: the same file imports whole afterwards
        done = subprocess.run([HYGIE, "--db", str(fresh_db), "import", "patients", str(big_file)],
                              capture_output=True, text=True, timeout=180, check=False)
        assert done.returncode == 0, done.stderr
        assert f"Rows:      {ROWS} in file, {ROWS} inserted, 0 updated, 0 skipped" in done.stdout
    shutil.rmtree(tmp_path, ignore_errors=True)
