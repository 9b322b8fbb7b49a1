"""Time-sinks precomputed tables (filled by ``analytics.timesinks``)."""

import duckdb

SQL = """
CREATE TABLE ts_sessions (
    session_id     VARCHAR NOT NULL,
    user_id        VARCHAR NOT NULL,
    session_start  TIMESTAMPTZ NOT NULL,
    session_end    TIMESTAMPTZ NOT NULL,
    active_minutes DOUBLE NOT NULL,
    events         BIGINT NOT NULL,
    idle_threshold_s INTEGER NOT NULL
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
