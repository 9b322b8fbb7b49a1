"""The demo hospital (``hygie demo``: 2,500 patients), built once per session for privacy tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HYGIE = str(Path(sys.executable).with_name("hygie"))


@pytest.fixture(scope="session")
def demo_hospital(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(warehouse path, environment with its key file outside the warehouse folder)."""
    folder = tmp_path_factory.mktemp("demo")
    keys = tmp_path_factory.mktemp("keys")
    env = {**os.environ, "HYGIE_SECRET_FILE": str(keys / "hygie.secret")}
    db = folder / "demo.duckdb"
    done = subprocess.run([HYGIE, "--db", str(db), "demo"], capture_output=True, text=True, timeout=600,
                          check=False, env=env)
    assert done.returncode == 0, done.stderr
    return db, env
