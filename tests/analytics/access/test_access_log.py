from datetime import UTC, datetime, timedelta

import pytest

from analytics.access import Actor
from analytics.access.access_log import GENESIS_HASH, chain_head, read_log, record, verify_chain
from analytics.access.auth import authenticate, create_user, set_password
from analytics.errors import AccessDenied, AuthenticationError, InvalidInput
from analytics.pseudonymise import load_secret

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ADMIN = Actor("alice", "admin", via="dashboard")


def _fill(con, n=5):
    for i in range(n):
        record(con, ADMIN, "view", "patients", row_count=i, detail={"page": "doublons", "i": i},
               now=T0 + timedelta(seconds=i))


def test_record_appends_chained_rows(con):
    _fill(con, 3)
    rows = con.execute("SELECT log_id, actor, role, via, action, object, row_count, prev_hash, row_hash "
                       "FROM access_log ORDER BY log_id").fetchall()
    assert [r[:7] for r in rows] == [(i + 1, "alice", "admin", "dashboard", "view", "patients", i)
                                     for i in range(3)]
    assert rows[0][7] == GENESIS_HASH
    assert rows[1][7] == rows[0][8] and rows[2][7] == rows[1][8]
    assert verify_chain(con) == (True, None)
    assert chain_head(con) == (3, rows[2][8])


TAMPERING = [
    # (description, SQL run behind the API's back, first bad log_id)
    ("row count lowered", "UPDATE access_log SET row_count = 0 WHERE log_id = 3", 3),
    ("actor changed", "UPDATE access_log SET actor = 'mallory' WHERE log_id = 2", 2),
    ("detail changed", "UPDATE access_log SET detail = '{\"page\":\"x\",\"i\":3}' WHERE log_id = 4", 4),
    ("time moved", "UPDATE access_log SET logged_at = logged_at + INTERVAL 1 SECOND WHERE log_id = 1", 1),
    ("row deleted", "DELETE FROM access_log WHERE log_id = 2", 3),
    ("hash recomputed by hand without the chain",
     "UPDATE access_log SET row_hash = sha256('x') WHERE log_id = 4", 4),
]


@pytest.mark.parametrize(("description", "sql", "bad"), TAMPERING, ids=[t[0] for t in TAMPERING])
def test_verify_chain_detects_tampering(con, description, sql, bad):
    _fill(con)
    con.execute(sql)
    assert verify_chain(con) == (False, bad)


def test_empty_log_verifies(con):
    assert verify_chain(con) == (True, None)
    assert chain_head(con) == (None, GENESIS_HASH)


def test_unknown_action_refused(con):
    with pytest.raises(InvalidInput, match="^access log: unknown action 'delete'"):
        record(con, ADMIN, "delete", "access_log")


def test_secret_looking_detail_keys_are_redacted(con):
    record(con, ADMIN, "settings_change", "oidc", detail={"client_secret": "s3cr3t", "nested": {"password": "pw"},
                                                       "token": "tok", "value": 5})
    detail = con.execute("SELECT detail FROM access_log").fetchone()[0]
    assert "s3cr3t" not in detail and "pw\"" not in detail and "tok\"" not in detail
    assert '"client_secret":"[redacted]"' in detail and '"value":5' in detail
    assert verify_chain(con) == (True, None)


def test_passwords_hashes_and_secret_never_reach_the_log(con, tmp_path, monkeypatch):
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(tmp_path / "k.secret"))
    secret = load_secret()
    create_user(con, None, "alice", "admin", "Blue-Horse42")
    with pytest.raises(AuthenticationError):
        authenticate(con, "alice", "Wrong-Horse-77", now=T0)
    authenticate(con, "alice", "Blue-Horse42", now=T0)
    set_password(con, ADMIN, "alice", "Green-Donkey-1984")
    password_hash = con.execute("SELECT password_hash FROM users").fetchone()[0]
    dump = "\n".join(str(row) for row in con.execute("SELECT * FROM access_log").fetchall())
    for needle in ("Blue-Horse42", "Wrong-Horse-77", "Green-Donkey-1984", password_hash, "$argon2",
                   secret.hex(), secret.decode("latin-1")):
        assert needle not in dump
    assert con.execute("SELECT count(*) FROM access_log").fetchone()[0] == 4


def test_read_log_requires_permission_and_filters(con):
    _fill(con, 3)
    record(con, Actor("bob", "analyst"), "export", "patients", 10, now=T0 + timedelta(minutes=1))
    with pytest.raises(AccessDenied, match=r"^bob \(role analyst\) may not read the access log$"):
        read_log(con, Actor("bob", "analyst"))
    frame = read_log(con, ADMIN, action="export")
    assert list(frame["actor"]) == ["bob"] and list(frame["row_count"]) == [10]
    assert list(read_log(con, ADMIN, since=T0 + timedelta(seconds=1), until=T0 + timedelta(seconds=2))["log_id"]) == [2]
    assert list(read_log(con, ADMIN, limit=2)["log_id"]) == [4, 3]


def test_concurrent_records_keep_one_chain(con):
    import threading

    def work(k):
        for i in range(10):
            record(con, Actor(f"u{k}", "viewer"), "view", "overview", row_count=i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert con.execute("SELECT count(*) FROM access_log").fetchone()[0] == 40
    assert verify_chain(con) == (True, None)
