"""Why a pair scored what it scored: one row per field, for a waterfall and a side-by-side."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.errors import InvalidInput
from analytics.identity.comparisons import FIELDS, compare, load_index
from analytics.identity.decide import decide, resolve_thresholds
from analytics.identity.model import Model, default_model, score, weights
from analytics.identity.normalise import normalise_identity

__all__ = ["explain_pair", "explanation_frame", "latest_thresholds"]

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


def latest_thresholds(con: duckdb.DuckDBPyConnection) -> tuple[float, float]:
    row = con.execute(
        "SELECT threshold_match, threshold_review FROM match_runs ORDER BY started_at DESC LIMIT 1").fetchone()
    return (float(row[0]), float(row[1])) if row else resolve_thresholds(con, None, None)


def _model(con: duckdb.DuckDBPyConnection) -> Model:
    from analytics.identity.run import latest_model

    return latest_model(con) or default_model()


def explanation_frame(model: Model, levels: dict[str, np.ndarray], w: dict[str, np.ndarray], i: int,
                      left: dict[str, object], right: dict[str, object], decision: str, total: float) -> pd.DataFrame:
    """Rows: prior, one per field, total (``level`` of the total row is the decision)."""
    prior = float(np.log2(model.lam / (1 - model.lam)))
    rows = [{"field": "prior", "left": None, "right": None, "level": "", "weight": round(prior, 3)}]
    for f in FIELDS:
        shown = _FIELD_TO_SHOWN[f]
        rows.append({"field": f, "left": left.get(shown), "right": right.get(shown),
                     "level": FIELDS[f][int(levels[f][i])], "weight": round(float(w[f][i]), 3)})
    rows.append({"field": "total", "left": None, "right": None, "level": decision, "weight": round(total, 3)})
    return pd.DataFrame(rows, columns=["field", "left", "right", "level", "weight"])


def _originals(con: duckdb.DuckDBPyConnection, table: str, patient_id: str) -> dict[str, object]:
    cols = ", ".join(f"{expr} AS {name}" for name, expr in _SHOWN.items())
    row = con.execute(f"SELECT {cols} FROM {table} WHERE patient_id = ?", [patient_id]).fetchone()  # noqa: S608 - internal identifiers only
    if row is None:
        raise InvalidInput(f"patient '{patient_id}' not found")
    return dict(zip(_SHOWN, row, strict=True))


def explain_pair(con: duckdb.DuckDBPyConnection, actor: Actor, patient_id_1: str, patient_id_2: str) -> pd.DataFrame:
    """Field-by-field contribution for a pair: columns field, left, right, level, weight.

    The first row is the prior (log2 odds of a duplicate before looking), the last the total
    match weight, whose ``level`` is the decision; ``df.attrs`` has ``score`` and ``decision``.
    """
    require(actor, Permission.VIEW_PATIENT_DATA)
    if patient_id_1 == patient_id_2:
        raise InvalidInput("explain_pair: the two patient ids are the same")
    # One read of the patients table (each read scans 1M ids at the large sample).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _hy_two_t AS SELECT * FROM patients WHERE patient_id IN (?, ?)",
        [patient_id_1, patient_id_2])
    try:
        left, right = _originals(con, "_hy_two_t", patient_id_1), _originals(con, "_hy_two_t", patient_id_2)
    except InvalidInput:
        con.execute("DROP TABLE _hy_two_t")
        raise
    normalise_identity(con, "_hy_two_t", "_hy_pair")
    ix = load_index(con, "_hy_pair", tf_from="identity_index")
    first = int(np.flatnonzero(ix.patient_id == patient_id_1)[0])
    a, b = np.array([first]), np.array([1 - first])
    model = _model(con)
    levels, tf = compare(ix, a, b)
    w = weights(model, levels, tf)
    total, prob = score(model, w)
    t_match, t_review = latest_thresholds(con)
    reviewed = con.execute(
        "SELECT arg_max(decision, decided_at) FROM pair_reviews WHERE patient_id_1 = ? AND patient_id_2 = ?",
        sorted([patient_id_1, patient_id_2])).fetchone()[0]
    decision, rule = decide(prob, levels, t_match, t_review, np.array([reviewed or ""], dtype=object))
    con.execute("DROP TABLE _hy_two_t; DROP TABLE _hy_pair")
    frame = explanation_frame(model, levels, w, 0, left, right, str(decision[0]), float(total[0]))
    frame.attrs.update(score=float(prob[0]), decision=str(decision[0]), rule=rule[0])
    from analytics.identity.reviews import log_access

    log_access(con, actor, "view", "explain_pair", 2, {"patient_id_1": patient_id_1, "patient_id_2": patient_id_2})
    return frame
