"""Cleanup jobs: previews, runs (append-only), the change log that makes undo exact, schedules."""

import duckdb

SQL = """
CREATE TABLE job_previews (
    preview_id   VARCHAR PRIMARY KEY,
    job          VARCHAR NOT NULL,
    params       JSON,
    actor        VARCHAR NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    fingerprint  VARCHAR NOT NULL,       -- hash of the inputs; apply refuses if it changed
    change_count BIGINT NOT NULL,
    summary      JSON
);

CREATE TABLE job_preview_changes (
    preview_id VARCHAR NOT NULL,
    seq        BIGINT NOT NULL,
    table_name VARCHAR NOT NULL,
    row_key    JSON NOT NULL,
    before     JSON,
    after      JSON
);

CREATE TABLE job_runs (
    run_id       VARCHAR PRIMARY KEY,
    job          VARCHAR NOT NULL,
    params       JSON,
    preview_id   VARCHAR,
    actor        VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,       -- running / succeeded / failed / interrupted / undone
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    rows_changed BIGINT,
    message      VARCHAR,
    undo_of      VARCHAR,                -- run_id this run undid
    undone_by    VARCHAR
);

CREATE TABLE job_changes (
    run_id     VARCHAR NOT NULL,
    seq        BIGINT NOT NULL,
    table_name VARCHAR NOT NULL,
    row_key    JSON NOT NULL,
    before     JSON,                     -- NULL: the row did not exist
    after      JSON                      -- NULL: the row was removed
);

CREATE TABLE job_schedules (
    schedule_id VARCHAR PRIMARY KEY,
    job         VARCHAR NOT NULL,
    params      JSON,
    cron        VARCHAR NOT NULL,
    apply       BOOLEAN NOT NULL DEFAULT FALSE,
    actor       VARCHAR NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    last_run_at TIMESTAMPTZ
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
