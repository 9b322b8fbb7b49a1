"""Why a pair scored what it scored: one row per field, for a waterfall and a side-by-side."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.identity.comparisons import FIELDS, compare, load_index
from analytics.identity.decide import auto_merge_eligible, decide, resolve_thresholds
from analytics.identity.masking import mask_identities
from analytics.identity.model import Model, default_model, score, weights
from analytics.identity.normalise import normalise_identity

__all__ = ["explain_pair", "explain_pairs", "explanation_frame", "latest_thresholds"]

#: Original (not normalised) values shown for each field.
_SHOWN: dict[str, str] = {
    "birth_name": "concat_ws(' / ', birth_name, nullif(used_name, ''))",
    "first_names": "concat_ws(' / ', first_names, nullif(used_first_name, ''))",
    "birth_date": "strftime(birth_date, '%d/%m/%Y')",
    "sex": "sex",
    "birth_place": "birth_place_code",
    "ins": "concat_ws(' ', ins, '(' || identity_status || ')')",
    "phone": "phone",
    "email": "email",
    "address": "concat_ws(' ', address, postcode, city)",
}
_FIELD_TO_SHOWN = dict(zip(FIELDS, _SHOWN, strict=True))
#: RNIV identity attributes (DOUT, FICT, HOMD, HOMA...): a row of the explanation, weight 0; the
#: guards they drive are in ``decide`` (the decision's rule names them).
_ATTRIBUTES = "identity_attributes"


def latest_thresholds(con: duckdb.DuckDBPyConnection) -> tuple[float, float]:
    row = con.execute(
        "SELECT threshold_match, threshold_review FROM match_runs ORDER BY started_at DESC LIMIT 1").fetchone()
    return (float(row[0]), float(row[1])) if row else resolve_thresholds(con, None, None)


def _model(con: duckdb.DuckDBPyConnection) -> Model:
    from analytics.identity.run import latest_model

    return latest_model(con) or default_model()


def explanation_frame(model: Model, levels: dict[str, np.ndarray], w: dict[str, np.ndarray], i: int,
                      left: dict[str, object], right: dict[str, object], decision: str, total: float) -> pd.DataFrame:
    """Rows: prior, one per field, the identity attributes (HOMD, FICT... of either record; weight
    0, level ``attr_flagged`` or ``missing``), total (``level`` of the total row is the decision)."""
    prior = float(np.log2(model.lam / (1 - model.lam)))
    rows = [{"field": "prior", "left": None, "right": None, "level": "", "weight": round(prior, 3)}]
    for f in FIELDS:
        shown = _FIELD_TO_SHOWN[f]
        rows.append({"field": f, "left": left.get(shown), "right": right.get(shown),
                     "level": FIELDS[f][int(levels[f][i])], "weight": round(float(w[f][i]), 3)})
    la, ra = left.get(_ATTRIBUTES), right.get(_ATTRIBUTES)
    rows.append({"field": "attributes", "left": la, "right": ra, "level": "attr_flagged" if la or ra else "missing",
                 "weight": 0.0})
    rows.append({"field": "total", "left": None, "right": None, "level": decision, "weight": round(total, 3)})
    return pd.DataFrame(rows, columns=["field", "left", "right", "level", "weight"])


def _originals(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, dict[str, object]]:
    """The shown values of every patient of ``table``, by patient id."""
    shown = {**_SHOWN, _ATTRIBUTES: "nullif(identity_attributes, '')"}
    cols = ", ".join(f"{expr} AS {name}" for name, expr in shown.items())
    rows = con.execute(f"SELECT patient_id, {cols} FROM {table}").fetchall()  # noqa: S608 - internal identifiers only
    return {row[0]: dict(zip(shown, row[1:], strict=True)) for row in rows}


def explain_pairs(
    con: duckdb.DuckDBPyConnection, actor: Actor, pairs: list[tuple[str, str]] | tuple[tuple[str, str], ...],
) -> list[pd.DataFrame]:
    """:func:`explain_pair` for several pairs at the cost of one: the patients table, the
    normalisation and the term frequencies (a scan of the 1M-row index) are read once for all.

    The dashboard explains a page of the queue at once, so the next pair after a decision is
    already explained. One access-log row lists the pairs.
    """
    require(actor, Permission.VIEW_PATIENT_DATA)
    pairs = [(str(a), str(b)) for a, b in pairs]
    if not pairs:
        return []
    if any(a == b for a, b in pairs):
        raise InvalidInput("explain_pair: the two patient ids are the same")
    frames = _explain(con, pairs)
    detail = ({"patient_id_1": pairs[0][0], "patient_id_2": pairs[0][1]} if len(pairs) == 1
              else {"pairs": [list(p) for p in pairs]})
    from analytics.identity.reviews import log_access

    log_access(con, actor, "view", "explain_pair", 2 * len(pairs), detail)
    return [mask_identities(frame, actor) for frame in frames]


def _explain(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]) -> list[pd.DataFrame]:
    ids = list(dict.fromkeys(p for pair in pairs for p in pair))
    # One read of the patients table (each read scans 1M ids at the large sample).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _hy_two_t AS SELECT * FROM patients WHERE patient_id IN (SELECT unnest($ids))",
        {"ids": ids})
    shown = _originals(con, "_hy_two_t")
    missing = [p for p in ids if p not in shown]
    if missing:
        con.execute("DROP TABLE _hy_two_t")
        raise InvalidInput(f"patient '{missing[0]}' not found")
    normalise_identity(con, "_hy_two_t", "_hy_pair")
    ix = load_index(con, "_hy_pair", tf_from="identity_index")
    position = {pid: i for i, pid in enumerate(ix.patient_id)}
    a = np.array([position[p] for p, _ in pairs])
    b = np.array([position[q] for _, q in pairs])
    model = _model(con)
    levels, tf = compare(ix, a, b)
    w = weights(model, levels, tf)
    total, prob = score(model, w)
    t_match, t_review = latest_thresholds(con)
    keys = [sorted(pair) for pair in pairs]
    latest = dict(((p1, p2), d) for p1, p2, d in con.execute(
        """SELECT patient_id_1, patient_id_2, arg_max(decision, decided_at) FROM pair_reviews
           WHERE list_contains($keys, [patient_id_1, patient_id_2]) GROUP BY ALL""", {"keys": keys}).fetchall())
    reviewed = np.array([latest.get(tuple(k), "") or "" for k in keys], dtype=object)
    decision, rule = decide(prob, levels, t_match, t_review, reviewed, attributes=(ix.attrs[a], ix.attrs[b]))
    auto = auto_merge_eligible(levels, decision, rule)
    con.execute("DROP TABLE _hy_two_t; DROP TABLE _hy_pair")
    frames = []
    for k, (p, q) in enumerate(pairs):
        frame = explanation_frame(model, levels, w, k, shown[p], shown[q], str(decision[k]), float(total[k]))
        frame.attrs.update(score=float(prob[k]), decision=str(decision[k]), rule=rule[k], auto_merge=bool(auto[k]))
        frames.append(frame)
    return frames


def explain_pair(con: duckdb.DuckDBPyConnection, actor: Actor, patient_id_1: str, patient_id_2: str) -> pd.DataFrame:
    """Field-by-field contribution for a pair: columns field, left, right, level, weight.

    The first row is the prior (log2 odds of a duplicate before looking), the last the total
    match weight, whose ``level`` is the decision; ``df.attrs`` has ``score``, ``decision``, ``rule``
    (the guard that fired, if any) and ``auto_merge`` (eligible for a merge without a reviewer).
    """
    return explain_pairs(con, actor, [(patient_id_1, patient_id_2)])[0]
