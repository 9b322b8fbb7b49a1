"""Hardening tests share one migrated warehouse template, copied where a test needs a fresh file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analytics.warehouse import connect


@pytest.fixture(scope="session")
def hardening_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated warehouse file per session (migrating each time is slower than copying)."""
    path = tmp_path_factory.mktemp("hardening-template") / "template.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def fresh_db(hardening_template: Path, tmp_path: Path) -> Path:
    """Path of a fresh migrated warehouse file (a copy of the template)."""
    target = tmp_path / "hygie.duckdb"
    shutil.copyfile(hardening_template, target)
    return target
