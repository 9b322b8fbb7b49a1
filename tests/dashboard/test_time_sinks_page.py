"""Time sinks page: every figure states its settings, and the settings can be changed."""

from __future__ import annotations


def test_changing_the_idle_threshold_relabels_every_figure(app, fresh_warehouse):
    at = app(fresh_warehouse, "viewer").run()
    at.switch_page("views/time_sinks.py").run()
    assert not at.error, [e.value for e in at.error]
    assert at.caption[0].value.startswith("seuil d'inactivité 5 min")
    at.number_input[0].set_value(90)
    next(b for b in at.button if b.label == "Appliquer les réglages").click()
    at.run()
    assert not at.error, [e.value for e in at.error]
    assert at.caption[0].value.startswith("seuil d'inactivité 90 s ·")
    titles = [c.proto.spec for c in at.get("plotly_chart")]
    assert titles and all("seuil d" in spec for spec in titles)
