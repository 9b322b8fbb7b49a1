"""Stage, check, convert and upsert one file in a single transaction.

The ``imports`` row is written as ``running`` in its own commit first, so that a killed
import is visible (:func:`mark_interrupted_imports` flips it at the next start); the data,
the findings and the final ``imports`` status are then committed together or not at all.
"""

# SQL here is assembled from allow-listed identifiers (quote_ident) and fixed fragments;
# every value from a file or a user is bound as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import hashlib
import shutil
import tempfile
import uuid
from pathlib import Path

import duckdb

from analytics.errors import FileRefused, InvalidInput
from analytics.importing.csv_reader import csv_source
from analytics.importing.fhir import fhir_source
from analytics.importing.headers import TABLES, TableSpec
from analytics.importing.parquet_reader import parquet_source
from analytics.importing.report import SHOWN_FINDINGS, Finding, ImportReport
from analytics.importing.source import Source
from analytics.importing.validate import (
    column_kind,
    convert_sql,
    mojibake_sql,
    problem_sql,
    quote_ident,
)

__all__ = ["TABLE_ALIASES", "import_file", "mark_interrupted_imports"]

TABLE_ALIASES = {"audit": "audit_events"}
STAGE = "_hygie_import_stage"
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".ndjson": "fhir", ".jsonl": "fhir", ".json": "fhir"}
# Columns NOT NULL in the warehouse: a row whose value there is unusable is skipped.
_NOT_NULL = {"audit_events": ("timestamp",), "schedules": ("start", "end")}
_DEFAULTS = {"active": "TRUE", "is_service_head": "FALSE"}


def mark_interrupted_imports(con: duckdb.DuckDBPyConnection) -> int:
    """Flip imports left ``running`` by a killed process to ``interrupted``; return how many."""
    rows = con.execute(
        "UPDATE imports SET status = 'interrupted', finished_at = now(), "
        "message = 'the import stopped before finishing (process ended); nothing was loaded' "
        "WHERE status = 'running' RETURNING import_id"
    ).fetchall()
    return len(rows)


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _open_source(con, path: Path, table: str, mapping, file_format: str | None, workdir: Path) -> Source:
    fmt = file_format or _FORMATS.get(path.suffix.lower(), "csv")
    if fmt == "csv":
        return csv_source(path, table, mapping, workdir)
    if fmt == "parquet":
        return parquet_source(con, path, table, mapping)
    if fmt in ("fhir", "ndjson", "fhir-ndjson"):
        return fhir_source(path, table)
    raise InvalidInput(f"unknown format '{fmt}' (expected csv, parquet or fhir)")


def _stage(con, source: Source, spec: TableSpec) -> Source:
    """Materialise raw and converted columns in one pass over the file; retry once if asked."""
    pieces = ["_line"] + (["_resource_type"] if source.check else [])
    for col in source.columns:
        raw = quote_ident(col)
        pieces.append(raw)
        kind = column_kind(spec.name, col)
        if kind not in ("text", "id"):
            pieces.append(f"{convert_sql(kind, raw)} AS {quote_ident('v_' + col)}")
    sql = f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT {', '.join(pieces)} FROM ({source.sql})"
    for _attempt in range(2):
        try:
            con.execute(sql, source.params)
            return source
        except duckdb.Error as exc:
            if source.on_error is None:
                raise
            retry = source.on_error(exc)
            source = retry
            sql = (f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT {', '.join(pieces)} "
                   f"FROM ({source.sql})")
    raise InvalidInput("the file could not be read")  # pragma: no cover - on_error raises first


def _value(spec: TableSpec, col: str) -> str:
    kind = column_kind(spec.name, col)
    return quote_ident(col) if kind in ("text", "id") else quote_ident("v_" + col)


def _check_structure(con, spec: TableSpec, source: Source, label: str) -> int:
    rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]
    if rows == 0:
        raise InvalidInput(f"{label}: line 2: the file has a header but no data rows")
    if source.check:
        source.check(con, STAGE)
    for col in spec.required:
        if col not in source.columns:
            continue
        line = con.execute(f"SELECT min(_line) FROM {STAGE} WHERE {quote_ident(col)} IS NULL").fetchone()[0]
        if line is not None:
            raise InvalidInput(f"{label}: line {line}: column {col} is empty (required)")
    key = [_value(spec, c) for c in spec.key]
    loadable = " AND ".join(f"{_value(spec, c)} IS NOT NULL" for c in _NOT_NULL.get(spec.name, ())) or "TRUE"
    dup = con.execute(
        f"SELECT {', '.join(key)}, min(_line), count(*) FROM {STAGE} WHERE {loadable} "
        f"GROUP BY ALL HAVING count(*) > 1 ORDER BY min(_line) LIMIT 1"
    ).fetchone()
    if dup is not None:
        values = dup[: len(key)]
        match = " AND ".join(f"{k} = ?" for k in key)
        lines = [r[0] for r in con.execute(
            f"SELECT _line FROM {STAGE} WHERE {match} ORDER BY _line LIMIT 2", list(values)).fetchall()]
        shown = ", ".join(f"{c} '{v}'" for c, v in zip(spec.key, values, strict=True))
        raise InvalidInput(f"{label}: line {lines[1]}: repeated key {shown} (first on line {lines[0]}; "
                           f"{dup[-1]} rows in all)")
    return rows


def _findings_sql(spec: TableSpec, source: Source) -> str:
    record_key = " || '|' || ".join(f"coalesce(CAST({quote_ident(c)} AS VARCHAR), '')" for c in spec.key)
    parts = []
    for col in source.columns:
        raw = quote_ident(col)
        kind = column_kind(spec.name, col)
        if kind in ("text", "id"):
            if kind == "text":
                parts.append(
                    f"SELECT _line, '{col}' AS column_name, {record_key} AS record_key, {raw} AS raw_value, "
                    f"'looks like mojibake (UTF-8 text read as Windows-1252); value kept as is' AS problem "
                    f"FROM {STAGE} WHERE {raw} IS NOT NULL AND {mojibake_sql(raw)}")
            continue
        suffix = " || '; row not loaded'" if col in _NOT_NULL.get(spec.name, ()) else ""
        parts.append(
            f"SELECT _line, '{col}', {record_key}, {raw}, {problem_sql(kind, raw)}{suffix} "
            f"FROM {STAGE} WHERE {raw} IS NOT NULL AND {quote_ident('v_' + col)} IS NULL")
    if spec.name == "schedules" and {"start", "end"} <= set(source.columns):
        parts.append(
            f"SELECT _line, 'end', {record_key}, \"end\", 'end before start; row not loaded' FROM {STAGE} "
            f"WHERE v_end < v_start")
    return " UNION ALL ".join(parts)


def _upsert(con, spec: TableSpec, source: Source, import_id: str, src_name: str) -> tuple[int, int, int]:
    """Delete the file's keys from the table, insert its rows; return (inserted, updated, skipped)."""
    table = quote_ident(spec.name)
    loadable = [f"{_value(spec, c)} IS NOT NULL" for c in _NOT_NULL.get(spec.name, ())]
    if spec.name == "schedules":
        loadable.append("v_end >= v_start")
    where = " AND ".join(loadable) or "TRUE"
    con.execute(f"CREATE OR REPLACE TEMP VIEW _hygie_import_rows AS SELECT * FROM {STAGE} WHERE {where}")
    keys = list(spec.key)
    join = " AND ".join(f"t.{quote_ident(c)} = s.{_value(spec, c)}" for c in keys)
    if spec.name == "patients":
        join += " AND t.source = $src"
    table_cols = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
        "ORDER BY ordinal_position", [spec.name]).fetchall()]
    params = {"src": src_name} if spec.name == "patients" else {}
    con.execute(f"CREATE OR REPLACE TEMP TABLE _hygie_import_old AS SELECT t.* FROM {table} t "
                f"SEMI JOIN _hygie_import_rows s ON {join}", params)
    updated = con.execute("SELECT count(*) FROM _hygie_import_old").fetchone()[0]
    if updated:
        con.execute(f"DELETE FROM {table} t USING _hygie_import_rows s WHERE {join}", params)
    select = []
    for col in table_cols:
        if col == "import_id":
            select.append("$import_id")
        elif col == "source":
            select.append("$src")
        elif col in source.columns:
            value = f"s.{_value(spec, col)}"
            select.append(f"coalesce({value}, o.{quote_ident(col)}, {_DEFAULTS[col]})" if col in _DEFAULTS else value)
        elif col in _DEFAULTS:
            select.append(f"coalesce(o.{quote_ident(col)}, {_DEFAULTS[col]})")
        else:
            select.append(f"o.{quote_ident(col)}")
    old_join = " AND ".join(f"o.{quote_ident(c)} = s.{_value(spec, c)}" for c in keys)
    params = {"import_id": import_id, **({"src": src_name} if spec.name == "patients" else {})}
    if not updated:
        old_from, old_join = "(SELECT * FROM _hygie_import_old LIMIT 0) o", "FALSE"
    else:
        old_from = "_hygie_import_old o"
    inserted_total = con.execute(
        f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in table_cols)}) "
        f"SELECT {', '.join(select)} FROM _hygie_import_rows s LEFT JOIN {old_from} ON {old_join}",
        params).fetchone()[0]
    skipped = con.execute(f"SELECT count(*) FROM {STAGE} WHERE NOT ({where})").fetchone()[0] if loadable else 0
    return inserted_total - updated, updated, skipped


def _cleanup(con) -> None:
    for stmt in ("DROP VIEW IF EXISTS _hygie_import_rows", f"DROP TABLE IF EXISTS {STAGE}",
                 "DROP TABLE IF EXISTS _hygie_import_old"):
        try:
            con.execute(stmt)
        except duckdb.Error:
            pass


def import_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: str | Path,
    *,
    source: str = "default",
    mapping: dict[str, str] | None = None,
    actor: str = "cli",
    file_format: str | None = None,
) -> ImportReport:
    """Import one CSV, Parquet or FHIR NDJSON file into ``table`` (upsert on its source key).

    Structural faults raise :class:`FileRefused` (nothing changed, the attempt recorded in
    ``imports``); value faults load the row with the field empty and become findings.
    """
    table = TABLE_ALIASES.get(table, table)
    if table not in TABLES:
        raise InvalidInput(f"unknown table '{table}' (expected patients, documents, audit, staff or schedules)")
    spec = TABLES[table]
    path = Path(path)
    if not path.is_file():
        raise InvalidInput(f"{path}: no such file")
    label = path.name
    import_id = uuid.uuid4().hex
    report = ImportReport(import_id=import_id, table=table, file=str(path),
                          format=file_format or _FORMATS.get(path.suffix.lower(), "csv"))
    con.execute(
        "INSERT INTO imports (import_id, table_name, file_name, file_sha256, format, status, actor, started_at) "
        "VALUES (?, ?, ?, ?, ?, 'running', ?, now())",
        [import_id, table, str(path), _sha256(path), report.format, actor],
    )
    workdir = Path(tempfile.mkdtemp(prefix="hygie-import-"))
    con.execute("BEGIN TRANSACTION")
    try:
        src = _open_source(con, path, table, mapping, file_format, workdir)
        report.format, report.encoding, report.delimiter = src.format, src.encoding, src.delimiter
        report.notices.extend(src.notices)
        missing = [c for c in spec.required if c not in src.columns]
        if missing:
            synonyms = [missing[0]] + sorted(
                k.upper() for k, v in spec.synonyms.items() if v == missing[0] and k != missing[0])[:5]
            raise InvalidInput(f"{label}: line 1: missing required column {missing[0]} "
                               f"(accepted headers: {', '.join(synonyms)}; or use --map)")
        src = _stage(con, src, spec)
        report.encoding = src.encoding
        report.rows_in_file = _check_structure(con, spec, src, label)
        findings_sql = _findings_sql(spec, src)
        if findings_sql:
            con.execute(
                f"INSERT INTO data_quality_findings SELECT $import_id, $table, $file, * FROM ({findings_sql})",
                {"import_id": import_id, "table": table, "file": str(path)})
        report.rows_inserted, report.rows_updated, report.rows_skipped = _upsert(con, spec, src, import_id, source)
        report.findings_count = con.execute(
            "SELECT count(*) FROM data_quality_findings WHERE import_id = ?", [import_id]).fetchone()[0]
        report.findings = [Finding(line=r[0], column=r[1], record_key=r[2], raw_value=r[3], problem=r[4])
                           for r in con.execute(
                               "SELECT line, column_name, record_key, raw_value, problem FROM data_quality_findings "
                               "WHERE import_id = ? ORDER BY line, column_name LIMIT ?",
                               [import_id, SHOWN_FINDINGS]).fetchall()]
        report.status = "loaded"
        _finish(con, report)
        con.execute("COMMIT")
    except InvalidInput as exc:
        con.execute("ROLLBACK")
        report.status, report.message = "refused", str(exc)
        _finish(con, report)
        raise FileRefused(str(exc), report) from None
    except BaseException as exc:
        con.execute("ROLLBACK")
        report.status, report.message = "refused", f"internal error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        _finish(con, report)
        raise
    finally:
        _cleanup(con)
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def _finish(con, report: ImportReport) -> None:
    con.execute(
        "UPDATE imports SET format = ?, encoding = ?, delimiter = ?, rows_in_file = ?, rows_inserted = ?, "
        "rows_updated = ?, findings = ?, status = ?, message = ?, finished_at = now() WHERE import_id = ?",
        [report.format, report.encoding, report.delimiter, report.rows_in_file, report.rows_inserted,
         report.rows_updated, report.findings_count, report.status, report.message, report.import_id])
