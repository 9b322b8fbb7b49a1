"""k-anonymity enforced, not only measured, on what leaves the warehouse pseudonymised.

A pseudonymised file still singles a person out when a combination of the columns an outsider
may know — birth year, sex, département of residence and of birth, and for events the service,
document type, action and day — is shared by fewer than k people. On the demo hospital 857 of
2,500 patients were unique on the first four alone. So every export or extract that is not
explicitly identified by an administrator goes through :func:`plan` then :func:`apply_plan`:

1. **Quasi-identifiers** (QIs) are :data:`PATIENT_QI`, :data:`EVENT_QI` (``_1``/``_2`` sides
   included) and every time-stamp column. They are checked on the **joined view** of the files
   delivered together: an event file (documents, audit events) is checked with the QIs of its
   patient attached through the patient pseudonym, since the recipient can join them.
   Groups count *distinct patients* where a patient key is present (five documents of one
   patient are one person, not five).
2. **Generalise**, one rung of :data:`LADDER` at a time: birth year → 5-, 10-, 20-year band,
   time stamps → date → ISO week → month → year, then birth département and département
   dropped. The first rung at which every file needs at most ``max_suppressed_share`` of its
   rows suppressed is used.
3. **Suppress** the rows still in groups smaller than k (and report how many).
4. **Refuse** (:class:`~analytics.errors.KAnonymityRefused`) when even the last rung needs more.
5. Drop any remaining column unique per row that is not a pseudonym (a raw event id, a time to
   the second): it would be a key to the source system.

Frames that carry no patient (no patient pseudonym and no patient QI: job runs, staff lists)
are left alone: k is about people. Aggregated tables are not checked for k but have their
people-count cells under ``small_cell`` (default 10, the SNDS statistical secrecy rule)
masked by :func:`mask_small_cells`.

Limits (docs/PRIVACY.md): k is checked row by row on the joined view, so a recipient who knows
*several* events of one patient may narrow them down further (transactional data would need
k^m-anonymity); a patient's pseudonym links all their rows by design.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.config import TIMEZONE
from analytics.errors import InvalidInput, KAnonymityRefused
from analytics.messages import english

__all__ = [
    "EVENT_QI",
    "LADDER",
    "PATIENT_QI",
    "Plan",
    "PrivacySettings",
    "Rung",
    "apply_plan",
    "enforce",
    "is_about_patients",
    "mask_small_cells",
    "plan",
    "privacy_settings",
    "unique_columns",
]

#: Patient-level quasi-identifiers, as named after pseudonymisation.
PATIENT_QI = ("birth_year", "age_band", "sex", "departement", "birth_departement")
#: Event-level quasi-identifiers (with the event's time stamps).
EVENT_QI = ("service", "document_type", "action", "activity")
#: The column that links files of one extract to the patients file (a pseudonym).
PATIENT_KEY = "patient_id"
#: Columns that count people in an aggregate table (masked under the small-cell threshold).
COUNT_COLUMNS = frozenset({"users", "patients", "people", "persons", "clinicians", "staff_count",
                           "n_patients", "n_users", "n_people", "n_clinicians"})

_SIDE = re.compile(r"^(?P<base>.+?)(?P<side>_1|_2|_left|_right)$")
_PSEUDONYM = re.compile(r"^[a-z]+_[0-9a-f]{16}$")
_PATIENT_PSEUDONYMS = ("patient_id", "merged_into", "cluster_id")


@dataclass(frozen=True)
class Rung:
    """One level of generalisation: birth band width (1 = the year), time grain, columns dropped."""

    birth: int
    time: str
    drop: tuple[str, ...] = ()

    def describe(self) -> list[str]:
        """What this rung generalised, in words (for the report and the access log)."""
        out = [english("step.birth_year") if self.birth == 1 else english("step.birth_band", n=self.birth),
               english("step.postcode"),
               english("step.time_dropped") if self.time == "none" else english(f"step.time_{self.time}"),
               english("step.free_text_dropped")]
        out += [english("step.column_dropped", column=c) for c in self.drop]
        return out


#: Generalisation rungs, least to most coarse; the first one that needs little enough
#: suppression is used.
LADDER: tuple[Rung, ...] = (
    Rung(1, "date"),
    Rung(5, "week"),
    Rung(10, "month"),
    Rung(10, "month", ("birth_departement",)),
    Rung(10, "year", ("birth_departement",)),
    Rung(20, "year", ("birth_departement",)),
    Rung(20, "year", ("birth_departement", "departement")),
    Rung(20, "none", ("birth_departement", "departement")),
)


@dataclass(frozen=True)
class PrivacySettings:
    """``k``: smallest group allowed; ``max_suppressed_share``: largest share of a file's rows
    that may be suppressed before refusing; ``small_cell``: aggregate cells counting fewer
    people than this are masked."""

    k: int = 5
    max_suppressed_share: float = 0.05
    small_cell: int = 10


_SETTINGS = {"privacy.k": ("k", int), "privacy.max_suppressed_share": ("max_suppressed_share", float),
             "privacy.small_cell": ("small_cell", int)}


def privacy_settings(con: duckdb.DuckDBPyConnection) -> PrivacySettings:
    """The warehouse's ``privacy.*`` settings over the defaults; :class:`InvalidInput` naming a bad one."""
    rows = con.execute("SELECT key, value FROM settings WHERE key LIKE 'privacy.%'").fetchall()
    values: dict[str, Any] = {}
    for key, raw in rows:
        if key not in _SETTINGS or raw is None:
            continue
        name, kind = _SETTINGS[key]
        try:
            values[name] = kind(raw)
        except ValueError:
            raise InvalidInput(f"setting {key}={raw!r} is not a valid {kind.__name__}") from None
    out = PrivacySettings(**values)
    if out.k < 2:
        raise InvalidInput(f"setting privacy.k={out.k} must be at least 2")
    if not 0.0 <= out.max_suppressed_share <= 0.5:
        raise InvalidInput(f"setting privacy.max_suppressed_share={out.max_suppressed_share} must lie within 0–0.5")
    if out.small_cell < 1:
        raise InvalidInput(f"setting privacy.small_cell={out.small_cell} must be at least 1")
    return out


def _base(column: str) -> str:
    side = _SIDE.match(column)
    return side["base"] if side else column


def _is_time(series: pd.Series) -> bool:
    return pd.api.types.is_datetime64_any_dtype(series)


def qi_columns(df: pd.DataFrame) -> list[str]:
    """The quasi-identifier columns of a pseudonymised frame (time stamps included)."""
    return [str(c) for c in df.columns
            if _base(str(c)) in PATIENT_QI or _base(str(c)) in EVENT_QI or _is_time(df[c])]


def is_about_patients(df: pd.DataFrame) -> bool:
    """Whether a pseudonymised frame describes patients (a patient pseudonym or a patient QI)."""
    return any(_base(str(c)) in PATIENT_QI or _base(str(c)) in _PATIENT_PSEUDONYMS for c in df.columns)


def _is_pseudonym(series: pd.Series) -> bool:
    values = series.dropna()
    if values.empty or not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False
    sample = values.iloc[:: max(1, len(values) // 200)].astype(str)
    return bool(sample.map(lambda v: bool(_PSEUDONYM.match(v))).all())


def unique_columns(df: pd.DataFrame, k: int) -> list[str]:
    """Non-QI, non-numeric columns unique per row that are not pseudonyms (keys to the source)."""
    if len(df) <= k:
        return []
    qis = set(qi_columns(df))
    out = []
    for column in df.columns:
        series = df[column]
        if str(column) in qis or pd.api.types.is_bool_dtype(series) or pd.api.types.is_numeric_dtype(series):
            continue
        if series.nunique(dropna=True) == len(df) and not _is_pseudonym(series):
            out.append(str(column))
    return out


# --------------------------------------------------------------------------- generalisation


def _local_naive(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert(TIMEZONE).dt.tz_localize(None)
    return pd.to_datetime(series, errors="coerce")


def _time_codes(series: pd.Series, grain: str) -> pd.Series:
    """Time stamps truncated to ``grain`` as comparable values (grouping; NaT kept)."""
    days = _local_naive(series).to_numpy().astype("datetime64[D]")
    if grain == "date":
        out = days
    elif grain == "week":
        ints = days.astype("int64")
        out = days - ((ints + 3) % 7).astype("timedelta64[D]")  # 1970-01-01 was a Thursday
    elif grain == "month":
        out = days.astype("datetime64[M]")
    else:
        out = days.astype("datetime64[Y]")
    return pd.Series(out, index=series.index)


def _time_labels(series: pd.Series, grain: str) -> pd.Series:
    """Time stamps as the recipient sees them: a date, ``2026-W10``, ``2026-03`` or ``2026``."""
    local = _local_naive(series)
    if grain == "date":
        return local.dt.normalize()
    fmt = {"week": "%G-W%V", "month": "%Y-%m", "year": "%Y"}[grain]
    return local.dt.strftime(fmt).astype(object).where(local.notna(), None)


def _band_codes(years: pd.Series, width: int) -> pd.Series:
    years = pd.to_numeric(years, errors="coerce").astype("Int64")
    return years if width == 1 else (years // width) * width


def _band_labels(years: pd.Series, width: int) -> pd.Series:
    lo = _band_codes(years, width)
    text = lo.astype("string") + "-" + (lo + width - 1).astype("string")
    return text.astype(object).where(lo.notna(), None)


def _dropped(column: str, rung: Rung) -> bool:
    return _base(column) in rung.drop


def _band_name(column: str) -> str:
    return column.replace("birth_year", "birth_band", 1)


def generalise(df: pd.DataFrame, rung: Rung, *, codes: bool = False) -> pd.DataFrame:
    """``df`` at ``rung``: bands, truncated times, dropped columns. ``codes=True`` gives
    comparable values for grouping; otherwise the labels written to files."""
    out: dict[str, pd.Series] = {}
    for column in df.columns:
        name, series = str(column), df[column]
        if _dropped(name, rung):
            continue
        if _base(name) == "birth_year":
            if rung.birth == 1:
                out[name] = _band_codes(series, 1)
            else:
                out[_band_name(name)] = (_band_codes if codes else _band_labels)(series, rung.birth)
        elif _is_time(series):
            if rung.time != "none":
                out[name] = (_time_codes if codes else _time_labels)(series, rung.time)
        else:
            out[name] = series
    return pd.DataFrame(out, index=df.index)


# --------------------------------------------------------------------------- plan


@dataclass
class Plan:
    """What :func:`apply_plan` does to each file, and the report of it."""

    k: int
    rung: Rung | None
    suppressed: dict[str, pd.Index] = field(default_factory=dict)
    rows_in: dict[str, int] = field(default_factory=dict)
    quasi_identifiers: dict[str, list[str]] = field(default_factory=dict)
    smallest_group: int | None = None
    dropped_unique: dict[str, list[str]] = field(default_factory=dict)
    masked_cells: int = 0

    @property
    def enforced(self) -> bool:
        return self.rung is not None

    def report(self) -> dict[str, Any]:
        """JSON-able report for the companion file and the access log."""
        return {
            "k": self.k,
            "k_smallest_group": self.smallest_group,
            "quasi_identifiers": self.quasi_identifiers,
            "generalised": self.rung.describe() if self.rung else [],
            "suppressed_rows": {n: len(ix) for n, ix in self.suppressed.items()},
            "rows_in": self.rows_in,
            "dropped_unique_columns": self.dropped_unique,
            "masked_small_cells": self.masked_cells,
        }

    def notes(self) -> list[str]:
        """The report in sentences (job notes, CLI summary)."""
        if not self.enforced:
            return []
        notes = [english("kanon.enforced", k=self.k, smallest=self.smallest_group)]
        notes += [english("kanon.generalised", step=step) for step in self.rung.describe()]  # type: ignore[union-attr]
        notes += [english("kanon.suppressed", n=len(ix), total=self.rows_in[n], file=n, k=self.k)
                  for n, ix in self.suppressed.items() if len(ix)]
        notes += [english("kanon.dropped_unique", file=n, columns=", ".join(cols))
                  for n, cols in self.dropped_unique.items() if cols]
        return notes


def _small_groups(view: pd.DataFrame, cols: list[str], key: pd.Series | None, k: int) -> np.ndarray:
    """Per row, the number of people sharing its QI combination."""
    if not cols:
        n = key.nunique() if key is not None else len(view)
        return np.full(len(view), n)
    frame = view[cols].copy()
    if key is None:
        return frame.groupby(cols, dropna=False, sort=False)[cols[0]].transform("size").to_numpy()
    frame["_hy_key"] = key.to_numpy()
    sizes = frame.groupby(cols, dropna=False, sort=False)["_hy_key"].transform("nunique").to_numpy()
    # a row without a patient (an audit event on no record) describes nobody: never suppressed
    return np.where(key.isna().to_numpy(), np.maximum(sizes, k), sizes)


def plan(
    frames: Mapping[str, pd.DataFrame],
    *,
    k: int,
    max_suppressed_share: float,
    patients: str | None = None,
    unique: Mapping[str, list[str]] | None = None,
) -> Plan:
    """Choose the rung and the rows to suppress for ``frames`` (pseudonymised; QI columns and the
    patient key suffice). ``patients`` names the frame whose QIs are joined to the others through
    ``patient_id``. Raises :class:`KAnonymityRefused` when no rung is enough."""
    about = {n: f for n, f in frames.items() if is_about_patients(f) and qi_columns(f)}
    result = Plan(k=k, rung=None, rows_in={n: len(f) for n, f in frames.items()},
                  dropped_unique={n: list(c) for n, c in (unique or {}).items()
                                  if c and is_about_patients(frames.get(n, pd.DataFrame()))})
    if not about:
        return result
    worst: tuple[float, str, int, int, list[str]] = (0.0, "", 0, 0, [])
    for rung in LADDER:
        coded = {n: generalise(f[qi_columns(f) + ([PATIENT_KEY] if PATIENT_KEY in f.columns else [])], rung, codes=True)
                 for n, f in about.items()}
        pq = None
        if patients in coded and PATIENT_KEY in coded[patients].columns:
            own = coded[patients]
            pq = own.drop_duplicates(PATIENT_KEY).set_index(PATIENT_KEY)[[c for c in own.columns if c != PATIENT_KEY]]
        sizes: dict[str, np.ndarray] = {}
        views: dict[str, list[str]] = {}
        worst = (0.0, "", 0, 0, [])
        for name, view in coded.items():
            if pq is not None and name != patients and PATIENT_KEY in view.columns:
                view = view.join(pq.add_suffix("_patient"), on=PATIENT_KEY)
            cols = [c for c in view.columns if c != PATIENT_KEY]
            key = view[PATIENT_KEY] if PATIENT_KEY in view.columns else None
            if key is not None and key.is_unique:
                key = None
            sizes[name] = _small_groups(view, cols, key, k)
            views[name] = cols
            small = int((sizes[name] < k).sum())
            share = small / len(view) if len(view) else 0.0
            if share > worst[0] or not worst[1]:
                worst = (share, name, small, len(view), cols)
        if worst[0] <= max_suppressed_share:
            result.rung = rung
            result.quasi_identifiers = views
            for name, view in coded.items():
                result.suppressed[name] = view.index[sizes[name] < k]
            kept = [s[s >= k] for s in sizes.values()]
            result.smallest_group = int(min((s.min() for s in kept if len(s)), default=0)) or None
            return result
    share, name, small, total, cols = worst
    raise KAnonymityRefused("kanon.refused", file=name, k=k, columns=", ".join(cols),
                            tried=", ".join(LADDER[-1].describe()), small=small, total=total,
                            share=round(share * 100), max_share=round(max_suppressed_share * 100))


def apply_plan(df: pd.DataFrame, result: Plan, name: str) -> pd.DataFrame:
    """``df`` (pseudonymised; one file or one chunk of it, same index as when planned) with the
    plan's suppression, generalisation and dropped columns applied."""
    if result.rung is None:
        return df.drop(columns=result.dropped_unique.get(name, []), errors="ignore")
    gone = result.suppressed.get(name)
    if gone is not None and len(gone):
        df = df[~df.index.isin(gone)]
    df = df.drop(columns=result.dropped_unique.get(name, []), errors="ignore")
    return generalise(df, result.rung)


def enforce(
    frames: Mapping[str, pd.DataFrame],
    *,
    k: int,
    max_suppressed_share: float,
    patients: str | None = None,
) -> tuple[dict[str, pd.DataFrame], Plan]:
    """:func:`plan` then :func:`apply_plan` on whole in-memory frames."""
    unique = {n: unique_columns(f, k) for n, f in frames.items() if is_about_patients(f)}
    result = plan(frames, k=k, max_suppressed_share=max_suppressed_share, patients=patients, unique=unique)
    return {n: apply_plan(f, result, n) for n, f in frames.items()}, result


def mask_small_cells(df: pd.DataFrame, threshold: int) -> tuple[pd.DataFrame, int]:
    """Aggregate ``df`` with its people-count cells between 1 and ``threshold - 1`` emptied
    (SNDS statistical secrecy), and the other figures of those rows too: the time a service
    spent with 2 clinicians at work is their individual time. Returns the frame and the number
    of rows masked."""
    counts = [c for c in df.columns if str(c) in COUNT_COLUMNS and pd.api.types.is_numeric_dtype(df[c])]
    if not counts:
        return df.copy(), 0
    out = df.copy()
    small = pd.Series(False, index=df.index)
    for column in counts:
        values = pd.to_numeric(df[column], errors="coerce")
        small |= ((values > 0) & (values < threshold)).fillna(False)
        out[column] = values.astype("Int64")
    for column in df.columns:
        if column in counts or (pd.api.types.is_numeric_dtype(df[column]) and not pd.api.types.is_bool_dtype(df[column])):
            out[column] = out[column].mask(small)
    return out, int(small.sum())
