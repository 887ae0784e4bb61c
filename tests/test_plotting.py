"""Charts: structure (titles, labels, percent axes, one bar per channel × model, error bars with intervals) and
values (what is drawn is what the result tables say); no global matplotlib state is changed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402

from attribution import plotting as P  # noqa: E402
from attribution.kpis.compare import compare_table  # noqa: E402
from attribution.journeys.paths import PathTable  # noqa: E402

TABLE = pd.DataFrame({
    "model": ["a", "a", "a", "b", "b", "b"], "channel": ["(none)", "email", "search", "(none)", "email", "search"],
    "conversions": [4.0, 1.0, 3.0, 4.0, 2.0, 2.0], "revenue": [40.0, 10.0, 30.0, 40.0, 20.0, 20.0],
    "spend": [np.nan, 5.0, 60.0, np.nan, 5.0, 60.0],
})
CI = TABLE.assign(conversions_lo=TABLE["conversions"] - 0.5, conversions_hi=TABLE["conversions"] + 1.0)


@pytest.fixture
def ax():
    fig, axes = plt.subplots()
    yield axes
    plt.close(fig)


def labelled(ax) -> bool:
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def bars(ax):
    return [p for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)]


def test_model_comparison_one_bar_per_channel_and_model_with_the_compare_share(ax):
    assert P.plot_model_comparison(TABLE, ax=ax) is ax
    assert labelled(ax) and isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    assert len(bars(ax)) == 2 * 2  # email, search × a, b: touchless (none) left out
    assert [t.get_text() for t in ax.get_xticklabels()] == ["search", "email"]  # by mean share
    wide = compare_table(TABLE)
    drawn = sorted(round(b.get_height(), 12) for b in bars(ax))
    assert drawn == sorted(round(v, 12) for v in wide[["share_a", "share_b"]].to_numpy().ravel())
    assert all(c.errorbar is None for c in ax.containers)
    assert "a" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_model_comparison_error_bars_and_truth(ax):
    truth = pd.DataFrame({"channel": ["email", "search"], "share": [0.4, 0.6]})
    P.plot_model_comparison(CI, truth=truth, ax=ax)
    assert len(bars(ax)) == 4
    containers = [c for c in ax.containers if isinstance(c, matplotlib.container.BarContainer)]
    assert len(containers) == 2 and all(c.errorbar is not None for c in containers)
    # model a, search: share 3/4, interval (2.5, 4) / 4 → the error bar spans 0.625 .. 1.0
    seg = containers[0].errorbar.lines[2][0].get_segments()
    spans = sorted((round(s[0][1], 12), round(s[1][1], 12)) for s in seg)
    assert (0.625, 1.0) in spans
    lines = [c for c in ax.collections if c.get_label() == "truth"]
    assert len(lines) == 1
    assert sorted(s[0][1] for s in lines[0].get_segments()) == [0.4, 0.6]
    assert "truth" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_model_comparison_touchless_on_request(ax):
    P.plot_model_comparison(TABLE, touchless=True, ax=ax)
    assert "(none)" in [t.get_text() for t in ax.get_xticklabels()] and len(bars(ax)) == 6


def test_share_heatmap_shows_the_compare_shares(ax):
    P.plot_share_heatmap(TABLE, ax=ax)
    assert labelled(ax)
    image = ax.get_images()[0].get_array()
    wide = compare_table(TABLE)
    np.testing.assert_array_equal(np.asarray(image), wide[["share_a", "share_b"]].to_numpy())
    assert {t.get_text() for t in ax.texts} == {"25%", "75%", "50%"}
    colorbar = ax.figure.axes[-1]
    assert isinstance(colorbar.yaxis.get_major_formatter(), PercentFormatter)


@pytest.mark.parametrize("metric", ["roas", "roi", "cpa"])
def test_roi_draws_every_model(ax, metric):
    P.plot_roi(pd.concat([TABLE, TABLE]), metric=metric, ax=ax)  # summed rows: ratios from the sums
    assert labelled(ax)
    assert len(bars(ax)) == 2 * 2
    widths = {(c.get_label(), round(b.get_y() + b.get_height() / 2)): b.get_width()
              for c in ax.containers for b in c}
    search = [t.get_text() for t in ax.get_yticklabels()].index("search")
    expected = {"roas": 30 / 60, "roi": 30 / 60 - 1, "cpa": 60 / 3}[metric]
    assert widths[("a", search)] == pytest.approx(expected, rel=1e-12)  # a ratio of two sums: one rounding
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["a", "b"]


def test_roi_errors_and_one_model(ax):
    with pytest.raises(ValueError, match="metric"):
        P.plot_roi(TABLE, metric="profit", ax=ax)
    with pytest.raises(ValueError, match="spend"):
        P.plot_roi(TABLE.drop(columns="spend"), ax=ax)
    P.plot_roi(TABLE, model="b", ax=ax)
    assert len(bars(ax)) == 2 and "(b)" in ax.get_title()


PERIODS = pd.DataFrame({
    "model": ["m"] * 5, "channel": ["x", "x", "x", "y", "(none)"],
    "campaign": ["c1", "c2", "c1", "c1", "(none)"],
    "period": [pd.Timestamp("2026-01-01").date()] * 2 + [pd.Timestamp("2026-02-01").date()] * 3,
    "conversions": [1.0, 1.0, 4.0, 2.0, 1.0], "revenue": [10.0, 30.0, 40.0, 10.0, 5.0],
    "spend": [10.0, 10.0, 20.0, 5.0, np.nan],
})


def test_kpi_trend_lines_per_channel_ratios_from_sums(ax):
    P.plot_kpi_trend(PERIODS, metric="roas", ax=ax)
    assert labelled(ax)
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assert set(lines) == {"x", "y", "blended"}
    np.testing.assert_allclose(lines["x"], [40 / 20, 40 / 20], rtol=1e-12)  # January: campaigns summed first
    np.testing.assert_allclose(lines["blended"], [40 / 20, 50 / 25], rtol=1e-12)


def test_kpi_trend_share_is_percent_and_model_must_be_chosen(ax):
    P.plot_kpi_trend(PERIODS, metric="share", ax=ax)
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    two = pd.concat([PERIODS, PERIODS.assign(model="n")])
    with pytest.raises(ValueError, match="model="):
        P.plot_kpi_trend(two, ax=ax)
    with pytest.raises(ValueError, match="period"):
        P.plot_kpi_trend(TABLE, ax=ax)


@pytest.fixture(scope="module")
def markov():
    from attribution.models import parse_model_spec

    paths = pd.DataFrame({"path": ["a > b > c", "a > b", "b > a", "c", "c > a"],
                          "conversions": [2.0, 1.0, 0.0, 1.0, 3.0], "nulls": [1.0, 2.0, 1.0, 0.0, 2.0]})
    journeys = PathTable.from_frame(paths).journeys
    return parse_model_spec("markov").fit(journeys), parse_model_spec("markov:order=2").fit(journeys)


def test_removal_effects_bars(ax, markov):
    effects = markov[0].removal_effects_
    P.plot_removal_effects(effects, ax=ax)
    assert labelled(ax) and isinstance(ax.xaxis.get_major_formatter(), PercentFormatter)
    drawn = {t.get_text(): b.get_width() for t, b in zip(ax.get_yticklabels(), bars(ax))}
    assert drawn == dict(zip(effects["channel"], effects["removal_effect"]))


def test_transition_heatmap_and_its_channel_view_at_order_2(ax, markov):
    P.plot_transition_heatmap(markov[0].transition_matrix(), ax=ax)
    assert labelled(ax) and "aggregated" not in ax.get_title()
    first = np.asarray(ax.get_images()[0].get_array())
    assert first.shape == (4, 5)  # (start), a, b, c → a, b, c, (conversion), (null)
    np.testing.assert_allclose(first.sum(axis=1), 1.0, rtol=1e-12)  # each row: probabilities out of a state
    fig, ax2 = plt.subplots()
    P.plot_transition_heatmap(markov[1].transition_graph(), ax=ax2)
    assert "aggregated" in ax2.get_title()
    np.testing.assert_allclose(np.asarray(ax2.get_images()[0].get_array()), first, rtol=1e-12)
    plt.close(fig)


@pytest.mark.parametrize("order", [0, 1])
def test_transition_graph_labels_sit_in_boxes(ax, markov, order):
    model = markov[order]
    P.plot_transition_graph(model.transition_graph(), ax=ax, min_probability=0.0)
    assert ax.get_title()
    nodes = [t for t in ax.texts if t.get_bbox_patch() is not None and t.get_zorder() == 5]
    names = {t.get_text().split("\n")[0] for t in nodes}
    assert names == {"(start)", "a", "b", "c", "(conversion)", "(null)"}  # channel-level at order 2 too
    assert any("convert" in t.get_text() for t in nodes)


def test_funnel_bars_are_the_stage_counts(ax):
    funnel = pd.DataFrame({"by": ["all"], "segment": ["all"], "users": [100], "lead": [40], "lead_rate": [0.4],
                           "customers": [10], "customer_rate": [0.25], "repeat_customers": [1]})
    P.plot_funnel(funnel, ax=ax)
    assert labelled(ax)
    assert [b.get_width() for b in bars(ax)] == [100, 40, 10]
    top_down = sorted(zip(ax.get_yticks(), [t.get_text() for t in ax.get_yticklabels()]), reverse=True)
    assert [name for _, name in top_down] == ["users", "lead", "customers"]
    with pytest.raises(ValueError, match="segment"):
        P.plot_funnel(funnel, segment="nope", ax=ax)


def test_path_lengths_time_lags_and_top_paths(markov):
    from attribution.kpis.pathstats import path_length_distribution, time_lag_distribution, top_paths
    from testkit import journeys_of

    journeys = journeys_of([("u", 0, "touch", "a"), ("u", 2, "touch", "b"), ("u", 3, "conversion", None, 5.0),
                            ("v", 0, "touch", "a"), ("v", 0.5, "conversion", None, 1.0)])
    lengths, lags, top = path_length_distribution(journeys), time_lag_distribution(journeys), top_paths(journeys)
    for draw, frame, values in ((P.plot_path_lengths, lengths, lengths["conversions"]),
                                (P.plot_time_lags, lags, lags["share"]),
                                (P.plot_top_paths, top, top["conversions"])):
        ax = draw(frame)
        assert labelled(ax)
        size = [b.get_height() if draw is not P.plot_top_paths else b.get_width() for b in bars(ax)]
        assert size == values.tolist()
        plt.close(ax.figure)
    ax = P.plot_time_lags(lags)
    assert isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    plt.close(ax.figure)


def test_no_global_state_and_a_new_figure_without_ax():
    before = dict(matplotlib.rcParams)
    figures = plt.get_fignums()
    ax = P.plot_model_comparison(TABLE, value="revenue")
    assert ax.figure.number not in figures
    assert not isinstance(ax.yaxis.get_major_formatter(), PercentFormatter)
    plt.close(ax.figure)
    assert dict(matplotlib.rcParams) == before


@pytest.mark.parametrize("ext", ["png", "svg", "pdf"])
def test_saved_charts_are_reproducible(tmp_path, ext):
    paths = [tmp_path / f"one.{ext}", tmp_path / f"two.{ext}"]
    for path in paths:
        ax = P.plot_model_comparison(CI)
        P.save_chart(ax, str(path))
        plt.close(ax.figure)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    from attribution.exceptions import ParameterError

    with pytest.raises(ParameterError, match="extension"):
        P.save_chart(ax, str(tmp_path / "chart.gif"))
