"""A small hospital built by direct inserts, so the job tests do not depend on other areas."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest

from analytics.access import auth
from analytics.access.roles import Actor
from analytics.warehouse import connect
from analytics.warehouse.connection import copy_warehouse

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime.now(PARIS)
ADMIN = Actor("alice", "admin")
MANAGER = Actor("marc", "manager")
ANALYST = Actor("anna", "analyst")
VIEWER = Actor("victor", "viewer")

PATIENTS = [
    # patient_id, birth_name, used_name, first_names, birth_date, sex, status, postcode, phone, email, created
    ("P001", "dupont", None, "Jean  Pierre", "1950-03-01", "M", "PROV", "75011", "06 12 34 56 78", None, "2020-01-05"),
    ("P002", "DUPONT", "MARTIN", "JEAN PIERRE", "1950-03-01", "M", "QUAL", None, None, " JP@Example.FR ", "2021-02-01"),
    ("P003", "Durand ", None, "Marie", "1962-07-14", "F", "VALI", "69003", "+33 4 78 00 00 00", None, "2019-06-01"),
    ("P004", "DURAND", None, "MARIE", "1962-07-14", "F", "VALI", "69003", None, None, "2022-06-01"),
    ("P005", "LEROY", None, "PAUL", "1980-01-01", "M", "PROV", "13001", "0491000000", None, "2023-01-01"),
    ("P006", "LEROY", None, "PAULE", "1980-01-01", "F", "PROV", "13001", "0491000000", None, "2023-01-02"),
    ("P007", "BERNARD", None, "LUC", "1975-05-05", "M", "RECUP", "33000", "12", None, "2018-01-01"),
    ("P008", "BERNARD", None, "LUC", "1975-05-05", "M", "PROV", "33000", None, None, "2017-01-01"),
]

STAFF = [
    # user_id, name, service, active, is_head
    ("DR1", "Dr Un", "CARDIO", True, False),
    ("DR2", "Dr Deux", "CARDIO", False, False),   # has left
    ("HEAD", "Dr Chef", "CARDIO", True, True),
    ("DR3", "Dr Trois", "NEURO", False, False),   # left, no head in NEURO
]


def _ts(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=9, tzinfo=PARIS)


def populate(con: duckdb.DuckDBPyConnection) -> None:
    """Insert the fixture rows (patients, documents, events, staff, matches, reviews, duplicates)."""
    for p in PATIENTS:
        con.execute(
            "INSERT INTO patients (patient_id, birth_name, used_name, first_names, birth_date, sex, "
            "identity_status, postcode, phone, email, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*p[:10], _ts(p[10])],
        )
    for s in STAFF:
        con.execute("INSERT INTO staff (user_id, display_name, service, active, is_service_head) VALUES (?, ?, ?, ?, ?)",
                    list(s))
    old = NOW - dt.timedelta(days=30)
    docs = [
        # id, patient, author, service, created, signed_at, status, text
        ("D1", "P001", "DR1", "CARDIO", old, None, "draft", "note a"),
        ("D2", "P001", "DR2", "CARDIO", old, None, "draft", "note b"),
        ("D3", "P002", "DR1", "CARDIO", old, old, "signed", "compte rendu"),
        ("D4", "P002", "DR1", "CARDIO", old, None, "draft", "compte rendu"),
        ("D5", "P003", "DR3", "NEURO", old, None, "draft", "=cmd"),
        ("D6", "P004", "DR1", "CARDIO", NOW - dt.timedelta(days=1), None, "draft", "fresh"),
        ("D7", "P004", "DR1", "CARDIO", old, old, "signed", "lettre longue"),
        ("D8", "P004", "DR1", "CARDIO", old, old, "signed", "lettre"),
    ]
    for d in docs:
        con.execute(
            "INSERT INTO documents (document_id, patient_id, author_id, service, created_at, signed_at, status, text, "
            "document_type, title) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'note', 'titre')",
            list(d),
        )
    for i, (pid, doc) in enumerate([("P001", "D1"), ("P002", "D3"), ("P004", "D7"), ("P001", None)]):
        con.execute("INSERT INTO audit_events (event_id, user_id, timestamp, action, patient_id, document_id) "
                    "VALUES (?, 'DR1', ?, 'R', ?, ?)", [f"E{i}", old, pid, doc])
    con.execute("INSERT INTO match_runs (match_run_id, started_at, threshold_match, threshold_review) "
                "VALUES ('M1', ?, 0.9, 0.5)", [old])
    for pid, cluster in [("P001", "C1"), ("P002", "C1"), ("P005", "C2"), ("P006", "C2")]:
        con.execute("INSERT INTO match_clusters (match_run_id, patient_id, cluster_id) VALUES ('M1', ?, ?)",
                    [pid, cluster])
    # auto_merge: the matcher's RNIV eligibility (strict traits equal up to formatting, no guard);
    # P005/P006 marked eligible as if the matcher had erred: the reviewers' "not the same" still wins
    for a, b, score, auto in [("P001", "P002", 0.97, True), ("P005", "P006", 0.95, True)]:
        con.execute("INSERT INTO match_pairs (match_run_id, patient_id_1, patient_id_2, score, match_weight, decision, "
                    "auto_merge) VALUES ('M1', ?, ?, ?, 10, 'match', ?)", [a, b, score, auto])
    # reviewers: P003/P004 same (not in a cluster); P005/P006 are twins
    for a, b, decision in [("P004", "P003", "same"), ("P005", "P006", "not_same")]:
        con.execute("INSERT INTO pair_reviews (patient_id_1, patient_id_2, decision, reviewer, decided_at) "
                    "VALUES (?, ?, ?, 'rev', ?)", [a, b, decision, old])
    for a, b, kind, score in [("D3", "D4", "exact", 1.0), ("D7", "D8", "near", 0.93)]:
        con.execute("INSERT INTO document_duplicates (match_run_id, document_id_1, document_id_2, kind, score, reason) "
                    "VALUES ('DD1', ?, ?, ?, ?, 'fixture')", [a, b, kind, score])


@pytest.fixture(scope="session")
def template_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The populated warehouse built once; each test works on its own copy."""
    path = tmp_path_factory.mktemp("template") / "hygie.duckdb"
    con = connect(path)
    populate(con)
    # The actors of these tests are accounts: the worker and the scheduler act as the account
    # in `users` (an unknown one is refused), never as the role a request or a schedule carries.
    for account in (ADMIN, MANAGER, ANALYST, VIEWER):
        auth.create_user(con, ADMIN if account is not ADMIN else None, account.username, account.role,
                         "Violet-Cactus-93-lantern")
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture
def warehouse_path(template_warehouse: Path, db_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A populated warehouse file of this test's own; job outputs go to tmp_path/outputs, the
    key to a folder of its own (a key inside the warehouse folder is refused)."""
    monkeypatch.setenv("HYGIE_JOBS_OUTPUT_DIR", str(tmp_path / "outputs"))
    monkeypatch.setenv("HYGIE_SECRET_FILE", str(tmp_path_factory.mktemp("keys") / "test.secret"))
    copy_warehouse(template_warehouse, db_path)  # with its access-log key and anchor
    return db_path


@pytest.fixture
def warehouse(warehouse_path: Path):
    """A read-write connection to :func:`warehouse_path`."""
    con = connect(warehouse_path)
    yield con
    con.close()
