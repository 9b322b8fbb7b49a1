"""Message delivery attempts: the outbox of what merges, unmerges and undos sent.

The messages themselves are the runs' output files (``job_outputs``); this table records each
attempt to deliver one (MLLP for ``.hl7``, FHIR HTTP for ``.json``), append-only, so that the
status of a message is its latest attempt and the history of retries stays readable.
"""

import duckdb

SQL = """
CREATE TABLE message_deliveries (
    path      VARCHAR NOT NULL,     -- job_outputs.path of the message file
    run_id    VARCHAR NOT NULL,
    channel   VARCHAR NOT NULL,     -- mllp / fhir
    endpoint  VARCHAR NOT NULL,     -- host:port or base URL it was sent to
    attempt   INTEGER NOT NULL,     -- 1, 2, ... per message and channel
    outcome   VARCHAR NOT NULL,     -- accepted / error / rejected / unreachable
    code      VARCHAR,              -- ACK code (AA/AE/AR, CA/CE/CR) or HTTP status
    detail    VARCHAR,              -- ACK text (MSA-3/ERR) or OperationOutcome diagnostics
    actor     VARCHAR,
    attempted_at TIMESTAMPTZ NOT NULL
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
