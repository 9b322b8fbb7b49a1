"""Every engine entry point that reads patient-level rows or changes data, called directly as each role.

The expected outcome is written out here from the roles table (analytics/access/roles.py
docstring), not derived from the grants, so a grant changed by mistake fails a test. A denied
call raises AccessDenied, returns nothing (a viewer never receives patient-level rows) and
changes no data.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.access.access_log import read_log
from analytics.access.auth import create_user
from analytics.access.roles import ROLES, Actor, Permission, allowed, system_actor
from analytics.documents.queries import duplicate_documents
from analytics.errors import AccessDenied
from analytics.exports import export_frame, export_table
from analytics.identity import (
    explain_pair,
    find_duplicates,
    record_review,
    review_queue,
    search_identities,
)
from analytics.importing import import_file
from analytics.jobs import apply, preview, undo
from analytics.warehouse import connect
from tests.analytics.jobs.conftest import populate

SYSTEM = system_actor()

KEY = b"r" * 32
ADMIN = Actor("root-admin", "admin")
STRONG = "Tr0ub4dor&3-horse-staple"
ALL, READERS, WRITERS, ADMIN_ONLY = set(ROLES), {"admin", "manager", "analyst"}, {"admin", "manager"}, {"admin"}


def _patients_frame(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("SELECT patient_id, birth_name, first_names, birth_date FROM patients").df()


def _import(con, actor, tmp_path: Path, _prepared):
    path = tmp_path / "more.csv"
    path.write_text("IPP;NOM_NAISSANCE;PRENOMS\nZ1;NOUVEAU;ANNE\n", encoding="utf-8")
    return import_file(con, "patients", path, actor=actor)


def _admin_preview(con) -> str:
    return preview(con, ADMIN, "normalise-identities", {}).preview_id


# Prepared by an admin before the call (and before the state is taken): what apply/undo act on.
SETUP: dict[str, Callable[[duckdb.DuckDBPyConnection], str]] = {
    "jobs.apply": _admin_preview,
    "jobs.undo": lambda con: apply(con, ADMIN, _admin_preview(con)).run_id,
}


def _apply(con, actor, _tmp, preview_id):
    return apply(con, actor, preview_id)


def _undo(con, actor, _tmp, run_id):
    return undo(con, actor, run_id)


# (entry, permission the roles table says it needs, roles allowed, call)
ENTRIES: list[tuple[str, Permission, set[str], Callable]] = [
    ("identity.review_queue", Permission.VIEW_PATIENT_DATA, READERS,
     lambda con, a, t, _: review_queue(con, a, include_matches=True)),
    ("identity.explain_pair", Permission.VIEW_PATIENT_DATA, READERS,
     lambda con, a, t, _: explain_pair(con, a, "P001", "P002")),
    ("identity.search_identities", Permission.VIEW_PATIENT_DATA, READERS,
     lambda con, a, t, _: search_identities(con, a, birth_name="DUPONT", first_names="JEAN PIERRE",
                                         birth_date="1950-03-01")),
    ("identity.record_review", Permission.REVIEW_PAIRS, WRITERS,
     lambda con, a, t, _: record_review(con, a, "P003", "P004", "unsure")),
    ("documents.duplicate_documents", Permission.VIEW_PATIENT_DATA, READERS,
     lambda con, a, t, _: duplicate_documents(con, a)),
    ("jobs.preview", Permission.JOB_PREVIEW, READERS,
     lambda con, a, t, _: preview(con, a, "normalise-identities", {})),
    ("jobs.apply", Permission.JOB_APPLY, WRITERS, _apply),
    ("jobs.undo", Permission.JOB_APPLY, WRITERS, _undo),
    ("exports.export_frame pseudonymised", Permission.EXPORT_PSEUDONYMISED, READERS,
     lambda con, a, t, _: export_frame(con, a, "patients", _patients_frame(con), secret=KEY)),
    ("exports.export_frame identified", Permission.EXPORT_IDENTIFIED, ADMIN_ONLY,
     lambda con, a, t, _: export_frame(con, a, "patients", _patients_frame(con), identified=True, secret=KEY)),
    ("exports.export_table pseudonymised", Permission.EXPORT_PSEUDONYMISED, READERS,
     lambda con, a, t, _: export_table(con, a, "patients", secret=KEY)),
    ("exports.export_table identified", Permission.EXPORT_IDENTIFIED, ADMIN_ONLY,
     lambda con, a, t, _: export_table(con, a, "patients", identified=True, secret=KEY)),
    ("importing.import_file", Permission.IMPORT_DATA, WRITERS, _import),
    ("access_log.read_log", Permission.VIEW_ACCESS_LOG, ADMIN_ONLY, lambda con, a, t, _: read_log(con, a)),
    ("auth.create_user", Permission.MANAGE_USERS, ADMIN_ONLY,
     lambda con, a, t, _: create_user(con, a, "new-analyst", "analyst", STRONG)),
]
DATA_TABLES = ("patients", "documents", "pair_reviews", "match_pairs", "users", "job_runs", "imports")


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, hardening_template: Path) -> Path:
    path = tmp_path_factory.mktemp("roles") / "populated.duckdb"
    shutil.copyfile(hardening_template, path)
    con = connect(path)
    populate(con)
    find_duplicates(con, actor=SYSTEM)  # builds the identity search index
    create_user(con, None, "root-admin", "admin", STRONG)  # the first admin: no actor needed
    con.close()
    return path


def _state(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    return {t: con.execute(f"SELECT count(*), sum(hash(x)) FROM {t} x").fetchone() for t in DATA_TABLES}  # noqa: S608


def test_the_matrix_matches_the_roles_table():
    """The expectations above agree with the grants (each side would catch a change of the other)."""
    for name, permission, roles, _ in ENTRIES:
        assert {r for r in ROLES if allowed(Actor("x", r), permission)} == roles, name


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name, permission, roles, call", ENTRIES, ids=[e[0] for e in ENTRIES])
def test_role_against_entry(populated: Path, tmp_path: Path, role, name, permission, roles, call):
    db = tmp_path / "w.duckdb"
    shutil.copyfile(populated, db)
    con = connect(db)
    actor = Actor(f"{role}-user", role)
    try:
        prepared = SETUP[name](con) if name in SETUP else None
        if role in roles:
            result = call(con, actor, tmp_path, prepared)
            if isinstance(result, pd.DataFrame) and name != "access_log.read_log":
                assert len(result) > 0, f"{name}: the allowed call returned no rows (fixture too thin?)"
        else:
            before = _state(con)
            with pytest.raises(AccessDenied, match=role) as denied:
                call(con, actor, tmp_path, prepared)
            assert str(denied.value).startswith(f"{role}-user (role {role}) may")
            assert _state(con) == before, f"{name}: a denied call changed data"
    finally:
        con.close()
