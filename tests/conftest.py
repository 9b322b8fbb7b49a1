"""Shared fixtures: real DuckDB warehouses in temporary folders."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.warehouse import connect

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "sample_data" / "small"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """Path of a fresh (not yet created) warehouse file."""
    return tmp_path / "hygie.duckdb"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated warehouse file per test session; tests get copies (faster than migrating)."""
    path = tmp_path_factory.mktemp("template") / "template.duckdb"
    connect(path).close()
    return path


@pytest.fixture
def con(db_path: Path):
    """A read-write connection to a fresh, migrated warehouse file."""
    connection = connect(db_path)
    yield connection
    connection.close()
