"""Importer tests get a copy of one migrated warehouse instead of migrating a new one each time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analytics.warehouse import connect


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated warehouse file per test session; tests get copies (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "template.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def con(migrated_template: Path, tmp_path: Path):
    """Like the shared ``con`` fixture: a fresh, migrated warehouse file, copied from the template."""
    target = tmp_path / "hygie.duckdb"
    shutil.copyfile(migrated_template, target)
    connection = connect(target)
    yield connection
    connection.close()
