"""Build tiny warehouses from hand-written events, schedules and staff."""

from __future__ import annotations

import itertools

import duckdb

from analytics.warehouse import connect

_ids = itertools.count(1)


def warehouse(
    events: list[tuple] = (),
    schedules: list[tuple] = (),
    staff: list[tuple] = (),
    documents: list[tuple] = (),
) -> duckdb.DuckDBPyConnection:
    """A migrated in-memory warehouse.

    events: (user_id, timestamp with offset, activity[, document_id[, document_type[, service]]])
    schedules: (user_id, start, end); staff: (user_id, role, service);
    documents: (document_id, document_type, service, author_id, created_at, signed_at).
    """
    con = connect(":memory:")
    for event in events:
        user, ts, activity, *rest = event
        document_id, document_type, service = (list(rest) + [None, None, None])[:3]
        con.execute(
            """INSERT INTO audit_events (event_id, user_id, "timestamp", activity, document_id,
                                         document_type, service)
               VALUES (?, ?, CAST(? AS TIMESTAMPTZ), ?, ?, ?, ?)""",
            [f"e{next(_ids)}", user, ts, activity, document_id, document_type, service],
        )
    for user, start, end in schedules:
        con.execute(
            "INSERT INTO schedules (user_id, start, \"end\") VALUES (?, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ))",
            [user, start, end],
        )
    for user, role, service in staff:
        con.execute("INSERT INTO staff (user_id, role, service) VALUES (?, ?, ?)", [user, role, service])
    for doc in documents:
        con.execute(
            """INSERT INTO documents (document_id, document_type, service, author_id, created_at, signed_at)
               VALUES (?, ?, ?, ?, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ))""",
            list(doc),
        )
    return con
