"""Identity matching: normalised identity index, runs, scored pairs, clusters, reviewer
decisions; and duplicate documents (filled by ``analytics.documents``)."""

import duckdb

SQL = """
-- Normalised keys of every active patient (derived; rebuilt by find_duplicates and kept up to
-- date by incremental matching). Originals stay in patients.
CREATE TABLE identity_index (
    rid         INTEGER NOT NULL,        -- dense integer key for fast joins
    patient_id  VARCHAR NOT NULL,
    bn VARCHAR, bn_key VARCHAR, bn_np VARCHAR,       -- birth name: spaced, no spaces, no particles
    un VARCHAR, un_key VARCHAR, un_np VARCHAR,       -- usage name
    fn_list VARCHAR, fn1 VARCHAR, fn_all VARCHAR, ufn VARCHAR,
    bn_sdx VARCHAR, un_sdx VARCHAR, fn_sdx VARCHAR,  -- Soundex2-FR keys
    birth_date DATE, bd_default BOOLEAN, sex VARCHAR, birth_place VARCHAR,
    ins VARCHAR, ins_strong BOOLEAN,                 -- INS and whether status is RECUP/QUAL
    phone VARCHAR,                                   -- E.164
    email VARCHAR, postcode VARCHAR, address VARCHAR
);

CREATE TABLE match_runs (
    match_run_id     VARCHAR PRIMARY KEY,
    started_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ,
    kind             VARCHAR NOT NULL DEFAULT 'full',   -- full / incremental
    actor            VARCHAR,
    threshold_match  DOUBLE NOT NULL,
    threshold_review DOUBLE NOT NULL,
    patients         BIGINT,
    candidate_pairs  BIGINT,
    matches          BIGINT,
    reviews          BIGINT,
    clusters         BIGINT,
    params           JSON,                -- model: m/u per field and level, prior, term frequencies
    blocking_report  JSON                 -- pairs per blocking rule
);

-- One row per scored candidate pair (patient_id_1 < patient_id_2) of the latest run.
CREATE TABLE match_pairs (
    match_run_id  VARCHAR NOT NULL,
    patient_id_1  VARCHAR NOT NULL,
    patient_id_2  VARCHAR NOT NULL,
    score         DOUBLE NOT NULL,       -- match probability in [0, 1]
    match_weight  DOUBLE NOT NULL,       -- log2 Bayes factor: prior + sum of field weights
    decision      VARCHAR NOT NULL,      -- match / review / non-match
    rule          VARCHAR,               -- guard that overrode the score (twins, reviewed...)
    birth_name    VARCHAR,               -- comparison level per field (exact/close/far/missing...)
    first_name    VARCHAR,
    birth_date    VARCHAR,
    sex           VARCHAR,
    birth_place   VARCHAR,
    ins           VARCHAR,
    phone         VARCHAR,
    email         VARCHAR,
    address       VARCHAR
);

CREATE TABLE match_clusters (
    match_run_id VARCHAR NOT NULL,
    patient_id   VARCHAR NOT NULL,
    cluster_id   VARCHAR NOT NULL
);

-- Reviewer decisions; "not_same" pairs never return to the queue nor as matches.
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
