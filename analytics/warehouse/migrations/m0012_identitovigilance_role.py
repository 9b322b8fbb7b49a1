"""The ``identitovigilance`` role: the users table's CHECK lists it.

DuckDB cannot alter a CHECK constraint, so the table is rebuilt with the same columns and rows.
"""

import duckdb

SQL = """
CREATE TABLE users_v12 (
    username            VARCHAR PRIMARY KEY,
    display_name        VARCHAR,
    role                VARCHAR NOT NULL CHECK (role IN ('admin', 'manager', 'analyst', 'viewer',
                                                         'identitovigilance')),
    password_hash       VARCHAR,
    active              BOOLEAN NOT NULL DEFAULT TRUE,
    is_demo             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at          TIMESTAMPTZ NOT NULL,
    created_by          VARCHAR,
    password_changed_at TIMESTAMPTZ,
    last_login_at       TIMESTAMPTZ
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
    columns = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'users' ORDER BY ordinal_position"
    ).fetchall()]
    expected = ["username", "display_name", "role", "password_hash", "active", "is_demo", "created_at",
                "created_by", "password_changed_at", "last_login_at"]
    if columns != expected:  # a column added by another migration meanwhile: keep it out of reach
        raise RuntimeError(f"migration 12: users has columns {columns}, expected {expected}")
    con.execute("INSERT INTO users_v12 SELECT * FROM users")
    con.execute("DROP TABLE users")
    con.execute("ALTER TABLE users_v12 RENAME TO users")
