"""Rewriting the access log behind the API's back, on a real warehouse file (issue 15, item 5).

The attacker can run SQL on the warehouse (or edit a copy) and uses this module's own helpers,
but does not hold the key file ``<db>.logkey``. Before the keyed chain, deleting the last row, or
deleting middle rows and recomputing every later hash with ``_row_hash``, left ``verify_chain``
at ``(True, None)``.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from analytics.access import access_log
from analytics.access.access_log import GENESIS_HASH, record, verify_chain
from analytics.access.roles import Actor
from analytics.warehouse import connect

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor("alice", "admin", via="dashboard")


@pytest.fixture
def db(fresh_db: Path) -> Path:
    con = connect(fresh_db)
    try:
        for i in range(8):
            record(con, ADMIN, "view", "patients", row_count=i, detail={"i": i}, now=T0 + timedelta(seconds=i))
        assert verify_chain(con) == (True, None)
    finally:
        con.close()
    return fresh_db


def _rows(con: duckdb.DuckDBPyConnection) -> list[tuple]:
    return con.execute("SELECT log_id, logged_at, actor, role, via, action, object, row_count, detail, "
                       "prev_hash, row_hash FROM access_log ORDER BY log_id").fetchall()


def _rechain(con: duckdb.DuckDBPyConnection, hasher) -> None:
    """Recompute prev_hash/row_hash of every row in order, as a careful attacker would."""
    prev = GENESIS_HASH
    for log_id, logged_at, actor, role, via, action, obj, row_count, detail, _, _ in _rows(con):
        payload = access_log._payload(log_id, logged_at, actor, role, via, action, obj, row_count,  # noqa: SLF001
                                      json.loads(detail) if detail else None)
        new = hasher(payload, prev)
        con.execute("UPDATE access_log SET prev_hash = ?, row_hash = ? WHERE log_id = ?", [prev, new, log_id])
        prev = new


def _verify(db: Path) -> tuple[bool, int | None]:
    con = connect(db)
    try:
        return verify_chain(con)
    finally:
        con.close()


def test_deleting_the_last_row_is_detected(db: Path):
    con = connect(db)
    con.execute("DELETE FROM access_log WHERE log_id = 8")
    con.close()
    assert _verify(db) == (False, 8)


def test_deleting_the_last_three_rows_is_detected(db: Path):
    con = connect(db)
    con.execute("DELETE FROM access_log WHERE log_id >= 6")
    con.close()
    assert _verify(db) == (False, 8)


@pytest.mark.parametrize("helper", ["plain sha256 (_row_hash)", "HMAC with a guessed key (_keyed_hash)"])
def test_a_consistent_rewrite_with_the_modules_helpers_is_detected(db: Path, helper: str):
    guessed = secrets.token_bytes(32)
    hasher = access_log._row_hash if helper.startswith("plain") else (  # noqa: SLF001
        lambda payload, prev: access_log._keyed_hash(payload, prev, guessed))  # noqa: SLF001
    con = connect(db)
    con.execute("DELETE FROM access_log WHERE log_id IN (3, 4)")
    _rechain(con, hasher)
    con.close()
    assert _verify(db) == (False, 1)  # the very first rewritten row no longer carries a valid MAC


def test_rewriting_the_chain_and_the_anchor_without_the_key_is_detected(db: Path):
    con = connect(db)
    con.execute("DELETE FROM access_log WHERE log_id IN (3, 4)")
    _rechain(con, access_log._row_hash)  # noqa: SLF001
    con.close()
    anchor_file = db.with_name(db.name + ".loghead")
    anchor = json.loads(anchor_file.read_text())
    anchor.update(keyed_from=None)  # "these rows are all from an older Hygie" — unsigned
    anchor_file.write_text(json.dumps(anchor))
    assert _verify(db) == (False, 1)
    anchor_file.unlink()  # or no anchor at all
    assert _verify(db) == (False, 1)


def test_the_limit_whoever_holds_the_key_can_rewrite_everything(db: Path):
    """Documented limit (docs/ACCESS.md): the key file's reader (service account, root) is trusted."""
    key = db.with_name(db.name + ".logkey").read_bytes()
    con = connect(db)
    con.execute("DELETE FROM access_log WHERE log_id IN (3, 4)")
    _rechain(con, lambda payload, prev: access_log._keyed_hash(payload, prev, key))  # noqa: SLF001
    chain = access_log._Chain(con, create=False)  # noqa: SLF001
    anchor = chain.read_anchor()
    anchor.update(head_hash=con.execute("SELECT row_hash FROM access_log WHERE log_id = 8").fetchone()[0])
    chain.write_anchor(anchor)
    con.close()
    assert _verify(db) == (True, None)


def test_an_anchor_lost_while_the_key_exists_stays_visible(db: Path):
    db.with_name(db.name + ".loghead").unlink()
    con = connect(db)
    try:
        record(con, ADMIN, "view", "patients", now=T0 + timedelta(minutes=1))  # logging goes on
        assert verify_chain(con) == (False, 8)  # ... but the gap is named until the anchor is restored
    finally:
        con.close()


def test_a_copy_without_its_key_cannot_be_vouched_for(db: Path, tmp_path: Path):
    import shutil

    copy = tmp_path / "copy" / "w.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(db, copy)
    assert _verify(copy) == (False, 1)  # no key, no anchor beside it: nothing vouches for its rows
    con = connect(copy)
    try:
        record(con, ADMIN, "view", "patients", now=T0 + timedelta(minutes=1))
        assert verify_chain(con) == (False, 1)  # its rows were keyed with a key it does not have
    finally:
        con.close()


def test_an_older_plain_chain_is_sealed_by_the_first_keyed_row(fresh_db: Path):
    """Migration: rows of an older Hygie (plain sha256, no key file) stay valid, then are sealed."""
    con = connect(fresh_db)
    prev = GENESIS_HASH
    for i in range(1, 4):  # what Hygie wrote before the keyed chain
        log_id = con.execute("SELECT nextval('access_log_seq')").fetchone()[0]
        payload = access_log._payload(log_id, T0 + timedelta(seconds=i), "bob", "admin", "cli",  # noqa: SLF001
                                      "view", "patients", i, None)
        row_hash = access_log._row_hash(payload, prev)  # noqa: SLF001
        con.execute("INSERT INTO access_log (log_id, logged_at, actor, role, via, action, object, row_count, "
                    "detail, prev_hash, row_hash) VALUES (?, ?, 'bob', 'admin', 'cli', 'view', 'patients', ?, "
                    "NULL, ?, ?)", [log_id, T0 + timedelta(seconds=i), i, prev, row_hash])
        prev = row_hash
    assert verify_chain(con) == (True, None)  # no key yet: checked as the older version did
    record(con, ADMIN, "view", "patients", now=T0 + timedelta(minutes=1))  # first keyed row
    assert verify_chain(con) == (True, None)
    assert json.loads(fresh_db.with_name(fresh_db.name + ".loghead").read_text())["keyed_from"] == 4
    con.execute("DELETE FROM access_log WHERE log_id = 2")  # rewrite the old rows consistently...
    old = [r for r in _rows(con) if r[0] < 4]
    prev = GENESIS_HASH
    for log_id, logged_at, actor, role, via, action, obj, row_count, _, _, _ in old:
        payload = access_log._payload(log_id, logged_at, actor, role, via, action, obj, row_count, None)  # noqa: SLF001
        new = access_log._row_hash(payload, prev)  # noqa: SLF001
        con.execute("UPDATE access_log SET prev_hash = ?, row_hash = ? WHERE log_id = ?", [prev, new, log_id])
        prev = new
    assert verify_chain(con) == (False, 4)  # ... the first keyed row no longer chains to them
    con.close()


def test_a_retention_purge_rebases_the_chain(db: Path):
    con = connect(db)
    try:
        con.execute("DELETE FROM access_log WHERE log_id < 4")
        assert verify_chain(con) == (False, 4)  # a purge is a deletion until the anchor says so
        access_log.rebase_after_purge(con, 4)
        assert verify_chain(con) == (True, None)
        record(con, ADMIN, "view", "patients", now=T0 + timedelta(minutes=1))
        assert verify_chain(con) == (True, None)
        con.execute("DELETE FROM access_log WHERE log_id = 5")
        assert verify_chain(con) == (False, 6)
    finally:
        con.close()
