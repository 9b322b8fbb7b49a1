"""CSV exports for the dashboard's download buttons and ``hygie export``: one path for both.

:func:`export_frame` is what a user-triggered export calls. In order it

1. checks the role: patient-level rows need EXPORT_PSEUDONYMISED (a viewer may export only
   aggregate tables: :data:`AGGREGATE_TABLES` or frames declared ``aggregate=True`` that carry
   no patient-level column); identified rows need EXPORT_IDENTIFIED (admin only);
2. pseudonymises (``analytics.pseudonymise``) unless ``identified=True`` was asked *and* allowed;
3. writes CSV in the chosen dialect with formula injection neutralised;
4. records the export (or the refusal) in the access log: who, what, rows, dialect, whether
   pseudonymised.

Dialects: ``excel-fr`` = ``;`` separator, UTF-8 with BOM, decimal comma, dd/mm/yyyy dates,
local times, CRLF line ends (what French Excel opens with a double click); ``standard`` = ``,``
separator, UTF-8 without BOM, ISO 8601 dates and times with their UTC offset, LF line ends.

Formula injection (OWASP "CSV injection"): a *text* cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return gets a leading ``'`` so that a spreadsheet shows it instead of
running it. Real numbers are never touched (``-3.5`` in a numeric column stays ``-3.5``); the
text ``"-3"`` in a name column is neutralised. Headers are neutralised too.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pandas as pd

from analytics.access.access_log import record
from analytics.access.roles import Actor, Permission, allowed
from analytics.config import TIMEZONE
from analytics.errors import AccessDenied, InvalidInput
from analytics.pseudonymise import k_anonymity, policy_for, pseudonymise_frame, secret_for

__all__ = [
    "AGGREGATE_TABLES",
    "DIALECTS",
    "EXPORTABLE_TABLES",
    "Export",
    "build_export",
    "export_filename",
    "export_frame",
    "export_table",
    "exportable_tables",
    "neutralise",
    "to_csv_bytes",
    "write_csv",
]

#: Warehouse tables ``hygie export`` accepts (the only identifiers ever interpolated in SQL).
EXPORTABLE_TABLES = frozenset(
    {
        "patients", "documents", "audit_events", "staff", "schedules", "imports",
        "data_quality_findings", "match_runs", "match_pairs", "match_clusters", "pair_reviews",
        "document_duplicates", "job_runs", "ts_sessions", "ts_user_day", "ts_service_day",
        "ts_document_time", "ts_runs", "access_log",
    }
)

#: Tables that need a permission of their own on top of the export rules.
TABLE_PERMISSIONS = {"access_log": Permission.VIEW_ACCESS_LOG}

#: Tables without patient-level rows: the only ones a viewer may export.
AGGREGATE_TABLES = frozenset({"imports", "match_runs", "ts_service_day", "ts_user_day", "ts_runs", "ts_sessions"})

#: Per-table exceptions to the column policy, for columns whose name means something else there.
TABLE_POLICIES: dict[str, dict[str, str]] = {
    # match_pairs holds the comparison *level* per field (exact/close/far/missing), not values.
    "match_pairs": dict.fromkeys(
        ["birth_name", "first_name", "birth_date", "sex", "birth_place", "ins", "phone", "email",
         "address"],
        "keep",
    ),
    # job parameters may name patients (unmerge this patient_id): not in pseudonymised extracts.
    "job_runs": {"params": "drop"},
}

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PATIENT_LEVEL = ("hash", "drop", "year", "departement")


@dataclass(frozen=True)
class Dialect:
    sep: str
    bom: bool
    decimal: str
    lineterminator: str
    date_format: str
    datetime_format: str
    iso: bool


DIALECTS = {
    "excel-fr": Dialect(";", True, ",", "\r\n", "%d/%m/%Y", "%d/%m/%Y %H:%M:%S", iso=False),
    "standard": Dialect(",", False, ".", "\n", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", iso=True),
}


@dataclass(frozen=True)
class Export:
    """A finished export: the bytes to hand out, and what the access log was told."""

    data: bytes
    name: str
    rows: int
    columns: list[str]
    dialect: str
    pseudonymised: bool
    aggregate: bool
    k_anonymity: int | None


def neutralise(text: str) -> str:
    """``text`` made inert for spreadsheets (leading ``'`` before a formula trigger; NUL removed)."""
    text = text.replace("\x00", "")
    return "'" + text if text.startswith(_TRIGGERS) else text


def _dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise InvalidInput(f"dialect '{name}': expected excel-fr or standard") from None


def _number(value: float | int | Decimal, d: Dialect) -> str | None:
    if isinstance(value, float) and value != value:
        return None
    text = repr(value) if isinstance(value, float) else str(value)
    return text.replace(".", d.decimal) if d.decimal != "." else text


def _moment(value: datetime, d: Dialect) -> str:
    if value.tzinfo is not None:
        value = pd.Timestamp(value).tz_convert(TIMEZONE).to_pydatetime()
        text = value.strftime(d.datetime_format)
        return text + value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:] if d.iso else text
    return value.strftime(d.datetime_format)


def _cell(value: Any, d: Dialect) -> str | None:
    """One cell of an object column: text is neutralised, everything else formatted by type."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return _number(value, d)
    if isinstance(value, datetime):
        return _moment(value, d)
    if isinstance(value, date):
        return value.strftime(d.date_format)
    if isinstance(value, dict | list):
        return neutralise(json.dumps(value, ensure_ascii=False, default=str))
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return neutralise(str(value))


def _column(series: pd.Series, d: Dialect) -> pd.Series:
    """A column as text cells (None for empty), vectorised for typed columns."""
    missing = series.isna()
    if pd.api.types.is_bool_dtype(series):
        out = series.map({True: "true", False: "false"}, na_action="ignore")
    elif pd.api.types.is_integer_dtype(series):
        out = series.astype("Int64").astype(str)
    elif pd.api.types.is_float_dtype(series):
        # astype(object): an empty column maps to float dtype, which has no .str accessor
        out = series.astype(float).map(repr).astype(object)
        if d.decimal != "." and len(out):
            out = out.str.replace(".", d.decimal, regex=False)
    elif isinstance(series.dtype, pd.DatetimeTZDtype):
        local = series.dt.tz_convert(TIMEZONE)
        out = local.dt.strftime(d.datetime_format)
        if d.iso:
            offset = local.dt.strftime("%z")
            out = out + offset.str[:3] + ":" + offset.str[3:]
    elif pd.api.types.is_datetime64_any_dtype(series):
        only_dates = bool((series.dropna() == series.dropna().dt.normalize()).all())
        out = series.dt.strftime(d.date_format if only_dates else d.datetime_format)
    elif pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        text = series.astype(object).where(~missing, "").astype(str)
        if text.str.contains("\x00", regex=False).any():
            text = text.str.replace("\x00", "", regex=False)
        out = text.where(~text.str.startswith(_TRIGGERS), "'" + text)
    else:
        out = series.map(lambda v: _cell(v, d))
        missing = out.isna()
    return out.astype(object).where(~missing, None)


def to_csv_bytes(df: pd.DataFrame, dialect: str = "excel-fr") -> bytes:
    """``df`` as CSV bytes in ``dialect``, formulas neutralised (no pseudonymisation here)."""
    d = _dialect(dialect)
    cells = pd.DataFrame({i: _column(df.iloc[:, i], d) for i in range(df.shape[1])}, index=df.index)
    cells.columns = [neutralise(str(c)) for c in df.columns]
    if "\r" not in d.lineterminator and _holds_cr(cells):
        return _rows_quoting_cr(cells, d).encode("utf-8-sig" if d.bom else "utf-8")
    buf = io.StringIO()
    cells.to_csv(buf, sep=d.sep, index=False, lineterminator=d.lineterminator,
                 quoting=csv.QUOTE_MINIMAL, na_rep="")
    return buf.getvalue().encode("utf-8-sig" if d.bom else "utf-8")


def _holds_cr(cells: pd.DataFrame) -> bool:
    if any("\r" in c for c in cells.columns):
        return True
    return any(cells[c].str.contains("\r", regex=False, na=False).any() for c in cells.columns)


def _rows_quoting_cr(cells: pd.DataFrame, d: Dialect) -> str:
    """Rare path: Python's csv quotes only the characters of its line terminator, so with "\n" a
    bare CR in a cell was written unquoted, splitting the row for every reader (and the part after
    the CR escaped neutralisation). Quote with a CRLF-aware writer, then end each record as ``d`` does.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=d.sep, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    out = []
    for row in [list(cells.columns), *cells.itertuples(index=False, name=None)]:
        buf.seek(0)
        buf.truncate()
        writer.writerow(["" if v is None else v for v in row])
        out.append(buf.getvalue()[:-2] + d.lineterminator)
    return "".join(out)


def write_csv(
    df: pd.DataFrame,
    out: str | Path | BinaryIO,
    *,
    dialect: str = "excel-fr",
    pseudonymise: bool = True,
    secret: bytes | None = None,
    columns_policy: Mapping[str, str] | None = None,
    staff: str = "keep",
) -> int:
    """Write ``df`` as CSV to a path or binary file; return the number of rows written.

    Low level: no role check and no access-log record. Anything a *user* asks for goes through
    :func:`export_frame` instead.
    """
    if pseudonymise:
        if secret is None:
            raise InvalidInput("write_csv: pseudonymise=True needs the secret (pseudonymise.load_secret)")
        df = pseudonymise_frame(df, secret, columns_policy, staff=staff)
    data = to_csv_bytes(df, dialect)
    if isinstance(out, str | Path):
        Path(out).write_bytes(data)
    else:
        out.write(data)
    return len(df)


def _patient_columns(df: pd.DataFrame, columns_policy: Mapping[str, str] | None) -> list[str]:
    cols = []
    for column in df.columns:
        rule = policy_for(str(column), columns_policy)
        if rule is not None and rule[0] in _PATIENT_LEVEL:
            cols.append(str(column))
    return cols


def _refuse(con: duckdb.DuckDBPyConnection, actor: Actor, name: str, rows: int, dialect: str,
            message: str) -> AccessDenied:
    record(con, actor, "export", name, rows, {"refused": message, "dialect": dialect})
    return AccessDenied(message)


def build_export(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    name: str,
    df: pd.DataFrame,
    dialect: str = "excel-fr",
    identified: bool = False,
    *,
    aggregate: bool = False,
    columns_policy: Mapping[str, str] | None = None,
    staff: str = "keep",
    secret: bytes | None = None,
) -> Export:
    """Check, pseudonymise, write and record an export (see the module docstring)."""
    _dialect(dialect)
    is_aggregate = (aggregate or name in AGGREGATE_TABLES) and not _patient_columns(df, columns_policy)
    if not is_aggregate and not allowed(actor, Permission.EXPORT_PSEUDONYMISED):
        raise _refuse(con, actor, name, len(df), dialect,
                      f"{actor.username} (role {actor.role}) may export aggregate tables only; "
                      f"'{name}' holds patient-level rows")
    if identified and not allowed(actor, Permission.EXPORT_IDENTIFIED):
        raise _refuse(con, actor, name, len(df), dialect,
                      f"{actor.username} (role {actor.role}) may not "
                      f"{Permission.EXPORT_IDENTIFIED.value}")
    pseudonymised = not identified and not is_aggregate
    if pseudonymised:
        key = secret if secret is not None else secret_for(con)
        df = pseudonymise_frame(df, key, columns_policy, staff=staff)
    data = to_csv_bytes(df, dialect)
    k = k_anonymity(df) if pseudonymised else None
    record(
        con, actor, "export", name, len(df),
        {"dialect": dialect, "pseudonymised": pseudonymised, "identified": identified,
         "aggregate": is_aggregate, "columns": [str(c) for c in df.columns], "k_anonymity": k,
         "bytes": len(data)},
    )
    return Export(data, name, len(df), [str(c) for c in df.columns], dialect, pseudonymised,
                  is_aggregate, k)


def export_frame(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    name: str,
    df: pd.DataFrame,
    dialect: str = "excel-fr",
    identified: bool = False,
    **options: Any,
) -> bytes:
    """The CSV bytes of ``df`` for ``actor`` (``st.download_button(data=...)``); see :func:`build_export`.

    ``options``: ``aggregate=True`` for a frame without patient-level rows (viewers may export
    it), ``columns_policy={"col": "keep"|"drop"|"hash"}`` for non-canonical text columns,
    ``staff="pseudonymise"`` to hash clinicians' ids too.
    """
    return build_export(con, actor, name, df, dialect, identified, **options).data


def export_table(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    table: str,
    dialect: str = "excel-fr",
    identified: bool = False,
    **options: Any,
) -> Export:
    """Export a whole warehouse table from :data:`EXPORTABLE_TABLES` (what ``hygie export`` runs)."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    if table not in EXPORTABLE_TABLES or table not in present:
        known = ", ".join(sorted(EXPORTABLE_TABLES & present))
        raise InvalidInput(f"table '{table}' cannot be exported (exportable: {known})")
    needed = TABLE_PERMISSIONS.get(table)
    if needed is not None and not allowed(actor, needed):
        raise _refuse(con, actor, table, 0, dialect,
                      f"{actor.username} (role {actor.role}) may not {needed.value}")
    # Read nothing a viewer may not receive: refuse before loading patient-level rows.
    if table not in AGGREGATE_TABLES and not allowed(actor, Permission.EXPORT_PSEUDONYMISED):
        raise _refuse(con, actor, table, 0, dialect,
                      f"{actor.username} (role {actor.role}) may export aggregate tables only; "
                      f"'{table}' holds patient-level rows")
    df = con.execute(f'SELECT * FROM "{table}"').df()  # noqa: S608 - table is allow-listed above
    policy = {**TABLE_POLICIES.get(table, {}), **options.pop("columns_policy", {})}
    return build_export(con, actor, table, df, dialect, identified, columns_policy=policy or None, **options)


def exportable_tables(con: duckdb.DuckDBPyConnection, actor: Actor) -> list[str]:
    """The warehouse tables ``actor`` may export, sorted (what an exports page should offer)."""
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    names = []
    for table in sorted(EXPORTABLE_TABLES & present):
        needed = TABLE_PERMISSIONS.get(table)
        if needed is not None and not allowed(actor, needed):
            continue
        if table not in AGGREGATE_TABLES and not allowed(actor, Permission.EXPORT_PSEUDONYMISED):
            continue
        names.append(table)
    return names


def export_filename(name: str, dialect: str = "excel-fr", *, today: date | None = None) -> str:
    """A download file name: ``hygie_<name>_<yyyy-mm-dd>.csv`` (name reduced to safe characters)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "export"
    return f"hygie_{safe}_{(today or date.today()).isoformat()}.csv"
