"""Login abuse (issue 15, item 6): locking out the last admin, floods of logins, a lock that
cannot be lifted while the dashboard holds the warehouse. Real warehouse files, real argon2id.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from analytics.access import auth, passwords
from analytics.access.roles import Actor
from analytics.errors import AuthenticationError
from analytics.jobs.queue import JobQueue, queue_path
from analytics.jobs.worker import JobWorker
from analytics.warehouse import connect

STRONG = "Violet-Cactus-93-lantern"
ROOT = Actor("root", "admin")
HYGIE = str(Path(sys.executable).with_name("hygie"))


@pytest.fixture
def con(fresh_db: Path):
    connection = connect(fresh_db)
    auth.create_user(connection, None, "root", "admin", STRONG)
    yield connection
    connection.close()


def _fail(con, source: str | None, times: int = 5) -> None:
    for i in range(times):
        with pytest.raises(AuthenticationError):
            auth.authenticate(con, "root", f"wrong-guess-{i}", source=source)


def test_failures_from_another_address_do_not_lock_the_last_admin_out(con):
    _fail(con, "203.0.113.66")
    with pytest.raises(AuthenticationError) as refused:  # the attacker's address is locked...
        auth.authenticate(con, "root", STRONG, source="203.0.113.66")
    assert refused.value.kind == auth.LOCKED
    assert auth.authenticate(con, "root", STRONG, source="192.0.2.10") == Actor("root", "admin")  # ...not hers


def test_one_address_gets_a_bounded_number_of_attempts_over_any_names(con, monkeypatch):
    monkeypatch.setattr(auth, "SOURCES", auth.SourceLimiter(attempts=6, window_s=600))
    for i in range(6):  # six different names: no per-name lock is reached
        with pytest.raises(AuthenticationError) as refused:
            auth.authenticate(con, f"guess{i}", "wrong-password-1", source="203.0.113.7")
        assert refused.value.kind == auth.INVALID_CREDENTIALS
    with pytest.raises(AuthenticationError) as refused:
        auth.authenticate(con, "root", STRONG, source="203.0.113.7")  # even the right password now
    assert refused.value.kind == auth.LOCKED
    assert auth.authenticate(con, "root", STRONG, source="192.0.2.10").role == "admin"
    reasons = con.execute("SELECT detail->>'reason' FROM access_log WHERE action = 'login_failed' "
                          "ORDER BY log_id DESC LIMIT 1").fetchone()
    assert reasons == ("rate limited",)


def test_the_attempt_memory_is_bounded():
    limiter = auth.SourceLimiter(attempts=3, window_s=600, max_sources=1000)
    for i in range(50_000):
        limiter.allow(f"198.51.{i // 256 % 256}.{i % 256}-{i}", float(i))
    assert len(limiter) == 1000


def test_simultaneous_logins_never_run_more_than_four_password_checks_at_once(con, monkeypatch):
    """30 logins at once took the server from 271 MiB to 1.77 GiB (64 MiB of argon2id each)."""
    real_verify = passwords.verify_password
    running, peak, guard = [0], [0], threading.Lock()

    def counting_verify(password_hash: str, password: str) -> bool:
        with guard:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        try:
            return real_verify(password_hash, password)
        finally:
            with guard:
                running[0] -= 1

    monkeypatch.setattr(passwords, "verify_password", counting_verify)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        cursor = con.cursor()
        try:
            auth.authenticate(cursor, f"nobody{i}", "wrong-password-1", source="loopback")
        except AuthenticationError as exc:
            outcomes.append(exc.kind)
        finally:
            cursor.close()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert len(outcomes) == 30
    assert 1 <= peak[0] <= 4


def test_an_admin_can_unlock_while_the_dashboard_holds_the_warehouse(fresh_db: Path):
    con = connect(fresh_db)
    auth.create_user(con, None, "root", "admin", STRONG)
    _fail(con, None)  # locked by name (a reverse proxy: every attempt from one address)
    worker = JobWorker(con, fresh_db, poll=0.05, schedule_every=3600)  # what hygie serve runs
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while JobQueue(queue_path(fresh_db)).worker_pid() is None:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        done = subprocess.run([HYGIE, "--db", str(fresh_db), "users", "unlock", "root"], capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "Account 'root' unlocked." in done.stdout
        assert "handed to its job worker" in done.stderr
        assert auth.authenticate(con.cursor(), "root", STRONG).role == "admin"
    finally:
        worker.stop()
        con.close()
