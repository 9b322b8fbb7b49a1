"""No SQL text is built from a value: every interpolation into SQL is a reviewed, allow-listed one.

An AST scan of ``analytics/`` and ``dashboard/`` finds every ``.execute/.executemany/.sql/.query``
call and follows its first argument (through the enclosing function's assignments) down to the
pieces interpolated into it. A piece is safe on its face when it is a literal, a module constant
(UPPER_CASE), a number (``int(...)``), an identifier quoted by ``quote_ident`` (which refuses
anything but ``[a-z_][a-z0-9_]*``), or the variable of a loop over a module constant. Everything
else — table and column names picked from allow-lists, SQL fragments built by helpers — was
reviewed once and is pinned below, per function, with its count: a new interpolation anywhere
fails this test until someone reviews it (values go through ``?``/``$name`` parameters; ruff's
S608 flags the same places in the source with a ``noqa`` reason). A second test pushes hostile
text through the entry points that take free text from users and checks that nothing changed.
"""

from __future__ import annotations

import ast
import collections
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXEC_METHODS = {"execute", "executemany", "sql", "query"}
IDENTIFIER_HELPERS = {"quote_ident", "int", "float", "len"}
NOT_SQL_RECEIVERS = {"service"}  # analytics.jobs.service.execute(con, request): not a SQL call

# file::function -> number of reviewed interpolating calls. Reviewed 2026-11-29: each piece is a
# table/column name from a fixed tuple or dict (TABLES, CORE_TABLES, RANK_BY, _GROUPS,
# QUEUE_ORDERS, SUMMARY_DIMENSIONS, export allow-lists...), checked before use, or a SQL fragment
# assembled by the module from such names; user values in the same statements are parameters.
REVIEWED: dict[str, int] = {
    # Reviewed 2026-12-08. The engines run the time-sinks steps: table names are the steps' constant
    # names, the SQL their module-level SELECTs with $name parameters (bound on DuckDB; on Spark
    # written as literals that SQLGlot parses and re-escapes for Spark's string syntax).
    "analytics/engines/base.py::drop": 1,
    "analytics/engines/base.py::fill": 2,
    "analytics/engines/base.py::fill_values": 2,
    "analytics/engines/base.py::row": 1,
    "analytics/engines/base.py::stage": 1,
    "analytics/engines/spark.py::fill": 1,
    "analytics/engines/spark.py::row": 1,
    "analytics/engines/spark.py::sql": 1,
    "analytics/engines/spark.py::stage": 1,
    "analytics/timesinks/on_spark.py::_columns": 1,  # RESULT_TABLES and the constant input tables
    "analytics/timesinks/on_spark.py::_read_warehouse": 1,
    "analytics/timesinks/on_spark.py::_replace": 2,
    # the index columns (INDEX_COLUMNS, _ORIGINALS) and an int rid; the rules' key SELECTs
    "analytics/identity/search_index.py::_load": 3,
    # training rules' SQL from the constant TRAINING_RULES and the index table name
    "analytics/identity/training.py::estimate_m": 2,
    "analytics/demo.py::build_demo": 1,
    "analytics/documents/duplicates.py::find_duplicate_documents": 1,
    "analytics/documents/passages.py::match_passages": 2,
    "analytics/documents/queries.py::double_entry_summary": 1,
    "analytics/exports.py::_stream": 1,
    "analytics/exports.py::_unique_candidates": 1,
    "analytics/exports.py::_plan_table": 1,
    "analytics/exports.py::export_table": 1,
    "analytics/identity/blocking.py::candidate_pairs": 3,
    "analytics/identity/blocking.py::recall_ceiling": 1,
    "analytics/identity/collisions.py::find_collisions": 1,  # column list from the constant _COLUMNS
    "analytics/identity/comparisons.py::_external_tf": 2,
    "analytics/identity/comparisons.py::load_index": 1,
    "analytics/identity/explain.py::_originals": 1,
    "analytics/identity/exports.py::export_pairs": 1,
    "analytics/identity/incremental.py::match_new_patients": 2,
    "analytics/identity/normalise.py::build_index": 1,
    "analytics/identity/normalise.py::normalise_identity": 4,
    "analytics/identity/queue.py::page_frame": 2,
    "analytics/identity/run.py::_pairs_positions": 1,
    "analytics/identity/search.py::shown_values": 1,
    "analytics/importing/fhir.py::check": 1,
    "analytics/importing/load.py::_check_structure": 2,
    "analytics/importing/load.py::_cleanup": 1,
    "analytics/importing/load.py::_load": 1,
    "analytics/importing/load.py::_stage": 1,
    "analytics/importing/load.py::_upsert": 4,
    "analytics/jobs/changelog.py::apply_batch": 4,
    "analytics/jobs/changelog.py::fingerprint": 1,
    "analytics/jobs/changelog.py::first_mismatch": 1,
    "analytics/jobs/changelog.py::insert_frame": 1,
    "analytics/jobs/pseudonymised_extract.py::pseudonymised_extract": 1,
    "analytics/jobs/registry.py::rows": 1,
    "analytics/timesinks/automation.py::_has_rows": 1,  # table from the fixed pair in add_evidence
    "analytics/timesinks/automation.py::add_evidence": 1,  # _SQL: constant texts formatted with an allow-listed by
    "analytics/timesinks/documents.py::signature_delay": 1,
    "analytics/timesinks/documents.py::unsigned_backlog": 1,
    "analytics/timesinks/measures.py::clinician_measures": 1,
    "analytics/timesinks/measures.py::document_type_measures": 1,
    "analytics/timesinks/measures.py::group_measures": 1,
    "analytics/timesinks/measures.py::peer_stats": 1,
    "analytics/timesinks/measures.py::period_measures": 1,
    "analytics/timesinks/ranking.py::_add_double_entry": 1,
    "analytics/timesinks/ranking.py::time_sink_ranking": 1,
    "dashboard/views/exports.py::<module>": 1,
}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


class _Scan(ast.NodeVisitor):
    """Collect, per enclosing function, the pieces interpolated into SQL that are not safe on their face."""

    def __init__(self) -> None:
        self.functions: list[ast.AST] = []
        self.found: list[tuple[str, int, list[str]]] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if (isinstance(func, ast.Attribute) and func.attr in EXEC_METHODS and node.args
                and _name(func.value) not in NOT_SQL_RECEIVERS):
            scope = self.functions[-1] if self.functions else None
            pieces = self._pieces(node.args[0], scope, 0)
            if pieces:
                self.found.append((getattr(scope, "name", "<module>"), node.lineno, pieces))
        self.generic_visit(node)

    def _pieces(self, expr: ast.AST, scope: ast.AST | None, depth: int) -> list[str]:
        if depth > 5:
            return [ast.unparse(expr)]
        if isinstance(expr, ast.Constant) or self._safe(expr, scope):
            return []
        if isinstance(expr, ast.JoinedStr):
            return [ast.unparse(v.value) for v in expr.values
                    if isinstance(v, ast.FormattedValue) and not self._safe(v.value, scope)]
        if isinstance(expr, ast.BinOp):
            return self._pieces(expr.left, scope, depth) + self._pieces(expr.right, scope, depth)
        if isinstance(expr, ast.Name) and scope is not None:
            assigned = [n.value for n in ast.walk(scope)
                        if (isinstance(n, ast.Assign) and any(_name(t) == expr.id for t in n.targets))
                        or (isinstance(n, ast.AugAssign) and _name(n.target) == expr.id)]
            if assigned:
                return [p for value in assigned for p in self._pieces(value, scope, depth + 1)]
        return [ast.unparse(expr)]

    def _safe(self, expr: ast.AST, scope: ast.AST | None) -> bool:
        if isinstance(expr, ast.Constant):
            return True
        name = _name(expr)
        if name is not None and name.isupper():
            return True  # a module constant
        if isinstance(expr, ast.Call) and _name(expr.func) in IDENTIFIER_HELPERS:
            return True
        if isinstance(expr, ast.Name) and scope is not None:
            for loop in ast.walk(scope):  # the variable of a loop over a constant
                if (isinstance(loop, ast.For) and _name(loop.target) == expr.id
                        and (isinstance(loop.iter, ast.Tuple | ast.List)
                             and all(isinstance(e, ast.Constant) for e in loop.iter.elts)
                             or (_name(loop.iter) or "").isupper())):
                    return True
        return False


@functools.lru_cache(maxsize=1)
def scan() -> dict[str, list[tuple[int, list[str]]]]:
    """file::function -> [(line, unreviewed pieces)] over analytics/ and dashboard/."""
    found: dict[str, list[tuple[int, list[str]]]] = collections.defaultdict(list)
    for folder in ("analytics", "dashboard"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            visitor = _Scan()
            visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            for function, line, pieces in visitor.found:
                found[f"{path.relative_to(ROOT)}::{function}"].append((line, pieces))
    return found


def test_every_interpolation_into_sql_is_reviewed():
    found = scan()
    new = {key: calls for key, calls in found.items() if len(calls) > REVIEWED.get(key, 0)}
    assert not new, (
        "SQL built from non-constant pieces, not reviewed yet (bind values with ?/$name; interpolate "
        "only allow-listed identifiers, then add the function to REVIEWED):\n"
        + "\n".join(f"  {key} line {line}: {pieces}" for key, calls in new.items() for line, pieces in calls))


def test_the_reviewed_list_has_no_stale_entries():
    found = scan()
    stale = {key: count for key, count in REVIEWED.items() if len(found.get(key, [])) < count}
    assert not stale, f"fewer interpolations than reviewed (lower the counts): {stale}"


def test_the_scan_catches_an_interpolated_value():
    """The check itself can fail: a value in an f-string, a format() and a concatenation are caught."""
    source = '''
def search(con, name, limit):
    con.execute(f"SELECT * FROM patients WHERE birth_name = '{name}'")
    sql = "SELECT * FROM patients WHERE birth_name = '{}'".format(name)
    con.execute(sql)
    con.execute("SELECT * FROM patients LIMIT " + str(limit))
    con.execute("SELECT * FROM patients WHERE birth_name = ?", [name])
    for table in ("patients", "documents"):
        con.execute(f"SELECT count(*) FROM {table}")
    con.execute(f"SELECT * FROM {quote_ident(name)} LIMIT {int(limit)}")
'''
    visitor = _Scan()
    visitor.visit(ast.parse(source))
    assert [(line, pieces) for _, line, pieces in visitor.found] == [
        (3, ["name"]),
        (5, ["\"SELECT * FROM patients WHERE birth_name = '{}'\".format(name)"]),
        (6, ["str(limit)"]),
    ]


HOSTILE = [
    "'; DROP TABLE patients; --",
    "\" OR 1=1 --",
    "x') UNION SELECT password_hash, 1, 1 FROM users --",
    "$1", "?", "\\'", "%' OR '%'='",
    "patients\"; DELETE FROM staff; --",
]
DATA_TABLES = ("patients", "documents", "audit_events", "staff", "schedules", "users", "imports",
               "match_pairs", "pair_reviews")


def _state(con) -> dict[str, tuple]:
    tables = tuple(r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables ORDER BY table_name").fetchall())
    rows = {t: con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} x").fetchone()  # noqa: S608
            for t in DATA_TABLES}
    return {"tables": tables, **rows}


@pytest.fixture(scope="module")
def with_patients(migrated_template, tmp_path_factory) -> Path:
    import shutil

    from analytics.access.roles import system_actor
    from analytics.importing import import_file
    from analytics.warehouse import connect

    db = tmp_path_factory.mktemp("sql-binding") / "patients.duckdb"
    shutil.copyfile(migrated_template, db)
    con = connect(db)
    import_file(con, "patients", ROOT / "sample_data" / "small" / "patients.csv", actor=system_actor())
    con.execute("CHECKPOINT")
    con.close()
    return db


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_through_free_text_entry_points_changes_nothing(with_patients, tmp_path, hostile):
    import shutil

    from analytics.access.roles import system_actor
    from analytics.errors import HygieError
    from analytics.exports import export_table
    from analytics.identity import search_identities
    from analytics.jobs import preview
    from analytics.timesinks.ranking import time_sink_ranking
    from analytics.warehouse import connect

    db = tmp_path / "h.duckdb"
    shutil.copyfile(with_patients, db)
    con = connect(db)
    admin = system_actor()
    before = _state(con)
    found = search_identities(con, admin, birth_name=hostile, first_names=hostile, birth_place=hostile,
                              used_name=hostile, postcode=hostile, email=hostile)
    assert len(found) <= 10  # answered (scored on the text), nothing injected
    for call in (lambda: export_table(con, admin, hostile),
                 lambda: time_sink_ranking(con, by=hostile),
                 lambda: preview(con, admin, "normalise-identities", {"region": hostile})):
        try:
            call()
        except HygieError:
            pass  # refused by an allow-list or a parameter check: the expected answer
    assert _state(con) == before
    con.close()
