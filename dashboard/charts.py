"""Plotly figures of the dashboard, built from engine frames (testable without a browser).

Every time figure carries the engine's settings label (idle threshold, after-hours rule) as
its subtitle, so a number is never shown without the rule that produced it.
"""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go

from dashboard.i18n import t

__all__ = [
    "backlog_bar",
    "group_bar",
    "heatmap_hour_weekday",
    "hours_bar",
    "peers_chart",
    "ranking_bar",
    "sparkline",
    "trend_line",
    "waterfall",
]

_BLUE = "#1f5aa6"
_ORANGE = "#d9822b"
_GREY = "#9aa5b1"


def _layout(fig: go.Figure, title: str, label: str | None, height: int = 380) -> go.Figure:
    lines = textwrap.wrap(label, 75) if label else []
    text = title + "".join(f"<br><sup>{line}</sup>" for line in lines)
    fig.update_layout(
        # Title and its subtitle lines pinned to the top of the container, the plot below them.
        title={"text": text, "x": 0, "xanchor": "left", "y": 1, "yref": "container", "yanchor": "top",
               "pad": {"t": 14}},
        height=height + 18 * len(lines),
        margin={"l": 10, "r": 10, "t": 60 + 18 * len(lines), "b": 90},
        legend={"orientation": "h", "y": -0.32, "x": 0, "yanchor": "top"},
        separators=", ",  # French decimal comma, thin-space thousands
    )
    return fig


def hours_bar(frame: pd.DataFrame, category: str, label: str, *, title: str) -> go.Figure:
    """Active hours per category, split into inside and outside scheduled hours."""
    data = frame.sort_values("hours", ascending=True)
    inside = data["hours"] - data["after_hours_hours"].fillna(0)
    fig = go.Figure(
        [
            go.Bar(y=data[category], x=inside, orientation="h", name=t("chart.inside"), marker_color=_BLUE),
            go.Bar(
                y=data[category], x=data["after_hours_hours"], orientation="h",
                name=t("chart.after_hours"), marker_color=_ORANGE,
            ),
        ]
    )
    fig.update_layout(barmode="stack", xaxis_title=t("chart.hours"))
    return _layout(fig, title, label, height=max(300, 40 + 28 * len(data)))


def ranking_bar(frame: pd.DataFrame, category: str, label: str, *, title: str) -> go.Figure:
    """Time sinks ranked by hours per month, with the hours an automation would give back."""
    data = frame.sort_values("hours_per_month", ascending=True)
    fig = go.Figure(
        [
            go.Bar(
                y=data[category], x=data["hours_per_month"], orientation="h",
                name=t("chart.hours_per_month"), marker_color=_GREY,
            ),
            go.Bar(
                y=data[category], x=data["hours_saved_per_month"], orientation="h",
                name=t("chart.hours_saved"), marker_color=_BLUE,
            ),
        ]
    )
    fig.update_layout(barmode="overlay", xaxis_title=t("chart.hours_per_month"))
    return _layout(fig, title, label, height=max(300, 40 + 28 * len(data)))


def heatmap_hour_weekday(cells: pd.DataFrame, label: str, *, title: str) -> go.Figure:
    """Active hours by local hour of day × weekday, from the engine's ``activity_heatmap``
    frame (``weekday`` 1 = Monday … 7, ``hour`` 0–23, ``active_minutes``)."""
    days = [t(f"weekday.{i}") for i in range(7)]
    grid = pd.DataFrame(0.0, index=range(1, 8), columns=range(24))
    if not cells.empty:
        table = (cells["active_minutes"] / 60).groupby([cells["weekday"], cells["hour"]]).sum()
        grid = grid.add(table.unstack(fill_value=0.0), fill_value=0.0)
    fig = go.Figure(
        go.Heatmap(
            z=grid.values, x=[f"{h:02d}h" for h in range(24)], y=days, colorscale="Blues",
            colorbar={"title": t("chart.hours")}, hovertemplate="%{y} %{x} : %{z:.1f} h<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, title, label, height=360)


def sparkline(x: pd.Series, y: pd.Series, *, unit: str, bar: bool = False) -> go.Figure:
    """A small trend under a headline figure, readable on its own: dated x axis (dd/mm), y axis
    with its unit, French decimal comma, the value and the date on hover."""
    trace = go.Bar if bar else go.Scatter
    extra = {} if bar else {"mode": "lines+markers", "line": {"width": 2}}
    fig = go.Figure(trace(x=x, y=y, marker={"color": _BLUE}, hovertemplate=f"%{{x|%d/%m/%Y}} : %{{y}} {unit}"
                          "<extra></extra>", **extra))
    fig.update_xaxes(tickformat="%d/%m", nticks=4, showgrid=False)
    fig.update_yaxes(ticksuffix=f" {unit}", nticks=3, rangemode="tozero")
    fig.update_layout(height=150, margin={"l": 0, "r": 8, "t": 6, "b": 0}, showlegend=False,
                      separators=", ")
    return fig


def trend_line(
    frame: pd.DataFrame, x: str, series: dict[str, str], label: str | None, *, title: str,
    y_title: str | None = None,
) -> go.Figure:
    """One line per ``series`` column (column -> legend text) over the dates in ``x``."""
    fig = go.Figure(
        [go.Scatter(x=frame[x], y=frame[col], mode="lines+markers", name=name) for col, name in series.items()]
    )
    fig.update_xaxes(tickformat="%d/%m/%Y")  # French dates, whatever plotly's locale
    fig.update_layout(yaxis_title=y_title)
    return _layout(fig, title, label, height=340)


def group_bar(
    frame: pd.DataFrame, category: str, value: str, label: str | None, *, title: str,
    highlight: str | None = None, y_title: str | None = None,
) -> go.Figure:
    """One bar per group, sorted, the ``highlight`` group in orange (e.g. the clinician's service)."""
    data = frame.sort_values(value)
    colours = [_ORANGE if g == highlight else _BLUE for g in data[category]]
    fig = go.Figure(go.Bar(x=data[category], y=data[value], marker_color=colours))
    fig.update_layout(yaxis_title=y_title, showlegend=False)
    return _layout(fig, title, label, height=340)


def peers_chart(
    peers: pd.Series, value: float | None, measure: str, label: str, *, title: str, who: str
) -> go.Figure:
    """A clinician or service placed on its peers' distribution (p25, median, p75, p90)."""
    steps = ["p25", "median", "p75", "p90"]
    values = [peers.get(f"{measure}_{s}") for s in steps]
    fig = go.Figure(
        go.Bar(
            x=[t(f"chart.{s}") for s in steps], y=values, marker_color=_GREY, name=t("chart.peers"),
        )
    )
    if value is not None and pd.notna(value):
        fig.add_hline(y=value, line_color=_ORANGE, line_width=3, annotation_text=who)
    fig.update_layout(yaxis_title=t("chart.minutes_per_8h"))
    return _layout(fig, title, label, height=340)


def backlog_bar(frame: pd.DataFrame, category: str, label: str, *, title: str) -> go.Figure:
    """Unsigned documents per group, stacked by age bucket."""
    buckets = [c for c in frame.columns if c.startswith("age_")]
    colours = ["#c6dbef", "#6baed6", "#2171b5", "#08306b"]
    fig = go.Figure(
        [
            go.Bar(x=frame[category], y=frame[b], name=t(f"chart.{b}"), marker_color=colours[i % 4])
            for i, b in enumerate(buckets)
        ]
    )
    fig.update_layout(barmode="stack", yaxis_title=t("chart.documents"))
    return _layout(fig, title, label, height=360)


def waterfall(explanation: pd.DataFrame, *, title: str, prior: float | None = None) -> go.Figure:
    """How each field's agreement or disagreement adds to the match weight (log2 Bayes factor)."""
    fields = list(explanation["field"])
    weights = [float(w) for w in explanation["weight"].fillna(0)]
    x, y, measure = [], [], []
    if prior is not None:
        x.append(t("chart.prior"))
        y.append(prior)
        measure.append("absolute")
    x += fields
    y += weights
    measure += ["relative"] * len(fields)
    x.append(t("chart.total_weight"))
    y.append(0)
    measure.append("total")
    fig = go.Figure(
        go.Waterfall(
            x=x, y=y, measure=measure, increasing={"marker": {"color": "#2e7d32"}},
            decreasing={"marker": {"color": "#c62828"}}, totals={"marker": {"color": _BLUE}},
            hovertemplate="%{x} : %{y:+.2f}<extra></extra>",
        )
    )
    fig.update_layout(yaxis_title=t("chart.weight"), showlegend=False)
    return _layout(fig, title, None, height=360)
