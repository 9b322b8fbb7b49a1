"""Search before create: typed traits → ranked candidate identities, with explanations.

Candidates come from the identity index through the same keys as blocking (birth date +
first letters of a name or first name, day/month swapped, Soundex2-FR + year, name + first
name, INS, phone), then are scored by the matching model.
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
from analytics.identity.model import score, weights
from analytics.identity.normalise import normalise_query
from analytics.identity.search_index import get_search_index

__all__ = ["parse_birth_date", "search_identities"]

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
    raise InvalidInput(f"{field}: '{value}' is not a date (expected dd/mm/yyyy)")


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
    left = typed value)."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    if not (birth_name or "").strip() and not (used_name or "").strip():
        raise InvalidInput("search: a birth name (or a used name) is required")
    if not (first_names or "").strip():
        raise InvalidInput("search: first names are required")
    date = parse_birth_date(birth_date)
    if limit < 1:
        raise InvalidInput(f"limit: {limit} must be at least 1")
    # The typed identity is normalised and keyed in Python (the index's rules, tested equal):
    # no SQL statement on the way, candidates come from the in-process search index.
    q = normalise_query(birth_name=birth_name, used_name=used_name, first_names=first_names, birth_date=date,
                        sex=sex, birth_place=birth_place, ins=ins, phone=phone, email=email, postcode=postcode)
    index = get_search_index(con)
    found = index.candidates(np.asarray(python_key_hashes(q), dtype=np.uint64), _MAX_CANDIDATES)
    cand = index.rows.iloc[found]
    records = [q] + [dict(zip(cand.columns, values, strict=True)) for values in cand.itertuples(index=False)]
    for k, r in enumerate(records):
        r["rid"] = k - 1
        if r.get("birth_date") is not None and not hasattr(r["birth_date"], "year"):
            r["birth_date"] = None
    ix = arrays_from_rows(records)
    frame = pd.DataFrame({c: [r.get(c) for r in records] for c in ("bn_np", "fn1", "phone", "address")})
    for field, column in (("birth_name", "bn_np"), ("first_name", "fn1"), ("phone", "phone"), ("address", "address")):
        ix.tf[field] = index.tf(field, frame[column])
    n = ix.n - 1
    model = index.model
    frame_cols = ["patient_id", "score", "decision", "birth_name", "used_name", "first_names",
                  "birth_date", "sex", "birth_place_code", "explanation"]
    if n <= 0:
        return pd.DataFrame(columns=frame_cols)
    # Candidates on the left: an exact agreement takes the (shared) value's frequency from them.
    a = np.arange(1, n + 1)
    b = np.zeros(n, dtype=np.int64)
    levels, tf = compare(ix, a, b)
    w = weights(model, levels, tf)
    total, prob = score(model, w)
    t_match, t_review = index.thresholds
    decision, _rule = decide(prob, levels, t_match, t_review)
    order = np.argsort(-total, kind="stable")[:limit]
    ids = [str(ix.patient_id[a[i]]) for i in order]
    details = index.originals.iloc[found[order]].reset_index(drop=True)
    details.insert(0, "patient_id", ids)
    typed = {"birth_name": " / ".join(x for x in (birth_name, used_name) if x), "first_name": first_names,
             "birth_date": date.strftime("%d/%m/%Y") if date else None, "sex": sex, "birth_place": birth_place,
             "ins": ins, "phone": phone, "email": email, "address": postcode}
    details.insert(1, "score", prob[order].round(6))
    details.insert(2, "decision", decision[order])
    details["explanation"] = [
        [{"field": f, "left": typed[f], "level": FIELDS[f][int(levels[f][i])], "weight": round(float(w[f][i]), 3)}
         for f in FIELDS]
        for i in order
    ]
    for f in FIELDS:
        details[f"level_{f}"] = [FIELDS[f][int(levels[f][i])] for i in order]
    from analytics.identity.reviews import log_access

    log_access(con, actor, "view", "search_identities", len(details), {"limit": limit})
    return details
