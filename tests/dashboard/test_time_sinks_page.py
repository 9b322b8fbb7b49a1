"""Time sinks page: every figure states its settings, and the settings can be changed."""

from __future__ import annotations

import base64
import json

import numpy as np


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


def _array(encoded: dict) -> np.ndarray:
    """Plotly's typed-array JSON (``dtype``, base64 ``bdata``, ``shape``) as a numpy array."""
    shape = [int(n) for n in encoded["shape"].split(",")]
    return np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"]).reshape(shape)


def test_heat_map_shows_active_hours_split_by_local_hour(app, warehouse):
    """The fixture's two clinicians work every other minute on Monday 03/06/2024 from
    08:00/08:01 to 10:28/10:29 and from 21:30/21:31 to 22:18/22:19 (Paris): the heat map
    credits each hour the minutes that elapsed in it."""
    at = app(warehouse, "viewer").run()
    at.switch_page("views/time_sinks.py").run()
    assert not at.exception, [e.value for e in at.exception]
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    heat = next(s for s in specs if "Heures actives par heure et jour" in s["layout"]["title"]["text"])
    assert "seuil d'inactivité 5 min" in heat["layout"]["title"]["text"]
    assert heat["data"][0]["y"][0] == "lundi"
    z = _array(heat["data"][0]["z"])
    expected = {8: 119, 9: 120, 10: 57, 21: 59, 22: 37}  # minutes, both clinicians
    assert [round(v * 60, 6) for v in z[0]] == [expected.get(h, 0) for h in range(24)]
    assert all(v == 0 for row in z[1:] for v in row)


def test_the_page_states_its_purpose_and_keeps_individual_figures_behind_a_permission(app, warehouse):
    at = app(warehouse, "viewer").run()
    at.switch_page("views/time_sinks.py").run()
    assert not at.exception, [e.value for e in at.exception]
    infos = [i.value for i in at.info]
    assert any(v.startswith("Finalité : organiser le travail") for v in infos)
    assert any("autorisation donnée explicitement" in v for v in infos)
    assert not [ti for ti in at.text_input if ti.key == "ts_reason"]


def test_an_admin_states_a_reason_and_the_view_is_logged(app, warehouse):
    from tests.dashboard.conftest import query

    at = app(warehouse, "admin").run()
    at.switch_page("views/time_sinks.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(v.startswith("Indiquez un motif") for v in (i.value for i in at.info))
    next(ti for ti in at.text_input if ti.key == "ts_reason").set_value("répartir les consultations").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s for s in at.selectbox if s.key == "ts_who"]
    rows = query(warehouse, "SELECT action, object, detail FROM access_log WHERE object = 'timesinks_clinicians'")
    assert rows and rows[-1][0] == "view" and "répartir les consultations" in rows[-1][2]
