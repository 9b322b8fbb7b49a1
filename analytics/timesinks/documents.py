"""Document measures: active time per document and type, creation → signature, backlog.

Active time comes from slices carrying a ``document_id``; the document's type, author and
service come from ``documents`` when the document is known there, else from the audit event.
Ages and same-day completion use local (Europe/Paris) dates.
"""

from __future__ import annotations

from datetime import date, datetime

import duckdb

from analytics.access.access_log import record
from analytics.access.roles import Actor, Permission
from analytics.errors import InvalidInput
from analytics.timesinks._common import TimeFigure, check_dates, figure, prepare
from analytics.timesinks.labels import backlog_label
from analytics.timesinks.settings import TimeSinkSettings

__all__ = [
    "BACKLOG_BUCKETS",
    "document_time",
    "document_type_time",
    "signature_delay",
    "unsigned_backlog",
]

#: Backlog buckets: column name, lowest and highest age in whole local days (inclusive).
BACKLOG_BUCKETS = (
    ("age_0_2d", 0, 2),
    ("age_3_7d", 3, 7),
    ("age_8_30d", 8, 30),
    ("age_over_30d", 31, None),
)

_GROUPS = {"service": "service", "author_id": "author_id", "document_type": "document_type"}

_DOC_TIME = """
    SELECT t.document_id,
           coalesce(d.document_type, t.document_type) AS document_type,
           coalesce(d.service, t.service) AS service,
           d.author_id, d.created_at, d.signed_at, t.first_day,
           t.active_s / 60 AS active_minutes, t.outside_s / 60 AS outside_minutes,
           t.users, t.slices
    FROM ts_document_time t
    LEFT JOIN (SELECT document_id, min(document_type) AS document_type, min(service) AS service,
                      min(author_id) AS author_id, min(created_at) AS created_at,
                      min(signed_at) AS signed_at
               FROM documents GROUP BY document_id) d USING (document_id)
"""

_DOC_FILTER = """
    ($date_from IS NULL OR first_day >= $date_from) AND ($date_to IS NULL OR first_day <= $date_to)
    AND ($service IS NULL OR service = $service)
    AND ($document_type IS NULL OR document_type = $document_type)"""


def _params(date_from, date_to, service, document_type) -> dict:
    check_dates(date_from, date_to)
    return {"date_from": date_from, "date_to": date_to, "service": service,
            "document_type": document_type}


def document_time(
    con: duckdb.DuckDBPyConnection,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    document_type: str | None = None,
    limit: int | None = 1000,
    settings: TimeSinkSettings | None = None,
    actor: Actor,
) -> TimeFigure:
    """Active minutes per document, longest first (document-level rows: patient data, so
    ``actor`` is required and needs VIEW_PATIENT_DATA)."""
    settings = prepare(con, actor, settings, Permission.VIEW_PATIENT_DATA)
    sql = f"""SELECT * FROM ({_DOC_TIME}) WHERE {_DOC_FILTER}
              ORDER BY active_minutes DESC, document_id LIMIT $limit"""  # noqa: S608 - constants
    params = _params(date_from, date_to, service, document_type) | {"limit": limit or 2**62}
    frame = con.execute(sql, params).df()
    record(con, actor, "view", "ts_document_time", len(frame),
           {"service": service, "document_type": document_type, "limit": limit})
    return figure(frame, settings)


def document_type_time(
    con: duckdb.DuckDBPyConnection,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Per document type: volume (documents worked on), median and p90 minutes per document,
    ``volume_x_median_hours`` (the DOMAIN's volume × median time) and the exact total hours,
    with the after-hours share."""
    settings = prepare(con, actor, settings)
    sql = f"""
        SELECT document_type, count(*) AS documents,
               median(active_minutes) AS median_minutes,
               quantile_cont(active_minutes, 0.9) AS p90_minutes,
               count(*) * median(active_minutes) / 60 AS volume_x_median_hours,
               sum(active_minutes) / 60 AS total_hours,
               sum(outside_minutes) / nullif(sum(active_minutes), 0) AS after_hours_share
        FROM ({_DOC_TIME}) WHERE {_DOC_FILTER}
        GROUP BY document_type ORDER BY total_hours DESC, document_type"""  # noqa: S608
    params = _params(date_from, date_to, service, None)
    return figure(con.execute(sql, params).df(), settings)


def _check_group(by: str) -> str:
    if by not in _GROUPS:
        raise InvalidInput(f"documents: by '{by}' is not one of {', '.join(_GROUPS)}")
    return _GROUPS[by]


def signature_delay(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str = "document_type",
    date_from: date | None = None,
    date_to: date | None = None,
    service: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Documents created in the period, per group: how many, how many signed, median and p90
    hours from creation to signature, and the same-day completion rate (signed on the local
    day of creation, over all created)."""
    column = _check_group(by)
    settings = prepare(con, actor, settings)
    check_dates(date_from, date_to)
    sql = f"""
        WITH d AS (
            SELECT *, (epoch(signed_at) - epoch(created_at)) / 3600 AS delay_h
            FROM documents
            WHERE created_at IS NOT NULL
              AND ($date_from IS NULL OR created_at::DATE >= $date_from)
              AND ($date_to IS NULL OR created_at::DATE <= $date_to)
              AND ($service IS NULL OR service = $service)
        )
        SELECT {column}, count(*) AS created, count(signed_at) AS signed,
               median(delay_h) AS median_delay_hours,
               quantile_cont(delay_h, 0.9) AS p90_delay_hours,
               count(*) FILTER (WHERE signed_at::DATE = created_at::DATE) / count(*) AS same_day_rate
        FROM d GROUP BY {column} ORDER BY created DESC, {column}"""  # noqa: S608 - allow-listed
    params = {"date_from": date_from, "date_to": date_to, "service": service}
    return figure(con.execute(sql, params).df(), settings)


def unsigned_backlog(
    con: duckdb.DuckDBPyConnection,
    *,
    by: str = "service",
    as_of: datetime | None = None,
    service: str | None = None,
    settings: TimeSinkSettings | None = None,
    actor: Actor | None = None,
) -> TimeFigure:
    """Unsigned documents (no ``signed_at``) created up to ``as_of``, per group and age bucket
    (0–2, 3–7, 8–30, > 30 local days). ``as_of`` defaults to the latest creation or signature
    time in ``documents`` — the extract's own "now", so an old extract does not age everything."""
    column = _check_group(by)
    settings = prepare(con, actor, settings)
    if as_of is None:
        as_of = con.execute(
            "SELECT greatest(max(created_at), max(signed_at)) FROM documents"
        ).fetchone()[0]
    if as_of is None:
        as_of = datetime.now().astimezone()
    buckets = ",\n".join(
        f"count(*) FILTER (WHERE age >= {low}" + (f" AND age <= {high}" if high else "") + f") AS {name}"
        for name, low, high in BACKLOG_BUCKETS
    )
    sql = f"""
        WITH d AS (
            SELECT *, date_diff('day', created_at::DATE, CAST($as_of AS TIMESTAMPTZ)::DATE) AS age
            FROM documents
            WHERE signed_at IS NULL AND created_at IS NOT NULL
              AND created_at <= CAST($as_of AS TIMESTAMPTZ)
              AND ($service IS NULL OR service = $service)
        )
        SELECT {column}, {buckets}, count(*) AS total, max(age) AS oldest_days
        FROM d GROUP BY {column} ORDER BY total DESC, {column}"""  # noqa: S608 - allow-listed
    frame = con.execute(sql, {"as_of": as_of, "service": service}).df()
    return figure(frame, settings, backlog_label(as_of))
