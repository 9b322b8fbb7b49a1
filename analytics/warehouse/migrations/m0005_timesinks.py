"""Time-sinks precomputed tables (filled by ``analytics.timesinks.precompute``).

Every table is derived from ``audit_events``, ``schedules``, ``staff`` and the holiday
calendar; ``ts_runs`` records which settings and which data produced the current contents,
so a page can show the threshold and after-hours rule behind every figure and the engine
knows when to rebuild. Seconds are stored as DOUBLE; days are local (Europe/Paris) dates.
"""

import duckdb

SQL = """
CREATE TABLE ts_runs (
    run_id           VARCHAR PRIMARY KEY,
    computed_at      TIMESTAMPTZ NOT NULL,
    computed_by      VARCHAR,
    settings_json    VARCHAR NOT NULL,   -- TimeSinkSettings.to_json()
    data_fingerprint VARCHAR NOT NULL,   -- counts and max timestamps of the inputs
    events_in        BIGINT,             -- audit rows read
    events_used      BIGINT,             -- after duplicate removal
    seconds          DOUBLE              -- wall time of the precomputation
);

CREATE TABLE ts_holidays (
    day  DATE PRIMARY KEY,
    name VARCHAR
);

-- One row per session: events separated by gaps <= the idle threshold.
CREATE TABLE ts_sessions (
    session_id       VARCHAR NOT NULL,   -- user_id || '#' || session number
    user_id          VARCHAR NOT NULL,
    session_start    TIMESTAMPTZ NOT NULL,   -- first event
    session_end      TIMESTAMPTZ NOT NULL,   -- last event (nothing is credited after it)
    active_minutes   DOUBLE NOT NULL,
    events           BIGINT NOT NULL,
    idle_threshold_s INTEGER NOT NULL
);

-- Active time for drill-down: runs of consecutive active slices (event -> next event within the
-- threshold) of one user with the same activity, document and service, split at local midnight.
CREATE TABLE ts_slices (
    user_id       VARCHAR NOT NULL,
    day           DATE NOT NULL,
    slice_start   TIMESTAMPTZ NOT NULL,
    slice_end     TIMESTAMPTZ NOT NULL,
    activity      VARCHAR NOT NULL,      -- documentation / chart_review / orders / inbox / other
    document_id   VARCHAR,
    document_type VARCHAR,
    service       VARCHAR,               -- event's service, else the user's service
    active_s      DOUBLE NOT NULL,
    outside_s     DOUBLE NOT NULL        -- part outside scheduled (or clock-rule) time
);

-- Merged scheduled sessions clipped to local days.
CREATE TABLE ts_schedule_days (
    user_id     VARCHAR NOT NULL,
    day         DATE NOT NULL,
    piece_start TIMESTAMPTZ NOT NULL,
    piece_end   TIMESTAMPTZ NOT NULL
);

-- Per user and local day: the base of every per-clinician measure.
CREATE TABLE ts_user_day (
    user_id          VARCHAR NOT NULL,
    day              DATE NOT NULL,
    basis            VARCHAR NOT NULL,   -- 'schedule' or 'clock'
    active_s         DOUBLE NOT NULL,
    outside_s        DOUBLE NOT NULL,
    documentation_s  DOUBLE NOT NULL,
    chart_review_s   DOUBLE NOT NULL,
    orders_s         DOUBLE NOT NULL,
    inbox_s          DOUBLE NOT NULL,
    other_s          DOUBLE NOT NULL,
    scheduled_s      DOUBLE NOT NULL,
    slices           BIGINT NOT NULL
);

-- Per local day, service, activity and document type: the base of rankings.
CREATE TABLE ts_service_day (
    day           DATE NOT NULL,
    service       VARCHAR,
    activity      VARCHAR NOT NULL,
    document_type VARCHAR,
    active_s      DOUBLE NOT NULL,
    outside_s     DOUBLE NOT NULL,
    slices        BIGINT NOT NULL,
    users         BIGINT NOT NULL
);

-- Active time per document (slices carrying a document_id).
CREATE TABLE ts_document_time (
    document_id   VARCHAR NOT NULL,
    document_type VARCHAR,
    service       VARCHAR,
    first_day     DATE NOT NULL,
    active_s      DOUBLE NOT NULL,
    outside_s     DOUBLE NOT NULL,
    slices        BIGINT NOT NULL,
    users         BIGINT NOT NULL
);
"""


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
