"""The access log records every view of patient-level data, every export and every job run —
who, what, when, how many rows — and an edit made behind the API's back is detected.

Each action below is done the way a user does it (engine call, CLI command, job service request
as the worker receives it); it must leave exactly one row of the expected action, naming the
actor and role, with the number of rows. Views read through the engine are covered one by one
in test_access_entrypoints.py; here the channels and the job runs.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from analytics import identity, jobs
from analytics.access import auth
from analytics.access.access_log import verify_chain
from analytics.access.roles import Actor
from analytics.cli import main
from analytics.importing import import_file
from analytics.jobs import schedules, service
from analytics.warehouse import connect
from analytics.warehouse.connection import copy_warehouse
from tests.analytics.jobs.conftest import populate

ROOT = Actor("root-admin", "admin")
MANAGER = Actor("marc", "manager", via="cli")
ANALYST = Actor("lea", "analyst", via="cli")
STRONG = "Tr0ub4dor&3-horse-staple"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Path:
    path = tmp_path_factory.mktemp("log") / "w.duckdb"
    shutil.copyfile(migrated_template, path)
    con = connect(path)
    populate(con)
    auth.create_user(con, None, ROOT.username, "admin", STRONG)
    auth.create_user(con, ROOT, MANAGER.username, "manager", STRONG)
    auth.create_user(con, ROOT, ANALYST.username, "analyst", STRONG)
    # these tests are about the log, not k-anonymity: 8 patients reach k=2 (not 5) once 2 are suppressed
    con.execute("INSERT INTO settings (key, value) VALUES ('privacy.k', '2'), ('privacy.max_suppressed_share', '0.5')")
    con.execute("CHECKPOINT")
    con.close()
    return path


@pytest.fixture
def db(template: Path, tmp_path: Path) -> Path:
    path = tmp_path / "w.duckdb"
    copy_warehouse(template, path)  # with its access-log key and anchor
    return path


def _last(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(log_id), 0) FROM access_log").fetchone()[0]


def _new_rows(db: Path, after: int) -> list[tuple]:
    con = connect(db)
    try:
        return con.execute(
            "SELECT actor, role, via, action, object, row_count, detail, logged_at FROM access_log "
            "WHERE log_id > ? ORDER BY log_id", [after]).fetchall()
    finally:
        con.close()


def _cli(db: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", str(db), *args])
    assert result.exit_code == 0, result.output
    return result.output


def _csv_rows(path: Path) -> int:
    return len(path.read_text(encoding="utf-8-sig").splitlines()) - 1


def _admin_preview(con) -> str:
    return jobs.preview(con, ROOT, "normalise-identities", {}).preview_id


def _patients(con) -> int:
    return con.execute("SELECT count(*) FROM patients").fetchone()[0]


# (description, prepare (admin, before the mark), action -> expected (actor, role, via, action, object, rows))
Action = Callable[[Path, duckdb.DuckDBPyConnection | None, dict, Path], tuple]


def _view_queue(db, con, ctx, tmp):
    frame = identity.review_queue(con, ANALYST, include_matches=True)
    return ("lea", "analyst", "cli", "view", "review_queue", len(frame))


def _cli_export(db, con, ctx, tmp):
    out = tmp / "patients.csv"
    _cli(db, "export", "patients", "--out", str(out), "--as", "lea")
    return ("lea", "analyst", "cli", "export", "patients", _csv_rows(out))


def _cli_duplicates_export(db, con, ctx, tmp):
    out = tmp / "pairs.csv"
    _cli(db, "duplicates", "export", "--pairs", str(out), "--dialect", "standard", "--as", "lea")
    # the engine records the read of the pairs, then the export records the file
    return [("lea", "analyst", "cli", "view", "match_pairs", _csv_rows(out)),
            ("lea", "analyst", "cli", "export", "match_pairs", _csv_rows(out))]


def _cli_timesinks_export(db, con, ctx, tmp):
    out = tmp / "ts.csv"
    _cli(db, "timesinks", "export", "--by", "service", "--out", str(out), "--as", "lea")
    return ("lea", "analyst", "cli", "export", "timesinks_by_service", _csv_rows(out))


def _preview(db, con, ctx, tmp):
    prev = jobs.preview(con, MANAGER, "normalise-identities", {})
    return ("marc", "manager", "cli", "job_preview", "normalise-identities", prev.change_count)


def _apply(db, con, ctx, tmp):
    run = jobs.apply(con, MANAGER, ctx["preview_id"])
    assert run.rows_changed > 0
    return ("marc", "manager", "cli", "job_apply", "normalise-identities", run.rows_changed)


def _undo(db, con, ctx, tmp):
    run = jobs.undo(con, MANAGER, ctx["run_id"])
    return ("marc", "manager", "cli", "job_undo", "normalise-identities", run.rows_changed)


def _service_run(db, con, ctx, tmp):
    """What the job worker executes for the dashboard or the CLI (preview + apply)."""
    out = service.execute(con, {"kind": "run", "job": "normalise-identities", "params": {}, "apply": True,
                                "as_user": "marc"})
    assert out["ok"], out
    data = out["data"]
    return [("marc", "manager", "cli", "job_preview", "normalise-identities", data["change_count"]),
            ("marc", "manager", "cli", "job_apply", "normalise-identities", data["rows_changed"])]


def _task(db, con, ctx, tmp):
    run_id, status, message = schedules.run_task(con, Actor("marc", "manager", via="scheduler"),
                                                 "detect-duplicates")
    assert status == "succeeded", message
    return ("marc", "manager", "scheduler", "job_apply", "detect-duplicates", None)


def _import(db, con, ctx, tmp):
    path = tmp / "more.csv"
    path.write_text("IPP;NOM_NAISSANCE;PRENOMS\nZ1;NOUVEAU;ANNE\nZ2;AUTRE;PAUL\n", encoding="utf-8")
    report = import_file(con, "patients", path, actor=MANAGER)
    return ("marc", "manager", "cli", "import", "patients", report.rows_inserted)


ACTIONS: list[tuple[str, Callable | None, Action, bool]] = [
    # (description, prepare, action, needs the connection closed during the action: CLI)
    ("a view of the review queue", None, _view_queue, False),
    ("hygie export patients --as", None, _cli_export, True),
    ("hygie duplicates export --pairs --as", None, _cli_duplicates_export, True),
    ("hygie timesinks export --by service --as", None, _cli_timesinks_export, True),
    ("a job preview", None, _preview, False),
    ("a job apply", lambda con: {"preview_id": _admin_preview(con)}, _apply, False),
    ("a job undo", lambda con: {"run_id": jobs.apply(con, ROOT, _admin_preview(con)).run_id}, _undo, False),
    ("a job run through the worker's service", None, _service_run, False),
    ("a scheduled analysis task", None, _task, False),
    ("an import", None, _import, False),
]


@pytest.mark.parametrize(("description", "prepare", "action", "cli"), ACTIONS, ids=[a[0] for a in ACTIONS])
def test_action_leaves_one_record_with_its_row_count(db: Path, tmp_path: Path, description, prepare, action, cli):
    con = connect(db)
    ctx = prepare(con) if prepare else {}
    mark = _last(con)
    started = datetime.now(UTC)
    if cli:
        con.close()
        expected = action(db, None, ctx, tmp_path)
    else:
        try:
            expected = action(db, con, ctx, tmp_path)
        finally:
            con.close()
    expected = expected if isinstance(expected, list) else [expected]
    rows = _new_rows(db, mark)
    assert [r[:6] for r in rows] == expected
    for row in rows:
        assert started <= row[7] <= datetime.now(UTC)  # when
        assert "password" not in (row[6] or "")
    con = connect(db)
    try:
        assert verify_chain(con) == (True, None)
    finally:
        con.close()


# --- an edit behind the API's back is detected ---------------------------------------------------

TAMPERING = [
    ("the row count changed", "UPDATE access_log SET row_count = coalesce(row_count, 0) + 7 WHERE log_id = $id"),
    ("the actor of a job run changed", "UPDATE access_log SET actor = 'someone-else' WHERE log_id = $id"),
    ("a view's time moved", "UPDATE access_log SET logged_at = logged_at - INTERVAL 1 DAY WHERE log_id = $id"),
    ("the detail rewritten", "UPDATE access_log SET detail = '{}' WHERE log_id = $id"),
    ("a row deleted", "DELETE FROM access_log WHERE log_id = $id"),
]


@pytest.mark.parametrize(("description", "sql"), TAMPERING, ids=[t[0] for t in TAMPERING])
@pytest.mark.parametrize("target", ["view", "export", "job_apply"])
def test_verify_chain_names_the_edited_row(db: Path, tmp_path: Path, description, sql, target):
    con = connect(db)
    try:
        identity.review_queue(con, ANALYST, include_matches=True)
        jobs.apply(con, MANAGER, jobs.preview(con, MANAGER, "normalise-identities", {}).preview_id)
    finally:
        con.close()
    _cli(db, "export", "patients", "--out", str(tmp_path / "p.csv"), "--as", "lea")
    con = connect(db)
    try:
        auth.logout(con, ANALYST)  # a later row, so that each target has a successor
        assert verify_chain(con) == (True, None)
        log_id, last = con.execute(
            "SELECT max(log_id) FILTER (WHERE action = ?), max(log_id) FROM access_log", [target]).fetchone()
        assert log_id < last  # not the last row (truncation needs chain_head, see ACCESS.md)
        con.execute(sql, {"id": log_id})
        # a deleted row is noticed at the next row, whose prev_hash no longer matches
        assert verify_chain(con) == (False, log_id if "DELETE" not in sql else log_id + 1)
    finally:
        con.close()


# Statements that would change the log: only analytics/access/access_log.py may insert.
_WRITES = re.compile(r"\b(UPDATE\s+access_log|DELETE\s+FROM\s+access_log|INSERT\s+INTO\s+access_log|"
                     r"DROP\s+TABLE\s+(IF\s+EXISTS\s+)?access_log|TRUNCATE\s+access_log)\b", re.I)


def test_nothing_but_the_access_log_module_writes_the_log():
    """The dashboard (and every other module) has no way to edit the log: no statement that
    updates, deletes or inserts log rows outside analytics/access/access_log.py, and the
    migrations only create it."""
    offenders = []
    for folder in ("analytics", "dashboard"):
        for path in sorted((REPO / folder).rglob("*.py")):
            rel = path.relative_to(REPO).as_posix()
            if rel == "analytics/access/access_log.py":
                continue
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if _WRITES.search(line):
                    offenders.append(f"{rel}:{n}: {line.strip()}")
    assert offenders == []
    inserts = _WRITES.findall((REPO / "analytics/access/access_log.py").read_text(encoding="utf-8"))
    assert [m[0].split()[0].upper() for m in inserts] == ["INSERT"]


def test_detail_is_json_with_no_secret_keys(db: Path, tmp_path: Path):
    _cli(db, "export", "patients", "--out", str(tmp_path / "p.csv"), "--as", "lea")
    con = connect(db)
    try:
        details = [json.loads(d) for (d,) in con.execute(
            "SELECT detail FROM access_log WHERE detail IS NOT NULL").fetchall()]
    finally:
        con.close()
    keys = {k for d in details for k in d}
    assert not {k for k in keys if re.search(r"pass|secret|token|hash", k, re.I)}, keys
