"""Search before create: typed traits → ranked candidate identities, with explanations.

Candidates come from the identity index through the same keys as blocking (birth date +
first letters of a name or first name, day/month swapped, Soundex2-FR + year, name + first
name, INS, phone) and, for a search without a birth date, name + first name (exact or
Soundex2-FR), then are scored by the matching model and explained as the review queue does.
"""

from __future__ import annotations

import datetime as dt

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
from analytics.identity.masking import mask_identities
from analytics.identity.model import score, weights
from analytics.identity.normalise import normalise_query
from analytics.identity.search_index import get_search_index

__all__ = ["parse_birth_date", "search_identities", "shown_values"]

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
    require(actor, Permission.VIEW_PATIENT_DATA)
    date = parse_birth_date(birth_date)
    if limit < 1:
        raise InvalidInput(f"limit: {limit} must be at least 1")
    _enough(birth_name, used_name, first_names, date, ins)
    # The typed identity is normalised and keyed in Python (the index's rules, tested equal):
    # no SQL statement on the way, candidates come from the in-process search index.
    q = normalise_query(birth_name=birth_name, used_name=used_name, first_names=first_names, birth_date=date,
                        sex=sex, birth_place=birth_place, ins=ins, phone=phone, email=email, postcode=postcode)
    index = get_search_index(con)
    found = index.candidates(np.asarray(python_key_hashes(q), dtype=np.uint64), _MAX_CANDIDATES)
    found = index.with_names(found, q, _MAX_CANDIDATES)
    cand = index.rows.iloc[found]
    frame_cols = ["patient_id", "score", "decision", "birth_name", "used_name", "first_names",
                  "birth_date", "sex", "birth_place_code", "explanation"]
    if len(cand) == 0:
        _log(con, actor, 0, limit)
        return pd.DataFrame(columns=frame_cols)
    # Four versions of the query: as typed, without its name, without its first names, without
    # both; a candidate is compared with the one that drops what was typed as a mere start.
    name_prefix = _prefix(q["bn_np"], cand["bn_np"].to_numpy(dtype=object)) | _prefix(
        q["bn_np"], cand["un_np"].to_numpy(dtype=object))
    first_prefix = _prefix(q["fn1"], cand["fn1"].to_numpy(dtype=object))
    queries = []
    for drop_name, drop_first in ((False, False), (True, False), (False, True), (True, True)):
        v = dict(q)
        if drop_name:
            v.update({k: None for k in ("bn", "bn_key", "bn_np", "bn_sdx", "un", "un_key", "un_np", "un_sdx")})
        if drop_first:
            v.update({k: None for k in ("fn_list", "fn1", "fn_all", "fn_sdx")})
        queries.append(v)
    records = queries + [{k: _none(v) for k, v in zip(cand.columns, values, strict=True)}
                         for values in cand.itertuples(index=False)]
    for k, r in enumerate(records):
        r["rid"] = k - len(queries)
        if r.get("birth_date") is not None and not hasattr(r["birth_date"], "year"):
            r["birth_date"] = None
    ix = arrays_from_rows(records)
    frame = pd.DataFrame({c: [r.get(c) for r in records] for c in ("bn_np", "fn1", "phone", "address")})
    for field, column in (("birth_name", "bn_np"), ("first_name", "fn1"), ("phone", "phone"), ("address", "address")):
        ix.tf[field] = index.tf(field, frame[column])
    n = len(cand)
    model = index.model
    # Candidates on the left: an exact agreement takes the (shared) value's frequency from them.
    a = np.arange(len(queries), len(queries) + n)
    b = name_prefix.astype(np.int64) + 2 * first_prefix.astype(np.int64)
    levels, tf = compare(ix, a, b)
    w = weights(model, levels, tf)
    total, prob = score(model, w)
    t_match, t_review = index.thresholds
    decision, _rule = decide(prob, levels, t_match, t_review)
    order = np.argsort(-total, kind="stable")[:limit]
    ids = [str(ix.patient_id[a[i]]) for i in order]
    details = index.originals.iloc[found[order]].reset_index(drop=True)
    for column in ("birth_name", "used_name", "first_names", "sex", "birth_place_code"):
        details[column] = [_none(v) for v in details[column]]  # a missing trait is None, not NaN
    details.insert(0, "patient_id", ids)
    details.insert(1, "score", prob[order].round(6))
    details.insert(2, "decision", decision[order])
    typed = {"birth_name": " / ".join(x for x in (birth_name, used_name) if x) or None,
             "first_names": first_names or None, "birth_date": date.strftime("%d/%m/%Y") if date else None,
             "sex": sex or None, "birth_place": birth_place or None, "ins": ins or None, "phone": phone or None,
             "email": email or None, "address": postcode or None}
    shown = shown_values(con, ids)
    explanations = []
    for rank, i in enumerate(order):
        rows = explanation_frame(model, levels, w, int(i), typed, shown.get(ids[rank], {}), str(decision[i]),
                                 float(total[i]))
        rows = rows[~rows["field"].isin(["prior", "total"])]
        entries = [{k: _none(v) for k, v in entry.items()} for entry in rows.to_dict("records")]
        for entry in entries:
            if (entry["field"] == "birth_name" and name_prefix[i]) or (entry["field"] == "first_name"
                                                                        and first_prefix[i]):
                entry["level"] = "prefix"
        explanations.append(entries)
    details["explanation"] = explanations
    for f in FIELDS:
        details[f"level_{f}"] = [e["level"] for entries in explanations for e in entries if e["field"] == f]
    _log(con, actor, len(details), limit)
    return mask_identities(details, actor)


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
