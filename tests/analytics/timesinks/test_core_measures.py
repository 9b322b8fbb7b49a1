"""Sinsky's core measures beyond the per-8-hour ones, and the activity map, on hand-made logs.

Monday 2 March 2026 (+01); p is a physician scheduled 08:00–12:00 (4 h of patient time).
"""

from __future__ import annotations

import pytest

from analytics.timesinks import clinician_measures, precompute
from tests.analytics.timesinks.helpers import warehouse

MON = "2026-03-02"
PLANNING = [("p", f"{MON} 08:00:00+01", f"{MON} 12:00:00+01")]


def _events(user: str, hour: int, minute: int, count: int, activity: str, document=None, doc_type=None):
    return [(user, f"{MON} {hour:02d}:{minute + i:02d}:00+01", activity, document, doc_type)
            for i in range(count)]


def _row(con, user: str = "p") -> dict:
    return clinician_measures(con, period="all").frame.set_index("user_id").loc[user].to_dict()


def test_an_ordonnance_edited_as_documentation_is_prescription_time():
    """10 min on an Ordonnance logged as documentation, 6 min on a note: Prescription-Time8
    counts the ordonnance (the activity map: document type first), Note-Time8 the note."""
    con = warehouse(_events("p", 9, 0, 11, "documentation", "o1", "Ordonnance")
                    + _events("p", 10, 0, 7, "documentation", "n1", "Observation médicale"),
                    schedules=PLANNING)
    row = _row(con)
    assert row["orders_minutes"] == pytest.approx(10)
    assert row["documentation_minutes"] == pytest.approx(6)
    assert row["prescription_time8"] == pytest.approx(20) == row["order_time8"]
    assert row["note_time8"] == pytest.approx(12)


def test_the_dsi_edits_the_activity_map():
    """A DPI action code the default map does not know, then mapped by the DSI."""
    con = warehouse(schedules=PLANNING)
    con.executemany(
        """INSERT INTO audit_events (event_id, user_id, "timestamp", action, activity)
           VALUES (?, 'p', CAST(? AS TIMESTAMPTZ), 'VALID_ORDO', NULL)""",
        [(f"x{i}", f"{MON} 09:0{i}:00+01") for i in range(5)],
    )
    assert _row(con)["other_minutes"] == pytest.approx(4)
    con.execute("INSERT INTO activity_map VALUES ('action', 'valid_ordo', 'orders', 'DxCare')")
    row = _row(con)  # the map is part of the data fingerprint: the tables are rebuilt
    assert row["orders_minutes"] == pytest.approx(4) and row["other_minutes"] == 0


def test_courrier_and_consultation_report_are_documentation():
    con = warehouse(_events("p", 9, 0, 4, "inbox", "c1", "Courrier")
                    + _events("p", 10, 0, 4, "chart_review", "c2", "Compte rendu de consultation"),
                    schedules=PLANNING)
    row = _row(con)
    assert row["documentation_minutes"] == pytest.approx(6) and row["inbox_minutes"] == 0
    assert row["chart_review_minutes"] == 0


def test_undivided_attention_and_psh40():
    """24 active minutes inside the 4 patient hours, 6 after 12:00: 1 − 0.4 h / 4 h = 0.9 of
    the scheduled patient time free of EHR work; 4 h over a one-day period is 28 h a week."""
    con = warehouse(_events("p", 9, 0, 25, "chart_review") + _events("p", 12, 30, 7, "inbox"),
                    schedules=PLANNING)
    row = _row(con)
    assert row["undivided_attention"] == pytest.approx(1 - 0.4 / 4)
    assert row["psh40"] == pytest.approx(4 * 7 / 40)


def test_teamwork_for_orders_and_same_day_note_completion():
    """Three signed ordonnances signed by p: o1 written by a resident, o2 edited by a nurse,
    o3 by p alone; a fourth signed by the resident does not count for p. Notes by p: n1 signed
    the same day, n2 the next day, n3 unsigned."""
    con = warehouse(
        _events("p", 9, 0, 3, "orders") + [("r", f"{MON} 09:30:00+01", "orders", "o2", "Ordonnance")],
        schedules=PLANNING,
        documents=[
            ("o1", "Ordonnance", "cardio", "r", f"{MON} 09:00:00+01", f"{MON} 09:10:00+01"),
            ("o2", "Ordonnance", "cardio", "p", f"{MON} 09:20:00+01", f"{MON} 09:40:00+01"),
            ("o3", "Ordonnance", "cardio", "p", f"{MON} 09:50:00+01", f"{MON} 09:55:00+01"),
            ("o4", "Ordonnance", "cardio", "r", f"{MON} 10:00:00+01", f"{MON} 10:05:00+01"),
            ("n1", "Observation médicale", "cardio", "p", f"{MON} 10:00:00+01", f"{MON} 18:00:00+01"),
            ("n2", "Observation médicale", "cardio", "p", f"{MON} 11:00:00+01", "2026-03-03 09:00:00+01"),
            ("n3", "Lettre de liaison", "cardio", "p", f"{MON} 11:30:00+01", None),
        ],
    )
    con.execute("UPDATE documents SET signed_by = CASE WHEN document_id = 'o4' THEN 'r' ELSE 'p' END "
                "WHERE signed_at IS NOT NULL")
    row = _row(con)
    assert row["orders_signed"] == 3
    assert row["teamwork_orders"] == pytest.approx(2 / 3)
    assert row["notes"] == 3
    assert row["same_day_note_completion"] == pytest.approx(1 / 3)


def test_no_order_documents_leaves_teamwork_empty():
    con = warehouse(_events("p", 9, 0, 3, "orders"), schedules=PLANNING)
    precompute(con)
    row = _row(con)
    assert row["teamwork_orders"] != row["teamwork_orders"]  # NaN: the log does not have it
