"""The change table: storing a change set, checking it still applies, applying it in batches.

Changes of one (table, op, columns) group are stored contiguously (``seq``), so a batch is a
``seq`` range and every statement handles a whole batch: ``UPDATE ... FROM`` the change rows,
with each JSON value cast back to its column's type. Before a batch is applied, one hash join
checks that every target row still holds the values recorded as ``before``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import duckdb
import pandas as pd

from analytics.errors import JobError
from analytics.jobs.registry import TABLE_KEYS, Change, canonical_json
from analytics.messages import english

__all__ = ["apply_batch", "batches", "fingerprint", "insert_frame", "store_changes"]


def fingerprint(con: duckdb.DuckDBPyConnection, job: str, params_json: str, tables: tuple[str, ...]) -> str:
    """A hash of the job, its parameters and the full contents of its input tables.

    Per table: row count and the sum of DuckDB's row hashes (order-independent, computed in
    the database in one scan).
    """
    known = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    parts = [job, params_json]
    for table in tables:
        if table not in known:
            raise JobError(f"job {job}: input table {table} does not exist")
        # fetchall, not fetchone: an unfinished result would make the next register() fail
        # (DuckDB 2) when the job itself runs no query.
        ((count, total),) = con.execute(
            f'SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM "{table}" t'  # noqa: S608 - allow-listed
        ).fetchall()
        parts.append(f"{table}:{count}:{total}")
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    rows = con.execute(
        "SELECT column_name, data_type FROM duckdb_columns() "
        "WHERE schema_name = 'main' AND table_name = ? ORDER BY column_index",
        [table],
    ).fetchall()
    return dict(rows)


def insert_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    """Append a DataFrame to one of the job tables in one statement (columns in table order)."""
    if frame.empty:
        return
    con.register("_hygie_frame", frame)
    try:
        con.execute(f'INSERT INTO "{table}" SELECT * FROM _hygie_frame')  # noqa: S608 - fixed names
    finally:
        con.unregister("_hygie_frame")


def store_changes(con: duckdb.DuckDBPyConnection, preview_id: str, changes: list[Change]) -> None:
    for change in changes:
        if change.table not in TABLE_KEYS:
            raise JobError(f"a job may not change table {change.table}")
        if set(change.key) != set(TABLE_KEYS[change.table]):
            raise JobError(f"change on {change.table}: key must be {TABLE_KEYS[change.table]}")
    ordered = sorted(changes, key=lambda c: (c.table, c.op, c.cols))  # stable: groups contiguous
    frame = pd.DataFrame(
        {
            "preview_id": [preview_id] * len(ordered),
            "seq": list(range(1, len(ordered) + 1)),
            "table_name": [c.table for c in ordered],
            "op": [c.op for c in ordered],
            "cols": [c.cols for c in ordered],
            "row_key": [canonical_json(c.key) for c in ordered],
            "before": [None if c.before is None else canonical_json(c.before) for c in ordered],
            "after": [None if c.after is None else canonical_json(c.after) for c in ordered],
            "origin": [c.origin for c in ordered],
        },
        dtype=object,
    )
    if len(frame):
        frame["seq"] = frame["seq"].astype("int64")
        con.register("_hygie_changes", frame)
        try:
            con.execute(
                "INSERT INTO job_preview_changes SELECT preview_id, seq, table_name, op, cols, "
                "row_key, CAST(before AS JSON), CAST(after AS JSON), origin FROM _hygie_changes"
            )
        finally:
            con.unregister("_hygie_changes")


def batches(con: duckdb.DuckDBPyConnection, preview_id: str, batch_size: int) -> list[tuple[str, str, str, int, int]]:
    """Contiguous (table, op, cols, first seq, last seq) batches of the stored change set."""
    rows = con.execute(
        "SELECT table_name, op, cols, min(seq), max(seq) FROM job_preview_changes WHERE preview_id = ? "
        "GROUP BY ALL ORDER BY min(seq)",
        [preview_id],
    ).fetchall()
    batches = []
    for table, op, cols, lo, hi in rows:
        for start in range(lo, hi + 1, batch_size):
            batches.append((table, op, cols, start, min(hi, start + batch_size - 1)))
    return batches


def _cast(expr_json: str, col: str, types: dict[str, str]) -> str:
    return f"CAST(json_extract_string({expr_json}, '$.\"{col}\"') AS {types[col]})"


def apply_batch(con: duckdb.DuckDBPyConnection, preview_id: str, batch: tuple[str, str, str, int, int],
                 stale: Callable[[str], Exception]) -> int:
    table, op, cols_text, lo, hi = batch
    types = _column_types(con, table)
    keys = TABLE_KEYS.get(table)
    cols = cols_text.split(",") if cols_text else []
    if keys is None or not types or any(c not in types for c in (*keys, *cols)):
        raise JobError(f"change log names an unknown table or column: {table}({cols_text})")
    src = "(SELECT * FROM job_preview_changes WHERE preview_id = $pid AND seq BETWEEN $lo AND $hi) AS c"
    key_match = " AND ".join(f't."{k}" = {_cast("c.row_key", k, types)}' for k in keys)
    args = {"pid": preview_id, "lo": lo, "hi": hi}
    n = hi - lo + 1

    def first_mismatch(expected: str) -> str:
        cond = " AND ".join(f't."{c}" IS NOT DISTINCT FROM {_cast(expected, c, types)}' for c in cols) or "TRUE"
        row = con.execute(
            f'SELECT c.seq, any_value(c.row_key), count(t."{keys[0]}") AS n, bool_and({cond}) AS ok '  # noqa: S608
            f'FROM {src} LEFT JOIN "{table}" t ON {key_match} GROUP BY c.seq '
            "HAVING n <> 1 OR NOT coalesce(ok, FALSE) ORDER BY c.seq LIMIT 1",
            args,
        ).fetchone()
        return row[1] if row else ""

    if op == "insert":
        clash = con.execute(
            f'SELECT c.row_key FROM {src} JOIN "{table}" t ON {key_match} ORDER BY c.seq LIMIT 1', args  # noqa: S608
        ).fetchone()
        if clash:
            raise stale(english("change.row_exists", table=table, key=clash[0]))
        col_list = ", ".join(f'"{c}"' for c in cols)
        values = ", ".join(_cast("c.after", c, types) for c in cols)
        con.execute(f'INSERT INTO "{table}" ({col_list}) SELECT {values} FROM {src} ORDER BY c.seq', args)  # noqa: S608
        return n
    bad = first_mismatch("c.before")
    if bad:
        raise stale(english("change.row_changed", table=table, key=bad))
    if op == "update":
        sets = ", ".join(f'"{c}" = {_cast("c.after", c, types)}' for c in cols)
        done = con.execute(f'UPDATE "{table}" AS t SET {sets} FROM {src} WHERE {key_match}', args).fetchone()[0]  # noqa: S608
    else:
        done = con.execute(f'DELETE FROM "{table}" AS t USING {src} WHERE {key_match}', args).fetchone()[0]  # noqa: S608
    if done != n:
        raise stale(english("change.count_mismatch", table=table, done=done, n=n))
    return n
