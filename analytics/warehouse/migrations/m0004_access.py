"""Local accounts, login throttling and the append-only access log (who viewed, exported, changed what).

``login_failures`` is keyed by the username *as typed* (casefolded), whether or not an account
exists: lock-out then behaves the same for real and invented names and does not reveal which
accounts exist. ``access_log`` is only ever appended to by ``analytics.access.access_log.record``;
each row carries the SHA-256 of its canonical JSON and of the previous row's hash, so that editing
or deleting a past row breaks the chain (``verify_chain``).
"""

import duckdb

SQL = """
CREATE TABLE users (
    username            VARCHAR PRIMARY KEY,  -- lower case, [a-z0-9._-]
    display_name        VARCHAR,
    role                VARCHAR NOT NULL CHECK (role IN ('admin', 'manager', 'analyst', 'viewer')),
    password_hash       VARCHAR,              -- argon2id (PHC string); NULL: cannot log in locally
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    is_demo             BOOLEAN NOT NULL DEFAULT FALSE,  -- created by create_demo_accounts
    created_at          TIMESTAMPTZ NOT NULL,
    created_by          VARCHAR,
    password_changed_at TIMESTAMPTZ,
    last_login_at       TIMESTAMPTZ
);

CREATE TABLE login_failures (
    username        VARCHAR PRIMARY KEY,      -- as typed, casefolded, at most 128 characters
    failed_attempts INTEGER NOT NULL,         -- consecutive failures since the last success/lock
    last_failed_at  TIMESTAMPTZ NOT NULL,
    locked_until    TIMESTAMPTZ
);

CREATE SEQUENCE access_log_seq START 1;

CREATE TABLE access_log (
    log_id    BIGINT PRIMARY KEY DEFAULT nextval('access_log_seq'),
    logged_at TIMESTAMPTZ NOT NULL,
    actor     VARCHAR NOT NULL,   -- username (or the name typed at a failed login)
    role      VARCHAR,
    via       VARCHAR,            -- dashboard / cli / oidc / scheduler
    action    VARCHAR NOT NULL,   -- login / login_failed / logout / view / export / job_* / ...
    object    VARCHAR,            -- page, table, job or account concerned
    row_count BIGINT,
    detail    JSON,
    prev_hash VARCHAR NOT NULL,   -- row_hash of the previous row (64 zeros for the first)
    row_hash  VARCHAR NOT NULL    -- sha256(canonical JSON of this row + prev_hash)
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
