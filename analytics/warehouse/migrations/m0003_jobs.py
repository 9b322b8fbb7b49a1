"""Cleanup jobs: previews, runs (append-only), the change log that makes undo exact, schedules.

A change row holds the key of the row it touches and, as JSON, the values of the changed
columns before and after (``op`` update), the whole row after (``insert``) or before
(``delete``). ``row_key`` is canonical JSON text (sorted keys) so that two runs touching the
same row can be found by a plain equality join.
"""

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
    summary      JSON,                   -- counts and notes shown to the user
    undo_of      VARCHAR                 -- set for the inverse change set built by an undo
);

CREATE TABLE job_preview_changes (
    preview_id VARCHAR NOT NULL,
    seq        BIGINT NOT NULL,          -- changes of one (table, op, cols) group are contiguous
    table_name VARCHAR NOT NULL,
    op         VARCHAR NOT NULL,         -- update / insert / delete
    cols       VARCHAR NOT NULL,         -- comma-separated changed columns
    row_key    VARCHAR NOT NULL,         -- canonical JSON of the key columns
    before     JSON,
    after      JSON,
    origin     VARCHAR                   -- what the change belongs to (e.g. the merged loser)
);

CREATE TABLE job_preview_outputs (
    preview_id VARCHAR NOT NULL,
    name       VARCHAR NOT NULL,         -- file name, written under the run's output folder
    content    BLOB NOT NULL
);

CREATE TABLE job_runs (
    run_id       VARCHAR PRIMARY KEY,
    job          VARCHAR NOT NULL,
    params       JSON,
    preview_id   VARCHAR,
    request_key  VARCHAR,                -- the same request twice applies once
    actor        VARCHAR NOT NULL,
    status       VARCHAR NOT NULL,       -- running / succeeded / failed / interrupted / undone
    started_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ,
    rows_changed BIGINT,
    message      VARCHAR,
    undo_of      VARCHAR,                -- run_id this run undid
    undone_by    VARCHAR,
    output_dir   VARCHAR,
    pid          INTEGER                 -- process that ran it (crash forensics)
);

CREATE TABLE job_changes (
    run_id     VARCHAR NOT NULL,
    seq        BIGINT NOT NULL,
    table_name VARCHAR NOT NULL,
    op         VARCHAR NOT NULL,
    cols       VARCHAR NOT NULL,
    row_key    VARCHAR NOT NULL,
    before     JSON,                     -- NULL: the row did not exist
    after      JSON,                     -- NULL: the row was removed
    origin     VARCHAR
);

CREATE TABLE job_outputs (
    run_id  VARCHAR NOT NULL,
    path    VARCHAR NOT NULL,
    sha256  VARCHAR NOT NULL,
    bytes   BIGINT NOT NULL
);

CREATE TABLE job_schedules (
    schedule_id VARCHAR PRIMARY KEY,
    job         VARCHAR NOT NULL,
    params      JSON,
    cron        VARCHAR NOT NULL,
    apply       BOOLEAN NOT NULL DEFAULT FALSE,
    actor       VARCHAR NOT NULL,
    actor_role  VARCHAR NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL,
    last_run_at TIMESTAMPTZ,
    last_status VARCHAR,
    last_message VARCHAR
);

-- Unsigned documents routed to a signer's worklist (route-unsigned-documents).
CREATE TABLE document_routing (
    routing_id  VARCHAR NOT NULL,
    document_id VARCHAR NOT NULL,
    signer_id   VARCHAR NOT NULL,
    reason      VARCHAR NOT NULL,        -- author / service_head
    routed_at   TIMESTAMPTZ NOT NULL,
    days_unsigned INTEGER NOT NULL
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
