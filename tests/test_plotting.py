"""Plots return their axes, draw what the table says, and never touch global state."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from attribution.plotting import plot_model_comparison, plot_roi  # noqa: E402

TABLE = pd.DataFrame({
    "model": ["a", "a", "b", "b"], "channel": ["email", "search", "email", "search"],
    "conversions": [1.0, 3.0, 2.0, 2.0], "revenue": [10.0, 30.0, 20.0, 20.0], "spend": [5.0, 60.0, 5.0, 60.0],
})


def test_model_comparison_bars_are_the_shares():
    fig, ax = plt.subplots()
    assert plot_model_comparison(TABLE, ax=ax, truth=pd.DataFrame({"channel": ["email", "search"],
                                                                     "share": [0.5, 0.5]})) is ax
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == sorted([0.25, 0.75, 0.5, 0.5, 0.5, 0.5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "truth"]
    plt.close(fig)


def test_roi_bars_are_recomputed_from_sums():
    fig, ax = plt.subplots()
    plot_roi(pd.concat([TABLE, TABLE]), model="a", metric="roi", ax=ax)
    widths = {t.get_text(): p.get_width() for t, p in zip(ax.get_yticklabels(), ax.patches)}
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert widths == pytest.approx({"search": 30 / 60 - 1, "email": 10 / 5 - 1})
    with pytest.raises(ValueError, match="metric"):
        plot_roi(TABLE, metric="cpa", ax=ax)
    plt.close(fig)


def test_creates_its_own_figure_without_ax():
    before = plt.get_fignums()
    ax = plot_model_comparison(TABLE, value="revenue")
    assert ax.figure.number not in before
    plt.close(ax.figure)


def test_transition_graph_draws_the_fitted_chain():
    from attribution.models import parse_model_spec
    from attribution.journeys.paths import PathTable
    from attribution.plotting import plot_transition_graph

    paths = pd.DataFrame({"path": ["a > b", "b"], "conversions": [3, 1], "nulls": [1, 5]})
    graph = parse_model_spec("markov").fit(PathTable.from_frame(paths).journeys).transition_graph()
    fig, ax = plt.subplots()
    assert plot_transition_graph(graph, ax=ax, min_probability=0.0) is ax
    labels = {t.get_text() for t in ax.texts}
    assert {"a", "b"} <= labels
    plt.close(fig)
