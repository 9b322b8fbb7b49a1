"""Learning m from the data: EM on training blocks, fixed fields, labels, priors as fallback."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from analytics.access.roles import system_actor
from analytics.identity import find_duplicates, record_review
from analytics.identity.comparisons import FIELDS, load_index
from analytics.identity.model import PRIOR_M, STRICT_TRAITS, estimate_u
from analytics.identity.normalise import build_index
from analytics.identity.training import TRAINING_RULES, em, estimate_m, training_pairs_sql
from analytics.warehouse import connect
from tests.analytics.identity.conftest import MANAGER, insert_patients

FIRST = ["Camille", "Louis", "Jeanne", "Hugo", "Nathalie", "Didier", "Sophie", "Lucie", "Paul", "Emma",
         "Thomas", "Anne", "Julien", "Claire", "Marc", "Alice", "Victor", "Chloe", "Henri", "Agathe"]
LAST = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEROY", "MOREAU",
        "SIMON", "LAURENT", "LEFEBVRE", "MICHEL", "GARCIA", "DAVID", "BERTRAND", "ROUX", "VINCENT", "FOURNIER",
        "MOREL", "GIRARD", "ANDRE", "MERCIER", "DUPONT", "LAMBERT", "BONNET", "FRANCOIS", "MARTINEZ", "LEGRAND"]


def _mixture(n: int, share: float, m_true: dict[str, np.ndarray], u: dict[str, np.ndarray], seed: int = 1):
    """Levels of ``n`` pairs, a ``share`` of them duplicates drawn from ``m_true``, the rest from ``u``."""
    rng = np.random.default_rng(seed)
    same = rng.random(n) < share
    levels = {}
    for f in FIELDS:
        k = len(FIELDS[f]) - 1
        draw_m = rng.choice(k, size=n, p=m_true[f]) + 1
        draw_u = rng.choice(k, size=n, p=u[f]) + 1
        levels[f] = np.where(same, draw_m, draw_u).astype(np.int8)
    return levels, same


def _u() -> dict[str, np.ndarray]:
    out = {}
    for f in FIELDS:
        k = len(FIELDS[f]) - 1
        v = np.full(k, 0.02 / max(k - 1, 1))
        v[0] = 0.98
        out[f] = v / v.sum()
    return out


def test_em_recovers_m_of_the_free_fields_and_leaves_the_fixed_ones():
    u = _u()
    # duplicates that agree less often than the priors say, on fields that are not strict traits
    m_true = {f: np.asarray(PRIOR_M[f], dtype=float) for f in FIELDS}
    m_true["phone"] = np.array([0.5, 0.5])
    m_true["email"] = np.array([0.3, 0.2, 0.5])
    levels, same = _mixture(60_000, 0.05, m_true, u)
    m, lam, rounds, matches = em(levels, u, fixed=("birth_name", "first_name"))
    assert "birth_name" not in m and "first_name" not in m
    assert set(m) == set(FIELDS) - {"birth_name", "first_name"}
    assert m["phone"][1] == pytest.approx(0.5, abs=0.03)  # prior 0.85: learned, not kept
    assert m["email"][2] == pytest.approx(0.5, abs=0.03)
    assert lam == pytest.approx(0.05, rel=0.1)
    assert matches == pytest.approx(same.sum(), rel=0.1)
    assert rounds > 1


def test_em_never_makes_a_strict_trait_disagreement_more_excusable_than_its_prior():
    u = _u()
    m_true = {f: np.asarray(PRIOR_M[f], dtype=float) for f in FIELDS}
    m_true["birth_date"] = np.array([0.3, 0.02, 0.02, 0.04, 0.62])  # a third of duplicates with another date
    levels, _ = _mixture(40_000, 0.05, m_true, u)
    m, *_ = em(levels, u, fixed=("birth_name",))
    assert "birth_date" in STRICT_TRAITS
    assert m["birth_date"][0] == pytest.approx(PRIOR_M["birth_date"][0])
    assert m["birth_date"].sum() == pytest.approx(1.0)


def test_labels_fix_the_posterior_of_the_reviewed_pairs():
    u = _u()
    n = 400
    levels = {f: np.full(n, len(FIELDS[f]) - 1, dtype=np.int8) for f in FIELDS}  # agree on everything
    levels["phone"][:] = 1  # ... but the phone
    free, _ = em(levels, u, fixed=())[:2]
    labels = np.zeros(n, dtype=np.int8)  # a reviewer said: none of them is the same person
    labelled, lam = em(levels, u, fixed=(), labels=labels)[:2]
    assert free["phone"][0] > 0.9  # unlabelled: they look like duplicates with another phone
    # labelled 'not the same': no duplicate to learn from, the prior stays
    assert labelled["phone"] == pytest.approx(np.asarray(PRIOR_M["phone"]), abs=1e-6)


def test_training_rules_each_leave_a_field_to_the_others():
    fixed_everywhere = set.intersection(*(set(r.fixes) for r in TRAINING_RULES))
    assert not fixed_everywhere
    for f in ("birth_name", "first_name", "birth_date", "address"):
        assert any(f not in r.fixes for r in TRAINING_RULES), f


def _population(n_people: int, dup_share: float, seed: int, phone_changes: bool) -> list[dict]:
    rnd = random.Random(seed)
    rows = []
    for i in range(n_people):
        birth = dt.date(1930, 1, 1) + dt.timedelta(days=rnd.randrange(365 * 80))
        base = {"patient_id": f"P{i:06d}", "birth_name": rnd.choice(LAST), "first_names": rnd.choice(FIRST),
                "birth_date": birth.strftime("%d/%m/%Y"), "sex": rnd.choice("MF"),
                "postcode": f"35{rnd.randrange(100):03d}", "address": f"{rnd.randrange(1, 90)} RUE {rnd.choice(LAST)}",
                "phone": f"06{rnd.randrange(10**8):08d}", "identity_status": "PROV"}
        rows.append(base)
        if rnd.random() < dup_share:
            dup = dict(base, patient_id=f"D{i:06d}")
            if phone_changes:  # every duplicate was registered with another phone
                dup["phone"] = f"07{rnd.randrange(10**8):08d}"
            rows.append(dup)
    return rows


def test_estimate_m_learns_from_the_data_and_says_so():
    con = connect(":memory:")
    insert_patients(con, _population(3000, 0.3, seed=3, phone_changes=True))
    build_index(con)
    ix = load_index(con)
    u = estimate_u(ix)
    m, log, learned = estimate_m(con, ix, u)
    text = "\n".join(log)
    assert "rule names:" in text and "rule birth_date:" in text
    # every duplicate here has another phone: the learned m says so, the prior (0.85 agree) does not
    assert m["phone"][0] > 0.8 > PRIOR_M["phone"][0]
    con.close()


def test_too_few_pairs_keep_the_priors_and_the_log_says_so():
    con = connect(":memory:")
    insert_patients(con, _population(30, 0.1, seed=4, phone_changes=False))
    build_index(con)
    ix = load_index(con)
    m, log, learned = estimate_m(con, ix, estimate_u(ix))
    assert all(np.allclose(m[f], PRIOR_M[f]) for f in FIELDS)
    assert any("too few" in line for line in log)
    assert any("prior kept" in line for line in log)
    con.close()


def test_reviewers_decisions_are_labels_of_the_full_run():
    con = connect(":memory:")
    insert_patients(con, _population(3000, 0.3, seed=5, phone_changes=False))
    find_duplicates(con, actor=system_actor())
    pairs = con.execute("SELECT patient_id_1, patient_id_2 FROM match_pairs WHERE decision = 'match' LIMIT 40").fetchall()
    for p1, p2 in pairs:
        record_review(con, MANAGER, p1, p2, "not_same")
    find_duplicates(con, actor=system_actor())
    log = "\n".join(__import__("json").loads(con.execute(
        "SELECT params FROM match_runs ORDER BY started_at DESC LIMIT 1").fetchone()[0])["model"]["log"])
    assert f"labels: 0 pairs reviewed 'same', {len(pairs)} 'not the same'" in log
    con.close()


def test_training_sql_samples_a_share_of_the_pairs():
    con = connect(":memory:")
    insert_patients(con, _population(2000, 0.2, seed=6, phone_changes=False))
    build_index(con)
    count_sql, pairs_sql = training_pairs_sql(TRAINING_RULES[1])
    total = con.execute(count_sql).fetchone()[0]
    every = con.execute(pairs_sql, {"keep": 1.0, "seed": 1}).fetchall()
    half = con.execute(pairs_sql, {"keep": 0.5, "seed": 1}).fetchall()
    assert len(every) == total > 100
    assert 0.4 * total < len(half) < 0.6 * total
    assert all(r1 < r2 for r1, r2 in every)
    con.close()


def test_the_run_report_says_what_was_learned_and_what_kept_its_prior():
    con = connect(":memory:")
    insert_patients(con, _population(3000, 0.3, seed=7, phone_changes=True))
    lines = find_duplicates(con, actor=system_actor()).summary_lines()
    note = next(line for line in lines if line.startswith("model:"))
    assert "m learned from the data" in note and "phone" in note.split("; priors kept")[0]
    assert "priors kept for" in note and "ins" in note.split("; priors kept")[1]  # no INS in these records
    small = connect(":memory:")
    insert_patients(small, _population(12, 0.1, seed=8, phone_changes=False))
    assert "model: priors only (too few pairs to learn m from the data)" in find_duplicates(
        small, actor=system_actor()).summary_lines()
    con.close()
    small.close()
