"""The additive conversion-hazard model (models/hazard.py): hand cases, totals, recovery of a known effect.

The model contract (totals, reruns, renaming, row order, partition merge) is checked for ``hazard`` with every
other model in test_contract.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.io.events import Events
from attribution.exceptions import ParameterError
from attribution.journeys.journeys import Journeys
from attribution.models import credit_table, parse_model_spec
from attribution.models.hazard import Hazard
from attribution.models.hazard_fit import HazardFit
from attribution.sim.simulate import Simulation
from testkit import journeys_of

LN2 = np.log(2.0)


def _fixed(model: Hazard, beta, gamma, channels=("a",)) -> Hazard:
    """A model with hand-set parameters (intent features: 1, log1p(total), log1p(count per channel))."""
    model._fit = HazardFit(np.array(channels, dtype=object), np.asarray(beta, float), np.asarray(gamma, float),
                           [], 0.0, 0.0, 0.0)
    model.attribution_ = pd.DataFrame({"channel": list(channels), "conversions": 0.0, "revenue": 0.0})
    return model


def test_touch_weight_by_hand():
    """One touch of a at day 0, conversion at day 1, one kernel of half-life 1 day (τ = 1/ln 2), β = 0.1,
    μ = 0.01 per day: φ(1) = ln2 · 2^-1 = 0.34657; weight = 0.1 φ(1) / (0.01 + 0.1 φ(1)) = 0.776073."""
    journeys = journeys_of([("u", 0, "touch", "a"), ("u", 1, "conversion", None, 10.0)])
    model = _fixed(Hazard(half_lives="1"), [0.1], [np.log(0.01), 0.0, 0.0])
    phi = LN2 * 0.5
    expected = 0.1 * phi / (0.01 + 0.1 * phi)
    np.testing.assert_allclose(model.touch_weights(journeys), [expected], rtol=1e-12)
    assert expected == pytest.approx(0.776073, abs=1e-6)


def test_two_touches_split_by_kernel_and_pre_window():
    """Touches of a at day 0 and day 2, conversion at day 3 (half-life 1 day, β = 0.1, μ = 0.01):
    kernel values ln2·2^-3 and ln2·2^-1, weights ∝ them over λ = μ + Σ. A third touch 10 minutes before the
    conversion is left out (weight 0) with the default 30-minute pre-window and counts with pre_window=0."""
    rows = [("u", 0, "touch", "a"), ("u", 2, "touch", "a"), ("u", 3 - 10 / 1440, "touch", "a"),
            ("u", 3, "conversion", None, 10.0)]
    journeys = journeys_of(rows)
    k = 0.1 * LN2 * np.array([2.0**-3, 2.0**-1])
    lam = 0.01 + k.sum()
    model = _fixed(Hazard(half_lives="1"), [0.1], [np.log(0.01), 0.0, 0.0])
    np.testing.assert_allclose(model.touch_weights(journeys), np.r_[k / lam, 0.0], rtol=1e-12)
    keep_all = _fixed(Hazard(half_lives="1", pre_window=0), [0.1], [np.log(0.01), 0.0, 0.0])
    w = keep_all.touch_weights(journeys)
    assert w[2] > w[1] > w[0] > 0


def _world(seed, n_users=20000, **kw):
    params = dict(channels=("a", "b"), touch_rate={"a": 2.0, "b": 1.0}, timing={"a": (2.0, 5.0), "b": (2.0, 5.0)},
                  effect={"a": 0.05, "b": 0.0}, decay_days={"a": 2.0, "b": 1.0},
                  campaigns={"a": {None: 1.0}, "b": {None: 1.0}}, targeted_channels=(),
                  navigational_channels={"b": 1.0})
    params.update(kw)
    return Simulation(n_users=n_users, **params).run(seed=seed)


def test_credit_sums_to_totals_with_baseline_and_touch_weights_reproduce_it():
    events, _ = _world(3, n_users=3000)
    journeys = Journeys.from_events(Events.from_frame(events))
    model = parse_model_spec("hazard").fit(journeys)
    table = model.attribution_.set_index("channel")
    assert table["conversions"].sum() == pytest.approx(journeys.total_conversions, rel=1e-12)
    assert table["revenue"].sum() == pytest.approx(journeys.total_revenue, rel=1e-12)
    assert table.loc["(baseline)", "conversions"] > 0
    # per-touch weights: channel credit exactly, the remainder of each journey is the baseline's
    from_weights = credit_table(journeys, model.touch_weights(journeys)).set_index("channel")
    for ch in ("a", "b"):
        assert from_weights.loc[ch, "conversions"] == pytest.approx(table.loc[ch, "conversions"], rel=1e-9)
        assert from_weights.loc[ch, "revenue"] == pytest.approx(table.loc[ch, "revenue"], rel=1e-9)


def test_recovers_a_known_effect_without_confounding():
    """One channel with 0.05 extra conversions per touch (mean delay 2 days) and one with none, 20,000 users,
    no targeting, no navigational touches, unlimited lookback. About 1,700 conversions are caused by a, so the
    Poisson noise of its estimated effect is about 1/sqrt(1700) = 2.4%: 10% is four standard errors. The
    zero-effect channel gets less than 3% of a's credit (about 50 conversions: twice the noise of a's count)."""
    events, truth = _world(7)
    journeys = Journeys.from_events(Events.from_frame(events), lookback_days=None)
    model = parse_model_spec("hazard").fit(journeys)
    table = model.attribution_.set_index("channel")
    assert table.loc["a", "effect_per_touch"] == pytest.approx(0.05, rel=0.10)
    true_a = truth.table.set_index("channel").loc["a", "conversions"]
    assert table.loc["a", "conversions"] == pytest.approx(true_a, rel=0.10)
    assert table.loc["b", "conversions"] < 0.03 * table.loc["a", "conversions"]


@pytest.mark.parametrize("spec", ["hazard:half_lives=x", "hazard:half_lives=-1", "hazard:ridge=-1",
                                  "hazard:pre_window=soon", "hazard:seed=-3"])
def test_bad_parameters(spec):
    with pytest.raises(ParameterError):
        parse_model_spec(spec)


def test_period_campaign_and_detail_keep_the_baseline():
    """Per month, per campaign and in the fact table, what a journey's touch weights leave is (baseline)'s:
    every cut adds up to the model's totals (hand check of additivity, no tolerance beyond float summation)."""
    from attribution.kpis.detail import detail_frame
    from attribution.kpis.report import touch_credit

    events, _ = _world(5, n_users=2000, campaigns={"a": {"x": 0.5, "y": 0.5}, "b": {None: 1.0}})
    journeys = Journeys.from_events(Events.from_frame(events))
    model = parse_model_spec("hazard").fit(journeys)
    fitted = model.attribution_.set_index("channel")["conversions"]
    for period, by in (("month", None), (None, "campaign")):
        cut = touch_credit(model, journeys, period, by).groupby("channel")["conversions"].sum()
        np.testing.assert_allclose(cut.reindex(fitted.index).to_numpy(), fitted.to_numpy(), rtol=1e-9)
    detail = detail_frame([model], journeys)
    by_channel = detail.groupby("channel")["attributed_conversions"].sum()
    np.testing.assert_allclose(by_channel.reindex(fitted.index).to_numpy(), fitted.to_numpy(), rtol=1e-9)
    assert (detail.loc[detail["channel"] == "(baseline)", "touch_ts"].isna()).all()


def test_b2b_world_with_the_default_lookback_beats_the_heuristics():
    """A small B2B world (slow channels, targeting, navigational visits) with the engine's 30-day lookback: the
    lookback drops touches depending on whether a conversion followed, and the hazard fit must not take that for
    an effect. Its share distance to the truth stays far below first touch, last touch, linear and Markov."""
    from attribution.sim.evaluate import scorecard
    from attribution.sim.scenarios import scenario_params

    events, truth = Simulation(n_users=3000, **scenario_params("b2b")).run(seed=4)
    journeys = Journeys.from_events(Events.from_frame(events))  # default lookback: 30 days
    assert journeys.lookback_days == 30
    specs = ("first_touch", "last_touch", "linear", "markov", "hazard")
    table = pd.concat([parse_model_spec(s).fit(journeys).attribution_.assign(model=s) for s in specs])
    tvd = scorecard(table, truth.to_frame()).set_index("model")["tvd"]
    # 0.22: on this world at 3000 users (about 600 truly caused conversions) hazard's TVD over seeds 1-5 is
    # 0.170-0.189 (sd 0.008), so 0.22 is the mean + 5 sd; the four heuristics are 0.278-0.434 on the same seeds
    assert tvd["hazard"] <= 0.22
    # 0.05: the heuristics' best over seeds 1-5 is 0.278, hazard's worst 0.189: a gap of 0.09, 0.05 leaves 5 sd
    assert tvd["hazard"] <= min(tvd[s] for s in specs[:-1]) - 0.05
