"""Document measures and the ranking on hand-made documents and logs."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from analytics.access.roles import system_actor
from analytics.timesinks import (
    document_time,
    document_type_time,
    signature_delay,
    time_sink_ranking,
    unsigned_backlog,
)
from tests.analytics.timesinks.helpers import warehouse

PARIS = ZoneInfo("Europe/Paris")
AS_OF = datetime(2026, 3, 31, 12, 0, tzinfo=PARIS)

# (description, created_at, expected bucket or None when excluded)
BACKLOG = [
    ("created today", "2026-03-31 09:00:00+02", "age_0_2d"),
    ("2 local days (UTC would say 3)", "2026-03-29 00:30:00+01", "age_0_2d"),
    ("3 days", "2026-03-28 10:00:00+01", "age_3_7d"),
    ("7 days", "2026-03-24 10:00:00+01", "age_3_7d"),
    ("8 days", "2026-03-23 10:00:00+01", "age_8_30d"),
    ("30 days", "2026-03-01 10:00:00+01", "age_8_30d"),
    ("31 days", "2026-02-28 10:00:00+01", "age_over_30d"),
    ("100 days", "2025-12-21 10:00:00+01", "age_over_30d"),
    ("created after as_of: not yet in the backlog", "2026-03-31 13:00:00+02", None),
]


def test_unsigned_backlog_buckets():
    docs = [(f"n{i}", "CR", "cardio", "dr_a", created, None) for i, (_, created, _) in enumerate(BACKLOG)]
    docs.append(("signed", "CR", "cardio", "dr_a", "2026-01-01 10:00:00+01", "2026-01-02 10:00:00+01"))
    con = warehouse(documents=docs)
    result = unsigned_backlog(con, by="author_id", as_of=AS_OF)
    row = result.frame.set_index("author_id").loc["dr_a"]
    expected = {bucket: sum(1 for _, _, b in BACKLOG if b == bucket)
                for bucket in ("age_0_2d", "age_3_7d", "age_8_30d", "age_over_30d")}
    assert {k: row[k] for k in expected} == expected == {
        "age_0_2d": 2, "age_3_7d": 2, "age_8_30d": 2, "age_over_30d": 2}
    assert row["total"] == 8 and row["oldest_days"] == 100
    assert result.label.endswith("âge au 31/03/2026 12:00")


def test_signature_delay_and_same_day_rate():
    con = warehouse(documents=[
        ("d1", "CR", "cardio", "a", "2026-03-02 10:00:00+01", "2026-03-02 16:00:00+01"),  # 6 h, same day
        ("d2", "CR", "cardio", "a", "2026-03-02 23:00:00+01", "2026-03-03 00:30:00+01"),  # 1.5 h, next day
        ("d3", "CR", "cardio", "a", "2026-03-02 09:00:00+01", None),
        ("d4", "ORD", "cardio", "a", "2026-04-02 09:00:00+02", "2026-04-02 09:30:00+02"),
    ])
    frame = signature_delay(con, date_to=date(2026, 3, 31)).frame.set_index("document_type")
    assert list(frame.index) == ["CR"]
    assert frame.loc["CR", "created"] == 3 and frame.loc["CR", "signed"] == 2
    assert frame.loc["CR", "median_delay_hours"] == pytest.approx(3.75)
    assert frame.loc["CR", "same_day_rate"] == pytest.approx(1 / 3)


@pytest.fixture
def worked():
    mon = "2026-03-02"
    events = [
        # d1 (CR): 4 min, 2 of them after 18:00; d2 (CR): 2 min; d3 (ORD): 5 min on Saturday.
        ("a", f"{mon} 17:58:00+01", "documentation", "d1", "CR", "cardio"),
        ("a", f"{mon} 18:02:00+01", "documentation", "d2", "CR", "cardio"),
        ("a", f"{mon} 18:04:00+01", "inbox", None, None, "cardio"),
        ("b", "2026-03-07 10:00:00+01", "orders", "d3", "ORD", "neuro"),
        ("b", "2026-03-07 10:05:00+01", "orders", None, None, "neuro"),
    ]
    return warehouse(events, documents=[
        ("d1", "CR", "cardio", "a", "2026-03-02 17:00:00+01", None),
        ("d2", "CR", "cardio", "a", "2026-03-02 17:00:00+01", None),
    ])


def test_document_and_type_time(worked):
    per_doc = document_time(worked, actor=system_actor()).frame.set_index("document_id")
    assert per_doc["active_minutes"].to_dict() == {"d3": 5, "d1": 4, "d2": 2}
    assert per_doc.loc["d1", "outside_minutes"] == 2 and per_doc.loc["d1", "author_id"] == "a"
    types = document_type_time(worked).frame.set_index("document_type")
    assert types.loc["CR", "documents"] == 2
    assert types.loc["CR", "median_minutes"] == 3
    assert types.loc["CR", "volume_x_median_hours"] == pytest.approx(6 / 60)
    assert types.loc["CR", "total_hours"] == pytest.approx(6 / 60)
    assert types.loc["CR", "after_hours_share"] == pytest.approx(4 / 6)


def test_ranking_with_explicit_assumptions(worked):
    result = time_sink_ranking(worked, by="service", date_from=date(2026, 3, 1),
                               date_to=date(2026, 3, 31), automation_share=0.5)
    frame = result.frame.set_index("service")
    assert list(frame.index) == ["cardio", "neuro"]
    months = 31 / (365.25 / 12)
    assert frame.loc["neuro", "hours"] == pytest.approx(5 / 60)
    assert frame.loc["neuro", "after_hours_share"] == 1
    assert frame.loc["cardio", "after_hours_hours"] == pytest.approx(4 / 60)
    assert frame.loc["cardio", "hours_saved_per_month"] == pytest.approx(0.5 * (6 / 60) / months)
    assert result.label.endswith("hypothèse : 50 % du temps automatisable")
    by_activity = time_sink_ranking(worked, by="activity").frame
    assert by_activity["activity"].tolist() == ["documentation", "orders"]


def test_ranking_adds_stored_double_entry_hours(worked):
    without = time_sink_ranking(worked, by="document_type").frame
    assert without["double_entry_hours"].isna().all()
    # the documents area's table (migration m0006) when registered, else a stand-in
    worked.execute(
        """CREATE TABLE IF NOT EXISTS double_entry (
               run_id VARCHAR, patient_id VARCHAR, source_document_id VARCHAR,
               target_document_id VARCHAR, document_type VARCHAR, service VARCHAR,
               target_created_at TIMESTAMPTZ, passages INTEGER, retyped_chars BIGINT,
               target_chars BIGINT, mean_similarity DOUBLE, estimated_minutes DOUBLE,
               typing_chars_per_minute DOUBLE, idle_threshold_s INTEGER)"""
    )
    worked.execute("DELETE FROM double_entry")
    worked.executemany(
        """INSERT INTO double_entry (run_id, patient_id, source_document_id, target_document_id,
               document_type, service, target_created_at, passages, retyped_chars, target_chars,
               mean_similarity, estimated_minutes, typing_chars_per_minute, idle_threshold_s)
           VALUES ('r', 'p', 's', 't', ?, 'cardio', CAST(? AS TIMESTAMPTZ), 1, 1, 1, 100, ?, 200, 300)""",
        [["CR", "2026-03-02 10:00:00+01", 30], ["CR", "2026-03-03 10:00:00+01", 6],
         ["CR", "2026-04-03 10:00:00+02", 60]],
    )
    frame = time_sink_ranking(worked, by="document_type", date_to=date(2026, 3, 31)).frame
    hours = dict(zip(frame["document_type"], frame["double_entry_hours"], strict=True))
    assert hours["CR"] == pytest.approx(0.6) and hours["ORD"] == 0


def test_gains_from_evidence_retyped_passages_and_duplicated_documents(worked):
    """d1 (CR) re-typed 3 of its measured minutes from an earlier document (twice found: counted
    once); d2 (CR) is an exact duplicate of d1, its 2 minutes need not have been spent."""
    months = 31 / (365.25 / 12)
    before = time_sink_ranking(worked, by="document_type", date_from=date(2026, 3, 1),
                               date_to=date(2026, 3, 31)).frame
    assert before["retyped_hours"].isna().all() and before["duplicate_hours"].isna().all()
    worked.executemany(
        """INSERT INTO double_entry (run_id, patient_id, source_document_id, target_document_id,
               document_type, service, target_created_at, passages, retyped_chars, target_chars,
               mean_similarity, estimated_minutes, audit_active_minutes, audit_retyped_minutes,
               typing_chars_per_minute, idle_threshold_s)
           VALUES ('r', 'p', ?, 'd1', 'CR', 'cardio', CAST('2026-03-02 17:00:00+01' AS TIMESTAMPTZ),
                   1, 300, 400, 95, 1.5, 4, 3, 200, 300)""",
        [["s1"], ["s2"]],
    )
    worked.execute("INSERT INTO document_duplicates (match_run_id, document_id_1, document_id_2, kind, score, reason) "
                   "VALUES ('m', 'd1', 'd2', 'exact', 1.0, 'same hash')")
    result = time_sink_ranking(worked, by="document_type", date_from=date(2026, 3, 1),
                               date_to=date(2026, 3, 31), retyped_recovery=0.5)
    frame = result.frame.set_index("document_type")
    assert frame.loc["CR", "retyped_hours"] == pytest.approx(3 / 60)
    assert frame.loc["CR", "duplicate_hours"] == pytest.approx(2 / 60)
    assert frame.loc["CR", "evidence_hours_saved_per_month"] == pytest.approx((0.5 * 3 + 2) / 60 / months)
    assert frame.loc["ORD", "evidence_hours_saved_per_month"] == 0
    assert result.label.startswith("seuil d'inactivité")
    assert "gain mesuré : 50 % du temps passé sur les passages ressaisis" in result.label
