"""Time sinks: session types, planning coverage, the data's calendar and the activity map.

* ``schedules.session_type``: what a scheduled session is for. Only patient-care sessions
  (the default when the planning does not say) are the denominator of the per-8-hour
  measures; other sessions (meetings, teaching, administration, on-call) stay inside working
  time and are shown apart (``ts_user_day.other_scheduled_s``).
* ``ts_users``: every user of the logs or the planning, with the first and last local day
  their planning covers (NULL without planning). Days outside that span fall back to the
  clock rule.
* ``ts_calendar``: every local day of the years the data touches, whether it is a working
  day (weekday, not a public holiday of the chosen calendar) and whether it lies within the
  logs' period; clock-rule users get every working day of the period asked as scheduled time.
* ``ts_orders``: signed order documents and their other contributors (teamwork for orders).
* ``activity_map``: the activity taxonomy as data, editable by the DSI: an event's activity
  is decided by its document type, else its action code, else the source's activity column
  (first match wins in that order); seeded with Hygie's defaults.

A warehouse precomputed before this migration has its latest run marked stale (settings
kept), so the next ``ensure_precomputed`` rebuilds every ``ts_*`` table.
"""

import duckdb

SQL = """
ALTER TABLE schedules ADD COLUMN session_type VARCHAR;   -- patient_care / other (NULL: patient care)

ALTER TABLE ts_user_day ADD COLUMN other_scheduled_s DOUBLE DEFAULT 0;   -- non-patient sessions

CREATE TABLE ts_users (
    user_id    VARCHAR PRIMARY KEY,
    plan_first DATE,                  -- first local day with a scheduled session (NULL: none)
    plan_last  DATE                   -- last one; days in between without a session are days off
);

CREATE TABLE ts_calendar (
    day     DATE PRIMARY KEY,
    workday BOOLEAN NOT NULL,         -- Monday-Friday and not a public holiday (ts_holidays)
    in_data BOOLEAN NOT NULL          -- between the logs' first and last local day
);

-- Signed order documents (types the activity map sends to orders): who signed, and how many
-- others wrote in them (the author or any non-read event): Sinsky's Teamwork for orders.
CREATE TABLE ts_orders (
    document_id VARCHAR NOT NULL,
    signed_by   VARCHAR NOT NULL,
    day         DATE NOT NULL,        -- local day of signature
    others      BIGINT NOT NULL       -- distinct contributors other than the signer
);

CREATE TABLE activity_map (
    field    VARCHAR NOT NULL,        -- document_type / action / activity
    value    VARCHAR NOT NULL,        -- compared lower-case and trimmed
    activity VARCHAR NOT NULL,        -- documentation / chart_review / orders / inbox / other
    note     VARCHAR,
    PRIMARY KEY (field, value)
);

UPDATE ts_runs SET data_fingerprint = 'stale: denominators changed by migration 8'
WHERE data_fingerprint NOT LIKE 'stale:%';
"""


#: Hygie's default taxonomy (field, value, activity, note); the DSI edits the table, not this.
SEED = [
    ("document_type", "ordonnance", "orders", "prescription written as a document (Sinsky: Prescription-Time8)"),
    ("document_type", "prescription", "orders", None),
    ("document_type", "ordonnance de sortie", "orders", None),
    ("document_type", "lettre de liaison", "documentation", "outgoing letter: written, not an inbox item"),
    ("document_type", "courrier", "documentation", "outgoing letter: written, not an inbox item"),
    ("document_type", "compte rendu de consultation", "documentation", "a note, not chart review"),
    ("action", "presc", "orders", None),
    ("action", "prescription", "orders", None),
    ("action", "valid_presc", "orders", None),
    ("action", "msg", "inbox", None),
    ("action", "messagerie", "inbox", None),
    ("action", "resultat_vu", "inbox", "result acknowledged"),
    ("activity", "documentation", "documentation", None),
    ("activity", "chart_review", "chart_review", None),
    ("activity", "orders", "orders", None),
    ("activity", "prescription", "orders", None),
    ("activity", "inbox", "inbox", None),
    ("activity", "other", "other", None),
]


def apply(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(SQL)
    con.executemany("INSERT INTO activity_map VALUES (?, ?, ?, ?)", SEED)
