"""Per-8-hours measures, peers and groups on a log whose answer is known exactly."""

from __future__ import annotations

import pytest

from analytics.access.roles import Actor
from analytics.errors import AccessDenied, InvalidInput
from analytics.timesinks import (
    clinician_measures,
    group_measures,
    peer_stats,
    period_measures,
)
from tests.analytics.timesinks.helpers import warehouse

MON = "2026-03-02"


def _minute_events(user: str, start_minute: int, count: int, activity: str, hour: int = 9):
    """``count`` events one minute apart from ``hour``:``start_minute`` on MON."""
    return [
        (user, f"{MON} {hour + (start_minute + i) // 60:02d}:{(start_minute + i) % 60:02d}:00+01", activity)
        for i in range(count)
    ]


@pytest.fixture
def con():
    # a: scheduled 08:00-12:00 (4 h); 30 min documentation inside, 4 min orders after 12:30.
    # b: scheduled 08:00-16:00 (8 h); 10 min inbox inside.
    # c: nurse, no schedule (clock rule: 10 h nominal on a working day); 6 min chart review.
    events = (
        _minute_events("a", 0, 31, "documentation")
        + [("a", f"{MON} 12:30:00+01", "orders"), ("a", f"{MON} 12:34:00+01", "orders")]
        + _minute_events("b", 0, 11, "inbox")
        + _minute_events("c", 0, 7, "chart_review")
    )
    connection = warehouse(
        events,
        schedules=[("a", f"{MON} 08:00:00+01", f"{MON} 12:00:00+01"),
                   ("b", f"{MON} 08:00:00+01", f"{MON} 16:00:00+01")],
        staff=[("a", "physician", "cardio"), ("b", "physician", "cardio"), ("c", "nurse", "cardio")],
    )
    yield connection
    connection.close()


EXPECTED = [
    {
        "description": "a: 34 active min over 4 scheduled h",
        "user": "a",
        "expected": {"active_minutes": 34, "outside_minutes": 4, "documentation_minutes": 30,
                     "orders_minutes": 4, "scheduled_hours": 4, "ehr_time8": 68, "wow8": 8,
                     "note_time8": 60, "order_time8": 8, "inbox_time8": 0, "basis": "schedule"},
    },
    {
        "description": "b: 10 inbox min over 8 scheduled h",
        "user": "b",
        "expected": {"active_minutes": 10, "inbox_minutes": 10, "scheduled_hours": 8, "ehr_time8": 10,
                     "inbox_time8": 10, "wow8": 0},
    },
    {
        "description": "c: no schedule, 10 h nominal working day",
        "user": "c",
        "expected": {"active_minutes": 6, "chart_review_minutes": 6, "scheduled_hours": 10,
                     "ehr_time8": 4.8, "basis": "clock"},
    },
]


@pytest.mark.parametrize("case", EXPECTED, ids=[c["description"] for c in EXPECTED])
def test_per_8h_measures(con, case):
    frame = clinician_measures(con, period="week").frame.set_index("user_id")
    for key, value in case["expected"].items():
        got = frame.loc[case["user"], key]
        assert got == (pytest.approx(value) if isinstance(value, int | float) else value), key


def test_peers_are_same_role_and_service(con):
    frame = clinician_measures(con, period="month").frame.set_index("user_id")
    # physicians a (68) and b (10) are peers; the nurse c is alone in her group
    assert frame.loc["a", "peer_median_ehr_time8"] == pytest.approx(39)
    assert frame.loc["a", "peer_pct_ehr_time8"] == 100
    assert frame.loc["b", "peer_pct_ehr_time8"] == 0
    assert frame.loc["c", "peer_median_ehr_time8"] == pytest.approx(4.8)
    one = clinician_measures(con, period="month", user_id="b").frame
    assert one["user_id"].tolist() == ["b"] and one.loc[0, "peer_median_ehr_time8"] == pytest.approx(39)


def test_peer_stats_quantiles(con):
    frame = peer_stats(con, period="month", min_clinicians=1).frame.set_index("role")
    assert frame.loc["physician", "clinicians"] == 2
    assert frame.loc["physician", "ehr_time8_median"] == pytest.approx(39)
    assert frame.loc["physician", "ehr_time8_p90"] == pytest.approx(10 + 0.9 * 58)


@pytest.mark.parametrize(
    "by, key, expected",
    [
        ("service", "cardio", {"clinicians": 3, "active_minutes": 50, "scheduled_hours": 22,
                               "ehr_time8": 50 / (22 / 8)}),
        ("role", "physician", {"clinicians": 2, "active_minutes": 44, "scheduled_hours": 12,
                               "wow8": 4 / (12 / 8)}),
    ],
    ids=["per service: ratio of sums", "per role"],
)
def test_group_measures(con, by, key, expected):
    frame = group_measures(con, by=by, period="month", min_clinicians=1).frame.set_index(by)
    for column, value in expected.items():
        assert frame.loc[key, column] == pytest.approx(value), column


@pytest.mark.parametrize(
    "call",
    [lambda c: group_measures(c, by="service", period="month"),
     lambda c: period_measures(c, period="week"),
     lambda c: peer_stats(c, period="month")],
    ids=["service", "week", "peers"],
)
def test_no_aggregate_over_fewer_than_five_clinicians(con, call):
    """Three clinicians in all: every group keeps its head count, its figures are masked."""
    frame = call(con).frame
    assert len(frame) and frame["masked"].all()
    figures = frame.drop(columns=[c for c in ("service", "role", "period", "clinicians", "masked")
                                  if c in frame.columns])
    assert figures.isna().all().all()
    assert frame["clinicians"].max() <= 3


def test_period_measures_and_filters(con):
    weekly = period_measures(con, period="week", min_clinicians=1).frame
    assert len(weekly) == 1 and weekly.loc[0, "active_minutes"] == pytest.approx(50)
    nurses = period_measures(con, period="week", role="nurse", min_clinicians=1).frame
    assert nurses.loc[0, "active_minutes"] == 6
    from datetime import date

    assert clinician_measures(con, date_from=date(2026, 3, 3)).frame.empty


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda c: clinician_measures(c, period="day"), InvalidInput,
         "period: 'day' is not one of week, month, all"),
        (lambda c: group_measures(c, by="ward"), InvalidInput,
         "group measures: by 'ward' is not one of service, role"),
        (lambda c: group_measures(c, by="role", actor=Actor("x", "viewer")), None, None),
        (lambda c: clinician_measures(c, actor=Actor("x", "viewer"), reason="planning"), AccessDenied,
         "x (role viewer) may not view per-clinician time figures"),
        (lambda c: clinician_measures(c, actor=Actor("x", "manager"), reason="planning"), AccessDenied,
         "x (role manager) may not view per-clinician time figures"),
        (lambda c: clinician_measures(c, actor=Actor("root", "admin"), reason="  "), InvalidInput,
         "clinician figures: state the reason for viewing individual figures "
         "(purpose: organising work, not evaluating people)"),
    ],
    ids=["bad period", "bad group", "viewer may read aggregates", "viewer refused individual figures",
         "manager refused individual figures", "admin must state a reason"],
)
def test_errors_and_access(con, call, error, message):
    if error is None:
        assert len(call(con).frame) == 2  # physician, nurse
        return
    with pytest.raises(error) as info:
        call(con)
    assert str(info.value) == message


def test_patient_level_rows_need_patient_permission(con):
    from analytics.timesinks import document_time

    with pytest.raises(AccessDenied) as info:
        document_time(con, actor=Actor("bob", "viewer"))
    assert str(info.value) == "bob (role viewer) may not view patient-level data"


def test_individual_figures_are_logged_with_their_reason(con):
    frame = clinician_measures(con, actor=Actor("root", "admin"), reason="réorganiser les consultations").frame
    assert len(frame) == 3
    action, obj, rows, detail = con.execute(
        """SELECT action, object, row_count, detail FROM access_log
           WHERE actor = 'root' ORDER BY log_id DESC LIMIT 1""").fetchone()
    assert (action, obj, rows) == ("view", "timesinks_clinicians", 3)
    assert "réorganiser les consultations" in detail
