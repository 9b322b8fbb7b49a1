"""Search before create: typed traits → ranked candidate identities, with explanations.

Candidates come from the identity index through the same keys as blocking (birth date +
first letters of a name or first name, day/month swapped, Soundex2-FR + year, name + first
name, INS, phone) and, for a search without a birth date, name + first name (exact or
Soundex2-FR), then are scored by the matching model and explained as the review queue does.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.identity.blocking import python_key_hashes
from analytics.identity.comparisons import FIELDS, arrays_from_rows, compare
from analytics.identity.decide import decide
from analytics.identity.explain import _SHOWN as SHOWN
from analytics.identity.explain import explanation_frame
from analytics.identity.masking import IDENTITY_FIELDS, mask_identities, may_see_identities
from analytics.identity.model import score, weights
from analytics.identity.normalise import normalise_query
from analytics.identity.search_index import SearchIndex, get_search_index

__all__ = ["match_identities", "parse_birth_date", "search_identities", "shown_values"]

_QUERY_ID = "__query__"
_MAX_CANDIDATES = 300


def parse_birth_date(value: object, field: str = "birth_date") -> dt.date | None:
    """Accept a date, ``dd/mm/yyyy`` or ``yyyy-mm-dd``; anything else is refused."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise InvalidInput("search.bad_date", field=field, value=value)


def _enough(birth_name: str | None, used_name: str | None, first_names: str | None, date: dt.date | None,
            ins: str | None) -> None:
    """What an admission agent has is enough: an INS; a name and first names; or a birth date
    with (the first letters of) a name or a first name."""
    name = bool((birth_name or "").strip() or (used_name or "").strip())
    first = bool((first_names or "").strip())
    if (ins or "").strip() or (name and first) or (date is not None and (name or first)):
        return
    raise InvalidInput("search.not_enough")


def _none(value: object) -> object:
    """None for a missing value of a pandas row (NaN, NaT, pd.NA), the value otherwise."""
    try:
        return None if pd.isna(value) else value
    except (TypeError, ValueError):  # list-like values
        return value


def _prefix(typed: str | None, candidate: np.ndarray) -> np.ndarray:
    """Per candidate: ``typed`` is a strict start of the candidate's value (DUP → DUPONT)."""
    if not typed:
        return np.zeros(len(candidate), dtype=bool)
    return np.array([isinstance(c, str) and len(c) > len(typed) and c.startswith(typed) for c in candidate],
                    dtype=bool)


@dataclass
class _Ranked:
    """The scored candidates of a typed identity; ``order`` indexes the best ``limit`` of them."""

    ids: list[str]                 # patient ids, in ``order``
    order: np.ndarray
    found: np.ndarray              # row positions in the search index, per candidate
    levels: dict[str, np.ndarray]
    w: dict[str, np.ndarray]
    total: np.ndarray
    prob: np.ndarray
    decision: np.ndarray
    name_prefix: np.ndarray
    first_prefix: np.ndarray
    index: SearchIndex

    def level_names(self) -> dict[str, list[str]]:
        """``level_<field>`` per ranked candidate (``prefix`` for a name typed as a mere start)."""
        out = {}
        for f, names in FIELDS.items():
            prefix = self.name_prefix if f == "birth_name" else self.first_prefix if f == "first_name" else None
            out[f"level_{f}"] = ["prefix" if prefix is not None and prefix[i] else names[int(self.levels[f][i])]
                                 for i in self.order]
        return out

    def shown_rows(self) -> list[dict[str, object]]:
        """patient_id, score, decision and the identity's values (None when missing), ranked."""
        rows = self.index.originals_table.take(self.found[self.order]).to_pylist()
        return [{"patient_id": pid, "score": round(float(self.prob[i]), 6), "decision": str(self.decision[i]), **row}
                for pid, i, row in zip(self.ids, self.order, rows, strict=True)]


def _rank(actor: Actor, con: duckdb.DuckDBPyConnection, traits: dict[str, object], limit: int
          ) -> tuple[_Ranked | None, dt.date | None]:
    """Check, normalise and key the typed traits, fetch candidates from the search index and
    score them with the matching model (the batch matcher's comparisons and decision rules)."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    date = parse_birth_date(traits.get("birth_date"))
    if limit < 1:
        raise InvalidInput(f"limit: {limit} must be at least 1")
    _enough(traits.get("birth_name"), traits.get("used_name"), traits.get("first_names"), date, traits.get("ins"))
    # The typed identity is normalised and keyed in Python (the index's rules, tested equal):
    # no SQL statement on the way, candidates come from the in-process search index.
    q = normalise_query(**{**traits, "birth_date": date})
    index = get_search_index(con)
    found = index.candidates(np.asarray(python_key_hashes(q), dtype=np.uint64), _MAX_CANDIDATES)
    found = index.with_names(found, q, _MAX_CANDIDATES)
    cand = index.table.take(found).to_pylist()  # ~3 ms for 300 rows; pandas row access is ~100× that
    if not cand:
        return None, date

    def column(name: str) -> np.ndarray:
        return np.array([r[name] for r in cand], dtype=object)

    # Four versions of the query: as typed, without its name, without its first names, without
    # both; a candidate is compared with the one that drops what was typed as a mere start.
    name_prefix = _prefix(q["bn_np"], column("bn_np")) | _prefix(q["bn_np"], column("un_np"))
    first_prefix = _prefix(q["fn1"], column("fn1"))
    queries = []
    for drop_name, drop_first in ((False, False), (True, False), (False, True), (True, True)):
        v = dict(q)
        if drop_name:
            v.update({k: None for k in ("bn", "bn_key", "bn_np", "bn_sdx", "un", "un_key", "un_np", "un_sdx")})
        if drop_first:
            v.update({k: None for k in ("fn_list", "fn1", "fn_all", "fn_sdx")})
        queries.append(v)
    records = queries + cand
    for k, r in enumerate(records):
        r["rid"] = k - len(queries)
        if r.get("birth_date") is not None and not hasattr(r["birth_date"], "year"):
            r["birth_date"] = None
    ix = arrays_from_rows(records)
    for field, col in (("birth_name", "bn_np"), ("first_name", "fn1"), ("phone", "phone"), ("address", "address")):
        ix.tf[field] = index.tf(field, pd.Series([r.get(col) for r in records], dtype=object))
    model = index.model
    # Candidates on the left: an exact agreement takes the (shared) value's frequency from them.
    a = np.arange(len(queries), len(queries) + len(cand))
    b = name_prefix.astype(np.int64) + 2 * first_prefix.astype(np.int64)
    levels, tf = compare(ix, a, b)
    w = weights(model, levels, tf)
    total, prob = score(model, w)
    t_match, t_review = index.thresholds
    decision, _rule = decide(prob, levels, t_match, t_review)
    order = np.argsort(-total, kind="stable")[:limit]
    ids = [str(ix.patient_id[a[i]]) for i in order]
    return _Ranked(ids, order, found, levels, w, total, prob, decision, name_prefix, first_prefix, index), date


def search_identities(
    con: duckdb.DuckDBPyConnection,
    actor: Actor,
    *,
    birth_name: str | None = None,
    first_names: str | None = None,
    birth_date: object = None,
    sex: str | None = None,
    birth_place: str | None = None,
    used_name: str | None = None,
    ins: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    postcode: str | None = None,
    limit: int = 10,
) -> pd.DataFrame:
    """Ranked candidates for typed traits: patient_id, score, decision, the identity's values
    and per field level and weight (``explanation``: list of {field, left, right, level, weight},
    left = typed value, right = the candidate's, as in the review queue's comparison).

    Enough to search: an INS; a name and first names; or a birth date with the first letters of
    a name or first name. A typed name or first name that is only the start of the candidate's
    (DUP for DUPONT) is level ``prefix``: it found the candidate and weighs as a missing trait.
    Any trait may be missing on either side."""
    traits = {"birth_name": birth_name, "first_names": first_names, "birth_date": birth_date, "sex": sex,
              "birth_place": birth_place, "used_name": used_name, "ins": ins, "phone": phone, "email": email,
              "postcode": postcode}
    ranked, date = _rank(actor, con, traits, limit)
    if ranked is None:
        _log(con, actor, 0, limit)
        return pd.DataFrame(columns=["patient_id", "score", "decision", "birth_name", "used_name", "first_names",
                                     "birth_date", "sex", "birth_place_code", "explanation"])
    details = pd.DataFrame(ranked.shown_rows())
    details["birth_date"] = pd.to_datetime(details["birth_date"])
    typed = {"birth_name": " / ".join(x for x in (birth_name, used_name) if x) or None,
             "first_names": first_names or None, "birth_date": date.strftime("%d/%m/%Y") if date else None,
             "sex": sex or None, "birth_place": birth_place or None, "ins": ins or None, "phone": phone or None,
             "email": email or None, "address": postcode or None}
    shown = shown_values(con, ranked.ids)
    explanations = []
    for rank, i in enumerate(ranked.order):
        rows = explanation_frame(ranked.index.model, ranked.levels, ranked.w, int(i), typed,
                                 shown.get(ranked.ids[rank], {}), str(ranked.decision[i]), float(ranked.total[i]))
        rows = rows[~rows["field"].isin(["prior", "total"])]
        entries = [{k: _none(v) for k, v in entry.items()} for entry in rows.to_dict("records")]
        for entry in entries:
            if (entry["field"] == "birth_name" and ranked.name_prefix[i]) or (entry["field"] == "first_name"
                                                                               and ranked.first_prefix[i]):
                entry["level"] = "prefix"
        explanations.append(entries)
    details["explanation"] = explanations
    for column, values in ranked.level_names().items():
        details[column] = values
    _log(con, actor, len(details), limit)
    return mask_identities(details, actor)


def match_identities(con: duckdb.DuckDBPyConnection, actor: Actor, *, limit: int = 10,
                     **traits: object) -> list[dict[str, object]]:
    """:func:`search_identities` for a machine (the API's ``$match``): the same candidates,
    scores, decisions and ``level_<field>`` values, as plain dicts and without the explanation
    (no SQL statement but the access-log row). Identity values are emptied as
    :func:`~analytics.identity.masking.mask_identities` does for a role that may not see them."""
    unknown = set(traits) - _TRAITS
    if unknown:
        raise InvalidInput(f"match_identities: unknown trait(s) {sorted(unknown)}")
    ranked, _date = _rank(actor, con, {t: traits.get(t) for t in _TRAITS}, limit)
    rows = [] if ranked is None else ranked.shown_rows()
    if ranked is not None:
        for column, values in ranked.level_names().items():
            for row, value in zip(rows, values, strict=True):
                row[column] = value
    _log(con, actor, len(rows), limit)
    if not may_see_identities(actor):
        rows = [{k: (None if k in IDENTITY_FIELDS else v) for k, v in row.items()} for row in rows]
    return rows


_TRAITS = frozenset({"birth_name", "first_names", "birth_date", "sex", "birth_place", "used_name", "ins", "phone",
                     "email", "postcode"})


def shown_values(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, dict[str, object]]:
    """The values the review queue's comparison shows, for a few patients (no check, no trace:
    callers do both)."""
    if not ids:
        return {}
    cols = ", ".join(f"{expr} AS {name}" for name, expr in SHOWN.items())
    rows = con.execute(f"SELECT patient_id, {cols} FROM patients WHERE list_contains($ids, patient_id)",  # noqa: S608
                       {"ids": ids}).fetchall()
    return {row[0]: dict(zip(SHOWN, row[1:], strict=True)) for row in rows}


def _log(con: duckdb.DuckDBPyConnection, actor: Actor, rows: int, limit: int) -> None:
    from analytics.identity.reviews import log_access

    log_access(con, actor, "view", "search_identities", rows, {"limit": limit})
