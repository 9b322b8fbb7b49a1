"""Time sinks: active time per local hour, for the hour × weekday heat map.

``ts_hour_activity`` is filled by ``analytics.timesinks.precompute`` like the other ``ts_*``
tables, so the dashboard reads a few thousand rows instead of every session. A warehouse
precomputed before this migration has the table empty: its latest run is marked stale
(settings kept), so the next ``ensure_precomputed`` rebuilds every ``ts_*`` table with the
same settings.
"""

import duckdb

SQL = """
-- Active time split at local hour boundaries (Europe/Paris). On the autumn clock change the
-- two 02:00-03:00 hours both count as local hour 2; on the spring one hour 2 does not exist.
CREATE TABLE ts_hour_activity (
    day       DATE NOT NULL,       -- local date
    hour      TINYINT NOT NULL,    -- local hour 0-23
    service   VARCHAR,             -- event's service, else the user's (as ts_service_day)
    activity  VARCHAR NOT NULL,
    active_s  DOUBLE NOT NULL,
    outside_s DOUBLE NOT NULL      -- part outside scheduled (or clock-rule) time
);

UPDATE ts_runs SET data_fingerprint = 'stale: ts_hour_activity added by migration 7';
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
