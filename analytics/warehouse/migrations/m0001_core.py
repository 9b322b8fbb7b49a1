"""Core hospital data: patients, documents, audit events, staff, schedules, imports.

Source keys (not enforced by DuckDB indexes, which would slow bulk loads; the importer
refuses files with missing or repeated keys and upserts on them):
patients (source, patient_id), documents (document_id), audit_events (event_id),
staff (user_id), schedules (user_id, start).
"""

import duckdb

SQL = """
CREATE TABLE patients (
    patient_id       VARCHAR NOT NULL,   -- source key, e.g. IPP
    source           VARCHAR NOT NULL DEFAULT 'default',
    birth_name       VARCHAR,            -- nom de naissance
    used_name        VARCHAR,            -- nom utilisé
    first_names      VARCHAR,            -- prénoms de naissance, space-separated; first = premier prénom
    used_first_name  VARCHAR,            -- prénom utilisé
    birth_date       DATE,
    sex              VARCHAR,            -- M / F / U
    birth_place_code VARCHAR,            -- code INSEE (COG) du lieu de naissance
    ins              VARCHAR,            -- INS matricule (NIR/NIA, 15 characters with key)
    identity_status  VARCHAR,            -- PROV / RECUP / VALI / QUAL
    address          VARCHAR,
    postcode         VARCHAR,
    city             VARCHAR,
    phone            VARCHAR,
    email            VARCHAR,
    created_at       TIMESTAMPTZ,
    updated_at       TIMESTAMPTZ,
    active           BOOLEAN NOT NULL DEFAULT TRUE,
    merged_into      VARCHAR,            -- survivor's patient_id once merged (Patient.link replaced-by)
    import_id        VARCHAR
);

CREATE TABLE documents (
    document_id   VARCHAR NOT NULL,
    patient_id    VARCHAR,
    document_type VARCHAR,
    title         VARCHAR,
    author_id     VARCHAR,
    service       VARCHAR,
    created_at    TIMESTAMPTZ,
    signed_at     TIMESTAMPTZ,
    signed_by     VARCHAR,
    status        VARCHAR,               -- draft / signed / sent / archived
    content_hash  VARCHAR,
    text          VARCHAR,
    stay_id       VARCHAR,               -- NDA
    import_id     VARCHAR
);

CREATE TABLE audit_events (
    event_id      VARCHAR NOT NULL,
    user_id       VARCHAR NOT NULL,
    "timestamp"   TIMESTAMPTZ NOT NULL,
    action        VARCHAR,               -- C / R / U / D / E, or the source system's verb
    activity      VARCHAR,               -- documentation / chart_review / orders / inbox / other
    patient_id    VARCHAR,
    document_id   VARCHAR,
    document_type VARCHAR,
    service       VARCHAR,
    workstation   VARCHAR,
    import_id     VARCHAR
);

CREATE TABLE staff (
    user_id         VARCHAR NOT NULL,    -- RPPS or local login
    display_name    VARCHAR,
    role            VARCHAR,             -- physician, nurse, secretary, ...
    service         VARCHAR,
    active          BOOLEAN NOT NULL DEFAULT TRUE,   -- FALSE once the person has left
    is_service_head BOOLEAN NOT NULL DEFAULT FALSE,
    import_id       VARCHAR
);

CREATE TABLE schedules (
    user_id   VARCHAR NOT NULL,
    "start"   TIMESTAMPTZ NOT NULL,      -- scheduled patient-care session
    "end"     TIMESTAMPTZ NOT NULL,
    import_id VARCHAR
);

CREATE TABLE imports (
    import_id          VARCHAR PRIMARY KEY,
    table_name         VARCHAR NOT NULL,
    file_name          VARCHAR NOT NULL,
    file_sha256        VARCHAR,
    format             VARCHAR,          -- csv / parquet / fhir-ndjson
    encoding           VARCHAR,
    delimiter          VARCHAR,
    rows_in_file       BIGINT,
    rows_inserted      BIGINT,
    rows_updated       BIGINT,
    findings           BIGINT,
    status             VARCHAR NOT NULL, -- running / loaded / refused / interrupted
    message            VARCHAR,
    actor              VARCHAR,
    started_at         TIMESTAMPTZ NOT NULL,
    finished_at        TIMESTAMPTZ
);

CREATE TABLE data_quality_findings (
    import_id   VARCHAR NOT NULL,
    table_name  VARCHAR NOT NULL,
    file_name   VARCHAR NOT NULL,
    line        BIGINT,                  -- 1-based line in the file (header = line 1)
    column_name VARCHAR,
    record_key  VARCHAR,
    raw_value   VARCHAR,
    problem     VARCHAR NOT NULL
);

CREATE TABLE settings (
    key        VARCHAR PRIMARY KEY,
    value      VARCHAR,
    updated_at TIMESTAMPTZ,
    updated_by VARCHAR
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
