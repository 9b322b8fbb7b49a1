"""Disk full during an import or a job apply: a clear ``Error:`` line, nothing half-written.

A real ``hygie`` subprocess runs with its file size limit lowered (``RLIMIT_FSIZE``, SIGXFSZ
ignored), so every write past the limit fails with EFBIG exactly as a full disk fails with
ENOSPC — no privileges and no tmpfs needed. The limit is swept over fractions of the warehouse
file size, so the failing write moves: the importer's temporary UTF-8 copy, the WAL at COMMIT,
or only the checkpoint when the process closes (then the WAL holds the committed work and the
next open replays it).

Each case checks: no traceback; either exit 0 and, after reopening, exactly what an unhindered
run gives, or an ``Error: ... disk ...`` line with the command's exit code and every data table
equal to before (count and hash), the attempt recorded as refused/failed or absent; and the
warehouse reopens, replays and removes its WAL, and takes the same command without a limit.
"""

from __future__ import annotations

import collections
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from analytics.access.roles import system_actor
from analytics.importing import import_file
from analytics.warehouse import connect
from tests import figures

HYGIE = str(Path(sys.executable).with_name("hygie"))
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "small"
DATA_TABLES = ("patients", "documents", "audit_events", "staff", "schedules")
VOLATILE = {"import_id", "updated_at"}  # set by the run itself, differ between two equal runs
OUTCOMES: collections.Counter[str] = figures.track("disk full: outcomes", collections.Counter())


def _limited(limit: int | None) -> Callable[[], None] | None:
    if limit is None:
        return None

    def apply() -> None:  # runs in the child between fork and exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill; kept across exec
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def _hygie(db: Path, args: tuple[str, ...], limit: int | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([HYGIE, "--db", str(db), *args], capture_output=True, text=True, timeout=180,
                          check=False, env=os.environ.copy(), preexec_fn=_limited(limit))  # noqa: PLW1509


def _fingerprint(db: Path) -> dict[str, tuple[int, int]]:
    """Open (replaying any WAL), then count and hash every data table, without run-specific columns."""
    con = connect(db)
    try:
        out = {}
        for table in DATA_TABLES:
            cols = [r[0] for r in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [table]).fetchall() if r[0] not in VOLATILE]
            listed = ", ".join(f'"{c}"' for c in cols)
            out[table] = con.execute(
                f"SELECT count(*), coalesce(sum(hash({listed})), 0) FROM {table}"  # noqa: S608 - catalogue names
            ).fetchone()
        for table in ("data_quality_findings", "job_changes"):
            out[table] = (con.execute(f"SELECT count(*) FROM {table}").fetchone()[0], 0)  # noqa: S608
        return out
    finally:
        con.close()


def _attempts(db: Path) -> dict[str, list[tuple[str, int]]]:
    """Status and row count of every import and job run, oldest first."""
    con = connect(db, read_only=True)
    try:
        return {
            "imports": con.execute("SELECT status, coalesce(rows_inserted, 0) + coalesce(rows_updated, 0) "
                                   "FROM imports ORDER BY started_at").fetchall(),
            "job_runs": con.execute("SELECT status, coalesce(rows_changed, 0) FROM job_runs "
                                    "ORDER BY started_at").fetchall(),
        }
    finally:
        con.close()


@pytest.fixture(scope="module")
def warehouses(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A warehouse holding only the staff (for the import) and one holding the patients (for the job)."""
    folder = tmp_path_factory.mktemp("disk-full")
    built = {}
    for name, table in (("staff_only", "staff"), ("with_patients", "patients")):
        path = folder / f"{name}.duckdb"
        con = connect(path)
        import_file(con, table, SAMPLE / f"{table}.csv", actor=system_actor())
        con.execute("CHECKPOINT")
        con.close()
        built[name] = path
    return built


COMMANDS = [
    # description, base warehouse, command, exit code on a refusal, what a clean attempt leaves
    ("import 2,500 patients (cp1252 CSV)", "staff_only",
     ("import", "patients", str(SAMPLE / "patients.csv")), 3),
    ("apply normalise-identities to 2,500 patients", "with_patients",
     ("jobs", "run", "normalise-identities", "--apply", "--yes"), 5),
]


def _check(db: Path, args: tuple[str, ...], limit: int | None, case: str, refusal_code: int,
           before: dict, after: dict | None, attempts_before: dict) -> tuple[str, int]:
    """Run one case and assert the property; return its outcome and the WAL size it left."""
    done = _hygie(db, args, limit)
    assert "Traceback" not in done.stderr, (case, done.stderr)
    wal = db.with_name(db.name + ".wal")
    wal_left = wal.stat().st_size if wal.exists() else 0
    state = _fingerprint(db)  # reopens: replays the WAL if the checkpoint could not be written
    assert not wal.exists(), f"{case}: WAL not folded back in after reopening"
    if done.returncode == 0:
        assert after is None or state == after, f"{case}: exit 0 but the warehouse differs from an unhindered run"
        return ("committed; checkpoint failed, WAL replayed on reopen" if wal_left else "committed"), wal_left
    assert done.returncode == refusal_code, (case, done.returncode, done.stderr)
    error = done.stderr.strip().splitlines()[-1]  # after the job's progress lines
    assert error.startswith("Error: "), (case, done.stderr)
    assert "disk space" in error or "File too large" in error, (case, error)
    assert "patients.csv:" not in error, f"{case}: the disk's fault blamed on the file"
    assert state == before, f"{case}: refused but the warehouse changed"
    for kind, rows in _attempts(db).items():  # the attempt is absent, or recorded as not done
        kept = len(attempts_before[kind])
        assert rows[:kept] == attempts_before[kind], (case, kind, rows)
        assert all(status in ("refused", "failed", "interrupted") and count == 0
                   for status, count in rows[kept:]), (case, kind, rows[kept:])
    where = "the WAL at commit" if ".wal" in error else "a temporary file" if "Errno" in error else "other"
    return f"refused, nothing written (failed write: {where})", 0


@pytest.mark.parametrize("description, base, args, refusal_code", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_disk_full_leaves_nothing_half_written(warehouses, tmp_path: Path, description, base, args, refusal_code):
    source = warehouses[base]
    size = source.stat().st_size
    before, attempts_before = _fingerprint(source), _attempts(source)

    def run(limit: int | None, after: dict | None) -> tuple[str, int, Path]:
        db = tmp_path / f"limit-{limit}.duckdb"
        shutil.copyfile(source, db)
        case = f"{description}, file size limit {limit} bytes"
        outcome, wal = _check(db, args, limit, case, refusal_code, before, after, attempts_before)
        print(f"{case} -> {outcome}")
        OUTCOMES[f"{description}: {outcome}"] += 1
        return outcome, wal, db

    # Unhindered (3x the file is far more than the command writes): the state to compare with.
    outcome, _, reference = run(3 * size, None)
    assert outcome == "committed"
    after = _fingerprint(reference)
    assert after != before  # the command changes something, so a refusal is visible
    # The file may not grow: the commit lands in the WAL, the checkpoint fails; W = the WAL's size.
    outcome, wal_size, _ = run(size, after)
    assert outcome == "committed; checkpoint failed, WAL replayed on reopen" and wal_size > 0
    refused = []
    for limit in (4096, wal_size // 2, wal_size * 9 // 10, size + wal_size // 2):
        outcome, _, db = run(limit, after)
        if outcome.startswith("refused"):
            refused.append(db)
    assert len(refused) >= 3, "the limits below the WAL's size must refuse the command"

    # A refused warehouse takes the same command once space is back.
    retry = _hygie(refused[-1], args, None)
    assert retry.returncode == 0, retry.stderr
    assert _fingerprint(refused[-1]) == after
