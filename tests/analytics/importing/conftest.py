"""Importer tests get a copy of one migrated warehouse instead of migrating a new one each time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analytics.warehouse import connect


@pytest.fixture
def con(migrated_template: Path, tmp_path: Path):
    """Like the shared ``con`` fixture: a fresh, migrated warehouse file, copied from the template."""
    target = tmp_path / "hygie.duckdb"
    shutil.copyfile(migrated_template, target)
    connection = connect(target)
    yield connection
    connection.close()
