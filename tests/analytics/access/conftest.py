"""Cheap argon2 parameters for the access tests, through the documented seam."""

import pytest
from argon2 import PasswordHasher

from analytics.access.passwords import use_hasher

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def fast_hasher():
    with use_hasher(FAST) as hasher:
        yield hasher


@pytest.fixture
def con():
    """An in-memory warehouse: the engine tests need no file (the CLI tests use ``db_path``)."""
    from analytics.warehouse import connect

    connection = connect(":memory:")
    yield connection
    connection.close()
