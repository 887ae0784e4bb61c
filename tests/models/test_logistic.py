"""The logistic data-driven model (SPEC 3.3) on a saturated case whose fit is known in closed form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.models import Logistic
from attribution.journeys.paths import PathTable


def test_saturated_two_channel_case():
    """Sets {a}, {b}, {a,b} with conversion rates 0.2, 0.5, 0.6: intercept + two coefficients fit them exactly.

    The counterfactual drops in {a,b} are g_a = p(ab) − p(b) = 0.1 and g_b = p(ab) − p(a) = 0.4, so its 60
    conversions split 12 : 48; the single-channel sets keep theirs: a = 20 + 12 = 32, b = 50 + 48 = 98.
    Revenue of {a,b} (600) splits the same way: a 120, b 480.
    """
    table = pd.DataFrame({"path": ["a", "b", "a > b", ""], "conversions": [20, 50, 60, 7],
                          "nulls": [80, 50, 40, 0], "revenue": [200.0, 500.0, 600.0, 70.0]})
    # rel / abs 1e-4 below: the fit is penalised (C=1e9) and stops at its solver's tolerance, not at the exact rates
    model = Logistic(C=1e9).fit(PathTable.from_frame(table).journeys)
    got = model.attribution_.set_index("channel")
    assert got.loc["a", "conversions"] == pytest.approx(32.0, rel=1e-4)
    assert got.loc["b", "conversions"] == pytest.approx(98.0, rel=1e-4)
    assert got.loc["a", "revenue"] == pytest.approx(320.0, rel=1e-4)
    assert got.loc["(none)", "conversions"] == 7.0  # touchless conversions: (none), and not in the fit
    coef = model.coefficients_.set_index("channel")["coefficient"]
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    assert coef["(intercept)"] == pytest.approx(logit(0.2) + logit(0.5) - logit(0.6), abs=1e-4)


def test_negative_effects_give_no_credit_and_all_zero_drops_split_equally():
    # b lowers the odds: in {a,b} all credit goes to a; {b} alone: its only channel has a zero drop → b gets it all
    table = pd.DataFrame({"path": ["a", "b", "a > b"], "conversions": [50, 10, 30], "nulls": [50, 90, 70]})
    # approx (rel 1e-6): an iterative fit whose counterfactual shares are exact fractions here
    got = Logistic().fit(PathTable.from_frame(table).journeys).attribution_.set_index("channel")["conversions"]
    assert got["a"] == pytest.approx(80.0)
    assert got["b"] == pytest.approx(10.0)


def test_touch_weights_reproduce_the_credit():
    table = pd.DataFrame({"path": ["a > b > a", "b > c", "c", "a"], "conversions": [3, 2, 1, 4],
                          "nulls": [5, 6, 7, 8], "revenue": [30.0, 20.0, 10.0, 40.0]})
    j = PathTable.from_frame(table).journeys
    model = Logistic().fit(j)
    w = model.touch_weights(j)
    # approx: weights normalised per journey, credit summed per channel (rounding only)
    assert np.bincount(j.touch_journey, w) == pytest.approx(np.ones(j.n_journeys))
    credit = np.bincount(j.touch_channel, w * j.conversions[j.touch_journey], minlength=j.n_channels)
    assert credit == pytest.approx(model.attribution_.set_index("channel")["conversions"].to_numpy())


def test_bad_parameter():
    with pytest.raises(ValueError, match="The 'C' parameter of Logistic must be a number > 0. Got 0 instead."):
        Logistic(C=0)
