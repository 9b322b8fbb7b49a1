"""Duplicate-document runs and double entry (filled by ``analytics.documents``).

``document_duplicates`` itself is created by m0002 (matching); this migration adds the two
columns the archive job needs (the patient, and which document of the pair to keep) and the
tables of the double-entry analysis.
"""

import duckdb

SQL = """
-- One row per detection run (duplicates or double entry), with its parameters and counts.
CREATE TABLE document_runs (
    run_id      VARCHAR PRIMARY KEY,
    analysis    VARCHAR NOT NULL,        -- duplicates / double_entry
    actor       VARCHAR,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    params      JSON,
    summary     JSON
);

-- keep_document_id: the document to keep when the pair is archived (exact / near);
-- NULL for kind 'retyped', where both documents are legitimate and nothing is archived.
ALTER TABLE document_duplicates ADD COLUMN IF NOT EXISTS patient_id VARCHAR;
ALTER TABLE document_duplicates ADD COLUMN IF NOT EXISTS keep_document_id VARCHAR;

-- Double entry, one row per (earlier document, later document that re-typed part of it);
-- latest run wins.
CREATE TABLE double_entry (
    run_id                  VARCHAR NOT NULL,
    patient_id              VARCHAR NOT NULL,
    stay_id                 VARCHAR,          -- NDA shared by both documents, else NULL
    source_document_id      VARCHAR NOT NULL, -- the earlier document
    target_document_id      VARCHAR NOT NULL, -- the later document, where text was typed again
    document_type           VARCHAR,          -- of the later document
    service                 VARCHAR,          -- of the later document
    author_id               VARCHAR,          -- of the later document
    target_created_at       TIMESTAMPTZ,
    passages                INTEGER NOT NULL,
    retyped_chars           BIGINT NOT NULL,
    target_chars            BIGINT NOT NULL,
    mean_similarity         DOUBLE NOT NULL,  -- rapidfuzz ratio, 0-100
    estimated_minutes       DOUBLE NOT NULL,  -- retyped_chars / typing_chars_per_minute
    audit_active_minutes    DOUBLE,           -- active time on the later document (audit log)
    audit_retyped_minutes   DOUBLE,           -- the same, pro rata of the re-typed characters
    typing_chars_per_minute DOUBLE NOT NULL,
    idle_threshold_s        INTEGER NOT NULL
);

CREATE TABLE double_entry_passages (
    run_id             VARCHAR NOT NULL,
    source_document_id VARCHAR NOT NULL,
    target_document_id VARCHAR NOT NULL,
    source_passage     VARCHAR NOT NULL,
    target_passage     VARCHAR NOT NULL,
    chars              INTEGER NOT NULL,      -- length of the re-typed (target) passage
    similarity         DOUBLE NOT NULL
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
