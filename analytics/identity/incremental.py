"""Incremental matching: newly imported patients against the existing index.

Only pairs involving a new identity are blocked and compared; the stored levels of the
existing pairs are rescored (term frequencies move when patients arrive), clusters are rebuilt
from all match edges. The model (m, u, lambda) of the latest full run is kept, so the result
equals a full run made with that same model (tested).

Known limit: a block that grows past ``max_block`` with the newcomers keeps its old pairs here,
while a full run would drop them; patients edited in place after indexing are not re-read
(run ``find_duplicates`` for those).
"""

from __future__ import annotations

import json
import time
import uuid

import duckdb
import numpy as np
import pandas as pd

from analytics.access.roles import Actor, Permission, require
from analytics.identity import blocking
from analytics.identity.comparisons import FIELDS, load_index
from analytics.identity.normalise import INDEX_COLUMNS, normalise_identity
from analytics.identity.run import (
    MatchSummary,
    find_duplicates,
    held_matches,
    latest_model,
    store_results,
    surplus_records,
)
from analytics.identity.scoring import ScoredPairs, cluster_labels, score_pairs

__all__ = ["match_new_patients"]


def match_new_patients(
    con: duckdb.DuckDBPyConnection, *, actor: Actor, max_block: int | None = None,
) -> MatchSummary:
    """Match active patients missing from the identity index; a full run if there is none."""
    require(actor, Permission.VIEW_PATIENT_DATA)
    model = latest_model(con)
    last = con.execute(
        "SELECT threshold_match, threshold_review, params FROM match_runs ORDER BY started_at DESC LIMIT 1").fetchone()
    if model is None or last is None:
        return find_duplicates(con, actor=actor)
    t_match, t_review = float(last[0]), float(last[1])
    if max_block is None:
        max_block = int(json.loads(last[2]).get("max_block", 50))
    t0 = time.perf_counter()
    started = pd.Timestamp.now(tz="UTC")
    run_id = uuid.uuid4().hex[:12]
    # Records merged away (inactive) since the index was built leave it, with their pairs.
    con.execute("""
        DELETE FROM identity_index WHERE patient_id NOT IN (SELECT patient_id FROM patients WHERE active)""")
    con.execute("""DELETE FROM match_pairs WHERE patient_id_1 NOT IN (SELECT patient_id FROM identity_index)
                   OR patient_id_2 NOT IN (SELECT patient_id FROM identity_index)""")
    start = con.execute("SELECT coalesce(max(rid) + 1, 0) FROM identity_index").fetchone()[0]
    con.execute("""CREATE OR REPLACE TEMP TABLE _hy_fresh AS SELECT p.* FROM patients p
                   WHERE p.active AND p.patient_id NOT IN (SELECT patient_id FROM identity_index)""")
    added = normalise_identity(con, "_hy_fresh", "_hy_fresh_n", rid_start=start)
    con.execute(f"INSERT INTO identity_index SELECT {', '.join(INDEX_COLUMNS)} FROM _hy_fresh_n")  # noqa: S608 - internal identifiers only
    con.execute("DROP TABLE _hy_fresh; DROP TABLE _hy_fresh_n")
    report = blocking.candidate_pairs(con, max_block=max_block, new_from_rid=start)
    ix = load_index(con)
    d = con.execute("SELECT r1, r2 FROM _hy_pairs").fetchnumpy()
    a_new = ix.positions(np.asarray(d["r1"], dtype=np.int64))
    b_new = ix.positions(np.asarray(d["r2"], dtype=np.int64))
    new = score_pairs(con, ix, a_new, b_new, model, t_match, t_review)
    # Existing pairs: stored levels, rescored with today's term frequencies.
    old = con.execute(f"""
        SELECT a.rid AS r1, b.rid AS r2, {', '.join('m.' + f for f in FIELDS)}
        FROM match_pairs m JOIN identity_index a ON a.patient_id = m.patient_id_1
        JOIN identity_index b ON b.patient_id = m.patient_id_2
    """).df()  # noqa: S608 - internal identifiers only
    a_old = ix.positions(old["r1"].to_numpy(np.int64))
    b_old = ix.positions(old["r2"].to_numpy(np.int64))
    levels_old = {f: pd.Categorical(old[f], categories=list(FIELDS[f])).codes.astype(np.int8) for f in FIELDS}
    kept = score_pairs(con, ix, a_old, b_old, model, t_match, t_review, levels=levels_old)
    sp = ScoredPairs(
        a=np.concatenate([kept.a, new.a]), b=np.concatenate([kept.b, new.b]),
        levels={f: np.concatenate([kept.levels[f], new.levels[f]]) for f in FIELDS},
        tf={f: np.concatenate([kept.tf[f], new.tf[f]]) for f in kept.tf},
        match_weight=np.concatenate([kept.match_weight, new.match_weight]),
        score=np.concatenate([kept.score, new.score]),
        decision=np.concatenate([kept.decision, new.decision]),
        rule=np.concatenate([kept.rule, new.rule]),
    )
    labels = cluster_labels(con, ix, sp, model, t_match, t_review)
    n_clusters = store_results(con, run_id, ix, sp, labels)
    summary = MatchSummary(
        match_run_id=run_id, patients=ix.n, candidate_pairs=len(sp.a),
        matches=int((sp.decision == "match").sum()), reviews=int((sp.decision == "review").sum()),
        clusters=n_clusters, threshold_match=t_match, threshold_review=t_review,
        seconds=round(time.perf_counter() - t0, 3), blocking={**report, "new_patients": added},
        held=held_matches(sp),
    )
    con.execute(
        """INSERT INTO match_runs (match_run_id, started_at, finished_at, kind, actor, threshold_match,
               threshold_review, patients, candidate_pairs, matches, reviews, clusters, params, blocking_report)
           VALUES (?, ?, now(), 'incremental', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [run_id, started, actor.username if actor else "system", t_match, t_review, ix.n, len(sp.a),
         summary.matches, summary.reviews, n_clusters,
         json.dumps({"max_block": max_block, "surplus_records": surplus_records(labels)}),
         json.dumps(summary.blocking)])
    return summary
