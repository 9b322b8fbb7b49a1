"""The pseudonymisation key lives outside the warehouse folder, owner-only (issue 14 item 3)."""

from __future__ import annotations

import os
import stat

import pytest

from analytics.errors import InvalidInput
from analytics.pseudonymise import load_secret, secret_for
from analytics.warehouse import connect


@pytest.fixture
def folders(tmp_path, monkeypatch):
    """(warehouse folder, key folder), apart; HYGIE_SECRET_FILE unset."""
    monkeypatch.delenv("HYGIE_SECRET_FILE", raising=False)
    keys = tmp_path / "config" / "keys"
    monkeypatch.setenv("HYGIE_SECRET_DIR", str(keys))
    (tmp_path / "w").mkdir()
    return tmp_path / "w", keys


def test_default_key_is_created_owner_only_outside_the_warehouse_folder(folders):
    warehouse, keys = folders
    db = warehouse / "hygie.duckdb"
    key = load_secret(db)
    [path] = list(keys.iterdir())
    assert len(key) == 32 and path.read_bytes() == key and path.name.startswith("hygie-")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and stat.S_IMODE(os.stat(keys).st_mode) == 0o700
    assert list(warehouse.iterdir()) == []  # nothing beside the warehouse
    assert load_secret(db) == key
    assert load_secret(warehouse / "other.duckdb") != key  # one key per warehouse


def test_a_key_inside_the_warehouse_folder_is_refused(folders, monkeypatch):
    warehouse, _ = folders
    inside = warehouse / "backup" / "k.secret"
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(inside))
    with pytest.raises(InvalidInput) as err:
        load_secret(warehouse / "hygie.duckdb")
    assert str(err.value).startswith(
        f"{inside}: the pseudonymisation key must not be inside the warehouse folder {warehouse.resolve()} "
        "(a copy or a backup of the folder would carry the key with the data); set HYGIE_SECRET_FILE")
    assert not inside.exists()


def test_a_key_readable_by_others_is_refused(folders, monkeypatch, tmp_path):
    warehouse, _ = folders
    path = tmp_path / "elsewhere.secret"
    path.write_bytes(b"k" * 32)
    path.chmod(0o644)
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(path))
    with pytest.raises(InvalidInput) as err:
        load_secret(warehouse / "hygie.duckdb")
    assert str(err.value) == (f"{path}: the pseudonymisation key is readable by other accounts (mode 0644); "
                              f"run: chmod 600 {path}")
    path.chmod(0o600)
    assert load_secret(warehouse / "hygie.duckdb") == b"k" * 32


def test_a_key_left_beside_the_warehouse_says_where_to_move_it(folders):
    warehouse, keys = folders
    db = warehouse / "hygie.duckdb"
    legacy = warehouse / "hygie.duckdb.secret"
    legacy.write_bytes(b"o" * 32)
    with pytest.raises(InvalidInput, match=rf"^{legacy}: the pseudonymisation key sits beside the warehouse"):
        load_secret(db)
    assert not keys.exists() or not any(keys.iterdir())  # no second key made behind the user's back


def test_the_setting_names_the_key_file(folders, tmp_path):
    warehouse, _ = folders
    chosen = tmp_path / "vault" / "hygie.secret"
    chosen.parent.mkdir()
    chosen.write_bytes(b"v" * 32)
    chosen.chmod(0o600)
    con = connect(warehouse / "hygie.duckdb")
    try:
        con.execute("INSERT INTO settings (key, value) VALUES ('privacy.secret_file', ?)", [str(chosen)])
        assert secret_for(con) == b"v" * 32
    finally:
        con.close()
