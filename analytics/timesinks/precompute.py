"""Materialise the heavy tables once, so a page's re-query reads small aggregates.

``precompute`` rebuilds ``ts_sessions``, ``ts_slices``, ``ts_schedule_days``, ``ts_calendar``,
``ts_users``, ``ts_user_day``, ``ts_service_day``, ``ts_document_time``, ``ts_orders`` and
``ts_hour_activity`` in one transaction and records in ``ts_runs`` the
settings and a fingerprint of the input data. ``ensure_precomputed`` rebuilds only when the
settings asked for or the inputs changed.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import duckdb

from analytics.access.roles import Actor, Permission, require
from analytics.config import TIMEZONE
from analytics.engines.base import DuckDBEngine, Engine
from analytics.timesinks.outside import (
    PATIENT_DAYS_TABLE,
    SCORED_TABLE,
    build_calendar,
    build_hours,
    build_schedule_days,
    build_slices,
    load_holidays,
)
from analytics.timesinks.sessions import (
    ACTIVITY_TABLE,
    ORDER_TABLE,
    USERS_TABLE,
    build_events,
    build_sessions,
)
from analytics.timesinks.settings import DEFAULT_SETTINGS, TimeSinkSettings

__all__ = [
    "RESULT_TABLES",
    "PrecomputeReport",
    "StepCounts",
    "current_settings",
    "demo_step",
    "ensure_precomputed",
    "precompute",
    "publish",
    "run_steps",
]

_USER_DAY_SQL = f"""
WITH a AS (
    SELECT u.user_id, x.*
    FROM (
        SELECT uid, day,
               sum(active_us) / 1e6 AS active_s, sum(outside_us) / 1e6 AS outside_s,
               coalesce(sum(active_us) FILTER (WHERE activity = 'documentation'), 0) / 1e6 AS documentation_s,
               coalesce(sum(active_us) FILTER (WHERE activity = 'chart_review'), 0) / 1e6 AS chart_review_s,
               coalesce(sum(active_us) FILTER (WHERE activity = 'orders'), 0) / 1e6 AS orders_s,
               coalesce(sum(active_us) FILTER (WHERE activity = 'inbox'), 0) / 1e6 AS inbox_s,
               coalesce(sum(active_us) FILTER (WHERE activity = 'other'), 0) / 1e6 AS other_s,
               sum(slices) AS slices
        FROM {SCORED_TABLE} GROUP BY uid, day
    ) x JOIN {USERS_TABLE} u USING (uid)
),
sch AS (
    SELECT user_id, day, sum(epoch(piece_end) - epoch(piece_start)) AS all_s
    FROM ts_schedule_days GROUP BY user_id, day
),
pat AS (
    SELECT user_id, day, sum(epoch(piece_end) - epoch(piece_start)) AS patient_s
    FROM {PATIENT_DAYS_TABLE} GROUP BY user_id, day
),
j AS (
    SELECT coalesce(a.user_id, sch.user_id) AS user_id, coalesce(a.day, sch.day) AS day,
           a.active_s, a.outside_s, a.documentation_s, a.chart_review_s, a.orders_s,
           a.inbox_s, a.other_s, a.slices, sch.all_s
    FROM a FULL OUTER JOIN sch ON a.user_id = sch.user_id AND a.day = sch.day
)
-- a day within the user's planning span counts its patient-care sessions (0 on a day off);
-- any other day falls back to the clock rule: the clock window on working days
SELECT j.user_id, j.day,
       CASE WHEN covered THEN 'schedule' ELSE 'clock' END,
       coalesce(active_s, 0), coalesce(outside_s, 0), coalesce(documentation_s, 0),
       coalesce(chart_review_s, 0), coalesce(orders_s, 0), coalesce(inbox_s, 0),
       coalesce(other_s, 0),
       CASE WHEN covered THEN coalesce(pat.patient_s, 0)
            WHEN isodow(j.day) <= 5 AND h.day IS NULL THEN $clock_s
            ELSE 0 END,
       coalesce(slices, 0),
       CASE WHEN covered THEN coalesce(all_s, 0) - coalesce(pat.patient_s, 0) ELSE 0 END
FROM (
    SELECT j.*, coalesce(j.day BETWEEN tu.plan_first AND tu.plan_last, FALSE) AS covered
    FROM j LEFT JOIN ts_users tu USING (user_id)
) j
LEFT JOIN pat ON pat.user_id = j.user_id AND pat.day = j.day
LEFT JOIN ts_holidays h ON h.day = j.day
"""  # noqa: S608 - constant table names

# Signed documents of a type the activity map sends to orders, and their contributors other
# than the signer: the author, and anyone with a non-read event on the document.
_ORDERS_SQL = """
WITH o AS (
    SELECT d.document_id, d.signed_by, CAST(d.signed_at AS DATE) AS day, d.author_id
    FROM documents d
    JOIN activity_map m ON m.field = 'document_type' AND m.value = lower(trim(d.document_type))
    WHERE m.activity = 'orders' AND d.signed_at IS NOT NULL AND nullif(trim(d.signed_by), '') IS NOT NULL
),
c AS (
    SELECT o.document_id, o.author_id AS user_id FROM o
    UNION
    SELECT a.document_id, a.user_id FROM audit_events a SEMI JOIN o USING (document_id)
    WHERE upper(trim(coalesce(a.action, ''))) NOT IN ('R', 'READ', 'LECTURE', 'CONSULTATION')
)
SELECT o.document_id, o.signed_by, o.day,
       count(DISTINCT c.user_id) FILTER (WHERE c.user_id IS NOT NULL AND c.user_id <> o.signed_by)
FROM o LEFT JOIN c USING (document_id)
GROUP BY ALL
"""

_SERVICE_DAY_SQL = f"""
SELECT day, service, activity, document_type,
       sum(active_us) / 1e6, sum(outside_us) / 1e6, sum(slices), count(DISTINCT uid)
FROM {SCORED_TABLE} GROUP BY day, service, activity, document_type
"""  # noqa: S608 - constant table names

_DOCUMENT_TIME_SQL = f"""
SELECT document_id, min(document_type), min(service), min(day),
       sum(active_us) / 1e6, sum(outside_us) / 1e6, sum(slices), count(DISTINCT uid)
FROM {SCORED_TABLE} WHERE document_id IS NOT NULL GROUP BY document_id
"""  # noqa: S608 - constant table names

_FINGERPRINT_SQL = """
SELECT
    (SELECT count(*) FROM audit_events),
    (SELECT epoch_us(min("timestamp")) || '/' || epoch_us(max("timestamp")) FROM audit_events),
    (SELECT count(*) FROM schedules),
    (SELECT coalesce(sum(hash(user_id, "start", "end", session_type)), 0) FROM schedules),
    (SELECT coalesce(sum(hash(field, value, activity)), 0) FROM activity_map),
    (SELECT count(*) FROM documents),
    (SELECT coalesce(sum(hash(user_id, service, role)), 0) FROM staff),
    (SELECT count(*) FROM imports)
"""


@dataclass(frozen=True)
class PrecomputeReport:
    """What a precomputation did."""

    run_id: str
    settings: TimeSinkSettings
    events_in: int
    events_used: int
    sessions: int
    slices: int
    seconds: float
    rebuilt: bool = True


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    return json.dumps([str(v) for v in con.execute(_FINGERPRINT_SQL).fetchone()])


def _latest_run(con: duckdb.DuckDBPyConnection) -> tuple | None:
    return con.execute(
        """SELECT run_id, settings_json, data_fingerprint, events_in, events_used, seconds
           FROM ts_runs ORDER BY computed_at DESC LIMIT 1"""
    ).fetchone()


def current_settings(con: duckdb.DuckDBPyConnection) -> TimeSinkSettings:
    """Settings of the latest precomputation, else the defaults."""
    run = _latest_run(con)
    return TimeSinkSettings.from_json(run[1]) if run else DEFAULT_SETTINGS


#: The warehouse tables a precomputation replaces, in the order the steps fill them.
RESULT_TABLES = (
    "ts_holidays", "ts_schedule_days", "ts_calendar", "ts_users", "ts_sessions", "ts_slices",
    "ts_hour_activity", "ts_user_day", "ts_service_day", "ts_document_time", "ts_orders",
)


@dataclass(frozen=True)
class StepCounts:
    """What the steps saw: audit rows read, distinct events used, sessions, active slices."""

    events_in: int
    events_used: int
    sessions: int
    slices: int


def run_steps(engine: Engine, settings: TimeSinkSettings, *, keep_slices: bool = True) -> StepCounts:
    """Every step of the precomputation on ``engine`` (DuckDB or Spark, same SQL), reading
    ``audit_events``, ``schedules``, ``staff``, ``documents`` and ``activity_map`` and filling
    :data:`RESULT_TABLES`."""
    load_holidays(engine, settings)
    build_hours(engine, settings)
    build_schedule_days(engine)
    build_calendar(engine)
    events_in, events_used = build_events(engine, settings)
    build_sessions(engine, settings)
    build_slices(engine, keep_slices=keep_slices)
    engine.drop(ORDER_TABLE)
    engine.fill("ts_user_day", _USER_DAY_SQL, {"clock_s": settings.clock_hours * 3600})
    engine.fill("ts_service_day", _SERVICE_DAY_SQL)
    engine.fill("ts_document_time", _DOCUMENT_TIME_SQL)
    engine.fill("ts_orders", _ORDERS_SQL)
    sessions = engine.row("SELECT count(*) FROM ts_sessions")[0]
    slices = engine.row(f"SELECT coalesce(sum(slices), 0) FROM {SCORED_TABLE}")[0]  # noqa: S608 - constant
    engine.drop(SCORED_TABLE, USERS_TABLE, PATIENT_DAYS_TABLE, ACTIVITY_TABLE)
    return StepCounts(events_in, events_used, int(sessions), int(slices))


def publish(
    con: duckdb.DuckDBPyConnection,
    settings: TimeSinkSettings,
    started: float,
    actor: Actor | None,
    fill: Callable[[], StepCounts],
) -> PrecomputeReport:
    """In one transaction: ``fill()`` the result tables, then record the run in ``ts_runs``.
    The DuckDB steps, Spark's results and attached Parquet files are all published so."""
    con.execute(f"SET TimeZone = '{TIMEZONE}'")
    con.execute("BEGIN TRANSACTION")
    try:
        report = _record_run(con, settings, fill(), started, actor)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return report


def _record_run(
    con: duckdb.DuckDBPyConnection,
    settings: TimeSinkSettings,
    counts: StepCounts,
    started: float,
    actor: Actor | None,
) -> PrecomputeReport:
    """Write the run into ``ts_runs`` (inside the caller's transaction) and report it."""
    seconds = time.perf_counter() - started
    run_id = uuid.uuid4().hex
    con.execute("DELETE FROM ts_runs")
    con.execute(
        "INSERT INTO ts_runs VALUES (?, now(), ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            actor.username if actor else None,
            settings.to_json(),
            _fingerprint(con),
            counts.events_in,
            counts.events_used,
            seconds,
        ],
    )
    return PrecomputeReport(
        run_id, settings, counts.events_in, counts.events_used, counts.sessions, counts.slices, seconds
    )


def precompute(
    con: duckdb.DuckDBPyConnection,
    settings: TimeSinkSettings | None = None,
    *,
    actor: Actor | None = None,
    keep_slices: bool = True,
) -> PrecomputeReport:
    """Rebuild every ``ts_*`` table with ``settings`` (default: the documented defaults).

    ``keep_slices=False`` leaves ``ts_slices`` (one row per run piece, for drill-down)
    empty: every figure is computed from the other tables, and on 10 M events writing the
    slices is a large share of the time. The same steps run on Spark with
    :func:`analytics.timesinks.on_spark.precompute_on_spark`."""
    if actor is not None:
        require(actor, Permission.VIEW_AGGREGATES)
    settings = settings or DEFAULT_SETTINGS
    return publish(con, settings, time.perf_counter(), actor,
                   lambda: run_steps(DuckDBEngine(con), settings, keep_slices=keep_slices))


def ensure_precomputed(
    con: duckdb.DuckDBPyConnection,
    settings: TimeSinkSettings | None = None,
    *,
    actor: Actor | None = None,
) -> TimeSinkSettings:
    """Make the ``ts_*`` tables match ``settings`` (``None``: keep the latest run's settings)
    and the current data; rebuild only when needed. Returns the settings in effect."""
    run = _latest_run(con)
    if settings is None:
        settings = TimeSinkSettings.from_json(run[1]) if run else DEFAULT_SETTINGS
    if not _is_current(con, run, settings):
        # Dashboard sessions are threads with a cursor each: without the lock, every session
        # that finds the tables stale starts its own rebuild and all but one fail on DuckDB's
        # write conflict. The one that waited re-reads the latest run and skips if it is fresh.
        with _REBUILD_LOCK:
            if not _is_current(con, _latest_run(con), settings):
                precompute(con, settings, actor=actor)
    return settings


_REBUILD_LOCK = threading.Lock()


def _is_current(con: duckdb.DuckDBPyConnection, run: tuple | None, settings: TimeSinkSettings) -> bool:
    return run is not None and run[1] == settings.to_json() and run[2] == _fingerprint(con)


def demo_step(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Post-import step for ``analytics.demo``: precompute with the default settings."""
    report = precompute(con)
    return [
        f"Time sinks: {report.events_used} events, {report.sessions} sessions, "
        f"{report.slices} active slices (idle threshold {report.settings.idle_threshold_s} s) "
        f"in {report.seconds:.1f} s"
    ]
