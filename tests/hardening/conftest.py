"""Hardening tests: a fresh migrated warehouse file, copied from the session template (tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture
def fresh_db(migrated_template: Path, tmp_path: Path) -> Path:
    """Path of a fresh migrated warehouse file (a copy of the template)."""
    target = tmp_path / "hygie.duckdb"
    shutil.copyfile(migrated_template, target)
    return target
