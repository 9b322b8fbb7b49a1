"""Files owner-only from creation (issue 15, item 1), on a real warehouse built by ``hygie demo``.

Before: with the usual umask 022 the ``.duckdb`` file and its WAL were 0644, so any local
account could open the warehouse read-only and read every identity and password hash. The
commands run here in a shell whose umask is 022 (what a login shell or systemd gives), as a
user would run them.
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.warehouse import connect

HYGIE = [str(Path(sys.executable).with_name("hygie"))]


def _hygie(db: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    cmd = " ".join(f"'{part}'" for part in [*HYGIE, "--db", str(db), *args])
    return subprocess.run(["sh", "-c", f"umask 022; exec {cmd}"], cwd=cwd, capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, HYGIE_DEMO_PASSWORD="demo-password-files"))


def _open_to_others(folder: Path) -> list[str]:
    found = []
    for path in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if mode & 0o077:
            found.append(f"{path.relative_to(folder.parent)} {mode:04o}")
    return found


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("modes") / "data"
    db = folder / "hygie.duckdb"
    done = _hygie(db, "demo", cwd=folder.parent)
    assert done.returncode == 0, done.stderr
    return db


def test_hygie_demo_leaves_nothing_readable_by_others(demo: Path):
    names = sorted(p.name for p in demo.parent.iterdir())
    assert "hygie.duckdb" in names and "hygie.duckdb.logkey" in names and "hygie.duckdb.loghead" in names
    assert _open_to_others(demo.parent) == []


def test_exports_jobs_and_the_wal_stay_owner_only(demo: Path):
    out = demo.parent / "exports" / "patients.csv"
    out.parent.mkdir(mode=0o700)
    done = _hygie(demo, "export", "patients", "--out", str(out), cwd=demo.parent)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_size > 1000
    done = _hygie(demo, "jobs", "run", "normalise-identities", "--apply", "--yes", cwd=demo.parent)
    assert done.returncode == 0, done.stderr
    con = connect(demo)  # an open writer leaves a WAL
    try:
        con.execute("CREATE TABLE wal_probe AS SELECT 1 AS x")
        assert demo.with_name(demo.name + ".wal").exists()
        assert _open_to_others(demo.parent) == []
        con.execute("DROP TABLE wal_probe")
    finally:
        con.close()


def test_a_warehouse_left_readable_is_tightened_with_a_warning(demo: Path, tmp_path: Path, caplog):
    from analytics.warehouse.connection import copy_warehouse

    copy = copy_warehouse(demo, tmp_path / "shared.duckdb")
    os.chmod(copy, 0o644)  # what an older Hygie left
    with caplog.at_level(logging.WARNING, logger="hygie.warehouse"):
        connect(copy).close()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert any("readable by other local accounts (mode 0644)" in r.getMessage() for r in caplog.records)
    os.chmod(copy, 0o640)
    done = _hygie(copy, "info", cwd=tmp_path)  # the CLI too
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
