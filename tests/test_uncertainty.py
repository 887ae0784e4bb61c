"""Bootstrap confidence intervals (SPEC 3.3): reproducible, both computation paths agree, percentiles are right."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.exceptions import ParameterError
from attribution.models import parse_model_spec
from attribution.kpis.uncertainty import bootstrap_intervals, check_ci, resample_counts
from testkit import journeys_of

ROWS = [
    ("a", 0, "touch", "email"), ("a", 1, "touch", "search"), ("a", 2, "conversion", None, 100.0),
    ("b", 0, "touch", "social"), ("b", 1, "conversion", None, 40.0),
    ("c", 0, "touch", "search"), ("c", 0.5, "conversion", None, 10.0),
    ("d", 0, "touch", "email"),
    ("e", 0, "conversion", None, 5.0),
    ("f", 0, "touch", "social"), ("f", 2, "touch", "email"), ("f", 3, "conversion", None, 70.0),
]


@pytest.fixture(scope="module")
def journeys():
    return journeys_of(ROWS)


def fitted(specs, journeys):
    return [parse_model_spec(s).fit(journeys) for s in specs]


def test_same_seed_same_numbers_other_seed_other_numbers(journeys):
    models = fitted(["linear", "shapley:game=rate"], journeys)
    a = bootstrap_intervals(models, journeys, level=0.9, n_boot=50, seed=1)
    b = bootstrap_intervals(models, journeys, level=0.9, n_boot=50, seed=1)
    c = bootstrap_intervals(models, journeys, level=0.9, n_boot=50, seed=2)
    pd.testing.assert_frame_equal(a, b)
    # allclose default: another seed moves the bounds by far more than rounding
    assert not np.allclose(a["conversions_lo"].to_numpy(), c["conversions_lo"].to_numpy()) or not np.allclose(
        a["conversions_hi"].to_numpy(), c["conversions_hi"].to_numpy())


def test_first_touch_interval_equals_a_direct_percentile_computation(journeys):
    """First touch credits each converting journey's conversion to its first channel, so a replicate's email
    credit is Σ_j k_j · [journey j converts and starts with email]: computed here straight from the draw counts."""
    counts = np.vstack([block.copy() for block in resample_counts(journeys.n_journeys, 80, 7)])
    first = journeys.touch_channel[journeys.offsets[:-1][journeys.lengths > 0]]
    starts_email = np.zeros(journeys.n_journeys, bool)
    starts_email[journeys.lengths > 0] = journeys.channel_names[first] == "email"
    per_rep = counts @ (journeys.conversions * starts_email)
    lo, hi = np.quantile(per_rep, [0.025, 0.975])
    got = bootstrap_intervals(fitted(["first_touch"], journeys), journeys, level=0.95, n_boot=80, seed=7)
    row = got.set_index("channel").loc["email"]
    # rel=1e-12: the same replicate sums, computed as a matrix product here (another summation order)
    assert (row["conversions_lo"], row["conversions_hi"]) == pytest.approx((lo, hi), rel=1e-12)


@pytest.mark.parametrize("n_boot", [1, 8, 19])
def test_replicates_are_multinomial_draws_of_all_journeys(n_boot):
    """Each replicate's counts are non-negative integers summing to the number of journeys, drawn the same way
    for the same seed, in blocks of at most REPLICATE_BLOCK."""
    from attribution.kpis.uncertainty import REPLICATE_BLOCK

    blocks = [b.copy() for b in resample_counts(1000, n_boot, 5)]
    assert all(len(b) <= REPLICATE_BLOCK for b in blocks) and sum(len(b) for b in blocks) == n_boot
    counts = np.vstack(blocks)
    assert np.array_equal(counts, np.round(counts)) and (counts >= 0).all()
    assert (counts.sum(axis=1) == 1000).all()
    again = np.vstack([b.copy() for b in resample_counts(1000, n_boot, 5)])
    assert np.array_equal(counts, again)
    # a journey's count is Binomial(1000, 1/1000), variance 0.999; the sample variance of 1000 such counts has a
    # standard deviation of about sqrt((μ4 − σ⁴) / 1000) ≈ sqrt(3 / 1000) ≈ 0.055, so 0.2 is over 3.5 of them
    assert abs(counts.var() - 0.999) < 0.2


@pytest.mark.parametrize("spec", ["markov", "markov:order=2", "markov:order=3,collapse=true"])
def test_markov_replicates_with_kept_chain_windows_equal_refitting(spec, monkeypatch):
    """Markov refits every replicate with its chain's windows and transition keys built once: the same numbers,
    to the last bit, as refitting a fresh model on the reweighted journeys."""
    from test_speed_paths import random_journeys

    j = random_journeys(3000, 6, seed=2)
    models = fitted([spec], j)
    kept = bootstrap_intervals(models, j, level=0.8, n_boot=12, seed=5)
    monkeypatch.setattr(type(models[0]), "replicate_fitter", lambda self, journeys: None)
    refit = bootstrap_intervals(models, j, level=0.8, n_boot=12, seed=5)
    pd.testing.assert_frame_equal(kept, refit, check_exact=True)


@pytest.mark.parametrize("spec", ["linear", "time_decay", "position_based", "shapley"])
def test_fast_path_equals_refitting(spec, journeys, monkeypatch):
    models = fitted([spec], journeys)
    fast = bootstrap_intervals(models, journeys, level=0.8, n_boot=30, seed=3)
    monkeypatch.setattr(type(models[0]), "journey_local", False, raising=False)
    slow = bootstrap_intervals(models, journeys, level=0.8, n_boot=30, seed=3)
    merged = fast.merge(slow, on=["model", "channel"], how="outer", suffixes=("", "_refit")).fillna(0.0)
    for col in ("conversions_lo", "conversions_hi", "revenue_lo", "revenue_hi"):
        # 1e-9: weighted counts vs refitted statistics, the same sums in another order
        assert merged[col].to_numpy() == pytest.approx(merged[col + "_refit"].to_numpy(), rel=1e-9, abs=1e-9)


def test_intervals_bracket_the_estimate_and_touchless_go_to_none(journeys):
    models = fitted(["linear"], journeys)
    iv = bootstrap_intervals(models, journeys, level=0.95, n_boot=200, seed=0).set_index("channel")
    point = models[0].attribution_.set_index("channel")
    assert (iv["conversions_lo"] <= iv["conversions_hi"]).all()
    assert "(none)" in iv.index
    for ch in ("email", "search", "social"):
        assert iv.loc[ch, "conversions_lo"] <= point.loc[ch, "conversions"] <= iv.loc[ch, "conversions_hi"]


@pytest.mark.parametrize("args, fragment", [((1.5, 10, 0), "'ci' option"), ((0.9, 1, 0), "'bootstrap'"),
                                            ((0.9, 10, -1), "'seed'")])
def test_bad_options(args, fragment):
    with pytest.raises(ParameterError, match=fragment):
        check_ci(*args)


def test_cli_ci_columns_and_reproducibility(tmp_events, tmp_path):
    events = tmp_events(ROWS)
    runner = CliRunner()
    outs = []
    for name in ("a.csv", "b.csv"):
        res = runner.invoke(app, ["run", str(events), "-m", "linear", "-m", "last_touch", "--ci", "0.9",
                                  "--bootstrap", "40", "--seed", "5", "-o", str(tmp_path / name)])
        assert res.exit_code == 0, res.output
        outs.append((tmp_path / name).read_bytes())
    assert outs[0] == outs[1]
    table = pd.read_csv(tmp_path / "a.csv")
    cols = list(table.columns)
    assert cols[cols.index("share") + 1: cols.index("share") + 5] == ["conversions_lo", "conversions_hi",
                                                                       "revenue_lo", "revenue_hi"]
    bad = runner.invoke(app, ["run", str(events), "--ci", "95"])
    assert bad.exit_code == 2 and "'--ci' option" in bad.stderr
