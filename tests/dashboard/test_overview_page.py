"""Overview: the duplicate rate and pending pairs come from the engine, exactly."""

from __future__ import annotations

from analytics.access.roles import Actor
from analytics.identity import duplicate_rate
from analytics.warehouse import connect


def test_duplicate_figures_are_the_engine_figures(app, fresh_warehouse):
    con = connect(fresh_warehouse)
    try:
        rate = duplicate_rate(con, Actor("t", "viewer"))
    finally:
        con.close()
    assert rate.numerator and rate.denominator == 43
    at = app(fresh_warehouse, "viewer").run()
    assert not at.error, [e.value for e in at.error]
    assert at.metric[0].value == f"{rate.rate * 100:.2f} %".replace(".", ",")
    # P9001/P9003 (review) and DUPONT/DUPOND P9001/P9002: a match no automatic merge may take (birth
    # name typo, no birth place), which waits for a reviewer too (issue 11, RNIV)
    assert at.metric[1].value == str(rate.pending_reviews) == "2"
    target = "Cible ≤ 1 %" + (" ✅" if rate.meets_target else " ⚠️")
    assert target in [c.value for c in at.caption]


def test_pending_pairs_drop_after_a_decision(app, fresh_warehouse):
    at = app(fresh_warehouse, "manager").run()
    assert at.metric[1].value == "2"
    at.switch_page("views/duplicates.py").run()
    # the decision buttons are bound to the pair they decide (key dup_not_same_<pair>)
    next(b for b in at.button if (b.key or "").startswith("dup_not_same_")).click().run()
    at.switch_page("views/overview.py").run()
    assert at.metric[1].value == "1"
