"""Per-account API tokens (``hygie users token add``), stored hashed.

A token is ``hyg_<token_id>_<secret>``; only the SHA-256 of the whole token is kept (the secret
is 256 random bits, so a fast hash is enough: nothing to brute-force, unlike a password). The
token acts with its account's *current* role; a revoked or expired token, or one whose account
was deactivated, is refused.
"""

import duckdb

SQL = """
CREATE TABLE api_tokens (
    token_id     VARCHAR PRIMARY KEY,      -- public part, shown by `hygie users token list`
    username     VARCHAR NOT NULL,         -- the account the token acts as
    token_hash   VARCHAR NOT NULL,         -- sha256 hex of the whole token
    label        VARCHAR,                  -- what uses it (e.g. the admission software)
    created_at   TIMESTAMPTZ NOT NULL,
    created_by   VARCHAR,
    expires_at   TIMESTAMPTZ,              -- NULL: never expires
    revoked_at   TIMESTAMPTZ,
    revoked_by   VARCHAR,
    last_used_at TIMESTAMPTZ
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
