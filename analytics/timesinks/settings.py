"""Settings behind every time figure, and the French label that states them.

Defaults, and why:

* ``idle_threshold_s = 300`` (5 minutes). Hygie reads *action-level* audit logs (open, save,
  sign, order...), not keystroke telemetry: writing a note for four minutes may leave only an
  "open" and a "save". Thresholds in the literature go from 5 s (Epic Signal's keyboard/mouse
  timeout, which needs keystroke data we do not have) to 5 minutes for action-level audit logs
  (docs/TIMESINKS.md); we take the action-level value. A gap to the next event **longer** than the
  threshold ends the session and **counts nothing** (no capped amount); the last event of a
  session is credited nothing either. Change it per run (``--idle-threshold``); every figure
  carries it in its label.
* After hours: **schedule-based** for users who have rows in ``schedules`` (outside their own
  scheduled sessions, the preferred definition); for users with no schedule at all, a **clock
  rule**: weekdays 08:00–18:00 inside, the rest, weekends and French public holidays (the
  ``holidays`` library, optionally a subdivision such as ``"57"`` for Alsace-Moselle) outside.
  Local time Europe/Paris, daylight-saving changes included.
* Scheduled hours (denominator of the per-8-hours measures): patient-care sessions on the days
  a user's planning covers; on every other working day of the period (asked, else the logs'),
  active or not, the clock window's length (10 h) — stated in ``basis`` and
  ``planning_coverage`` (see :mod:`analytics.timesinks.measures`).
* Regional holidays: ``holiday_subdivision`` of the ``holidays`` library, e.g. ``"57"``
  (Moselle) or ``"6AE"`` (Alsace: Bas-Rhin and Haut-Rhin, codes 67 and 68 accepted),
  ``"971"``–``"976"`` (overseas départements); :func:`holiday_calendar` reads ``--holidays``.
* ``automation_share = 0.25``: the share of a time sink an automation (pre-filled form,
  template, routed document) is assumed to remove, for "hours saved per month". An assumption,
  shown with the result, to be changed by the user.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import time

from analytics.errors import InvalidInput

__all__ = ["ACTIVITIES", "DEFAULT_SETTINGS", "HOLIDAY_CALENDARS", "TimeSinkSettings", "holiday_calendar"]

#: Holiday calendars offered in the CLI and the page: code -> (country, subdivision).
HOLIDAY_CALENDARS: dict[str, tuple[str, str | None]] = {
    "FR": ("FR", None),
    "57": ("FR", "57"),
    "67": ("FR", "6AE"),
    "68": ("FR", "6AE"),
    "6AE": ("FR", "6AE"),
    "971": ("FR", "971"),
    "972": ("FR", "972"),
    "973": ("FR", "973"),
    "974": ("FR", "974"),
    "976": ("FR", "976"),
}

#: Activities of ``audit_events.activity``; anything else (or empty) counts as ``other``.
ACTIVITIES = ("documentation", "chart_review", "orders", "inbox", "other")

#: The longest threshold accepted: slices then span at most two local days.
MAX_IDLE_THRESHOLD_S = 3600


@dataclass(frozen=True)
class TimeSinkSettings:
    """What produced a time figure. Frozen so it can key caches and ``ts_runs``."""

    idle_threshold_s: int = 300
    workday_start: time = time(8, 0)
    workday_end: time = time(18, 0)
    holiday_country: str = "FR"
    holiday_subdivision: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.idle_threshold_s, bool) or not isinstance(self.idle_threshold_s, int):
            raise InvalidInput("hours.idle_not_whole", value=repr(self.idle_threshold_s))
        if not 1 <= self.idle_threshold_s <= MAX_IDLE_THRESHOLD_S:
            raise InvalidInput("hours.idle_range", value=self.idle_threshold_s, high=MAX_IDLE_THRESHOLD_S)
        if not self.workday_start < self.workday_end:
            raise InvalidInput("hours.start_after_end", start=f"{self.workday_start:%H:%M}",
                               end=f"{self.workday_end:%H:%M}")

    @property
    def clock_hours(self) -> float:
        """Length of the clock-rule working window, in hours."""
        start = self.workday_start.hour * 3600 + self.workday_start.minute * 60
        end = self.workday_end.hour * 3600 + self.workday_end.minute * 60
        return (end - start) / 3600

    @property
    def after_hours_rule(self) -> str:
        """Machine-readable rule, e.g. ``schedule|clock 08:00-18:00 weekdays FR``."""
        country = self.holiday_country + (f"-{self.holiday_subdivision}" if self.holiday_subdivision else "")
        return f"schedule|clock {self.workday_start:%H:%M}-{self.workday_end:%H:%M} weekdays {country}"

    def with_holidays(self, code: str | None) -> TimeSinkSettings:
        """A copy with the holiday calendar of ``code`` (``None`` keeps this one)."""
        if code is None:
            return self
        country, subdivision = holiday_calendar(code)
        return replace(self, holiday_country=country, holiday_subdivision=subdivision)

    def with_threshold(self, seconds: int | None) -> TimeSinkSettings:
        """A copy with another idle threshold (``None`` keeps this one)."""
        return self if seconds is None else replace(self, idle_threshold_s=seconds)

    def to_json(self) -> str:
        data = asdict(self)
        data["workday_start"] = f"{self.workday_start:%H:%M}"
        data["workday_end"] = f"{self.workday_end:%H:%M}"
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TimeSinkSettings:
        data = json.loads(text)
        data["workday_start"] = time.fromisoformat(data["workday_start"])
        data["workday_end"] = time.fromisoformat(data["workday_end"])
        return cls(**data)


def holiday_calendar(code: str) -> tuple[str, str | None]:
    """``"57"``, ``"FR-57"``, ``"fr"`` -> (country, subdivision); a clear error otherwise."""
    key = code.strip().upper()
    key = key[3:] if key.startswith("FR-") else key
    if key not in HOLIDAY_CALENDARS:
        raise InvalidInput(
            f"holidays: '{code}' is not one of {', '.join(HOLIDAY_CALENDARS)} "
            "(FR: national calendar; 57, 67, 68: Alsace-Moselle; 971-976: overseas)"
        )
    return HOLIDAY_CALENDARS[key]


DEFAULT_SETTINGS = TimeSinkSettings()
