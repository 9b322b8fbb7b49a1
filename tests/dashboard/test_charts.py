"""Chart builders: plotly figures from engine-shaped frames, each stating its settings label."""

from __future__ import annotations

import pandas as pd
import pytest

from dashboard import charts

LABEL = "seuil d'inactivité 5 min · hors horaires : planning"
RANKING = pd.DataFrame({
    "document_type": ["CR", "Lettre"], "hours": [10.0, 4.0], "after_hours_hours": [2.0, 1.0],
    "hours_per_month": [5.0, 2.0], "hours_saved_per_month": [1.25, 0.5],
})
# activity_heatmap's shape: ISO weekday (1 = Monday), local hour, active minutes
CELLS = pd.DataFrame({"weekday": [1, 1, 6, 7], "hour": [9, 10, 22, 0], "active_minutes": [60.0, 15.0, 90.0, 0.0]})
BACKLOG = pd.DataFrame({"service": ["Cardio"], "age_0_2d": [3], "age_3_7d": [1], "age_8_30d": [0], "age_over_30d": [2]})
EXPLAIN = pd.DataFrame({"field": ["A priori", "Nom"], "weight": [-8.0, 6.5]})

CASES = [
    ("hours per category, inside and outside hours",
     lambda: charts.hours_bar(RANKING, "document_type", LABEL, title="t"), 2),
    ("ranking with the automation estimate", lambda: charts.ranking_bar(RANKING, "document_type", LABEL, title="t"), 2),
    ("hour x weekday heat map", lambda: charts.heatmap_hour_weekday(CELLS, LABEL, title="t"), 1),
    ("trend lines", lambda: charts.trend_line(
        pd.DataFrame({"period": pd.to_datetime(["2024-06-03", "2024-06-10"]), "wow8": [1.0, 2.0]}),
        "period", {"wow8": "WOW8"}, LABEL, title="t"), 1),
    ("unsigned backlog by age", lambda: charts.backlog_bar(BACKLOG, "service", LABEL, title="t"), 4),
    ("groups with one highlighted", lambda: charts.group_bar(
        pd.DataFrame({"service": ["A", "B"], "wow8": [1.0, 2.0]}), "service", "wow8", LABEL, title="t",
        highlight="B"), 1),
]


@pytest.mark.parametrize(("description", "build", "traces"), CASES, ids=[c[0] for c in CASES])
def test_time_figures_carry_their_settings_label(description, build, traces):
    fig = build()
    assert len(fig.data) == traces, description
    assert "seuil d'inactivité 5 min" in fig.layout.title.text


def test_heat_map_places_iso_weekday_and_hour_in_hours():
    fig = charts.heatmap_hour_weekday(CELLS, LABEL, title="t")
    z = fig.data[0].z
    assert list(fig.data[0].y) == ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    assert (z[0][9], z[0][10], z[5][22]) == pytest.approx((1.0, 0.25, 1.5))  # Monday 09h, 10h; Saturday 22h
    assert sum(map(sum, z)) == pytest.approx(2.75)  # nothing else anywhere


def test_waterfall_ends_with_the_total():
    fig = charts.waterfall(EXPLAIN, title="t")
    assert list(fig.data[0].measure) == ["relative", "relative", "total"]
    assert list(fig.data[0].x)[-1] == "Poids total"


def test_a_sparkline_reads_on_its_own():
    import pandas as pd

    from dashboard.charts import sparkline

    weeks = pd.Series(pd.to_datetime(["2026-09-28", "2026-10-05", "2026-10-12"]))
    figure = sparkline(weeks, pd.Series([1.25, 2.5, 2.0]), unit="h")
    fig = figure.to_plotly_json()
    assert fig["layout"]["yaxis"]["ticksuffix"] == " h" and fig["layout"]["separators"] == ", "
    assert fig["layout"]["xaxis"]["tickformat"] == "%d/%m"
    assert fig["data"][0]["hovertemplate"] == "%{x|%d/%m/%Y} : %{y} h<extra></extra>"
    assert list(figure.data[0].y) == [1.25, 2.5, 2.0]
