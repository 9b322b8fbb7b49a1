"""Identity matching results, reviewer decisions and duplicate documents."""

import duckdb

SQL = """
CREATE TABLE match_runs (
    match_run_id     VARCHAR PRIMARY KEY,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    threshold_match  DOUBLE NOT NULL,
    threshold_review DOUBLE NOT NULL,
    candidate_pairs  BIGINT,
    params           JSON,
    blocking_report  JSON
);

-- One row per scored candidate pair (patient_id_1 < patient_id_2), latest run wins.
CREATE TABLE match_pairs (
    match_run_id  VARCHAR NOT NULL,
    patient_id_1  VARCHAR NOT NULL,
    patient_id_2  VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,       -- match probability in [0, 1]
    match_weight  DOUBLE NOT NULL,       -- log2 Bayes factor, sum of field weights
    decision      VARCHAR NOT NULL,      -- match / review / non-match
    explanation   JSON                   -- per field: left, right, level, weight
);

CREATE TABLE match_clusters (
    match_run_id VARCHAR NOT NULL,
    patient_id   VARCHAR NOT NULL,
    cluster_id   VARCHAR NOT NULL
);

-- Reviewer decisions; "not_same" pairs never return to the queue.
CREATE TABLE pair_reviews (
    patient_id_1 VARCHAR NOT NULL,
    patient_id_2 VARCHAR NOT NULL,
    decision     VARCHAR NOT NULL,       -- same / not_same / unsure
    reviewer     VARCHAR NOT NULL,
    decided_at   TIMESTAMPTZ NOT NULL,
    comment      VARCHAR
);

CREATE TABLE document_duplicates (
    match_run_id  VARCHAR NOT NULL,
    document_id_1 VARCHAR NOT NULL,
    document_id_2 VARCHAR NOT NULL,
    kind          VARCHAR NOT NULL,      -- exact / near / retyped
    score         DOUBLE,
    reason        VARCHAR NOT NULL
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
