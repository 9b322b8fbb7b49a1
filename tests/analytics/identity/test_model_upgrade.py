"""A model stored by an older Hygie (fitted on other comparison levels) is not used."""

from __future__ import annotations

import json

from analytics.access.roles import system_actor
from analytics.identity import explain_pair, find_duplicates
from analytics.identity.comparisons import FIELDS
from analytics.identity.run import latest_model


def _age_the_stored_model(con) -> None:
    """Rewrite the latest run's model as a Hygie with one level fewer per name field stored it."""
    run_id, params = con.execute("SELECT match_run_id, params FROM match_runs ORDER BY started_at DESC LIMIT 1").fetchone()
    params = json.loads(params)
    for field in ("birth_name", "first_name"):
        stored = params["model"]["fields"][field]
        for key in ("levels", "m", "u", "u_random"):
            stored[key] = stored[key][:-1]
    con.execute("UPDATE match_runs SET params = ? WHERE match_run_id = ?", [json.dumps(params), run_id])


def test_a_model_of_other_levels_falls_back_to_the_priors(cases_con) -> None:
    find_duplicates(cases_con, actor=system_actor())
    model = latest_model(cases_con)
    assert model is not None and all(len(model.m[f]) == len(FIELDS[f]) - 1 for f in FIELDS)
    pair = cases_con.execute("SELECT patient_id_1, patient_id_2 FROM match_pairs LIMIT 1").fetchone()
    _age_the_stored_model(cases_con)
    assert latest_model(cases_con) is None
    # an explanation still works (priors) instead of failing on the shorter weight tables
    frame = explain_pair(cases_con, system_actor(), *pair)
    assert "total" in frame["field"].tolist()
