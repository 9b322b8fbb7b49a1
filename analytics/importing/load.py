"""Stage, check, convert and upsert one file in a single transaction.

The ``imports`` row is written as ``running`` in its own commit first, so that a killed
import is visible (:func:`mark_interrupted_imports` flips it at the next start); the data,
the findings and the final ``imports`` status are then committed together or not at all.
"""

# SQL here is assembled from allow-listed identifiers (quote_ident) and fixed fragments;
# every value from a file or a user is bound as a parameter.
# ruff: noqa: S608

from __future__ import annotations

import contextlib
import hashlib
import shutil
import tempfile
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import duckdb

from analytics.access.access_log import record
from analytics.access.roles import Actor, Permission, require
from analytics.errors import AccessDenied, FileRefused, InvalidInput
from analytics.identity.attributes import ATTRIBUTE_CODES, nir_traits_sql, unknown_attributes_sql
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
from analytics.messages import english
from analytics.warehouse.connection import database_path, disk_full, warehouse_fault

__all__ = ["TABLE_ALIASES", "import_file", "mark_interrupted_imports"]

TABLE_ALIASES = {"audit": "audit_events"}
STAGE = "_hygie_import_stage"
STAGE_VIEW = "_hygie_import_lines"
OLD = "_hygie_import_old"
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


_MOJIBAKE_COLUMNS = {"birth_name", "used_name", "first_names", "used_first_name", "address", "city",
                     "title", "text", "document_type", "service", "display_name", "role"}


def _conv(spec: TableSpec, col: str, alias: str = "") -> str:
    """SQL of the stored value of ``col`` computed from the raw column."""
    raw = alias + quote_ident(col)
    kind = column_kind(spec.name, col)
    return raw if kind in ("text", "id") else convert_sql(kind, raw)


def _key_sql(spec: TableSpec, col: str) -> str:
    """Key columns in the stage: raw text, or the converted value for typed keys (schedule start)."""
    return _conv(spec, col)


def _stage(con, source: Source, spec: TableSpec) -> None:
    """Pass 1 over the file: keep keys, missing-value flags and the raw text of failed values only.

    The full rows are not materialised here; pass 2 (:func:`_upsert`) streams them from the
    file into the table. Row order is kept (preserve_insertion_order), so the n-th staged row
    is at file line ``n + line_offset`` (rowids inside a transaction start high: subtract the first).
    """
    pieces = ["_resource_type"] if source.check else []
    for col in spec.key:
        pieces.append(f"{_key_sql(spec, col)} AS {quote_ident('k_' + col)}")
    for col in spec.required:
        pieces.append(f"({quote_ident(col)} IS NULL) AS {quote_ident('m_' + col)}")
    for col in source.columns:
        raw = quote_ident(col)
        kind = column_kind(spec.name, col)
        if kind not in ("text", "id"):
            pieces.append(f"CASE WHEN {raw} IS NOT NULL AND ({convert_sql(kind, raw)}) IS NULL THEN {raw} END "
                          f"AS {quote_ident('f_' + col)}")
        elif col in _MOJIBAKE_COLUMNS:
            pieces.append(f"CASE WHEN {raw} IS NOT NULL AND {mojibake_sql(raw)} THEN {raw} END "
                          f"AS {quote_ident('j_' + col)}")
    if spec.name == "schedules":
        pieces.append(f"CASE WHEN ({_conv(spec, 'end')}) < ({_conv(spec, 'start')}) THEN \"end\" END AS o_end")
    pieces += _identity_checks(spec, source)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {STAGE} AS SELECT {', '.join(pieces)} FROM ({source.sql})",
                source.params)
    con.execute(f"CREATE OR REPLACE TEMP VIEW {STAGE_VIEW} AS "
                f"SELECT rowid - (SELECT min(rowid) FROM {STAGE}) + {int(source.line_offset)} AS _line, * "
                f"FROM {STAGE}")


def _identity_checks(spec: TableSpec, source: Source) -> list[str]:
    """Stage columns of the identity findings that keep the value (RNIV): unknown identity
    attribute codes (u_attributes, u_codes), and an INS whose NIR contradicts the row's sex,
    birth year, month or birth département (n_ins, n_what)."""
    if spec.name != "patients":
        return []
    out = []
    cols = set(source.columns)
    if "identity_attributes" in cols:
        unknown = unknown_attributes_sql(quote_ident("identity_attributes"))
        out += [f"CASE WHEN {unknown} IS NOT NULL THEN {quote_ident('identity_attributes')} END AS u_attributes",
                f"{unknown} AS u_codes"]
    if "ins" in cols and {"sex", "birth_date", "birth_place_code"} & cols:
        ins = _conv(spec, "ins")
        nir = nir_traits_sql(f"({ins})")
        checks = []
        if "sex" in cols:
            sex = f"({_conv(spec, 'sex')})"
            checks.append(f"CASE WHEN {sex} IN ('M', 'F') AND ({nir['nir_sex']}) <> {sex} THEN 'sex' END")  # trait.*
        if "birth_date" in cols:
            bd = f"({_conv(spec, 'birth_date')})"
            checks.append(f"CASE WHEN ({nir['nir_yy']}) <> year({bd}) % 100 THEN 'birth year' END")
            checks.append(f"CASE WHEN ({nir['nir_mm']}) <> month({bd}) AND NOT (month({bd}) = 1 AND day({bd}) = 1) "
                          "THEN 'birth month' END")
        if "birth_place_code" in cols:
            bp = f"({_conv(spec, 'birth_place_code')})"
            checks.append(f"CASE WHEN ({nir['nir_dept']}) <> left({bp}, 2) AND NOT (({nir['nir_dept']}) = '20' "
                          f"AND left({bp}, 2) IN ('2A', '2B')) THEN 'birth place' END")
        what = f"nullif(concat_ws(', ', {', '.join(checks)}), '')"
        out += [f"CASE WHEN {what} IS NOT NULL THEN {quote_ident('ins')} END AS n_ins", f"{what} AS n_what"]
    return out


def _loadable(spec: TableSpec, source: Source) -> str:
    """Stage predicate: the row can be stored (its NOT NULL values converted)."""
    parts = [f"{quote_ident('f_' + c)} IS NULL" for c in _NOT_NULL.get(spec.name, ()) if c in source.columns]
    if spec.name == "schedules":
        parts.append("o_end IS NULL")
    return " AND ".join(parts) or "TRUE"


def _check_structure(con, spec: TableSpec, source: Source, label: str) -> int:
    rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]
    if rows == 0:
        raise InvalidInput("import.at_line", file=label, line=2, message=english("import.no_rows"))
    if source.check:
        source.check(con, STAGE_VIEW)
    for col in spec.required:
        line = con.execute(f"SELECT min(_line) FROM {STAGE_VIEW} WHERE {quote_ident('m_' + col)}").fetchone()[0]
        if line is not None:
            raise InvalidInput("import.at_line", file=label, line=line,
                               message=english("import.required_empty", column=col))
    keys = [quote_ident("k_" + c) for c in spec.key]
    dup = con.execute(
        f"SELECT {', '.join(keys)}, min(_line), count(*) FROM {STAGE_VIEW} WHERE {_loadable(spec, source)} "
        f"GROUP BY ALL HAVING count(*) > 1 ORDER BY min(_line) LIMIT 1"
    ).fetchone()
    if dup is not None:
        values = dup[: len(keys)]
        match = " AND ".join(f"{k} = ?" for k in keys)
        lines = [r[0] for r in con.execute(
            f"SELECT _line FROM {STAGE_VIEW} WHERE {match} ORDER BY _line LIMIT 2", list(values)).fetchall()]
        shown = ", ".join(f"{c} '{v}'" for c, v in zip(spec.key, values, strict=True))
        raise InvalidInput("import.at_line", file=label, line=lines[1],
                           message=english("import.repeated_key", key=shown, first=lines[0], n=dup[-1]))
    return rows


def _findings_sql(spec: TableSpec, source: Source) -> str:
    record_key = " || '|' || ".join(f"coalesce(CAST({quote_ident('k_' + c)} AS VARCHAR), '')" for c in spec.key)
    parts = []
    for col in source.columns:
        kind = column_kind(spec.name, col)
        if kind not in ("text", "id"):
            failed = quote_ident("f_" + col)
            suffix = " || '; row not loaded'" if col in _NOT_NULL.get(spec.name, ()) else ""
            parts.append(f"SELECT _line, '{col}', {record_key}, {failed}, {problem_sql(kind, failed)}{suffix} "
                         f"FROM {STAGE_VIEW} WHERE {failed} IS NOT NULL")
        elif col in _MOJIBAKE_COLUMNS:
            odd = quote_ident("j_" + col)
            parts.append(f"SELECT _line, '{col}', {record_key}, {odd}, "
                         f"'looks like mojibake (UTF-8 text read as Windows-1252); value kept as is' "
                         f"FROM {STAGE_VIEW} WHERE {odd} IS NOT NULL")
    if spec.name == "patients" and "identity_attributes" in source.columns:
        parts.append(f"SELECT _line, 'identity_attributes', {record_key}, u_attributes, "
                     f"'unknown identity attribute code(s) ' || u_codes || ' (known: {', '.join(ATTRIBUTE_CODES)}); "
                     f"value kept as is' FROM {STAGE_VIEW} WHERE u_attributes IS NOT NULL")
    if spec.name == "patients" and "ins" in source.columns and {"sex", "birth_date", "birth_place_code"} & set(
            source.columns):
        parts.append(f"SELECT _line, 'ins', {record_key}, n_ins, 'INS does not match the recorded ' || n_what || "
                     f"' (the NIR encodes sex, birth year and month, birth place); value kept' "
                     f"FROM {STAGE_VIEW} WHERE n_ins IS NOT NULL")
    if spec.name == "schedules" and {"start", "end"} <= set(source.columns):
        parts.append(f"SELECT _line, 'end', {record_key}, o_end, 'end before start; row not loaded' "
                     f"FROM {STAGE_VIEW} WHERE o_end IS NOT NULL")
    return " UNION ALL ".join(parts)


def _upsert(con, spec: TableSpec, source: Source, import_id: str, src_name: str) -> tuple[int, int, int]:
    """Delete the file's keys from the table, then stream its rows in (pass 2).

    Columns the file does not carry keep their stored values on update (``active``,
    ``merged_into``...), so a re-import does not undo a merge. Returns (inserted, updated, skipped).
    """
    table = quote_ident(spec.name)
    loadable = _loadable(spec, source)
    skipped = con.execute(f"SELECT count(*) FROM {STAGE} WHERE NOT ({loadable})").fetchone()[0]
    patients = spec.name == "patients"
    join = " AND ".join(f"t.{quote_ident(c)} = s.{quote_ident('k_' + c)}" for c in spec.key)
    if patients:
        join += " AND t.source = $src"
    params = {"src": src_name} if patients else {}
    stage_rows = f"(SELECT * FROM {STAGE} WHERE {loadable})"
    con.execute(f"CREATE OR REPLACE TEMP TABLE {OLD} AS SELECT t.* FROM {table} t SEMI JOIN {stage_rows} s ON {join}",
                params)
    updated = con.execute(f"SELECT count(*) FROM {OLD}").fetchone()[0]
    if updated:
        con.execute(f"DELETE FROM {table} t USING {stage_rows} s WHERE {join}", params)
    table_cols = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main' "
        "ORDER BY ordinal_position", [spec.name]).fetchall()]
    select = []
    for col in table_cols:
        old = f"o.{quote_ident(col)}" if updated else "NULL"
        if col == "import_id":
            select.append("$import_id")
        elif col == "source":
            select.append("$src")
        elif col in source.columns:
            value = _conv(spec, col, "s.")
            select.append(f"coalesce({value}, {old}, {_DEFAULTS[col]})" if col in _DEFAULTS else value)
        elif col in _DEFAULTS:
            select.append(f"coalesce({old}, {_DEFAULTS[col]})")
        else:
            select.append(old)
    sql = f"INSERT INTO {table} ({', '.join(quote_ident(c) for c in table_cols)}) SELECT {', '.join(select)} " \
          f"FROM ({source.sql}) s"
    if updated:
        keys_match = " AND ".join(f"o.{quote_ident(c)} = {_conv(spec, c, 's.')}" for c in spec.key)
        sql += f" LEFT JOIN {OLD} o ON {keys_match}"
    if skipped:
        conditions = [f"({_conv(spec, c, 's.')}) IS NOT NULL" for c in _NOT_NULL.get(spec.name, ())
                      if c in source.columns]
        if spec.name == "schedules":
            conditions.append(f"({_conv(spec, 'end', 's.')}) >= ({_conv(spec, 'start', 's.')})")
        sql += " WHERE " + " AND ".join(conditions)
    # The file's own parameters are positional, so ours are too, in textual order: the SELECT
    # list (source, import_id, in table order) comes before the file's read_csv(?, ...).
    sql = sql.replace("$import_id", "?").replace("$src", "?")
    positional = [import_id if col == "import_id" else src_name for col in table_cols
                  if col == "import_id" or (col == "source" and patients)]
    binds = [*source.params]
    inserted = con.execute(sql, positional + binds).fetchone()[0]
    return inserted - updated, updated, skipped


def _cleanup(con) -> None:
    for stmt in (f"DROP VIEW IF EXISTS {STAGE_VIEW}", f"DROP TABLE IF EXISTS {STAGE}", f"DROP TABLE IF EXISTS {OLD}"):
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
    actor: Actor,
    file_format: str | None = None,
) -> ImportReport:
    """Import one CSV, Parquet or FHIR NDJSON file into ``table`` (upsert on its source key).

    Structural faults raise :class:`FileRefused` (nothing changed, the attempt recorded in
    ``imports``); value faults load the row with the field empty and become findings.
    ``actor`` is required: its role must allow imports, and the import is written to the
    access log. Trusted callers that hold the warehouse file (CLI without ``--as``, demo
    build, benchmarks) pass :func:`~analytics.access.roles.system_actor`.
    """
    if not isinstance(actor, Actor):
        raise AccessDenied(f"import_file: actor must be an Actor (got {type(actor).__name__})")
    require(actor, Permission.IMPORT_DATA)
    report = _import_file(con, table, path, source=source, mapping=mapping,
                          actor_name=actor.username, file_format=file_format)
    record(con, actor, "import", report.table, report.rows_inserted + report.rows_updated,
           {"file": Path(report.file).name, "import_id": report.import_id,
            "findings": report.findings_count})
    return report


def _import_file(con, table: str, path: str | Path, *, source: str, mapping: dict[str, str] | None,
                 actor_name: str, file_format: str | None) -> ImportReport:
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
        "INSERT INTO imports (import_id, table_name, file_name, format, status, actor, started_at) "
        "VALUES (?, ?, ?, ?, 'running', ?, now())",
        [import_id, table, str(path), report.format, actor_name],
    )
    # hashlib releases the GIL: the checksum runs beside DuckDB instead of before it.
    hasher = ThreadPoolExecutor(max_workers=1)
    digest = hasher.submit(_sha256, path)
    workdir = Path(tempfile.mkdtemp(prefix="hygie-import-"))
    try:
        src = _open_source(con, path, table, mapping, file_format, workdir)
        report.format, report.encoding, report.delimiter = src.format, src.encoding, src.delimiter
        report.notices.extend(src.notices)
        missing = [c for c in spec.required if c not in src.columns]
        if missing:
            synonyms = [missing[0]] + sorted(
                k.upper() for k, v in spec.synonyms.items() if v == missing[0] and k != missing[0])[:5]
            raise InvalidInput("import.at_line", file=label, line=1, message=english(
                "import.missing_column", column=missing[0], accepted=", ".join(synonyms)))
        for attempt in range(3):
            con.execute("BEGIN TRANSACTION")
            try:
                _load(con, spec, src, report, source, digest)
                con.execute("COMMIT")
                break
            except duckdb.Error as exc:
                # A fault met while reading (bad bytes, ragged row...): undo, then let the reader
                # explain it (InvalidInput) or offer a retry (an ASCII head hid an 8-bit file).
                _rollback(con)
                if src.on_error is None or attempt == 2 or warehouse_fault(exc, "") is not None:
                    raise  # a damaged or unwritable warehouse is not the file's fault
                src = src.on_error(exc)
                report.encoding = src.encoding
            except BaseException:
                _rollback(con)
                raise
    except InvalidInput as exc:
        report.status, report.message = "refused", str(exc)
        _finish(con, report, digest)
        raise FileRefused(str(exc), report) from None
    except BaseException as exc:
        # Rolled back: nothing of the file is in the warehouse, whatever _load had counted.
        report.rows_inserted = report.rows_updated = report.rows_skipped = report.findings_count = 0
        report.findings = []
        fault = warehouse_fault(exc, database_path(con)) if disk_full(exc) else None
        if fault is None:
            report.status, report.message = "refused", f"internal error: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
            _finish(con, report, digest)
            raise
        report.status, report.message = "refused", str(fault)
        with contextlib.suppress(duckdb.Error):  # with the disk still full even this may not be written
            _finish(con, report, digest)
        raise fault from None
    finally:
        _cleanup(con)
        hasher.shutdown(wait=True)
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def _load(con, spec: TableSpec, src: Source, report: ImportReport, source: str, digest: Future[str]) -> None:
    """Everything that changes the warehouse, inside the caller's transaction."""
    label = Path(report.file).name
    _stage(con, src, spec)
    report.rows_in_file = _check_structure(con, spec, src, label)
    findings_sql = _findings_sql(spec, src)
    if findings_sql:
        con.execute(
            f"INSERT INTO data_quality_findings SELECT $import_id, $table, $file, * FROM ({findings_sql})",
            {"import_id": report.import_id, "table": spec.name, "file": report.file})
    report.rows_inserted, report.rows_updated, report.rows_skipped = _upsert(
        con, spec, src, report.import_id, source)
    report.findings_count = con.execute(
        "SELECT count(*) FROM data_quality_findings WHERE import_id = ?", [report.import_id]).fetchone()[0]
    report.findings = [Finding(line=r[0], column=r[1], record_key=r[2], raw_value=r[3], problem=r[4])
                       for r in con.execute(
                           "SELECT line, column_name, record_key, raw_value, problem FROM data_quality_findings "
                           "WHERE import_id = ? ORDER BY line, column_name LIMIT ?",
                           [report.import_id, SHOWN_FINDINGS]).fetchall()]
    report.status = "loaded"
    _finish(con, report, digest)


def _rollback(con) -> None:
    try:
        con.execute("ROLLBACK")
    except duckdb.Error:
        pass  # no transaction left to undo


def _finish(con, report: ImportReport, digest: Future[str]) -> None:
    con.execute(
        "UPDATE imports SET format = ?, encoding = ?, delimiter = ?, rows_in_file = ?, rows_inserted = ?, "
        "rows_updated = ?, findings = ?, status = ?, message = ?, file_sha256 = ?, finished_at = now() "
        "WHERE import_id = ?",
        [report.format, report.encoding, report.delimiter, report.rows_in_file, report.rows_inserted,
         report.rows_updated, report.findings_count, report.status, report.message, digest.result(),
         report.import_id])
