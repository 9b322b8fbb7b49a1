"""Local accounts and the append-only access log (who viewed, exported, changed what)."""

import duckdb

SQL = """
CREATE TABLE users (
    username            VARCHAR PRIMARY KEY,
    display_name        VARCHAR,
    role                VARCHAR NOT NULL,     -- admin / manager / analyst / viewer
    password_hash       VARCHAR,              -- argon2id; NULL for OIDC-only accounts
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    failed_attempts     INTEGER NOT NULL DEFAULT 0,
    locked_until        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL,
    password_changed_at TIMESTAMPTZ,
    last_login_at       TIMESTAMPTZ
);

CREATE SEQUENCE access_log_seq START 1;

CREATE TABLE access_log (
    log_id    BIGINT PRIMARY KEY DEFAULT nextval('access_log_seq'),
    logged_at TIMESTAMPTZ NOT NULL,
    actor     VARCHAR NOT NULL,
    role      VARCHAR,
    action    VARCHAR NOT NULL,   -- login / view / export / job_preview / job_apply / ...
    object    VARCHAR,            -- page, table or job concerned
    row_count BIGINT,
    detail    JSON,
    prev_hash VARCHAR,            -- hash chain: tampering with a past row breaks the chain
    row_hash  VARCHAR
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
