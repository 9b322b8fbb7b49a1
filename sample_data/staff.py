"""Staff of the sample hospital and their scheduled patient-care sessions.

Times are handled as integer seconds. "Local" seconds are wall-clock Europe/Paris time counted
from 1970-01-01 00:00 as if it were UTC; :func:`local_to_utc` and :func:`utc_to_local` convert
whole numpy arrays (one zoneinfo call per distinct hour), so the October DST change in the
window is honoured: a night shift across it lasts 13 hours of real time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from sample_data import pools
from sample_data.mutations import strip_accents

PARIS = ZoneInfo("Europe/Paris")
#: The activity window: 8 weeks from Monday 28/09/2026, across the 25/10/2026 DST change.
WINDOW_START = dt.date(2026, 9, 28)
WINDOW_DAYS = 56
_EPOCH = dt.date(1970, 1, 1)
DAY = 86400


def day_seconds(date: dt.date) -> int:
    return (date - _EPOCH).days * DAY


def _offsets(hours: np.ndarray, *, from_local: bool) -> np.ndarray:
    unique, inverse = np.unique(hours, return_inverse=True)
    out = np.empty(len(unique), dtype=np.int64)
    for i, hour in enumerate(unique.tolist()):
        moment = dt.datetime(1970, 1, 1) + dt.timedelta(hours=hour)
        if from_local:
            offset = moment.replace(tzinfo=PARIS).utcoffset()
        else:
            offset = moment.replace(tzinfo=dt.UTC).astimezone(PARIS).utcoffset()
        out[i] = int(offset.total_seconds()) if offset is not None else 0
    return out[inverse]


def local_to_utc(local_s: np.ndarray) -> np.ndarray:
    """Wall-clock Paris seconds to UTC seconds (ambiguous times take the first, summer, one)."""
    return local_s - _offsets(local_s // 3600, from_local=True)


def utc_to_local(utc_s: np.ndarray) -> np.ndarray:
    """UTC seconds to wall-clock Paris seconds."""
    return utc_s + _offsets(utc_s // 3600, from_local=False)


@dataclass
class Staff:
    user_id: np.ndarray
    display_name: np.ndarray
    role: np.ndarray
    service: np.ndarray
    active: np.ndarray  # bool
    is_service_head: np.ndarray  # bool
    leave_day: np.ndarray  # day index in the window after which a leaver is gone (WINDOW_DAYS if active)
    workstation: np.ndarray


def _team(size: int, service: str) -> list[str]:
    """Roles of a service's team: a head physician first, then by the role mix."""
    roles = ["physician"]
    counts = {role: share * size for role, share in pools.ROLE_MIX}
    if service != "Maternité":
        counts["nurse"] += counts.pop("midwife")
    counts["physician"] -= 1
    for role, count in counts.items():
        roles += [role] * max(1 if role in ("nurse", "secretary") else 0, round(count))
    return roles[:size] if len(roles) > size else roles + ["nurse"] * (size - len(roles))


def generate_staff(n_staff: int, rng: np.random.Generator) -> Staff:
    services = [name for name, _ in pools.SERVICES]
    codes = dict(pools.SERVICES)
    per_service = max(4, n_staff // len(services))
    roles: list[str] = []
    svc: list[str] = []
    head: list[bool] = []
    for service in services:
        team = _team(per_service, service)
        roles += team
        svc += [service] * len(team)
        head += [True] + [False] * (len(team) - 1)
    n = len(roles)
    female = rng.random(n) < 0.6
    first = np.where(
        female,
        np.asarray(pools.FIRST_NAMES_FEMALE, dtype=object)[rng.integers(0, 80, n)],
        np.asarray(pools.FIRST_NAMES_MALE, dtype=object)[rng.integers(0, 60, n)],
    )
    last = np.asarray(pools.LAST_NAMES, dtype=object)[rng.integers(0, 300, n)]
    logins: list[str] = []
    names: list[str] = []
    taken: set[str] = set()
    for i in range(n):
        base = "".join(ch for ch in strip_accents(f"{first[i][0]}{last[i]}").lower() if ch.isalpha())[:10]
        login, k = base, 1
        while login in taken:
            k += 1
            login = f"{base}{k}"
        taken.add(login)
        logins.append(login)
        title = "Dr " if roles[i] in ("physician", "resident") else ""
        names.append(f"{title}{first[i].title()} {last[i]}")
    leaver = (~np.asarray(head)) & (rng.random(n) < 0.08)
    leave_day = np.where(leaver, rng.integers(14, WINDOW_DAYS - 7, n), WINDOW_DAYS)
    workstation = np.asarray(
        [f"PC-{codes[s]}-{rng.integers(1, 20):02d}" for s in svc], dtype=object
    )
    return Staff(
        np.asarray(logins, dtype=object), np.asarray(names, dtype=object),
        np.asarray(roles, dtype=object), np.asarray(svc, dtype=object), ~leaver,
        np.asarray(head), leave_day, workstation,
    )


#: Session types written in schedules.csv (TYPE_SEANCE): patient care, and the physicians'
#: weekly non-patient half-days (a staff meeting on Tuesday afternoon, teaching or
#: administration on Thursday afternoon), which are scheduled but not patient time.
SESSION_TYPES = np.asarray(["Soins", "Réunion", "Enseignement"], dtype=object)
CARE, MEETING, TEACHING = range(3)


def generate_schedules(
    staff: Staff, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Scheduled sessions as (staff index, start local seconds, end local seconds, session type
    index into :data:`SESSION_TYPES`)."""
    users: list[int] = []
    starts: list[int] = []
    ends: list[int] = []
    types: list[int] = []
    part_time = rng.random(len(staff.role)) < 0.2
    offset = rng.integers(0, 7, len(staff.role))

    def add(i: int, day: int, start_h: float, end_h: float, kind: int = CARE) -> None:
        base = day_seconds(WINDOW_START) + day * DAY
        users.append(i)
        starts.append(base + int(start_h * 3600))
        ends.append(base + int(end_h * 3600))
        types.append(kind)

    for i, role in enumerate(staff.role):
        emergency = staff.service[i] == "Urgences"
        for day in range(int(staff.leave_day[i])):
            weekday = (WINDOW_START + dt.timedelta(days=day)).weekday()
            turn = (day + int(offset[i])) % 7
            if role in ("nurse", "midwife") or (emergency and role in ("physician", "resident")):
                if turn in (0, 1):
                    add(i, day, 7, 19)
                elif turn == 3 or (emergency and turn == 4):
                    add(i, day, 19, 31)  # night shift, ends at 07:00 the next morning
            elif weekday < 5 and not (part_time[i] and weekday == 2):
                add(i, day, 8.5, 12.5)
                afternoon = CARE
                if role in ("physician", "resident"):
                    afternoon = {1: MEETING, 3: TEACHING}.get(weekday, CARE)
                add(i, day, 13.5, 18, afternoon)
    return (np.asarray(users), np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64),
            np.asarray(types, dtype=np.int64))
