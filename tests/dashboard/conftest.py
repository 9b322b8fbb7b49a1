"""A small real warehouse for the dashboard tests, and an AppTest factory per role."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from streamlit.testing.v1 import AppTest

from analytics.access.roles import Actor
from analytics.warehouse import connect
from analytics.warehouse.connection import copy_warehouse


def query(db: Path, sql: str, params: list | None = None) -> list[tuple]:
    """Rows of ``sql`` read from the warehouse file ``db`` (its own short-lived connection)."""
    con = connect(db)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()

APP = Path(__file__).resolve().parents[2] / "dashboard" / "app.py"
PARIS = ZoneInfo("Europe/Paris")


def fill_warehouse(path: Path) -> None:
    """Hand-made hospital rows (seeded), enough for every page to have something to show."""
    rng = random.Random(42)
    con = connect(path)
    try:
        names = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "PETIT", "DURAND", "LEROY"]
        firsts = ["MARIE", "JEAN", "PIERRE", "ANNE", "LUC", "CLAIRE", "PAUL", "JULIE"]
        patients = []
        for i in range(40):
            patients.append(
                (
                    f"P{i:04d}", names[i % 8], firsts[(i * 3) % 8],
                    date(1950 + rng.randrange(60), 1 + rng.randrange(12), 1 + rng.randrange(28)),
                    "F" if i % 2 else "M", "PROV" if i % 3 else "VALI",
                    datetime(2024, 1, 1, tzinfo=PARIS) + timedelta(days=i),
                )
            )
        # two look-alike records of the same person
        patients.append(("P9001", "DUPONT", "JEAN PIERRE", date(1970, 5, 12), "M", "PROV",
                         datetime(2024, 3, 1, tzinfo=PARIS)))
        patients.append(("P9002", "DUPOND", "JEAN-PIERRE", date(1970, 5, 12), "M", "VALI",
                         datetime(2020, 3, 1, tzinfo=PARIS)))
        # a third, to review with P9001 only: PIERRE is the second of P9001's first names; against
        # P9002's compound JEAN-PIERRE it is another first name (JEAN would be the compound's first
        # part, a level of its own that puts P9002 in review too)
        patients.append(("P9003", "DUPONT", "PIERRE", date(1970, 12, 5), "M", "PROV",
                         datetime(2025, 1, 1, tzinfo=PARIS)))
        con.executemany(
            "INSERT INTO patients (patient_id, birth_name, first_names, birth_date, sex, "
            "identity_status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            patients,
        )
        # one untidy record for the normalisation job
        con.execute("UPDATE patients SET birth_name = ' leroy ', phone = '06 12 34 56 78' "
                    "WHERE patient_id = 'P0007'")
        con.executemany(
            "INSERT INTO staff (user_id, display_name, role, service) VALUES (?, ?, ?, ?)",
            [("U1", "Dr A", "physician", "Cardiologie"), ("U2", "Dr B", "physician", "Urgences")],
        )
        start = datetime(2024, 6, 3, 8, 0, tzinfo=PARIS)
        events = []
        for n in range(200):
            user = "U1" if n % 2 else "U2"
            ts = start + timedelta(minutes=n) + timedelta(hours=11 if n >= 150 else 0)
            events.append((f"E{n}", user, ts, "R", ["documentation", "orders", "inbox"][n % 3],
                           f"P{n % 40:04d}", f"D{n % 30}", "CR", "Cardiologie"))
        con.executemany(
            "INSERT INTO audit_events (event_id, user_id, timestamp, action, activity, patient_id, "
            "document_id, document_type, service) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            events,
        )
        con.executemany(
            "INSERT INTO documents (document_id, patient_id, document_type, author_id, service, "
            "created_at, signed_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (f"D{n}", f"P{n % 40:04d}", "CR", "U1", "Cardiologie",
                 start + timedelta(hours=n), None if n % 4 == 0 else start + timedelta(hours=n + 5),
                 "draft" if n % 4 == 0 else "signed")
                for n in range(30)
            ],
        )
        con.executemany(
            'INSERT INTO schedules (user_id, "start", "end") VALUES (?, ?, ?)',
            [(u, start, start + timedelta(hours=8)) for u in ("U1", "U2")],
        )
        for table, rows in (("patients", 43), ("documents", 30), ("audit_events", 200),
                            ("staff", 2), ("schedules", 2)):
            con.execute(
                "INSERT INTO imports (import_id, table_name, file_name, format, rows_in_file, "
                "rows_inserted, rows_updated, findings, status, actor, started_at, finished_at) "
                "VALUES (?, ?, ?, 'csv', ?, ?, 0, 0, 'loaded', 'test', now(), now())",
                [f"imp-{table}", table, f"{table}.csv", rows, rows],
            )
        # the engine's own analyses, as `hygie duplicates find` would run them
        from analytics.access.roles import system_actor
        from analytics.documents import find_duplicate_documents
        from analytics.identity import find_duplicates

        find_duplicates(con, actor=system_actor())
        find_duplicate_documents(con, actor=system_actor())
    finally:
        con.close()


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Path of a filled warehouse shared by the read-only page tests."""
    path = tmp_path_factory.mktemp("wh") / "hygie.duckdb"
    fill_warehouse(path)
    return path


@pytest.fixture(scope="session")
def _filled_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A filled warehouse built once per session, never opened by a test: fresh copies come from it."""
    path = tmp_path_factory.mktemp("filled") / "template.duckdb"
    fill_warehouse(path)
    return path


@pytest.fixture
def fresh_warehouse(tmp_path: Path, _filled_template: Path) -> Path:
    """A filled warehouse of its own, for tests that change data (a copy of the session's
    template: filling one takes a matching run and a document scan, a copy a few milliseconds)."""
    path = tmp_path / "hygie.duckdb"
    copy_warehouse(_filled_template, path)  # with its access-log key and anchor (the chain verifies)
    return path


_SERVED: set[str] = set()


def _account(db: Path, username: str, role: str) -> None:
    """Make ``username`` an account of ``db`` with ``role`` (once per warehouse)."""
    from analytics.access import auth
    from analytics.access.roles import system_actor

    con = connect(db)
    try:
        if not con.execute("SELECT count(*) FROM users WHERE username = ?", [username]).fetchone()[0]:
            auth.create_user(con, system_actor(), username, role, "Violet-Cactus-93-lantern")
    finally:
        con.close()


@pytest.fixture(scope="session", autouse=True)
def _stop_job_workers():
    """Stop the job worker threads the app started (one per warehouse), so that no thread is
    still inside DuckDB when the interpreter exits."""
    yield
    from dashboard import state

    for path in _SERVED:
        worker = state.start_worker(path)  # the cached worker of that warehouse
        if worker is not None:
            worker.stop()


@pytest.fixture
def app(monkeypatch: pytest.MonkeyPatch):
    """Factory: ``app(db, role)`` gives an AppTest signed in as ``role`` (or anonymous)."""

    def make(db: Path, role: str | None = None) -> AppTest:
        monkeypatch.setenv("HYGIE_DB", str(db))
        _SERVED.add(str(db))
        at = AppTest.from_file(str(APP), default_timeout=30)
        if role is not None:
            _account(db, f"test-{role}", role)  # the job worker acts only as an account in users
            at.session_state["hygie_actor"] = Actor(f"test-{role}", role)
        return at

    return make
