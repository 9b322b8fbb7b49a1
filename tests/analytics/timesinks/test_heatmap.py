"""Active minutes by ISO weekday × local hour, from hand-made logs whose answer is known exactly.

Timestamps carry their UTC offset (+01 winter, +02 summer in Paris). Clock rule: weekdays
08:00-18:00 local inside, nights, weekends and holidays outside. Threshold 300 s unless a case
says otherwise. ``expected`` maps (ISO weekday, local hour) -> (active min, after-hours min);
every other cell of the 7 × 24 grid must be zero.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from analytics.access.roles import Actor
from analytics.errors import InvalidInput
from analytics.timesinks import (
    TimeSinkSettings,
    activity_heatmap,
    current_settings,
    ensure_precomputed,
    precompute,
    settings_label,
    summary,
)
from analytics.warehouse import MIGRATIONS, connect
from tests.analytics.timesinks.helpers import warehouse

MON = "2026-03-02"  # a Monday in winter time (+01)


def _every(minutes: int, first_utc: datetime, last_utc: datetime, user: str = "u", activity: str = "documentation"):
    """Events of one user every ``minutes`` from ``first_utc`` to ``last_utc`` included (one run)."""
    out, at = [], first_utc
    while at <= last_utc:
        out.append((user, at.strftime("%Y-%m-%d %H:%M:%S+00"), activity, "d1"))
        at += timedelta(minutes=minutes)
    return out


CASES = [
    {
        "description": "within one hour: all of it in that cell",
        "events": [("u", f"{MON} 10:00:00+01", "documentation"), ("u", f"{MON} 10:04:00+01", "orders")],
        "expected": {(1, 10): (4, 0)},
    },
    {
        "description": "a slice crossing the hour is split at the hour",
        "events": [("u", f"{MON} 10:58:00+01", "documentation"), ("u", f"{MON} 11:03:00+01", "documentation")],
        "expected": {(1, 10): (2, 0), (1, 11): (3, 0)},
    },
    {
        "description": "an idle gap longer than the threshold counts in no hour",
        "events": [
            ("u", f"{MON} 10:50:00+01", "inbox"), ("u", f"{MON} 10:52:00+01", "inbox"),
            ("u", f"{MON} 11:10:00+01", "inbox"), ("u", f"{MON} 11:12:00+01", "inbox"),
        ],
        "expected": {(1, 10): (2, 0), (1, 11): (2, 0)},
    },
    {
        "description": "a 60 s threshold keeps a 59 s gap and drops a 61 s one",
        "threshold": 60,
        "events": [
            ("u", f"{MON} 10:00:00+01", "documentation"), ("u", f"{MON} 10:00:59+01", "documentation"),
            ("u", f"{MON} 10:02:00+01", "documentation"),
        ],
        "expected": {(1, 10): (59 / 60, 0)},
    },
    {
        "description": "one run over four hours: each hour gets its part (clock rule: inside)",
        "events": _every(4, datetime(2026, 3, 2, 8, 56, tzinfo=UTC), datetime(2026, 3, 2, 11, 4, tzinfo=UTC)),
        "expected": {(1, 9): (4, 0), (1, 10): (60, 0), (1, 11): (60, 0), (1, 12): (4, 0)},
    },
    {
        "description": "one run over four hours, scheduled until 11:30: outside cut inside the hour",
        "schedules": [("u", f"{MON} 08:00:00+01", f"{MON} 11:30:00+01")],
        "events": _every(4, datetime(2026, 3, 2, 8, 56, tzinfo=UTC), datetime(2026, 3, 2, 11, 4, tzinfo=UTC)),
        "expected": {(1, 9): (4, 0), (1, 10): (60, 0), (1, 11): (60, 30), (1, 12): (4, 4)},
    },
    {
        "description": "across midnight, Sunday into Monday: two weekdays, all outside",
        "events": [("u", "2026-03-01 23:58:00+01", "orders"), ("u", "2026-03-02 00:03:00+01", "orders")],
        "expected": {(7, 23): (2, 2), (1, 0): (3, 3)},
    },
    {
        "description": "evening after the clock window: 17:58 -> 18:02 is 2 min inside, 2 min outside",
        "events": [("u", f"{MON} 17:58:00+01", "orders"), ("u", f"{MON} 18:02:00+01", "orders")],
        "expected": {(1, 17): (2, 0), (1, 18): (2, 2)},
    },
    {
        "description": "spring clock change (29/03/2026): 01:58 -> 03:02 is 4 real minutes, none at 02h",
        "events": [("u", "2026-03-29 01:58:00+01", "inbox"), ("u", "2026-03-29 03:02:00+02", "inbox")],
        "expected": {(7, 1): (2, 2), (7, 3): (2, 2)},
    },
    {
        "description": "autumn clock change (25/10/2026): both 02:00-03:00 hours count at 02h",
        "events": _every(4, datetime(2026, 10, 24, 23, 58, tzinfo=UTC), datetime(2026, 10, 25, 2, 2, tzinfo=UTC)),
        "expected": {(7, 1): (2, 2), (7, 2): (120, 120), (7, 3): (2, 2)},
    },
    {
        "description": "duplicate events count once; two users in the same hour add up",
        "events": [
            ("u", f"{MON} 10:00:00+01", "documentation", "d1"), ("u", f"{MON} 10:00:00+01", "documentation", "d1"),
            ("u", f"{MON} 10:03:00+01", "documentation", "d1"),
            ("v", f"{MON} 10:10:00+01", "orders"), ("v", f"{MON} 10:15:00+01", "orders"),
        ],
        "expected": {(1, 10): (8, 0)},
    },
    {
        "description": "a public holiday (Easter Monday 06/04/2026) is outside all day",
        "events": [("u", "2026-04-06 10:00:00+02", "documentation"), ("u", "2026-04-06 10:05:00+02", "documentation")],
        "expected": {(1, 10): (5, 5)},
    },
]


def _cells(frame) -> dict[tuple[int, int], tuple[float, float]]:
    return {
        (int(r.weekday), int(r.hour)): (r.active_minutes, r.outside_minutes)
        for r in frame.itertuples()
        if r.active_minutes or r.outside_minutes
    }


@pytest.mark.parametrize("case", CASES, ids=[c["description"] for c in CASES])
def test_minutes_by_weekday_and_local_hour(case):
    con = warehouse(case["events"], case.get("schedules", []))
    result = activity_heatmap(con, settings=TimeSinkSettings(idle_threshold_s=case.get("threshold", 300)))
    frame = result.frame
    assert len(frame) == 168
    assert list(zip(frame["weekday"], frame["hour"], strict=True)) == [
        (d, h) for d in range(1, 8) for h in range(24)
    ]
    cells = _cells(frame)
    assert cells.keys() == case["expected"].keys()
    for cell, (active, outside) in case["expected"].items():
        assert cells[cell] == pytest.approx((active, outside), abs=1e-9), cell


def _two_services():
    return warehouse(
        [
            ("u", f"{MON} 10:00:00+01", "documentation", "d1", "CR", "cardio"),
            ("u", f"{MON} 10:04:00+01", "documentation", "d1", "CR", "cardio"),
            ("v", "2026-03-03 14:00:00+01", "orders", None, None, None),  # no service: v's own
            ("v", "2026-03-03 14:02:00+01", "orders", None, None, None),
        ],
        staff=[("v", "nurse", "urgences")],
    )


FILTERS = [
    ("no filter", {}, {(1, 10): (4, 0), (2, 14): (2, 0)}),
    ("from a local date", {"date_from": date(2026, 3, 3)}, {(2, 14): (2, 0)}),
    ("up to a local date", {"date_to": date(2026, 3, 2)}, {(1, 10): (4, 0)}),
    ("service where the work was logged", {"service": "cardio"}, {(1, 10): (4, 0)}),
    ("the user's service when the event has none", {"service": "urgences"}, {(2, 14): (2, 0)}),
    ("one activity", {"activity": "orders"}, {(2, 14): (2, 0)}),
    ("a service with nothing", {"service": "pédiatrie"}, {}),
]


@pytest.mark.parametrize(("description", "kwargs", "expected"), FILTERS, ids=[f[0] for f in FILTERS])
def test_filters(description, kwargs, expected):
    con = _two_services()
    cells = _cells(activity_heatmap(con, **kwargs).frame)
    assert cells == expected, description


REFUSED = [
    ("unknown activity", {"activity": "coffee"},
     "heat map: activity 'coffee' is not one of documentation, chart_review, orders, inbox, other"),
    ("dates the wrong way round", {"date_from": date(2026, 3, 3), "date_to": date(2026, 3, 2)},
     "dates: from 03/03/2026 is after to 02/03/2026"),
]


@pytest.mark.parametrize(("description", "kwargs", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_bad_input_is_refused(description, kwargs, message):
    with pytest.raises(InvalidInput) as err:
        activity_heatmap(_two_services(), **kwargs)
    assert str(err.value) == message


def test_label_states_the_settings_and_viewers_may_read_it():
    con = _two_services()
    settings = TimeSinkSettings(idle_threshold_s=90)
    result = activity_heatmap(con, settings=settings, actor=Actor("v", "viewer"))
    assert result.settings == settings
    assert result.label == settings_label(settings)
    assert result.label.startswith("seuil d'inactivité 90 s · hors horaires : planning, sinon 08:00–18:00")


def test_grid_adds_up_to_the_summary_on_a_random_log():
    """Many users, idle gaps, schedules, midnight and both clock changes: the heat map's total
    active and after-hours time is the summary's, to the microsecond."""
    rng = random.Random(42)
    events, schedules = [], []
    for user in ("a", "b", "c", "d"):
        for day in (date(2026, 3, 27), date(2026, 3, 29), date(2026, 10, 24), date(2026, 10, 25)):
            at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=rng.randrange(1440))
            for _ in range(60):
                at += timedelta(seconds=rng.choice([30, 90, 200, 299, 301, 900]))
                events.append((user, at.strftime("%Y-%m-%d %H:%M:%S+00"),
                               rng.choice(["documentation", "orders", "inbox"]), rng.choice(["d1", "d2"])))
            if user in ("a", "b"):
                schedules.append((user, f"{day} 07:00:00+00", f"{day} 15:00:00+00"))
    con = warehouse(events, schedules)
    total = summary(con).frame.iloc[0]
    frame = activity_heatmap(con).frame
    assert total["active_hours"] > 5
    assert frame["active_minutes"].sum() / 60 == pytest.approx(total["active_hours"], abs=1e-9)
    assert frame["outside_minutes"].sum() / 60 == pytest.approx(total["outside_hours"], abs=1e-9)


def test_warehouse_precomputed_before_migration_7_is_rebuilt_with_its_settings(tmp_path):
    """The table arrives empty in an older warehouse: the run is marked stale, and the next
    ``ensure_precomputed`` rebuilds with the settings the user had chosen."""
    path = tmp_path / "old.duckdb"
    raw = duckdb.connect(str(path))
    raw.execute("SET TimeZone = 'Europe/Paris'")
    raw.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMPTZ)")
    for migration in [m for m in MIGRATIONS if m.version < 7]:
        migration.apply(raw)
        raw.execute("INSERT INTO schema_version VALUES (?, ?, now())", [migration.version, migration.name])
    raw.execute(
        """INSERT INTO audit_events (event_id, user_id, "timestamp", activity) VALUES
           ('e1', 'u', '2026-03-02 10:00:00+01', 'inbox'), ('e2', 'u', '2026-03-02 10:01:00+01', 'inbox')"""
    )
    raw.execute(
        "INSERT INTO ts_runs VALUES ('r1', now(), NULL, ?, 'old fingerprint', 2, 2, 1.0)",
        [TimeSinkSettings(idle_threshold_s=90).to_json()],
    )
    raw.close()

    con = connect(path)
    try:
        assert con.execute("SELECT data_fingerprint FROM ts_runs").fetchall() == [
            ("stale: ts_hour_activity added by migration 7",)
        ]
        assert current_settings(con).idle_threshold_s == 90
        assert ensure_precomputed(con).idle_threshold_s == 90
        assert _cells(activity_heatmap(con).frame) == {(1, 10): (1, 0)}
        assert con.execute("SELECT data_fingerprint LIKE 'stale%' FROM ts_runs").fetchone() == (False,)
    finally:
        con.close()


def test_precompute_replaces_the_hours_of_earlier_settings():
    con = warehouse([("u", f"{MON} 10:00:00+01", "inbox"), ("u", f"{MON} 10:02:00+01", "inbox")])
    precompute(con)
    precompute(con, TimeSinkSettings(idle_threshold_s=60))  # the 120 s gap is now idle
    assert con.execute("SELECT count(*) FROM ts_hour_activity").fetchone()[0] == 0
    assert _cells(activity_heatmap(con).frame) == {}
