"""Every public engine entry point that reads patient-level rows or changes data, as every role.

The table :data:`ENTRIES` is the list docs/ACCESS.md publishes: one row per entry point, with the
permission it needs and the roles that hold it, written out by hand (not derived from the grants)
so that a grant changed by mistake fails here. Each entry is called directly, bypassing the
dashboard and the CLI:

- as a role that may: it works, and a read of patient-level rows leaves exactly one ``view``
  (or ``export``) row in the access log, carrying the number of rows returned;
- as a role that may not: :class:`AccessDenied` naming the actor, nothing returned, no row of
  any data table changed (count and hash before/after), and the access log unchanged — except
  for exports, whose refusals are recorded by design (one ``export`` row with ``refused``).

``test_every_public_function_takes_an_actor`` keeps the gap closed: a new public function of the
engine packages that opens the warehouse must take a required ``actor`` or be listed in
:data:`NO_ACTOR` / :data:`OPTIONAL_ACTOR` with the reason.
"""

from __future__ import annotations

import importlib
import inspect
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics import documents, exports, identity, importing, jobs, timesinks
from analytics.access import access_log, auth
from analytics.access.roles import ROLES, Actor, Permission, allowed, system_actor
from analytics.errors import AccessDenied
from analytics.importing import import_file
from analytics.jobs import schedules
from analytics.warehouse import connect
from tests.analytics.jobs.conftest import populate

KEY = b"k" * 32
ROOT = Actor("root-admin", "admin")
STRONG = "Tr0ub4dor&3-horse-staple"
READERS = {"admin", "manager", "identitovigilance", "analyst"}
WRITERS, IMPORTERS, ADMIN_ONLY = {"admin", "manager", "identitovigilance"}, {"admin", "manager"}, {"admin"}
P = Permission

# Tables a call could change; their count and content hash must not move on a refusal.
DATA_TABLES = (
    "patients", "documents", "audit_events", "staff", "pair_reviews", "match_runs", "match_pairs",
    "match_clusters", "document_duplicates", "double_entry", "double_entry_passages", "users",
    "job_runs", "job_previews", "job_changes", "job_schedules", "imports", "ts_runs",
)
# Column names that only patient-level rows carry.
PATIENT_COLUMNS = {
    "patient_id", "patient_id_1", "patient_id_2", "document_id", "document_id_1", "document_id_2",
    "source_document_id", "target_document_id", "birth_name", "first_names", "birth_date", "ins",
    "row_key", "before", "after",
}


@dataclass(frozen=True)
class Entry:
    name: str
    permission: Permission | tuple[Permission, ...]
    roles: set[str]
    call: Callable[[duckdb.DuckDBPyConnection, Actor, dict], object]
    writes: bool = False  # changes data when allowed (runs on its own copy)
    logs: str | None = None  # access-log action an allowed read leaves (one row, row_count = rows)
    setup: Callable[[duckdb.DuckDBPyConnection], dict] | None = None  # admin prepares what it acts on
    logged_rows: int | None = None  # row_count logged when it is not the rows returned


def _patients(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT patient_id, birth_name, first_names, birth_date FROM patients").df()


def _crowd(con: duckdb.DuckDBPyConnection) -> dict:
    """200 patients sharing their quasi-identifiers: a pseudonymised export reaches k (privacy.k)
    by suppressing the few fixture patients, instead of being refused as too small."""
    con.execute("INSERT INTO patients (patient_id, birth_name, birth_date, sex, postcode, created_at) "
                "SELECT 'K' || i, 'FOULE', DATE '1980-05-01', 'F', '75012', TIMESTAMPTZ '2024-01-01 00:00:00+00' "
                "FROM range(200) t(i)")
    return {}


def _csv(tmp: Path) -> Path:
    path = tmp / "more.csv"
    path.write_text("IPP;NOM_NAISSANCE;PRENOMS\nZ1;NOUVEAU;ANNE\n", encoding="utf-8")
    return path


def _preview(con) -> dict:
    return {"preview_id": jobs.preview(con, ROOT, "normalise-identities", {}).preview_id}


def _run(con) -> dict:
    return {"run_id": jobs.apply(con, ROOT, _preview(con)["preview_id"]).run_id}


def _schedule(con) -> dict:
    return {"schedule_id": schedules.add_schedule(con, ROOT, "normalise-identities", "0 2 * * *")}


def _finding(con) -> dict:
    con.execute("INSERT INTO data_quality_findings (import_id, table_name, file_name, line, column_name, raw_value, "
                "problem) VALUES ('imp-f', 'patients', 'p.csv', 2, 'sex', 'Z', 'unknown sex code')")
    return {}


def _victim(con) -> dict:
    auth.create_user(con, ROOT, "victim", "analyst", STRONG)
    return {}


ENTRIES: list[Entry] = [
    # identity
    Entry("identity.find_duplicates", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.find_duplicates(con, actor=a), writes=True),
    Entry("identity.match_new_patients", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.match_new_patients(con, actor=a), writes=True),
    Entry("identity.review_queue", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.review_queue(con, a, include_matches=True), logs="view"),
    Entry("identity.explain_pair", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.explain_pair(con, a, "P001", "P002"), logs="view",
          logged_rows=2),  # two patient records shown, one row per compared field
    Entry("identity.search_identities", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.search_identities(con, a, birth_name="DUPONT", first_names="JEAN PIERRE",
                                                       birth_date="1950-03-01"), logs="view"),
    Entry("identity.find_collisions", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.find_collisions(con, a), logs="view",
          setup=lambda con: con.execute(  # one record whose INS says a woman born in 1975, recorded a man
              "UPDATE patients SET ins = '275033523801222', sex = 'M' WHERE patient_id = 'P001'") and {}),
    Entry("identity.export_pairs", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.export_pairs(con, a), logs="view"),
    Entry("identity.export_clusters", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: identity.export_clusters(con, a), logs="view"),
    Entry("identity.record_review", P.REVIEW_PAIRS, WRITERS,
          lambda con, a, x: identity.record_review(con, a, "P003", "P004", "unsure"), writes=True),
    Entry("identity.set_four_eyes", P.CHANGE_SETTINGS, ADMIN_ONLY,
          lambda con, a, x: identity.set_four_eyes(con, a, True), writes=True),
    # documents
    Entry("documents.find_duplicate_documents", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: documents.find_duplicate_documents(con, actor=a), writes=True),
    Entry("documents.find_double_entry", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: documents.find_double_entry(con, actor=a), writes=True),
    Entry("documents.duplicate_documents", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: documents.duplicate_documents(con, a), logs="view"),
    Entry("documents.double_entry_pairs", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: documents.double_entry_pairs(con, a), logs="view"),
    Entry("documents.double_entry_passages", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: documents.double_entry_passages(con, a, "D4"), logs="view"),
    # time sinks: the only patient-level figure
    Entry("timesinks.document_time", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: timesinks.document_time(con, actor=a).frame, logs="view"),
    # time sinks: per-clinician figures are individual data about staff (issue 14 item 4)
    Entry("timesinks.clinician_measures", P.VIEW_CLINICIAN_TIMES, ADMIN_ONLY,
          lambda con, a, x: timesinks.clinician_measures(con, actor=a, reason="organise work").frame,
          logs="view"),
    # jobs
    Entry("jobs.preview", P.JOB_PREVIEW, READERS,
          lambda con, a, x: jobs.preview(con, a, "normalise-identities", {}), writes=True),
    Entry("jobs.preview_changes", (P.JOB_PREVIEW, P.VIEW_PATIENT_DATA), READERS,
          lambda con, a, x: jobs.preview_changes(con, a, x["preview_id"]), logs="view", setup=_preview),
    Entry("jobs.apply", P.JOB_APPLY, WRITERS,
          lambda con, a, x: jobs.apply(con, a, x["preview_id"]), writes=True, setup=_preview),
    Entry("jobs.undo", P.JOB_APPLY, WRITERS,
          lambda con, a, x: jobs.undo(con, a, x["run_id"]), writes=True, setup=_run),
    Entry("jobs.run_changes", (P.JOB_PREVIEW, P.VIEW_PATIENT_DATA), READERS,
          lambda con, a, x: jobs.run_changes(con, a, x["run_id"]), logs="view", setup=_run),
    Entry("jobs.schedules.add_schedule (apply)", P.JOB_APPLY, WRITERS,
          lambda con, a, x: schedules.add_schedule(con, a, "normalise-identities", "0 3 * * *", apply=True),
          writes=True),
    Entry("jobs.schedules.run_task", P.JOB_APPLY, WRITERS,
          lambda con, a, x: schedules.run_task(con, a, "detect-duplicates"), writes=True),
    Entry("jobs.schedules.remove_schedule", P.JOB_APPLY, WRITERS,
          lambda con, a, x: schedules.remove_schedule(con, a, x["schedule_id"]), writes=True, setup=_schedule),
    # exports (a refusal is recorded: see _refusal_logged)
    Entry("exports.export_frame pseudonymised", P.EXPORT_PSEUDONYMISED, READERS,
          lambda con, a, x: exports.export_frame(con, a, "patients", _patients(con), secret=KEY), logs="export",
          setup=_crowd),
    Entry("exports.export_frame identified", P.EXPORT_IDENTIFIED, ADMIN_ONLY,
          lambda con, a, x: exports.export_frame(con, a, "patients", _patients(con), identified=True, secret=KEY),
          logs="export"),
    Entry("exports.build_export pseudonymised", P.EXPORT_PSEUDONYMISED, READERS,
          lambda con, a, x: exports.build_export(con, a, "patients", _patients(con), secret=KEY), logs="export",
          setup=_crowd),
    Entry("exports.export_table pseudonymised", P.EXPORT_PSEUDONYMISED, READERS,
          lambda con, a, x: exports.export_table(con, a, "patients", secret=KEY), logs="export", setup=_crowd),
    Entry("exports.export_table identified", P.EXPORT_IDENTIFIED, ADMIN_ONLY,
          lambda con, a, x: exports.export_table(con, a, "patients", identified=True, secret=KEY), logs="export"),
    Entry("exports.export_table access_log", P.VIEW_ACCESS_LOG, ADMIN_ONLY,
          lambda con, a, x: exports.export_table(con, a, "access_log", secret=KEY), logs="export"),
    # import
    Entry("importing.import_file", P.IMPORT_DATA, IMPORTERS,
          lambda con, a, x: import_file(con, "patients", _csv(x["tmp"]), actor=a), writes=True),
    Entry("importing.import_findings", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: importing.import_findings(con, a, "imp-f", 10), logs="view", setup=_finding),
    Entry("importing.import_findings_count", P.VIEW_PATIENT_DATA, READERS,
          lambda con, a, x: importing.import_findings_count(con, a, "imp-f"), setup=_finding),
    # access log and accounts
    Entry("access_log.read_log", P.VIEW_ACCESS_LOG, ADMIN_ONLY, lambda con, a, x: access_log.read_log(con, a)),
    Entry("auth.list_users", P.MANAGE_USERS, ADMIN_ONLY, lambda con, a, x: auth.list_users(con, a)),
    Entry("auth.create_user", P.MANAGE_USERS, ADMIN_ONLY,
          lambda con, a, x: auth.create_user(con, a, "new-analyst", "analyst", STRONG), writes=True),
    Entry("auth.set_role", P.MANAGE_USERS, ADMIN_ONLY,
          lambda con, a, x: auth.set_role(con, a, "victim", "manager"), writes=True, setup=_victim),
    Entry("auth.set_password (another account)", P.MANAGE_USERS, ADMIN_ONLY,
          lambda con, a, x: auth.set_password(con, a, "victim", STRONG + "-2"), writes=True, setup=_victim),
    Entry("auth.deactivate", P.MANAGE_USERS, ADMIN_ONLY,
          lambda con, a, x: auth.deactivate(con, a, "victim"), writes=True, setup=_victim),
    Entry("auth.unlock", P.MANAGE_USERS, ADMIN_ONLY,
          lambda con, a, x: auth.unlock(con, a, "victim"), writes=True, setup=_victim),
]
if hasattr(identity, "review_page"):  # the paged review queue (dashboard "dup-speed" work)
    ENTRIES += [
        Entry("identity.review_page", P.VIEW_PATIENT_DATA, READERS,
              lambda con, a, x: identity.review_page(con, a, include_matches=True).rows, logs="view"),
        # the cached input of review_page, which records what is shown: not logged itself
        Entry("identity.queue_base", P.VIEW_PATIENT_DATA, READERS,
              lambda con, a, x: identity.queue_base(con, a, include_matches=True)),
    ]
IDS = [e.name for e in ENTRIES]


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, migrated_template: Path) -> Path:
    path = tmp_path_factory.mktemp("access") / "populated.duckdb"
    shutil.copyfile(migrated_template, path)
    con = connect(path)
    populate(con)
    identity.find_duplicates(con, actor=system_actor())  # the search index
    con.execute(
        "INSERT INTO double_entry VALUES ('R1', 'P002', NULL, 'D3', 'D4', 'note', 'CARDIO', 'DR1', now(), "
        "1, 40, 40, 97.5, 0.2, NULL, NULL, 200.0, 300)")
    con.execute("INSERT INTO double_entry_passages VALUES ('R1', 'D3', 'D4', 'compte rendu complet', "
                "'compte rendu complet', 20, 100.0)")
    # a few minutes of work on D3, so that time per document has rows
    con.execute("""INSERT INTO audit_events (event_id, user_id, timestamp, action, activity, patient_id,
                       document_id, document_type, service)
                   SELECT 'W' || i, 'DR1', TIMESTAMPTZ '2024-06-03 09:00:00+02' + i * INTERVAL 1 MINUTE, 'U',
                          'documentation', 'P002', 'D3', 'note', 'CARDIO' FROM range(6) t(i)""")
    auth.create_user(con, None, "root-admin", "admin", STRONG)  # the first admin (bootstrap)
    con.execute("CHECKPOINT")
    con.close()
    return path


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {t: con.execute(f"SELECT count(*), sum(hash(x)) FROM {t} x").fetchone() for t in DATA_TABLES}  # noqa: S608


def _log_rows(con: duckdb.DuckDBPyConnection, after: int) -> list[tuple]:
    return con.execute(
        "SELECT actor, role, action, object, row_count, detail FROM access_log WHERE log_id > ? ORDER BY log_id",
        [after]).fetchall()


def _last_log_id(con: duckdb.DuckDBPyConnection) -> int:
    return con.execute("SELECT coalesce(max(log_id), 0) FROM access_log").fetchone()[0]


def _rows(result: object) -> int | None:
    if isinstance(result, pd.DataFrame):
        return len(result)
    if isinstance(result, bytes):  # CSV: header + one line per row (no embedded newlines here)
        return result.decode("utf-8-sig").count("\r\n") - 1 if b"\r\n" in result else None
    return getattr(result, "rows", None)


def _permissions(entry: Entry) -> tuple[Permission, ...]:
    return entry.permission if isinstance(entry.permission, tuple) else (entry.permission,)


def test_the_table_matches_the_grants():
    """Both sides are written by hand: a change of either is caught."""
    for entry in ENTRIES:
        holders = {r for r in ROLES if all(allowed(Actor("x", r), p) for p in _permissions(entry))}
        assert holders == entry.roles, entry.name


def test_the_table_covers_every_guarded_public_function():
    """Each public function that requires an actor and is not aggregate-only has a row here."""
    covered = {e.name.split(" ")[0] for e in ENTRIES}
    missing = sorted(name for name, _ in _public_functions()
                     if name in GUARDED_NAMES and name not in covered and name not in AGGREGATE_ONLY
                     and f"analytics.{name}" not in OPTIONAL_ACTOR)
    assert missing == []


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("entry", ENTRIES, ids=IDS)
def test_entry_point_as_role(populated: Path, tmp_path: Path, role: str, entry: Entry):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(populated, db)
    con = connect(db)
    actor = Actor(f"{role}-user", role)
    try:
        context = {"tmp": tmp_path, **(entry.setup(con) if entry.setup else {})}
        before, last = _state(con), _last_log_id(con)
        if role in entry.roles:
            result = entry.call(con, actor, context)
            rows = _rows(result)
            if entry.logs and isinstance(result, pd.DataFrame | bytes):
                assert rows, f"{entry.name}: the allowed call returned no rows (fixture too thin?)"
            if entry.logs:
                rows = entry.logged_rows if entry.logged_rows is not None else rows
                logged = _log_rows(con, last)
                assert [(r[0], r[1], r[2], r[4]) for r in logged] == [(actor.username, role, entry.logs, rows)], (
                    f"{entry.name}: expected one '{entry.logs}' row with {rows} rows, got {logged}")
            if entry.writes is False and not entry.logs:
                assert _state(con) == before
        else:
            with pytest.raises(AccessDenied) as denied:
                entry.call(con, actor, context)
            assert str(denied.value).startswith(f"{role}-user (role {role}) may"), str(denied.value)
            assert _state(con) == before, f"{entry.name}: a refused call changed data"
            logged = _log_rows(con, last)
            if entry.name.startswith("exports."):
                assert len(logged) == 1 and logged[0][2] == "export", logged
                assert json.loads(logged[0][5])["refused"] == str(denied.value)
            else:
                assert logged == [], f"{entry.name}: a refused call wrote to the access log: {logged}"
    finally:
        con.close()


# --- a viewer never receives patient-level rows -------------------------------------------------

VIEWER = Actor("viewer-user", "viewer")
AGGREGATE_CALLS: list[tuple[str, Callable[[duckdb.DuckDBPyConnection], object]]] = [
    ("documents.duplicate_counts", lambda con: documents.duplicate_counts(con, VIEWER)),
    *([("identity.duplicate_rate", lambda con: identity.duplicate_rate(con, VIEWER))]
      if hasattr(identity, "duplicate_rate") else []),
    ("documents.double_entry_summary", lambda con: documents.double_entry_summary(con, VIEWER)),
    ("documents.last_run", lambda con: documents.last_run(con, VIEWER)),
    ("timesinks.summary", lambda con: timesinks.summary(con, actor=VIEWER)),
    ("timesinks.peer_stats", lambda con: timesinks.peer_stats(con, actor=VIEWER)),
    ("timesinks.group_measures", lambda con: timesinks.group_measures(con, actor=VIEWER)),
    ("timesinks.period_measures", lambda con: timesinks.period_measures(con, actor=VIEWER)),
    ("timesinks.document_type_measures", lambda con: timesinks.document_type_measures(con, actor=VIEWER)),
    ("timesinks.document_type_time", lambda con: timesinks.document_type_time(con, actor=VIEWER)),
    ("timesinks.signature_delay", lambda con: timesinks.signature_delay(con, actor=VIEWER)),
    ("timesinks.unsigned_backlog", lambda con: timesinks.unsigned_backlog(con, actor=VIEWER)),
    ("timesinks.time_sink_ranking", lambda con: timesinks.time_sink_ranking(con, actor=VIEWER)),
    ("timesinks.sessions", lambda con: timesinks.sessions(con, actor=VIEWER)),
    ("timesinks.export_table", lambda con: timesinks.export_table(con, by="service", actor=VIEWER)),
    ("exports.exportable_tables", lambda con: exports.exportable_tables(con, VIEWER)),
    ("exports.export_table match_runs", lambda con: exports.export_table(con, VIEWER, "match_runs", secret=KEY)),
    # (ts_user_day, one clinician's time per day, needs VIEW_CLINICIAN_TIMES: tests/analytics/test_exports.py)
    ("exports.export_table ts_service_day",
     lambda con: exports.export_table(con, VIEWER, "ts_service_day", secret=KEY)),
]


@pytest.fixture(scope="module")
def viewer_con(populated: Path, tmp_path_factory: pytest.TempPathFactory):
    db = tmp_path_factory.mktemp("viewer") / "w.duckdb"
    shutil.copyfile(populated, db)
    con = connect(db)
    yield con
    con.close()


def _columns(result: object) -> set[str]:
    frame = getattr(result, "frame", result)
    if isinstance(frame, pd.DataFrame):
        return {str(c) for c in frame.columns}
    data = getattr(result, "data", None)
    if isinstance(data, bytes):
        return set(data.decode("utf-8-sig").splitlines()[0].replace(";", ",").split(","))
    return set()


@pytest.mark.parametrize("name, call", AGGREGATE_CALLS, ids=[a[0] for a in AGGREGATE_CALLS])
def test_viewer_gets_aggregates_without_patient_columns(viewer_con, name, call):
    result = call(viewer_con)
    if isinstance(result, list):  # exportable_tables: only aggregate tables are offered
        assert set(result) <= exports.AGGREGATE_TABLES, result
        return
    assert not (_columns(result) & PATIENT_COLUMNS), f"{name} gave a viewer {_columns(result) & PATIENT_COLUMNS}"


def test_viewer_is_refused_every_patient_level_entry(populated: Path, tmp_path: Path):
    """The matrix above, read the other way: no entry point hands a viewer anything."""
    refused = [e.name for e in ENTRIES if "viewer" not in e.roles]
    assert len(refused) == len(ENTRIES)


# --- the gap cannot reopen ----------------------------------------------------------------------

PACKAGES = ("analytics.identity", "analytics.documents", "analytics.timesinks", "analytics.jobs",
            "analytics.jobs.schedules", "analytics.exports", "analytics.importing")

#: Public functions that open the warehouse and take no actor, with the reason.
NO_ACTOR: dict[str, str] = {
    "analytics.timesinks.current_settings": "the settings of the latest precomputation (no rows)",
    "analytics.timesinks.demo_step": "demo build only (analytics/demo.py), precomputes aggregates",
    "analytics.jobs.get_run": "one job_runs row (who ran what, counts): run metadata for the worker",
    "analytics.jobs.history": "job_runs metadata; the jobs page needs JOB_PREVIEW to be shown at all",
    "analytics.jobs.mark_interrupted": "housekeeping when the warehouse opens (marks crashed runs)",
    "analytics.jobs.schedules.list_schedules": "schedule definitions (job, cron, who), no patient rows",
    "analytics.jobs.schedules.run_due": "the scheduler: runs each schedule as its stored owner's role",
    "analytics.importing.mark_interrupted_imports": "housekeeping when the warehouse opens",
    "analytics.identity.four_eyes": "the review.four_eyes setting (on or off, no rows)",
}
#: Aggregate-only functions whose actor may be omitted (every role holds VIEW_AGGREGATES).
OPTIONAL_ACTOR: set[str] = {
    f"analytics.timesinks.{n}" for n in (
        "activity_heatmap", "clinician_measures", "document_type_measures", "document_type_time",
        "ensure_precomputed", "export_table", "group_measures", "peer_stats", "period_measures",
        "precompute", "sessions", "signature_delay", "summary", "time_sink_ranking", "unsigned_backlog",
    )
}
AGGREGATE_ONLY = {"identity.duplicate_rate", "documents.duplicate_counts", "documents.double_entry_summary", "documents.last_run",
                  "exports.exportable_tables", "importing.import_count", "importing.imports_page",
                  "identity.count_collisions",
                  "exports.k_refusal"}  # why an export would be refused for k (no rows; None if not allowed)
GUARDED_NAMES: set[str] = set()
if hasattr(identity, "queue_version"):
    NO_ACTOR["analytics.identity.queue_version"] = "a version stamp of the queue's inputs (no rows)"


def _public_functions() -> list[tuple[str, inspect.Signature]]:
    found = []
    for package in PACKAGES:
        module = importlib.import_module(package)
        names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
        for name in names:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj.__module__.startswith("analytics."):
                short = f"{package.removeprefix('analytics.')}.{name}"
                found.append((short, inspect.signature(obj)))
                if "actor" in inspect.signature(obj).parameters:
                    GUARDED_NAMES.add(short)
    return found


def test_every_public_function_takes_an_actor():
    problems = []
    for short, sig in _public_functions():
        full = f"analytics.{short}"
        params = sig.parameters
        if not params or next(iter(params)) != "con":
            continue  # no warehouse connection: pure helpers (keep_candidate, to_csv_bytes, ...)
        actor = params.get("actor")
        if actor is None:
            if full not in NO_ACTOR:
                problems.append(f"{full} reads the warehouse without an actor (add one, or list it in NO_ACTOR)")
        elif actor.default is not inspect.Parameter.empty and full not in OPTIONAL_ACTOR:
            problems.append(f"{full}: actor has a default ({actor.default!r}); make it required")
    assert problems == []
    stale = sorted(n for n in [*NO_ACTOR, *OPTIONAL_ACTOR]
                   if n.removeprefix("analytics.") not in {s for s, _ in _public_functions()})
    assert stale == [], "listed but no longer public: remove from the lists"
