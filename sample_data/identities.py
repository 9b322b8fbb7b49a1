"""Patients of the sample hospital: persons, hard negatives, injected duplicates, ground truth.

Persons are drawn column by column with numpy (names from frequency-weighted pools), so a
million identities take seconds. Hard negatives (twins, namesakes born the same year, members
of one household) are distinct persons made deliberately similar. Duplicates are extra records
of an existing person with one or two mutations (see :mod:`sample_data.mutations`); only
those few percent of rows go through a Python loop.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
from dataclasses import dataclass

import numpy as np
from faker import Faker

from sample_data import pools
from sample_data.mutations import MUTATIONS, SECONDARY, format_phone, strip_accents
from sample_data.nir import make_nir

EPOCH = dt.date(1970, 1, 1)
#: Everything in the sample happens before this local date (end of the activity window).
REFERENCE_DATE = dt.date(2026, 11, 23)
FIRST_CREATION = dt.date(2008, 1, 1)


@dataclass
class Patients:
    """Patient rows (canonical column names) plus what the rest of the generator needs."""

    columns: dict[str, list]
    truth_patients: list[tuple[str, str, str, str]]  # patient_id, person_id, kind, errors
    truth_pairs: list[tuple[str, str, int, str, str]]  # id1, id2, same_person, kind, errors
    ages: np.ndarray  # age in years of each row's person, aligned with columns
    sexes: np.ndarray


def _zipf_pool(rng: np.random.Generator, pool: list[str], n: int, skew: float = 8.0) -> np.ndarray:
    """Draw ``n`` names from ``pool`` with frequent names (listed first) more likely."""
    weights = 1.0 / (np.arange(len(pool)) + skew)
    return np.asarray(pool, dtype=object)[rng.choice(len(pool), n, p=weights / weights.sum())]


def _join_given(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> np.ndarray:
    out = a.copy()
    mask = keep & (b != a)
    out[mask] = a[mask] + " " + b[mask]
    return out


class _Persons:
    """Column arrays of the persons, indexable by person number."""

    def __init__(self, rng: np.random.Generator, faker: Faker, n: int) -> None:
        self.n = n
        female = rng.random(n) < 0.52
        self.sex = np.where(female, "F", "M").astype(object)
        child = rng.random(n) < 0.14
        age = np.where(child, rng.uniform(0, 18, n), np.clip(rng.normal(58, 20, n), 18, 101))
        ref = (REFERENCE_DATE - EPOCH).days
        self.birth_days = (ref - (age * 365.25).astype(np.int64)).astype(np.int64)
        self.age = age
        m1 = _zipf_pool(rng, pools.FIRST_NAMES_MALE, n)
        f1 = _zipf_pool(rng, pools.FIRST_NAMES_FEMALE, n)
        m2 = _zipf_pool(rng, pools.FIRST_NAMES_MALE, n)
        f2 = _zipf_pool(rng, pools.FIRST_NAMES_FEMALE, n)
        m3 = _zipf_pool(rng, pools.FIRST_NAMES_MALE, n)
        f3 = _zipf_pool(rng, pools.FIRST_NAMES_FEMALE, n)
        given = rng.choice([1, 2, 3], n, p=[0.35, 0.45, 0.2])
        first = np.where(female, f1, m1)
        second = np.where(female, f2, m2)
        third = np.where(female, f3, m3)
        self.first_names = _join_given(_join_given(first, second, given >= 2), third, given >= 3)
        self.used_first_name = np.full(n, "", dtype=object)
        uses_second = (given >= 2) & (rng.random(n) < 0.06) & (second != first)
        self.used_first_name[uses_second] = second[uses_second]
        self.birth_name = _zipf_pool(rng, pools.LAST_NAMES, n)
        self.used_name = np.full(n, "", dtype=object)
        married = female & (age >= 22) & (rng.random(n) < 0.55)
        self.used_name[married] = _zipf_pool(rng, pools.LAST_NAMES, int(married.sum()))
        self.birth_place = np.asarray(pools.BIRTH_PLACES, dtype=object)[
            rng.integers(0, len(pools.BIRTH_PLACES), n)
        ]
        self.nir_order = rng.integers(1, 999, n)
        self.status = rng.choice(
            np.asarray(["PROV", "VALI", "RECUP", "QUAL"], dtype=object), n, p=[0.3, 0.15, 0.25, 0.3]
        )
        streets = np.asarray(sorted({faker.street_name().upper() for _ in range(1500)}), dtype=object)
        numbers = rng.integers(1, 180, n).astype(str).astype(object)
        self.address = numbers + " " + streets[rng.integers(0, len(streets), n)]
        city_weights = np.array([6, 5, 4] + [1] * (len(pools.LOCAL_CITIES) - 3), dtype=float)
        city_idx = rng.choice(len(pools.LOCAL_CITIES), n, p=city_weights / city_weights.sum())
        self.postcode = np.asarray([c[0] for c in pools.LOCAL_CITIES], dtype=object)[city_idx]
        self.city = np.asarray([c[1] for c in pools.LOCAL_CITIES], dtype=object)[city_idx]
        mobile = rng.random(n) < 0.8
        prefix = np.where(mobile, np.where(rng.random(n) < 0.7, "06", "07"), "02").astype(object)
        rest = np.char.zfill(rng.integers(0, 10**8, n).astype(str), 8).astype(object)
        self.phone = np.where(rng.random(n) < 0.05, "", prefix + rest).astype(object)
        self.phone_format = rng.choice(4, n, p=[0.55, 0.2, 0.15, 0.1])
        self.has_email = rng.random(n) < 0.5
        self.email_domain = rng.integers(0, len(pools.EMAIL_DOMAINS), n)
        first_day = np.maximum(self.birth_days, (FIRST_CREATION - EPOCH).days)
        last_day = ref - 3
        self.created_s = (
            (first_day + (rng.random(n) * (last_day - first_day)).astype(np.int64)) * 86400
            + rng.integers(7 * 3600, 19 * 3600, n)
        )
        self.kind = np.full(n, "original", dtype=object)

    def birth_date(self, i: int) -> dt.date:
        return EPOCH + dt.timedelta(days=int(self.birth_days[i]))

    def nirs(self, rows: np.ndarray) -> list[str]:
        """NIRs of many persons at once (keys computed with numpy)."""
        date = self.birth_days[rows].astype("datetime64[D]")
        year = date.astype("datetime64[Y]").astype(np.int64) + 1970
        month = (date.astype("datetime64[M]") - date.astype("datetime64[Y]")).astype(np.int64) + 1
        sex = np.where(self.sex[rows] == "M", 1, 2)
        place = self.birth_place[rows]
        codes, inverse = np.unique(place.astype(str), return_inverse=True)
        numeric = np.asarray([int(c[:2].replace("2A", "19").replace("2B", "18") + c[2:]) for c in codes])
        place_num = numeric[inverse]
        order = self.nir_order[rows]
        body = sex * 10**12 + (year % 100) * 10**10 + month * 10**8 + place_num * 10**3 + order
        key = 97 - body % 97
        return [
            f"{s}{y % 100:02d}{m:02d}{pl}{o:03d}{k:02d}"
            for s, y, m, pl, o, k in zip(sex.tolist(), year.tolist(), month.tolist(), place.tolist(),
                                         order.tolist(), key.tolist(), strict=True)
        ]

    def nir(self, i: int) -> str:
        date = self.birth_date(i)
        return make_nir(self.sex[i], date.year, date.month, self.birth_place[i], int(self.nir_order[i]))


def _hard_negatives(p: _Persons, rng: np.random.Generator) -> list[tuple[int, int, str]]:
    """Make twins, same-year namesakes and households; return their (a, b, kind) pairs."""
    n = p.n
    order = rng.permutation(n)
    n_twins = max(3, n // 300)
    n_namesakes = max(3, n // 250)
    n_households = max(5, n // 60)
    pairs: list[tuple[int, int, str]] = []
    cursor = 0

    def take(k: int) -> np.ndarray:
        nonlocal cursor
        out = order[cursor : cursor + k]
        cursor += k
        return out

    for a, b in take(2 * n_twins).reshape(-1, 2):
        p.birth_name[b], p.used_name[b] = p.birth_name[a], ""
        p.birth_days[b], p.age[b] = p.birth_days[a], p.age[a]
        p.birth_place[b], p.nir_order[b] = p.birth_place[a], (p.nir_order[a] % 998) + 1
        for col in ("address", "postcode", "city", "phone"):
            getattr(p, col)[b] = getattr(p, col)[a]
        if rng.random() < 0.6:
            p.sex[b] = "M" if p.sex[a] == "F" else "F"
        pool = pools.FIRST_NAMES_FEMALE if p.sex[b] == "F" else pools.FIRST_NAMES_MALE
        candidates = [f for f in pool[:60] if f != str(p.first_names[a]).split(" ")[0]]
        p.first_names[b] = candidates[int(rng.integers(0, len(candidates)))]
        p.used_first_name[b] = ""
        p.kind[a] = p.kind[b] = "twin"
        pairs.append((int(a), int(b), "twin"))
    for a, b in take(2 * n_namesakes).reshape(-1, 2):
        p.sex[b], p.birth_name[b], p.first_names[b] = p.sex[a], p.birth_name[a], p.first_names[a]
        p.used_name[b] = p.used_first_name[b] = ""
        year = (EPOCH + dt.timedelta(days=int(p.birth_days[a]))).year
        day = (dt.date(year, 1, 1) - EPOCH).days + int(rng.integers(0, 365))
        if day == p.birth_days[a]:
            day += 17
        p.birth_days[b] = day
        p.kind[a] = p.kind[b] = "namesake"
        pairs.append((int(a), int(b), "namesake"))
    rest = order[cursor:]
    heads = rest[(p.sex[rest] == "M") & (p.age[rest] >= 25)]
    spouses = rest[(p.sex[rest] == "F") & (p.age[rest] >= 22)]
    young = rest[p.age[rest] < 20]
    n_households = min(n_households, len(heads), len(spouses), len(young) // 2)
    kids_at = 0
    for h in range(n_households):
        n_kids = int(rng.integers(0, 3))
        kids = [int(k) for k in young[kids_at : kids_at + n_kids]]
        kids_at += n_kids
        members = [int(heads[h]), int(spouses[h]), *kids]
        if rng.random() < 0.7:
            p.used_name[members[1]] = p.birth_name[members[0]]
        for child in kids:
            p.birth_name[child] = p.birth_name[members[0]]
            p.used_name[child] = ""
        for m in members[1:]:
            for col in ("address", "postcode", "city", "phone"):
                getattr(p, col)[m] = getattr(p, col)[members[0]]
        for i, a in enumerate(members):
            p.kind[a] = "household"
            for b in members[i + 1 :]:
                pairs.append((a, b, "household"))
    return pairs


@functools.cache
def _email_part(text: str) -> str:
    return "".join(ch for ch in strip_accents(text).lower() if ch.isalnum())


def _email(first_names: str, name: str, domain: int) -> str:
    return f"{_email_part(first_names.split(' ')[0])}.{_email_part(name)}@{pools.EMAIL_DOMAINS[domain]}"


@functools.cache
def _non_ascii(text: str) -> bool:
    return not text.isascii()


@functools.cache
def _has_any(text: str, chars: str) -> bool:
    return any(c in text for c in chars)


@functools.cache
def _has_particle(text: str) -> bool:
    return text.startswith(pools.PARTICLES)


def _base_record(p: _Persons, i: int) -> dict[str, object]:
    status = p.status[i]
    return {
        "birth_name": p.birth_name[i], "used_name": p.used_name[i],
        "first_names": p.first_names[i], "used_first_name": p.used_first_name[i],
        "birth_date": p.birth_date(i), "sex": p.sex[i], "birth_place_code": p.birth_place[i],
        "ins": p.nir(i) if status in ("RECUP", "QUAL") else "", "identity_status": status,
        "address": p.address[i], "postcode": p.postcode[i], "city": p.city[i],
        "phone_digits": p.phone[i], "phone_format": int(p.phone_format[i]),
        "email": _email(p.first_names[i], p.used_name[i] or p.birth_name[i], int(p.email_domain[i]))
        if p.has_email[i] else "",
        "created_s": int(p.created_s[i]),
    }


def _duplicate(p: _Persons, person: int, kind: str, rnd: random.Random) -> tuple[dict, list[str]] | None:
    rec = _base_record(p, person)
    if not MUTATIONS[kind][0](rec, rnd):
        return None
    errors = [kind]
    if rnd.random() < 0.3:
        second = rnd.choice([k for k in SECONDARY if k != kind])
        if MUTATIONS[second][0](rec, rnd):
            errors.append(second)
    if rec["ins"] and rnd.random() < 0.65:  # most duplicates are created without calling INSi
        rec["ins"], rec["identity_status"] = "", "PROV"
        errors.append("ins_missing")
    elif rec["ins"]:
        rec["identity_status"] = "RECUP"
    elif rec["identity_status"] in ("VALI", "QUAL"):
        rec["identity_status"] = "PROV"
    if rnd.random() < 0.5:
        rec["email"] = ""
    created = int(p.created_s[person])
    rec["created_s"] = created + rnd.randint(3600, max(7200, _LAST_S - created))
    return rec, errors


_LAST_S = (REFERENCE_DATE - EPOCH).days * 86400 - 86400


def _eligible(p: _Persons, kind: str) -> np.ndarray:
    """Persons a mutation can apply to (a cheap vectorised pre-filter; the mutation decides)."""
    non_ascii = np.frompyfunc(_non_ascii, 1, 1)
    has = np.frompyfunc(_has_any, 2, 1)
    starts = np.frompyfunc(_has_particle, 1, 1)
    date = p.birth_days.astype("datetime64[D]")
    day = (date - date.astype("datetime64[M]")).astype(np.int64) + 1
    month = (date.astype("datetime64[M]") - date.astype("datetime64[Y]")).astype(np.int64) + 1
    masks = {
        "accents_lost": lambda: (non_ascii(p.birth_name) | non_ascii(p.first_names) | non_ascii(p.used_name)).astype(bool),
        "hyphen_space": lambda: has(p.birth_name, "-' ").astype(bool) | has(p.first_names, "-").astype(bool),
        "particle": lambda: starts(p.birth_name).astype(bool),
        "name_swap": lambda: p.used_name != "",
        "epouse": lambda: (p.used_name != "") & (p.sex == "F"),
        "first_names_reordered": lambda: has(p.first_names, " ").astype(bool),
        "first_name_only": lambda: has(p.first_names, " ").astype(bool),
        "date_swap": lambda: (day <= 12) & (day != month),
        "date_default": lambda: (day != 1) | (month != 1),
        "ins_missing": lambda: np.isin(p.status, ["RECUP", "QUAL"]),
        "phone_format": lambda: p.phone != "",
    }
    return np.flatnonzero(masks[kind]()) if kind in masks else np.arange(p.n)


def _pick_duplicates(p: _Persons, n_dup: int, rnd: random.Random) -> list[tuple[int, dict, list[str]]]:
    """Draw ``n_dup`` duplicates; every kind appears at least twice when n_dup allows it."""
    kinds = list(MUTATIONS)
    weights = [MUTATIONS[k][1] for k in kinds]
    plan = (kinds * 2)[: min(n_dup, 2 * len(kinds))]
    plan += rnd.choices(kinds, weights=weights, k=n_dup - len(plan))
    eligible = {kind: _eligible(p, kind) for kind in kinds}
    out: list[tuple[int, dict, list[str]]] = []
    for kind in plan:
        candidates = eligible[kind]
        for _attempt in range(50):
            person = int(candidates[rnd.randrange(len(candidates))])
            made = _duplicate(p, person, kind, rnd)
            if made is not None:
                out.append((person, *made))
                break
    return out


def _format_dates(days: np.ndarray) -> list[str]:
    date = days.astype("datetime64[D]")
    year = date.astype("datetime64[Y]").astype(np.int64) + 1970
    month = (date.astype("datetime64[M]") - date.astype("datetime64[Y]")).astype(np.int64) + 1
    day = (date - date.astype("datetime64[M]")).astype(np.int64) + 1
    return [f"{d:02d}/{m:02d}/{y}" for d, m, y in zip(day.tolist(), month.tolist(), year.tolist(), strict=True)]


def _original_columns(p: _Persons) -> dict[str, np.ndarray]:
    """Columns of each person's first record, built column by column."""
    has_ins = np.isin(p.status, ["RECUP", "QUAL"])
    ins = np.full(p.n, "", dtype=object)
    ins[has_ins] = p.nirs(np.flatnonzero(has_ins))
    email = np.full(p.n, "", dtype=object)
    name = np.where(p.used_name != "", p.used_name, p.birth_name)
    email[p.has_email] = [
        _email(f, n, d) for f, n, d in zip(p.first_names[p.has_email], name[p.has_email],
                                           p.email_domain[p.has_email].tolist(), strict=True)
    ]
    return {
        "birth_name": p.birth_name, "used_name": p.used_name, "first_names": p.first_names,
        "used_first_name": p.used_first_name, "birth_days": p.birth_days, "sex": p.sex,
        "birth_place_code": p.birth_place, "ins": ins, "identity_status": p.status,
        "address": p.address, "postcode": p.postcode, "city": p.city, "phone_digits": p.phone,
        "phone_format": p.phone_format, "email": email, "created_s": p.created_s,
    }


def _bad_values(cols: dict[str, np.ndarray], errors: list[list[str]], n_originals: int,
                rnd: random.Random) -> dict[int, str]:
    """A few impossible values so that imports show data-quality findings; returns raw dates."""
    chosen = rnd.sample(range(n_originals), 6)
    raw_dates: dict[int, str] = {}
    for i in chosen[:2]:
        year = int(cols["birth_days"][i].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64)) + 1970
        raw_dates[i] = f"{rnd.choice((30, 31))}/02/{year}"
        errors[i].append("bad_birth_date")
    for i, code in zip(chosen[2:4], ("X", "FM"), strict=True):
        cols["sex"][i] = code
        errors[i].append("bad_sex")
    cols["ins"][chosen[4]] = str(cols["ins"][chosen[4]] or "2850535238123")[:13]
    cols["ins"][chosen[5]] = "1A2B3C4D5E6F7G8"
    for i in chosen[4:]:
        cols["identity_status"][i] = "RECUP"
        errors[i].append("bad_ins")
    return raw_dates


def generate_patients(n_records: int, seed: int, dup_rate: float = 0.09) -> Patients:
    """Build ``n_records`` patient rows, about ``dup_rate`` of them duplicates."""
    rng = np.random.default_rng([seed, 1])
    rnd = random.Random(seed * 1000 + 1)
    faker = Faker("fr_FR")
    faker.seed_instance(seed)
    n_dup = round(n_records * dup_rate)
    p = _Persons(rng, faker, n_records - n_dup)
    negatives = _hard_negatives(p, rng)
    dupes = _pick_duplicates(p, n_dup, rnd)
    originals = _original_columns(p)
    cols: dict[str, np.ndarray] = {}
    for name, values in originals.items():
        if name == "birth_days":
            extra = [(r["birth_date"] - EPOCH).days for _, r, _ in dupes]
        else:
            extra = [r[name] for _, r, _ in dupes]
        cols[name] = np.concatenate([values, np.asarray(extra, dtype=values.dtype)])
    person_of = np.concatenate([np.arange(p.n), np.asarray([d[0] for d in dupes], dtype=np.int64)])
    errors: list[list[str]] = [[] for _ in range(p.n)] + [d[2] for d in dupes]
    raw_dates = _bad_values(cols, errors, p.n, rnd)
    n = len(person_of)

    # IPPs are handed out in creation order, as a hospital's identity server does.
    order = np.argsort(cols["created_s"], kind="stable")
    ipp = np.empty(n, dtype=object)
    ipp[order] = [str(100000001 + rank) for rank in range(n)]
    dates = _format_dates(cols["birth_days"])
    for i, raw in raw_dates.items():
        dates[i] = raw
    phones = [format_phone(d, f) for d, f in zip(cols["phone_digits"].tolist(), cols["phone_format"].tolist(), strict=True)]
    columns: dict[str, list] = {"patient_id": ipp[order].tolist()}
    for name in ("birth_name", "used_name", "first_names", "used_first_name"):
        columns[name] = cols[name][order].tolist()
    columns["birth_date"] = np.asarray(dates, dtype=object)[order].tolist()
    for name in ("sex", "birth_place_code", "ins", "identity_status", "address", "postcode", "city"):
        columns[name] = cols[name][order].tolist()
    columns["phone"] = np.asarray(phones, dtype=object)[order].tolist()
    columns["email"] = cols["email"][order].tolist()
    columns["created_s"] = cols["created_s"][order]

    kind = np.where(np.arange(n) >= p.n, "duplicate", p.kind[person_of])
    ipp_list, person_list, kind_list = ipp.tolist(), person_of.tolist(), kind.tolist()
    truth_patients = [
        (ipp_list[i], f"PERS{person_list[i] + 1:07d}", kind_list[i], "+".join(errors[i]))
        for i in order.tolist()
    ]
    by_person: dict[int, list[int]] = {}
    for i in range(p.n, n):
        by_person.setdefault(int(person_of[i]), [int(person_of[i])]).append(i)
    pairs: list[tuple[str, str, int, str, str]] = []
    for members in by_person.values():
        for x, a in enumerate(members):
            for b in members[x + 1 :]:
                id1, id2 = sorted((ipp[a], ipp[b]))
                pairs.append((id1, id2, 1, "duplicate", "+".join(errors[b] if b >= p.n else errors[a])))
    for a, b, pair_kind in negatives:
        id1, id2 = sorted((ipp[a], ipp[b]))
        pairs.append((id1, id2, 0, pair_kind, ""))
    pairs.sort()
    rows = person_of[order]
    return Patients(columns, truth_patients, pairs, p.age[rows], p.sex[rows])
