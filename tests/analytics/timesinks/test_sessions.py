"""Active time and after-hours time from hand-made logs whose answer is known exactly.

Timestamps carry their UTC offset (+01 winter, +02 summer in Paris); the clock rule is
weekdays 08:00-18:00 local, weekends and French public holidays outside. Threshold 300 s
unless a case says otherwise.
"""

from __future__ import annotations

import pytest

from analytics.errors import InvalidInput
from analytics.timesinks import DEFAULT_SETTINGS, TimeSinkSettings, precompute
from tests.analytics.timesinks.helpers import warehouse

MON = "2026-03-02"  # a Monday in winter time (+01)

CASES = [
    {
        "description": "a single event: one session, nothing credited",
        "events": [("u", f"{MON} 10:00:00+01", "documentation")],
        "expected": {"u": {"active_s": 0, "outside_s": 0, "sessions": 1, "events": 1}},
    },
    {
        "description": "gap just below the threshold counts in full",
        "events": [("u", f"{MON} 10:00:00+01", "documentation"), ("u", f"{MON} 10:04:59+01", "orders")],
        "expected": {"u": {"active_s": 299, "documentation_s": 299, "orders_s": 0, "sessions": 1}},
    },
    {
        "description": "gap equal to the threshold still counts",
        "events": [("u", f"{MON} 10:00:00+01", "inbox"), ("u", f"{MON} 10:05:00+01", "inbox")],
        "expected": {"u": {"active_s": 300, "inbox_s": 300, "sessions": 1}},
    },
    {
        "description": "gap just above the threshold ends the session and counts nothing",
        "events": [("u", f"{MON} 10:00:00+01", "documentation"), ("u", f"{MON} 10:05:01+01", "orders")],
        "expected": {"u": {"active_s": 0, "sessions": 2}},
    },
    {
        "description": "a 60 s threshold keeps a 59 s gap and drops a 61 s one",
        "threshold": 60,
        "events": [
            ("u", f"{MON} 10:00:00+01", "documentation"),
            ("u", f"{MON} 10:00:59+01", "documentation"),
            ("u", f"{MON} 10:02:00+01", "documentation"),
        ],
        "expected": {"u": {"active_s": 59, "sessions": 2}},
    },
    {
        "description": "across midnight (clock rule): split at local midnight, all outside",
        "events": [("u", "2026-03-03 23:58:00+01", "documentation"), ("u", "2026-03-04 00:03:00+01", "orders")],
        "expected": {"u": {"active_s": 300, "outside_s": 300, "sessions": 1}},
        "days": {("u", "2026-03-03"): 120, ("u", "2026-03-04"): 180},
    },
    {
        "description": "across the end of a scheduled session: 2 min inside, 2 min outside",
        "schedules": [("s", f"{MON} 08:00:00+01", f"{MON} 12:00:00+01")],
        "events": [("s", f"{MON} 11:58:00+01", "documentation"), ("s", f"{MON} 12:02:00+01", "documentation")],
        "expected": {"s": {"active_s": 240, "outside_s": 120}},
    },
    {
        "description": "overlapping schedules are merged, not counted twice",
        "schedules": [
            ("s", f"{MON} 08:00:00+01", f"{MON} 12:00:00+01"),
            ("s", f"{MON} 11:00:00+01", f"{MON} 12:01:00+01"),
        ],
        "events": [("s", f"{MON} 11:58:00+01", "documentation"), ("s", f"{MON} 12:02:00+01", "documentation")],
        "expected": {"s": {"active_s": 240, "outside_s": 60, "scheduled_s": 4 * 3600 + 60}},
    },
    {
        "description": "one slice across three scheduled sessions of a day: each overlap counts",
        "schedules": [
            ("s", f"{MON} 08:00:00+01", f"{MON} 09:00:00+01"),
            ("s", f"{MON} 09:02:00+01", f"{MON} 09:03:00+01"),
            ("s", f"{MON} 09:04:00+01", f"{MON} 10:00:00+01"),
        ],
        "events": [("s", f"{MON} 08:59:30+01", "orders"), ("s", f"{MON} 09:04:30+01", "orders")],
        "expected": {"s": {"active_s": 300, "outside_s": 180, "scheduled_s": 3600 + 60 + 3360}},
    },
    {
        "description": "a scheduled user working on a day off within their planning: all outside",
        "schedules": [("s", "2026-02-27 08:00:00+01", "2026-02-27 12:00:00+01"),
                      ("s", "2026-03-03 08:00:00+01", "2026-03-03 12:00:00+01")],
        "events": [("s", f"{MON} 10:00:00+01", "orders"), ("s", f"{MON} 10:04:00+01", "orders")],
        "expected": {"s": {"active_s": 240, "outside_s": 240, "scheduled_s": 8 * 3600}},
    },
    {
        "description": "a weekday the planning does not cover (before its first day): clock rule, inside",
        "schedules": [("s", "2026-03-03 08:00:00+01", "2026-03-03 12:00:00+01")],
        "events": [("s", f"{MON} 10:00:00+01", "orders"), ("s", f"{MON} 10:04:00+01", "orders")],
        "expected": {"s": {"active_s": 240, "outside_s": 0, "scheduled_s": 4 * 3600 + 10 * 3600}},
    },
    {
        "description": "clock rule, weekday evening: 18:00 boundary splits the slice",
        "events": [("u", f"{MON} 17:58:00+01", "inbox"), ("u", f"{MON} 18:03:00+01", "inbox")],
        "expected": {"u": {"active_s": 300, "outside_s": 180, "scheduled_s": 10 * 3600}},
    },
    {
        "description": "clock rule, weekday morning: 08:00 boundary splits the slice",
        "events": [("u", f"{MON} 07:58:00+01", "inbox"), ("u", f"{MON} 08:02:00+01", "inbox")],
        "expected": {"u": {"active_s": 240, "outside_s": 120}},
    },
    {
        "description": "user with no schedule, weekday office hours: all inside, 10 h nominal",
        "events": [("u", f"{MON} 10:00:00+01", "chart_review"), ("u", f"{MON} 10:04:00+01", "chart_review")],
        "expected": {"u": {"active_s": 240, "outside_s": 0, "chart_review_s": 240, "scheduled_s": 36000}},
    },
    {
        "description": "weekend (Saturday) under the clock rule: all outside, no scheduled hours",
        "events": [("u", "2026-03-07 10:00:00+01", "documentation"), ("u", "2026-03-07 10:04:00+01", "documentation")],
        "expected": {"u": {"active_s": 240, "outside_s": 240, "scheduled_s": 0}},
    },
    {
        "description": "public holiday 14 July (a Tuesday): outside under the clock rule",
        "events": [("u", "2026-07-14 10:00:00+02", "documentation"), ("u", "2026-07-14 10:04:00+02", "documentation")],
        "expected": {"u": {"active_s": 240, "outside_s": 240, "scheduled_s": 0}},
    },
    {
        "description": "public holiday 1 November (a Monday in 2027): outside under the clock rule",
        "events": [("u", "2027-11-01 10:00:00+01", "inbox"), ("u", "2027-11-01 10:04:00+01", "inbox")],
        "expected": {"u": {"active_s": 240, "outside_s": 240}},
    },
    {
        "description": "scheduled on a public holiday: the schedule wins, inside",
        "schedules": [("s", "2026-07-14 08:00:00+02", "2026-07-14 18:00:00+02")],
        "events": [("s", "2026-07-14 10:00:00+02", "orders"), ("s", "2026-07-14 10:04:00+02", "orders")],
        "expected": {"s": {"active_s": 240, "outside_s": 0, "scheduled_s": 36000}},
    },
    {
        "description": "October clock change: 02:58 CEST then 02:02 CET is 4 real minutes",
        "events": [("u", "2026-10-25 02:58:00+02", "documentation"), ("u", "2026-10-25 02:02:00+01", "orders")],
        "expected": {"u": {"active_s": 240, "documentation_s": 240, "outside_s": 240, "sessions": 1}},
    },
    {
        "description": "March clock change: 01:58 CET then 03:02 CEST is 4 real minutes",
        "events": [("u", "2026-03-29 01:58:00+01", "documentation"), ("u", "2026-03-29 03:02:00+02", "orders")],
        "expected": {"u": {"active_s": 240, "documentation_s": 240, "sessions": 1}},
    },
    {
        "description": "night shift across the October change: 25 h day, schedule 13 real hours",
        "schedules": [("s", "2026-10-24 20:00:00+02", "2026-10-25 08:00:00+01")],
        "events": [("s", "2026-10-25 07:58:00+01", "orders"), ("s", "2026-10-25 08:03:00+01", "orders")],
        "expected": {"s": {"active_s": 300, "outside_s": 180, "scheduled_s": 13 * 3600}},
        "scheduled_days": {("s", "2026-10-24"): 4 * 3600, ("s", "2026-10-25"): 9 * 3600},
    },
    {
        "description": "two users interleaved: each user's gaps are their own",
        "events": [
            ("a", f"{MON} 10:00:00+01", "documentation"),
            ("b", f"{MON} 10:01:00+01", "orders"),
            ("a", f"{MON} 10:02:00+01", "documentation"),
            ("b", f"{MON} 10:03:00+01", "orders"),
        ],
        "expected": {"a": {"active_s": 120, "documentation_s": 120}, "b": {"active_s": 120, "orders_s": 120}},
    },
    {
        "description": "duplicate events (same user, time, activity, document) count once",
        "events": [
            ("u", f"{MON} 10:00:00+01", "documentation", "d1"),
            ("u", f"{MON} 10:00:00+01", "documentation", "d1"),
            ("u", f"{MON} 10:02:00+01", "documentation", "d1"),
        ],
        "expected": {"u": {"active_s": 120, "sessions": 1, "events": 2}},
    },
    {
        "description": "out-of-order rows are put back in time order",
        "events": [
            ("u", f"{MON} 10:04:00+01", "inbox"),
            ("u", f"{MON} 10:00:00+01", "documentation"),
            ("u", f"{MON} 10:02:00+01", "orders"),
        ],
        "expected": {"u": {"active_s": 240, "documentation_s": 120, "orders_s": 120, "inbox_s": 0}},
    },
    {
        "description": "unknown or empty activity counts as other",
        "events": [("u", f"{MON} 10:00:00+01", "Télé-expertise"), ("u", f"{MON} 10:01:00+01", None),
                   ("u", f"{MON} 10:02:00+01", "inbox")],
        "expected": {"u": {"active_s": 120, "other_s": 120}},
    },
]


def _user_totals(con) -> dict[str, dict[str, float]]:
    rows = con.execute(
        """SELECT user_id, sum(active_s), sum(outside_s), sum(documentation_s), sum(chart_review_s),
                  sum(orders_s), sum(inbox_s), sum(other_s), sum(scheduled_s)
           FROM ts_user_day GROUP BY user_id"""
    ).fetchall()
    names = ["active_s", "outside_s", "documentation_s", "chart_review_s", "orders_s", "inbox_s",
             "other_s", "scheduled_s"]
    totals = {r[0]: dict(zip(names, r[1:], strict=True)) for r in rows}
    for user, n, events in con.execute(
        "SELECT user_id, count(*), sum(events) FROM ts_sessions GROUP BY user_id"
    ).fetchall():
        totals.setdefault(user, dict.fromkeys(names, 0.0))
        totals[user]["sessions"] = n
        totals[user]["events"] = events
    return totals


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_active_and_outside_time(case):
    con = warehouse(case["events"], case.get("schedules", []))
    precompute(con, TimeSinkSettings(idle_threshold_s=case.get("threshold", 300)))
    totals = _user_totals(con)
    for user, expected in case["expected"].items():
        for key, value in expected.items():
            assert totals[user][key] == pytest.approx(value, abs=1e-6), (user, key)
    for (user, day), seconds in case.get("days", {}).items():
        got = con.execute(
            "SELECT sum(active_s) FROM ts_slices WHERE user_id = ? AND day = CAST(? AS DATE)", [user, day]
        ).fetchone()[0]
        assert got == pytest.approx(seconds)
    for (user, day), seconds in case.get("scheduled_days", {}).items():
        got = con.execute(
            "SELECT scheduled_s FROM ts_user_day WHERE user_id = ? AND day = CAST(? AS DATE)", [user, day]
        ).fetchone()[0]
        assert got == pytest.approx(seconds)


def test_sessions_table_has_start_end_minutes_and_events():
    con = warehouse(
        [("u", f"{MON} 10:00:00+01", "documentation"), ("u", f"{MON} 10:03:00+01", "orders"),
         ("u", f"{MON} 11:00:00+01", "inbox")]
    )
    precompute(con)
    rows = con.execute(
        """SELECT session_id, strftime(session_start, '%H:%M'), strftime(session_end, '%H:%M'),
                  active_minutes, events, idle_threshold_s FROM ts_sessions ORDER BY session_start"""
    ).fetchall()
    assert rows == [("u#1", "10:00", "10:03", 3.0, 2, 300), ("u#2", "11:00", "11:00", 0.0, 1, 300)]


def test_precompute_records_settings_and_rebuilds_when_data_change():
    from analytics.timesinks import current_settings, summary

    con = warehouse([("u", f"{MON} 10:00:00+01", "inbox"), ("u", f"{MON} 10:02:00+01", "inbox")])
    first = summary(con, settings=TimeSinkSettings(idle_threshold_s=90))
    assert current_settings(con).idle_threshold_s == 90
    assert first.frame.loc[0, "active_hours"] == 0  # the 120 s gap exceeds 90 s
    assert first.label.startswith("seuil d'inactivité 90 s · hors horaires : planning, sinon 08:00–18:00")
    con.execute(
        "INSERT INTO audit_events (event_id, user_id, \"timestamp\", activity) VALUES ('x', 'u', ?, 'inbox')",
        [f"{MON} 10:03:00+01"],
    )
    again = summary(con)  # keeps 90 s, sees the new event
    assert again.frame.loc[0, "active_hours"] * 3600 == pytest.approx(60)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"idle_threshold_s": 0}, "idle threshold: 0 s is outside 1–3600 s"),
        ({"idle_threshold_s": 7200}, "idle threshold: 7200 s is outside 1–3600 s"),
        ({"idle_threshold_s": 2.5}, "idle threshold: expected a whole number of seconds, got 2.5"),
    ],
    ids=["zero", "too long", "not whole"],
)
def test_settings_are_validated(kwargs, message):
    with pytest.raises(InvalidInput) as info:
        TimeSinkSettings(**kwargs)
    assert str(info.value) == message


def test_default_label_states_threshold_and_rule():
    from analytics.timesinks import settings_label

    assert settings_label(DEFAULT_SETTINGS) == (
        "seuil d'inactivité 5 min · hors horaires : planning, sinon 08:00–18:00 jours ouvrés "
        "(week-ends et jours fériés FR hors horaires)"
    )
