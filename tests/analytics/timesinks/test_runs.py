"""Slice counts survive scoring by runs (consecutive slices with the same attributes)."""

import pytest

from analytics.timesinks import precompute
from tests.analytics.timesinks.helpers import warehouse

# A documentation run across local midnight, a twin event, a change of activity.
EVENTS = [
    ("u", "2026-03-03 23:50:00+01", "documentation", "d1"),
    ("u", "2026-03-03 23:54:00+01", "documentation", "d1"),
    ("u", "2026-03-03 23:58:00+01", "documentation", "d1"),
    ("u", "2026-03-04 00:02:00+01", "documentation", "d1"),
    ("u", "2026-03-04 00:03:00+01", "inbox"),
    ("u", "2026-03-04 00:03:00+01", "inbox"),
    ("u", "2026-03-04 00:05:00+01", "orders"),
]

CASES = [
    {
        "description": "per user-day: the slice crossing midnight counts on both days",
        "sql": """SELECT CAST(day AS VARCHAR), slices, active_s, documentation_s, inbox_s
                  FROM ts_user_day ORDER BY day""",
        "expected": [("2026-03-03", 3, 600.0, 600.0, 0.0), ("2026-03-04", 3, 300.0, 180.0, 120.0)],
    },
    {
        "description": "per document: every slice and piece of the run",
        "sql": "SELECT document_id, slices, active_s, users FROM ts_document_time",
        "expected": [("d1", 5, 780.0, 1)],
    },
    {
        "description": "per day and activity",
        "sql": """SELECT CAST(day AS VARCHAR), activity, slices, active_s FROM ts_service_day
                  ORDER BY day, activity""",
        "expected": [("2026-03-03", "documentation", 3, 600.0), ("2026-03-04", "documentation", 2, 180.0),
                     ("2026-03-04", "inbox", 1, 120.0)],
    },
]


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_slice_counts_with_runs(case):
    con = warehouse(EVENTS)
    report = precompute(con)
    assert report.slices == 6
    assert con.execute(case["sql"]).fetchall() == case["expected"]
