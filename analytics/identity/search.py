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
from analytics.identity.comparisons import FIELDS, compare, load_index
from analytics.identity.decide import decide
from analytics.identity.explain import latest_thresholds
from analytics.identity.model import default_model, score, weights
from analytics.identity.normalise import INDEX_COLUMNS, normalise_identity

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
    actor: Actor | None,
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
    if actor is not None:
        require(actor, Permission.VIEW_PATIENT_DATA)
    if not (birth_name or "").strip() and not (used_name or "").strip():
        raise InvalidInput("search: a birth name (or a used name) is required")
    if not (first_names or "").strip():
        raise InvalidInput("search: first names are required")
    date = parse_birth_date(birth_date)
    if limit < 1:
        raise InvalidInput(f"limit: {limit} must be at least 1")
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _hy_q AS SELECT * FROM patients WHERE FALSE""")
    con.execute(
        """INSERT INTO _hy_q (patient_id, birth_name, used_name, first_names, birth_date, sex,
               birth_place_code, ins, identity_status, phone, email, postcode)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PROV', ?, ?, ?)""",
        [_QUERY_ID, birth_name, used_name, first_names, date, sex, birth_place, ins, phone, email, postcode])
    normalise_identity(con, "_hy_q", "_hy_qn", rid_start=-1)
    cols = ", ".join(INDEX_COLUMNS)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hy_cand AS
        SELECT {cols} FROM _hy_qn
        UNION ALL
        (SELECT {', '.join('i.' + c for c in INDEX_COLUMNS)} FROM identity_index i, _hy_qn q
        WHERE (i.birth_date = q.birth_date AND (
                  left(i.bn_np, 3) IN (left(q.bn_np, 3), left(q.un_np, 3))
                  OR left(i.un_np, 3) IN (left(q.bn_np, 3), left(q.un_np, 3))
                  OR left(i.fn1, 3) = left(q.fn1, 3)))
           OR (year(i.birth_date) = year(q.birth_date) AND month(i.birth_date) = day(q.birth_date)
               AND day(i.birth_date) = month(q.birth_date))
           OR (year(i.birth_date) = year(q.birth_date) AND left(i.fn_sdx, 4) = left(q.fn_sdx, 4)
               AND (left(i.bn_sdx, 4) IN (left(q.bn_sdx, 4), left(q.un_sdx, 4))
                    OR left(i.un_sdx, 4) IN (left(q.bn_sdx, 4), left(q.un_sdx, 4))))
           OR ((i.bn_np IN (q.bn_np, q.un_np) OR i.un_np IN (q.bn_np, q.un_np)) AND i.fn1 = q.fn1)
           OR i.ins = q.ins OR i.phone = q.phone OR i.email = q.email
        LIMIT {_MAX_CANDIDATES})
    """)  # noqa: S608 - internal identifiers only
    ix = load_index(con, "_hy_cand", tf_from="identity_index")
    n = ix.n - 1
    from analytics.identity.run import latest_model

    model = latest_model(con) or default_model()
    frame_cols = ["patient_id", "score", "decision", "birth_name", "used_name", "first_names",
                  "birth_date", "sex", "birth_place_code", "explanation"]
    if n <= 0:
        return pd.DataFrame(columns=frame_cols)
    a = np.zeros(n, dtype=np.int64)
    b = np.arange(1, n + 1)
    levels, tf = compare(ix, a, b)
    w = weights(model, levels, tf)
    total, prob = score(model, w)
    t_match, t_review = latest_thresholds(con)
    decision, _rule = decide(prob, levels, t_match, t_review)
    order = np.argsort(-total, kind="stable")[:limit]
    ids = [str(ix.patient_id[b[i]]) for i in order]
    con.execute("CREATE OR REPLACE TEMP TABLE _hy_ids (patient_id VARCHAR, pos INTEGER)")
    con.executemany("INSERT INTO _hy_ids VALUES (?, ?)", [[pid, k] for k, pid in enumerate(ids)])
    details = con.execute("""
        SELECT p.patient_id, p.birth_name, p.used_name, p.first_names, p.birth_date, p.sex,
               p.birth_place_code FROM patients p JOIN _hy_ids USING (patient_id) ORDER BY pos
    """).df()
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
    con.execute("DROP TABLE _hy_q; DROP TABLE _hy_qn; DROP TABLE _hy_cand; DROP TABLE _hy_ids")
    from analytics.identity.reviews import log_access

    log_access(con, actor, "view", "search_identities", len(details), {"limit": limit})
    return details
