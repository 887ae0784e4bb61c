"""Scoring attribution tables against a ground truth (attribution.sim.evaluate)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.sim.evaluate import channel_errors, compare_to_truth
from attribution.exceptions import ParameterError
from attribution.sim.simulate import Simulation


def _table(model, credits, revenue=None):
    return pd.DataFrame({"model": model, "channel": list(credits), "conversions": list(credits.values()),
                         "revenue": list((revenue or credits).values())})


TRUTH = pd.DataFrame({"channel": ["a", "b", "c", "(baseline)"], "conversions": [5.0, 5.0, 0.0, 40.0],
                      "revenue": [100.0, 300.0, 0.0, 9.0]})


def test_hand_computed_scores():
    """Truth shares (a, b, c) = (.5, .5, 0); model credits (2, 1, 1) + 3 touchless → shares (.5, .25, .25).

    Errors (0, −.25, +.25): mae = .5/3 = 1/6, max .25 at b (first of the ties), over-credited c.
    Spearman of (2, 1, 1) and (5, 5, 0): ranks (3, 1.5, 1.5) and (2.5, 2.5, 1); centred (1, −.5, −.5) and
    (.5, .5, −1); r = .75 / sqrt(1.5 · 1.5) = .5.
    """
    table = _table("m", {"(none)": 3.0, "a": 2.0, "b": 1.0, "c": 1.0})
    score = compare_to_truth(table, TRUTH).iloc[0]
    assert score["model"] == "m"
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert score["mae"] == pytest.approx(1 / 6)
    assert score["max_error"] == pytest.approx(0.25)
    assert score["worst_channel"] == "b"
    assert score["overcredited"] == "c"
    assert score["spearman"] == pytest.approx(0.5)
    err = channel_errors(table, TRUTH).set_index("channel")
    # allclose / approx defaults: hand-computed shares and ratios in floats (a few ulps)
    np.testing.assert_allclose(err["share"], [0.5, 0.25, 0.25])
    np.testing.assert_allclose(err["true_share"], [0.5, 0.5, 0.0])
    assert err.loc["a", "ratio"] == pytest.approx(0.4) and np.isnan(err.loc["c", "ratio"])


def test_revenue_basis():
    """Revenue truth (a, b) = (100, 300) → shares (.25, .75); model revenue (1, 3) matches exactly."""
    table = _table("m", {"a": 1.0, "b": 1.0}, revenue={"a": 1.0, "b": 3.0})
    score = compare_to_truth(table, TRUTH, basis="revenue").iloc[0]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert score["mae"] == pytest.approx(0.0)
    conv = compare_to_truth(table, TRUTH, basis="conversions").iloc[0]
    assert conv["mae"] == pytest.approx(0.0)  # (.5, .5, 0) == (.5, .5, 0 for the missing channel c)


def test_models_keep_their_order_and_proportional_credit_is_perfect():
    table = pd.concat([_table("z_model", {"a": 1.0, "b": 0.0, "c": 1.0}), _table("a_model", {"a": 7.0, "b": 7.0})])
    scores = compare_to_truth(table, TRUTH)
    assert list(scores["model"]) == ["z_model", "a_model"]
    perfect = scores.set_index("model").loc["a_model"]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert perfect["mae"] == pytest.approx(0) and perfect["max_error"] == pytest.approx(0)


def test_simulated_truth_scores_zero_against_itself():
    truth = Simulation(n_users=800).run(seed=1).truth
    as_table = truth.table.assign(model="truth")
    score = compare_to_truth(as_table, truth).iloc[0]
    # abs=1e-12: shares that are equal up to normalisation rounding
    assert score["mae"] == pytest.approx(0, abs=1e-12) and score["spearman"] == pytest.approx(1.0)


def test_first_touch_is_fooled_on_the_sample():
    """On the bundled sample (both traps on) first touch over-credits the awareness channel display most, and
    last touch the navigational direct channel (true effect 0)."""
    from attribution.sim.datasets import sample_events_path, sample_ground_truth
    from attribution.runner import run

    table = run([sample_events_path()], models=["first_touch", "last_touch"]).table
    scores = compare_to_truth(table, sample_ground_truth()).set_index("model")
    assert scores.loc["first_touch", "overcredited"] == "display"
    assert scores.loc["last_touch", "overcredited"] == "direct"
    assert (scores["mae"] > 0).all()


def test_bad_arguments():
    with pytest.raises(ParameterError, match="'basis' parameter"):
        compare_to_truth(_table("m", {"a": 1.0}), TRUTH, basis="profit")
    with pytest.raises(ParameterError, match="'truth' argument"):
        compare_to_truth(_table("m", {"a": 1.0}), [1, 2])
    with pytest.raises(ParameterError, match="'model' column"):
        compare_to_truth(pd.DataFrame({"channel": ["a"], "conversions": [1.0]}), TRUTH)


def test_scorecard_by_hand():
    """Credits (none) 3, a 2, b 1, c 1, (baseline) 9 against true a 5, b 5, c 0 (c has no effect).

    Shares over real channels (.5, .25, .25) against (.5, .5, 0): TVD = ½(0 + .25 + .25) = .25; mean error
    50/3 points; largest 25 points at b; Spearman .5 (as above); zero-effect share .25 (c); level error
    (|2 − 5| + |1 − 5| + |1 − 0|) / 10 = .8; credited 4 of 10 truly incremental. The (baseline) row of the
    model counts in none of them.
    """
    from attribution.sim.evaluate import SCORECARD_COLUMNS, scorecard

    table = _table("m", {"(none)": 3.0, "a": 2.0, "b": 1.0, "c": 1.0, "(baseline)": 9.0})
    card = scorecard(table, TRUTH)
    assert list(card.columns) == list(SCORECARD_COLUMNS)
    row = card.iloc[0]
    assert row["tvd"] == pytest.approx(0.25)
    assert row["mae_points"] == pytest.approx(50 / 3)
    assert row["max_error_points"] == pytest.approx(25.0)
    assert row["worst_channel"] == "b"
    assert row["spearman"] == pytest.approx(0.5)
    assert row["zero_effect_share"] == pytest.approx(0.25)
    assert row["level_error"] == pytest.approx(0.8)
    assert (row["credited"], row["true_incremental"]) == (4.0, 10.0)


def test_scorecard_zero_effect_channels_from_the_simulated_effects():
    """A simulated truth names its zero-effect channels by effect_per_touch (direct has none by default)."""
    from attribution.sim.evaluate import zero_effect_channels

    _, truth = Simulation(n_users=300).run(seed=2)
    assert zero_effect_channels(truth) == ["direct"]
