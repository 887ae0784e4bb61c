"""Calibration against experiments whose truth the simulator knows (attribution.sim.simulate's causes per conversion)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.kpis.calibrate import calibrate, lift_tests_from_truth, true_window_conversions
from attribution.io.events import Events
from attribution.journeys.journeys import Journeys
from attribution.kpis.report import kpi_table
from attribution.models import default_model_specs, parse_model_spec
from attribution.kpis.result import fit_models
from attribution.sim.simulate import Simulation

MONTHS = [("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31")]  # the 90 days
TESTED = ["paid_search", "display", "email"]
EXCLUDED = ("(none)", "(baseline)")


@pytest.fixture(scope="module")
def world():
    """A world with both causal traps (targeting of likely buyers, navigational arrivals) and every default model."""
    events, truth = Simulation(n_users=12000, targeting=1.0, navigational=0.3).run(seed=7)
    ev = Events.from_frame(events)
    journeys = Journeys.from_events(ev)
    models = fit_models(journeys, [parse_model_spec(s) for s in default_model_specs()])
    table, _, _ = kpi_table(models, journeys, ev)
    return events, truth, ev, journeys, models, table


def credit(table, model):
    rows = table[(table["model"] == model) & ~table["channel"].isin(EXCLUDED)]
    return rows.groupby("channel")["conversions"].sum()


def level_error(table, model, truth) -> float:
    """Σ |credit − true incremental| / Σ true incremental over the channels."""
    true = truth.table.set_index("channel")["conversions"]
    got = credit(table, model).reindex(true.index).fillna(0.0)
    return float((got - true).abs().sum() / true.sum())


def test_true_window_counts_add_up_to_the_truth(world):
    events, truth, *_ = world
    for channel in TESTED:
        parts = [true_window_conversions(events, truth, channel, a, b) for a, b in MONTHS]
        assert sum(parts) == truth.table.set_index("channel").loc[channel, "conversions"]


def test_exact_tests_covering_the_log_give_the_true_credit_for_every_model(world):
    # se 0: f = Σ M / Σ C over the windows, which partition the log's conversions, so f · C = Σ M = the truth
    events, truth, ev, journeys, models, table = world
    tests = [(c, a, b) for c in TESTED for a, b in MONTHS]
    exps = lift_tests_from_truth(events, truth, tests).assign(se=0.0)
    exps["incremental_conversions"] = exps["true_conversions"]
    cal, factors = calibrate(table, exps, models=models, journeys=journeys, events=ev)
    true = truth.table.set_index("channel")["conversions"]
    for spec in default_model_specs():
        got = credit(cal, spec)
        for channel in TESTED:
            assert got[channel] == pytest.approx(true[channel], rel=1e-9)  # float sums of ~10⁴ terms
        assert cal.loc[cal["model"] == spec, "conversions"].sum() == pytest.approx(truth.total_conversions, rel=1e-12)


def test_noisy_tests_match_the_truth_within_their_noise(world):
    events, truth, ev, journeys, models, table = world
    exps = lift_tests_from_truth(events, truth, [(c, a, b) for c in TESTED for a, b in MONTHS], rel_se=0.1, seed=0)
    cal, _ = calibrate(table, exps.drop(columns="true_conversions"), models=models, journeys=journeys, events=ev)
    true = truth.table.set_index("channel")["conversions"]
    sd = exps.groupby("channel")["se"].apply(lambda s: float(np.sqrt((s ** 2).sum())))
    for spec in default_model_specs():
        got = credit(cal, spec)
        for channel in TESTED:
            # calibrated ≈ Σ measured (the pooling weights differ from the credit weights by about 1 sd here), and
            # Σ measured − truth ~ N(0, √Σ se²): 4 sd bounds both (seen: at most 1.5 sd over 4 seeds)
            assert abs(got[channel] - true[channel]) <= 4 * sd[channel], (spec, channel)


def test_one_window_matches_in_its_window(world):
    # one February test per channel: the calibrated credit in that window, f · C_w, is within the test's noise
    events, truth, ev, journeys, models, table = world
    exps = lift_tests_from_truth(events, truth, [(c, *MONTHS[1]) for c in TESTED], rel_se=0.1, seed=1)
    _, factors = calibrate(table, exps.drop(columns="true_conversions"), models=models, journeys=journeys, events=ev)
    for spec in default_model_specs():
        f = factors[factors["model"] == spec].set_index("channel")
        for i, channel in enumerate(TESTED):
            in_window = f.loc[channel, "calibration_factor"] * f.loc[channel, "credited"]
            measured, true, se = (exps[c].iloc[i] for c in ("incremental_conversions", "true_conversions", "se"))
            # the shrinkage moves the window credit from M by (1 − w)|f̂ − m|·C
            # = se·√(1 − w)·|f̂ − m|/√(τ² + v): under 2 se for a channel within 2 between-channel sd of the prior
            assert abs(in_window - measured) <= 2 * se, (spec, channel)
            # and M ~ N(true, se): 4 se for the noise, 6 se in all
            assert abs(in_window - true) <= 6 * se, (spec, channel)


@pytest.mark.parametrize("untested", ["pool", "keep"])
def test_level_error_falls_for_every_model(world, untested):
    events, truth, ev, journeys, models, table = world
    exps = lift_tests_from_truth(events, truth, [(c, a, b) for c in TESTED for a, b in MONTHS], rel_se=0.1, seed=2)
    cal, _ = calibrate(table, exps.drop(columns="true_conversions"), models=models, journeys=journeys, events=ev,
                       untested=untested)
    for spec in default_model_specs():
        before, after = level_error(table, spec, truth), level_error(cal, spec, truth)
        assert after < before, (spec, before, after)
    # the credited totals are the input's: the difference sits in (baseline)
    totals = cal.groupby("model")["conversions"].sum()
    assert np.allclose(totals.to_numpy(), truth.total_conversions)
    assert (cal["channel"] == "(baseline)").sum() == len(default_model_specs())


def test_simulated_tests_are_seeded(world):
    events, truth, *_ = world
    tests = [(c, *MONTHS[0]) for c in TESTED]
    a = lift_tests_from_truth(events, truth, tests, seed=5)
    b = lift_tests_from_truth(events, truth, tests, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert (a["se"] >= 1).all() and (a["incremental_conversions"] >= 0).all()
