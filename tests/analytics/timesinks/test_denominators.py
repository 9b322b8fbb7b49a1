"""Denominators of the per-8-hour measures, on hand-made logs whose answer is known exactly.

The clock rule gives every working day of the period (asked, else the logs') as scheduled time,
not only the days with activity; a partial planning covers its own span and the other days fall
back to the clock rule; only patient-care sessions are the denominator; regional holiday
calendars (Alsace-Moselle: Good Friday, 26 December) remove working days.
"""

from __future__ import annotations

from datetime import date

import pytest

from analytics.errors import InvalidInput
from analytics.timesinks import TimeSinkSettings, clinician_measures, coverage_label, summary
from tests.analytics.timesinks.helpers import warehouse

# Monday 2 March 2026 .. Friday 13 March 2026: 12 days, 10 working days (winter time, +01).


def _burst(user: str, day: str, hour: int = 10, minutes: int = 6, activity: str = "documentation"):
    """``minutes + 1`` events one minute apart: ``minutes`` active minutes on ``day``."""
    return [(user, f"{day} {hour:02d}:{m:02d}:00+01", activity) for m in range(minutes + 1)]


def _row(con, user: str, **kwargs) -> dict:
    frame = clinician_measures(con, period="all", **kwargs).frame.set_index("user_id")
    return frame.loc[user].to_dict()


def test_clock_rule_counts_every_working_day_of_the_logs_period():
    """u is active on 1 of the 10 working days: 100 scheduled hours, not 10."""
    con = warehouse(_burst("u", "2026-03-02") + _burst("v", "2026-03-02") + _burst("v", "2026-03-13"))
    row = _row(con, "u")
    assert row["scheduled_hours"] == pytest.approx(100)
    assert row["active_minutes"] == pytest.approx(6)
    assert row["ehr_time8"] == pytest.approx(6 / (100 / 8))  # 0.48 min per 8 h
    assert row["basis"] == "clock" and row["clock_days"] == 12 and row["planning_coverage"] == 0


def test_clock_rule_counts_the_period_asked():
    """Asked 02/03–20/03 (15 working days) although the logs end on 13/03; asked one week: 5."""
    con = warehouse(_burst("u", "2026-03-02") + _burst("v", "2026-03-13"))
    assert _row(con, "u", date_to=date(2026, 3, 20))["scheduled_hours"] == pytest.approx(150)
    week = _row(con, "u", date_from=date(2026, 3, 2), date_to=date(2026, 3, 8))
    assert week["scheduled_hours"] == pytest.approx(50) and week["ehr_time8"] == pytest.approx(6 / (50 / 8))
    # v's only activity is outside that week: no row for them
    frame = clinician_measures(con, period="all", date_from=date(2026, 3, 2), date_to=date(2026, 3, 8)).frame
    assert list(frame["user_id"]) == ["u"]


def test_partial_planning_falls_back_to_the_clock_rule_outside_its_span():
    """s's planning covers 02/03–06/03 (08–12 each day, 20 h); on Tuesday 10/03 they work at
    10:00: a day the planning does not cover, so the clock rule applies: inside, and the 7
    uncovered days (5 of them working days) add 50 h."""
    schedules = [("s", f"2026-03-0{d} 08:00:00+01", f"2026-03-0{d} 12:00:00+01") for d in range(2, 7)]
    con = warehouse(_burst("s", "2026-03-02") + _burst("s", "2026-03-10") + _burst("v", "2026-03-13"),
                    schedules=schedules)
    row = _row(con, "s")
    assert row["scheduled_hours"] == pytest.approx(20 + 50)
    assert row["outside_minutes"] == pytest.approx(0)
    assert row["active_minutes"] == pytest.approx(12)
    assert row["basis"] == "mixed"
    assert row["planning_coverage"] == pytest.approx(5 / 12)
    assert row["clock_days"] == 7
    assert coverage_label(row["planning_coverage"]) == "planning couvrant 42 % des jours"
    assert summary(con).frame.iloc[0]["planning_coverage"] == pytest.approx((5 / 12 + 0) / 2)


def test_only_patient_sessions_are_the_denominator():
    """Monday: patient care 08–12, a meeting 14–16 (both scheduled), on-call from home 18–20.
    Work during the meeting is inside working time; only the 4 patient hours divide."""
    con = warehouse(_burst("s", "2026-03-02", hour=14, minutes=8))
    con.executemany(
        """INSERT INTO schedules (user_id, "start", "end", session_type)
           VALUES (?, CAST(? AS TIMESTAMPTZ), CAST(? AS TIMESTAMPTZ), ?)""",
        [("s", "2026-03-02 08:00:00+01", "2026-03-02 12:00:00+01", "Soins"),
         ("s", "2026-03-02 14:00:00+01", "2026-03-02 16:00:00+01", "Réunion"),
         ("s", "2026-03-02 18:00:00+01", "2026-03-02 20:00:00+01", "astreinte")],
    )
    row = _row(con, "s")
    assert row["scheduled_hours"] == pytest.approx(4)
    assert row["other_scheduled_hours"] == pytest.approx(4)
    assert row["outside_minutes"] == pytest.approx(0)
    assert row["ehr_time8"] == pytest.approx(8 / (4 / 8))


def test_session_type_left_empty_is_patient_care():
    con = warehouse(_burst("s", "2026-03-02"), schedules=[("s", "2026-03-02 08:00:00+01", "2026-03-02 12:00:00+01")])
    row = _row(con, "s")
    assert row["scheduled_hours"] == pytest.approx(4) and row["other_scheduled_hours"] == 0


@pytest.mark.parametrize(
    "subdivision, scheduled, outside",
    [(None, 50, 0), ("57", 40, 6), ("6AE", 40, 6)],
    ids=["national calendar", "Moselle", "Alsace"],
)
def test_alsace_moselle_good_friday(subdivision, scheduled, outside):
    """Monday 30/03 – Friday 3/04/2026 (Good Friday, a holiday in Alsace-Moselle only); u works
    on Good Friday at 10:00 (summer time)."""
    events = [("u", f"2026-04-03 10:{m:02d}:00+02", "inbox") for m in range(7)]
    events += [("v", "2026-03-30 10:00:00+02", "inbox")]
    con = warehouse(events)
    settings = TimeSinkSettings(holiday_subdivision=subdivision)
    row = _row(con, "u", settings=settings)
    assert row["scheduled_hours"] == pytest.approx(scheduled)
    assert row["outside_minutes"] == pytest.approx(outside)


def test_a_period_outside_the_calendar_is_refused():
    con = warehouse(_burst("u", "2026-03-02"))
    with pytest.raises(InvalidInput) as error:
        clinician_measures(con, date_from=date(2031, 1, 1))
    assert str(error.value) == ("dates: from 01/01/2031 is outside the calendar of the data "
                                "(01/01/2025–31/12/2027)")
