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
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import duckdb
import pandas as pd
import pyarrow as pa

from analytics.access.access_log import record
from analytics.access.roles import Actor, Permission, allowed
from analytics.config import TIMEZONE
from analytics.errors import AccessDenied, HygieError, InvalidInput, KAnonymityRefused
from analytics.messages import english
from analytics.privacy import kanon
from analytics.privacy.kanon import privacy_settings
from analytics.pseudonymise import domain_key, policy_for, pseudonymise_frame, secret_for

__all__ = [
    "AGGREGATE_TABLES",
    "DIALECTS",
    "EXPORTABLE_TABLES",
    "REASON_TABLES",
    "Export",
    "build_export",
    "export_filename",
    "export_frame",
    "export_table",
    "exportable_tables",
    "k_refusal",
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

#: Tables that need a permission of their own on top of the export rules. ts_user_day and
#: ts_sessions hold one clinician's time per day or per session (individual figures about staff,
#: not aggregates): only a role granted VIEW_CLINICIAN_TIMES exports them, with a reason (the
#: ``reason`` option, recorded in the access log), as the time-sinks pages show them.
TABLE_PERMISSIONS = {"access_log": Permission.VIEW_ACCESS_LOG, "ts_user_day": Permission.VIEW_CLINICIAN_TIMES,
                     "ts_sessions": Permission.VIEW_CLINICIAN_TIMES}
#: Tables whose export needs a stated reason (individual figures about staff).
REASON_TABLES = frozenset(t for t, p in TABLE_PERMISSIONS.items() if p is Permission.VIEW_CLINICIAN_TIMES)

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
    """How a CSV is written. ``excel-fr`` is for people (French Excel): ';', BOM, decimal comma,
    dd/mm/yyyy HH:MM, floats to 2 decimals, shares as percentages (header "name (%)").
    ``standard`` is for programs: ',', ISO 8601 with seconds and offset, floats to 6 decimals,
    shares as fractions under their canonical names (use it to re-import, seconds kept)."""

    sep: str
    bom: bool
    decimal: str
    lineterminator: str
    date_format: str
    datetime_format: str
    iso: bool
    decimals: int = 6
    percent_shares: bool = False


DIALECTS = {
    "excel-fr": Dialect(";", True, ",", "\r\n", "%d/%m/%Y", "%d/%m/%Y %H:%M", iso=False, decimals=2,
                        percent_shares=True),
    "standard": Dialect(",", False, ".", "\n", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", iso=True),
}

#: Digits of a share written as a percentage (excel-fr): 21.5 %.
SHARE_DECIMALS = 1


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
    privacy: dict[str, Any] = field(default_factory=dict)


def neutralise(text: str) -> str:
    """``text`` made inert for spreadsheets (leading ``'`` before a formula trigger; NUL removed)."""
    text = text.replace("\x00", "")
    return "'" + text if text.startswith(_TRIGGERS) else text


def _dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise InvalidInput(f"dialect '{name}': expected excel-fr or standard") from None


def _float_text(value: float, decimals: int) -> str:
    """``value`` rounded to ``decimals``, without trailing zeros (11888.0 -> "11888", 0.25 -> "0.25")."""
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".") if decimals else f"{value:.0f}"
    return "0" if text in ("-0", "") else text


def _number(value: float | int | Decimal, d: Dialect, decimals: int | None = None) -> str | None:
    if isinstance(value, float) and value != value:
        return None
    text = _float_text(value, d.decimals if decimals is None else decimals) if isinstance(value, float) else str(value)
    return text.replace(".", d.decimal) if d.decimal != "." else text


def is_share(name: str) -> bool:
    """A column holding a share (0..1) by its name: ``after_hours_share``, ``share_of_total``."""
    return name == "share" or name.endswith("_share") or name.startswith("share_")


def _moment(value: datetime, d: Dialect) -> str:
    if value.tzinfo is not None:
        value = pd.Timestamp(value).tz_convert(TIMEZONE).to_pydatetime()
        text = value.strftime(d.datetime_format)
        return text + value.strftime("%z")[:3] + ":" + value.strftime("%z")[3:] if d.iso else text
    return value.strftime(d.datetime_format)


def _cell(value: Any, d: Dialect, decimals: int | None = None) -> str | None:
    """One cell of an object column: text is neutralised, everything else formatted by type."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return _number(value, d, decimals)
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


def _column(series: pd.Series, d: Dialect, decimals: int | None = None) -> pd.Series:
    """A column as text cells (None for empty), vectorised for typed columns; floats rounded to
    ``decimals`` (default: the dialect's)."""
    digits = d.decimals if decimals is None else decimals
    missing = series.isna()
    if pd.api.types.is_bool_dtype(series):
        out = series.map({True: "true", False: "false"}, na_action="ignore")
    elif pd.api.types.is_integer_dtype(series):
        out = series.astype("Int64").astype(str)
    elif pd.api.types.is_float_dtype(series):
        # astype(object): an empty column maps to float dtype, which has no .str accessor
        out = series.astype(float).map(lambda v: _float_text(v, digits), na_action="ignore").astype(object)
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
        out = series.map(lambda v: _cell(v, d, decimals))
        missing = out.isna()
    return out.astype(object).where(~missing, None)


def to_csv_bytes(df: pd.DataFrame, dialect: str = "excel-fr", *, header: bool = True) -> bytes:
    """``df`` as CSV bytes in ``dialect``, formulas neutralised (no pseudonymisation here).

    The one CSV writer of Hygie: exports, the pseudonymised extract and every download go
    through it. ``header=False`` writes a following chunk of a streamed file (no header, no BOM).
    """
    d = _dialect(dialect)
    encoding = "utf-8-sig" if d.bom and header else "utf-8"
    shares = {i for i, c in enumerate(df.columns) if d.percent_shares and is_share(str(c))
              and pd.api.types.is_float_dtype(df.iloc[:, i])}
    cells = pd.DataFrame({i: _column(df.iloc[:, i] * 100, d, SHARE_DECIMALS) if i in shares
                          else _column(df.iloc[:, i], d) for i in range(df.shape[1])}, index=df.index)
    cells.columns = [neutralise(f"{c} (%)" if i in shares else str(c)) for i, c in enumerate(df.columns)]
    if "\r" not in d.lineterminator and _holds_cr(cells):
        return _rows_quoting_cr(cells, d, header).encode(encoding)
    buf = io.StringIO()
    cells.to_csv(buf, sep=d.sep, index=False, lineterminator=d.lineterminator,
                 quoting=csv.QUOTE_MINIMAL, na_rep="", header=header)
    return buf.getvalue().encode(encoding)


def _holds_cr(cells: pd.DataFrame) -> bool:
    if any("\r" in c for c in cells.columns):
        return True
    return any(cells[c].str.contains("\r", regex=False, na=False).any() for c in cells.columns)


def _rows_quoting_cr(cells: pd.DataFrame, d: Dialect, header: bool = True) -> str:
    """Rare path: Python's csv quotes only the characters of its line terminator, so with "\n" a
    bare CR in a cell was written unquoted, splitting the row for every reader (and the part after
    the CR escaped neutralisation). Quote with a CRLF-aware writer, then end each record as ``d`` does.
    """
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=d.sep, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    out = []
    for row in [*([list(cells.columns)] if header else []), *cells.itertuples(index=False, name=None)]:
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
            message: str, error: type[HygieError] = AccessDenied) -> HygieError:
    record(con, actor, "export", name, rows, {"refused": message, "dialect": dialect})
    return error(message)


def _keys(con: duckdb.DuckDBPyConnection, actor: Actor, secret: bytes | None, domain: str | None,
          staff: str) -> tuple[bytes, bytes, str, str]:
    """(patient key, staff key, domain, staff rule) of an export.

    The domain defaults to a new one per export: two exports cannot be joined on their
    pseudonyms (k was checked on each alone). Only an administrator may name a domain (to
    deliver linkable files on purpose) or keep clinicians' identifiers in clear; everyone else
    gets them pseudonymised in a staff domain of their own.
    """
    if domain is not None and not allowed(actor, Permission.EXPORT_IDENTIFIED):
        raise AccessDenied(f"{actor.username} (role {actor.role}) may not choose a pseudonym domain")
    chosen = domain or f"export:{secrets.token_hex(8)}"
    base = secret if secret is not None else secret_for(con)
    rule = staff if allowed(actor, Permission.EXPORT_IDENTIFIED) else "pseudonymise"
    return domain_key(base, chosen), domain_key(base, "staff:" + chosen), chosen, rule


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
    domain: str | None = None,
) -> Export:
    """Check, pseudonymise, enforce k (or mask small cells), write and record an export
    (see the module docstring)."""
    _dialect(dialect)
    is_aggregate = (aggregate or name in AGGREGATE_TABLES) and not _patient_columns(df, columns_policy)
    if not is_aggregate and not allowed(actor, Permission.EXPORT_PSEUDONYMISED):
        raise _refuse(con, actor, name, len(df), dialect,
                      english("access.aggregates_only", user=actor.username, role=actor.role, table=name))
    if identified and not allowed(actor, Permission.EXPORT_IDENTIFIED):
        raise _refuse(con, actor, name, len(df), dialect,
                      f"{actor.username} (role {actor.role}) may not "
                      f"{Permission.EXPORT_IDENTIFIED.value}")
    pseudonymised = not identified and not is_aggregate
    settings = privacy_settings(con)
    report: dict[str, Any] = {}
    k = None
    if pseudonymised:
        key, staff_key, chosen, staff_rule = _keys(con, actor, secret, domain, staff)
        df = pseudonymise_frame(df, key, columns_policy, staff=staff_rule, staff_secret=staff_key)
        try:
            frames, plan = kanon.enforce({name: df}, k=settings.k,
                                         max_suppressed_share=settings.max_suppressed_share)
        except KAnonymityRefused as exc:
            raise _refuse(con, actor, name, len(df), dialect, str(exc), KAnonymityRefused) from None
        df, k = frames[name], plan.smallest_group
        report = {**plan.report(), "domain": chosen, "staff": staff_rule}
    elif not identified:
        df, masked = kanon.mask_small_cells(df, settings.small_cell)
        report = {"masked_small_cells": masked, "small_cell": settings.small_cell}
    data = to_csv_bytes(df, dialect)
    record(
        con, actor, "export", name, len(df),
        {"dialect": dialect, "pseudonymised": pseudonymised, "identified": identified,
         "aggregate": is_aggregate, "columns": [str(c) for c in df.columns], "k_anonymity": k,
         "bytes": len(data), "privacy": report},
    )
    return Export(data, name, len(df), [str(c) for c in df.columns], dialect, pseudonymised,
                  is_aggregate, k, report)


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
    ``staff="keep"`` (admin only) to keep clinicians' ids in clear, ``domain=`` (admin only)
    to choose the pseudonym domain.
    """
    return build_export(con, actor, name, df, dialect, identified, **options).data


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position", [table]).fetchall()]


def _planning_columns(columns: list[tuple[str, str]], policy: Mapping[str, str] | None) -> list[str]:
    """The source columns :mod:`analytics.privacy.kanon` needs: what becomes a quasi-identifier
    (generalised birth date and places, event codes, time stamps) and the patient key."""
    out = []
    for column, data_type in columns:
        rule = policy_for(column, policy)
        if rule is None or rule[0] == "drop":
            continue
        if (column == "patient_id" or rule[0] in ("year", "departement") or column in kanon.PATIENT_QI
                or column in kanon.EVENT_QI or (rule[0] == "keep" and data_type.startswith(("TIMESTAMP", "DATE")))):
            out.append(column)
    return out


def _unique_candidates(con: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]],
                       policy: Mapping[str, str] | None, k: int) -> list[str]:
    """Kept text columns unique per row (not quasi-identifiers, not pseudonyms): dropped."""
    texts = [c for c, t in columns if t == "VARCHAR" and (policy_for(c, policy) or ("",))[0] == "keep"
             and c not in kanon.PATIENT_QI and c not in kanon.EVENT_QI]
    if not texts:
        return []
    counts = con.execute(
        "SELECT count(*), " + ", ".join(f'count(DISTINCT "{c}")' for c in texts)  # noqa: S608 - catalog names
        + f' FROM "{table}"').fetchall()[0]  # fetched to the end: the connection stays usable
    total = counts[0]
    return [c for c, n in zip(texts, counts[1:], strict=True) if total > k and n == total]


def _arrow_types(kind: pa.DataType) -> Any:
    """Nullable pandas types for Arrow integers and booleans, as DuckDB's ``.df()`` gives them."""
    if pa.types.is_integer(kind):
        return pd.Int64Dtype()
    if pa.types.is_boolean(kind):
        return pd.BooleanDtype()
    return None


def _stream(cur: duckdb.DuckDBPyConnection, table: str, chunk_rows: int):
    """The table in chunks indexed by ``rowid`` (a 5M-row table never sits whole in memory)."""
    # a relation's Arrow reader streams (execute() + fetch_df_chunk materialised the whole result)
    reader = cur.sql(f'SELECT rowid AS "__hy_rowid", * FROM "{table}"').to_arrow_reader(chunk_rows)  # noqa: S608
    for batch in reader:
        if batch.num_rows:
            yield batch.to_pandas(types_mapper=_arrow_types, date_as_object=False).set_index("__hy_rowid")


def _plan_table(cur: duckdb.DuckDBPyConnection, table: str, columns: list[tuple[str, str]],
                policy: Mapping[str, str] | None, settings: kanon.PrivacySettings, key: bytes) -> kanon.Plan:
    """The k-anonymity plan of a whole table, read on its quasi-identifier columns only (narrow)."""
    planning = _planning_columns(columns, policy)
    qi = cur.execute(
        'SELECT rowid AS "__hy_rowid", ' + ", ".join(f'"{c}"' for c in planning)  # noqa: S608 - catalog
        + f' FROM "{table}"').df().set_index("__hy_rowid") if planning else pd.DataFrame()
    qi = pseudonymise_frame(qi, key, {**(policy or {}), "patient_id": "keep"})
    unique = _unique_candidates(cur, table, columns, policy, settings.k)
    try:
        return kanon.plan({table: qi}, k=settings.k, max_suppressed_share=settings.max_suppressed_share,
                          unique={table: unique})
    except KAnonymityRefused as exc:
        exc.rows = len(qi)
        raise


def k_refusal(con: duckdb.DuckDBPyConnection, actor: Actor, table: str) -> str | None:
    """Why a pseudonymised export of ``table`` by ``actor`` would be refused for k-anonymity (the
    English message of :class:`KAnonymityRefused`), or None when it would go out (or is not
    pseudonymised: aggregate tables, roles that may not export rows).

    What the exports page asks before offering the download, so that a refusal is explained on
    the page rather than as a failed download. Reads the quasi-identifier columns only, with a
    throw-away pseudonym key (the plan does not depend on the key); records nothing, since no
    data leave.
    """
    needed = TABLE_PERMISSIONS.get(table)
    if (table not in EXPORTABLE_TABLES or table in AGGREGATE_TABLES
            or not allowed(actor, Permission.EXPORT_PSEUDONYMISED) or (needed and not allowed(actor, needed))):
        return None
    cur = con.cursor()
    try:
        _plan_table(cur, table, _columns(cur, table), TABLE_POLICIES.get(table) or None, privacy_settings(cur),
                    secrets.token_bytes(32))
    except KAnonymityRefused as exc:
        return str(exc)
    finally:
        cur.close()
    return None


def export_table(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    table: str,
    dialect: str = "excel-fr",
    identified: bool = False,
    *,
    out: BinaryIO | None = None,
    chunk_rows: int = 8192,
    **options: Any,
) -> Export:
    """Export a whole warehouse table from :data:`EXPORTABLE_TABLES` (what ``hygie export`` runs).

    The table is read and written in chunks of ``chunk_rows``: to ``out`` when given (then
    ``Export.data`` is empty), else collected into ``Export.data``. k-anonymity is planned
    first on the quasi-identifier columns only (narrow), then applied chunk by chunk.
    ``reason=`` is required for the per-clinician time tables and recorded with the export.
    """
    present = {r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
    if table not in EXPORTABLE_TABLES or table not in present:
        known = ", ".join(sorted(EXPORTABLE_TABLES & present))
        raise InvalidInput(f"table '{table}' cannot be exported (exportable: {known})")
    needed = TABLE_PERMISSIONS.get(table)
    if needed is not None and not allowed(actor, needed):
        raise _refuse(con, actor, table, 0, dialect,
                      f"{actor.username} (role {actor.role}) may not {needed.value}")
    reason = str(options.pop("reason", None) or "").strip()
    if table in REASON_TABLES and not reason:
        raise InvalidInput("export.reason_required", table=table)
    # Read nothing a viewer may not receive: refuse before loading patient-level rows.
    if table not in AGGREGATE_TABLES and not allowed(actor, Permission.EXPORT_PSEUDONYMISED):
        raise _refuse(con, actor, table, 0, dialect,
                      f"{actor.username} (role {actor.role}) may export aggregate tables only; "
                      f"'{table}' holds patient-level rows")
    if identified and not allowed(actor, Permission.EXPORT_IDENTIFIED):
        raise _refuse(con, actor, table, 0, dialect,
                      f"{actor.username} (role {actor.role}) may not {Permission.EXPORT_IDENTIFIED.value}")
    _dialect(dialect)
    policy = {**TABLE_POLICIES.get(table, {}), **options.pop("columns_policy", {})} or None
    unknown = set(options) - {"staff", "secret", "domain"}
    if unknown:
        raise InvalidInput(f"export_table: unknown option(s) {', '.join(sorted(unknown))}")
    columns = _columns(con, table)
    pseudonymised = not identified and table not in AGGREGATE_TABLES
    settings = privacy_settings(con)
    sink = out if out is not None else io.BytesIO()
    cur = con.cursor()
    rows = size = 0
    header: list[str] = []
    report: dict[str, Any] = {}
    k = None
    try:
        cur.execute("BEGIN TRANSACTION")  # one snapshot for the plan and the chunks
        if pseudonymised:
            key, staff_key, chosen, staff_rule = _keys(con, actor, options.get("secret"), options.get("domain"),
                                                       options.get("staff", "keep"))
            try:
                plan = _plan_table(cur, table, columns, policy, settings, key)
            except KAnonymityRefused as exc:
                raise _refuse(con, actor, table, exc.rows, dialect, str(exc), KAnonymityRefused) from None
            k = plan.smallest_group
            report = {**plan.report(), "domain": chosen, "staff": staff_rule}
        for chunk in _stream(cur, table, chunk_rows):
            if pseudonymised:
                chunk = kanon.apply_plan(pseudonymise_frame(chunk, key, policy, staff=staff_rule,
                                                            staff_secret=staff_key), plan, table)
            elif not identified:
                chunk, masked = kanon.mask_small_cells(chunk, settings.small_cell)
                report["masked_small_cells"] = report.get("masked_small_cells", 0) + masked
            data = to_csv_bytes(chunk, dialect, header=not header)
            header = header or [str(c) for c in chunk.columns]
            sink.write(data)
            rows += len(chunk)
            size += len(data)
        if not header:  # an empty table: its header alone
            empty = cur.execute(f'SELECT * FROM "{table}" LIMIT 0').df()  # noqa: S608 - allow-listed
            if pseudonymised:
                empty = kanon.apply_plan(pseudonymise_frame(empty, key, policy, staff=staff_rule,
                                                            staff_secret=staff_key), plan, table)
            data = to_csv_bytes(empty, dialect)
            header = [str(c) for c in empty.columns]
            sink.write(data)
            size += len(data)
        cur.execute("COMMIT")
    except BaseException:
        try:
            cur.execute("ROLLBACK")
        except duckdb.Error:
            pass
        raise
    finally:
        cur.close()
    if not identified and not pseudonymised:
        report["small_cell"] = settings.small_cell
    record(
        con, actor, "export", table, rows,
        {"dialect": dialect, "pseudonymised": pseudonymised, "identified": identified,
         "aggregate": not pseudonymised and not identified, "columns": header, "k_anonymity": k,
         "bytes": size, "privacy": report, **({"reason": reason} if reason else {})},
    )
    data_out = sink.getvalue() if out is None else b""  # type: ignore[union-attr]
    return Export(data_out, table, rows, header, dialect, pseudonymised, table in AGGREGATE_TABLES, k, report)


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
