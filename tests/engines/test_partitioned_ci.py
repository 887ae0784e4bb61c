"""``--ci`` on a partitioned run: Poisson-bootstrap intervals (attribution/uncertainty.py, "Partitioned runs").

The partitioned intervals cannot equal the in-memory ones (those draw one multinomial over all journeys), so
what is tested is what must hold instead:

- the same seed gives the same intervals whatever the number of buckets (2, 7) — to 1e-9 — and another seed
  other intervals;
- each replicate is exactly Σ_j k_jb · credit_j with k_jb = ``poisson_draws`` (recomputed here from the whole
  log's journeys, not from partitions);
- the draws have the Poisson(1) moments and do not depend on the partition a journey is in;
- intervals cover: on simulated data with a known expected credit, 90% intervals cover it about 90% of the time;
- widths agree with the in-memory bootstrap's on the same log (same sampling distribution).

The Dask engine's intervals are checked against the out-of-core ones in test_partitioned_options_dask.py.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pyarrow as pa
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import make_log  # noqa: E402

from attribution.exceptions import ParameterError  # noqa: E402
from attribution.journeys.journeys import Journeys  # noqa: E402
from attribution.runner import run  # noqa: E402
from attribution.kpis.uncertainty import (CI_COLUMNS, journey_hashes, merge_replicates, partition_replicates,  # noqa: E402
                                     poisson_draws)

MODELS = ["first_touch", "linear", "time_decay", "shapley", "markov", "logistic"]


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("log-ci"), seed=41, n=12000, users=1500)


def partitioned(log, buckets, monkeypatch, **options):
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: buckets)
    result = run(log, memory_limit="1MB", **options)
    assert result.journeys is None and result.summary["partitions"] == buckets
    return result


def test_same_seed_same_intervals_for_any_bucket_count(log, monkeypatch):
    options = dict(models=MODELS, ci=0.9, n_boot=60, seed=5)
    two = partitioned(log, 2, monkeypatch, **options)
    seven = partitioned(log, 7, monkeypatch, **options)
    assert list(two.table.columns) == list(seven.table.columns)
    assert two.table[["model", "channel"]].equals(seven.table[["model", "channel"]])
    for col in CI_COLUMNS:
        # 1e-9: replicate statistics merged from 7 vs 2 partitions; refitted bootstraps sum in another order
        np.testing.assert_allclose(seven.table[col].to_numpy(), two.table[col].to_numpy(), rtol=1e-9, atol=1e-9)
    other = partitioned(log, 7, monkeypatch, **{**options, "seed": 6})
    # allclose default: another seed moves the bounds by far more than rounding
    assert not np.allclose(other.table["conversions_lo"].to_numpy(), seven.table["conversions_lo"].to_numpy())
    # with --period and --by (journey-local models): the same across bucket counts too
    keyed = dict(models=["linear", "position_based", "shapley"], ci=0.8, n_boot=40, seed=2, period="week",
                 by="campaign")
    a, b = partitioned(log, 2, monkeypatch, **keyed), partitioned(log, 7, monkeypatch, **keyed)
    assert {"period", "campaign", *CI_COLUMNS} <= set(a.table.columns) and len(a.table) == len(b.table)
    for col in CI_COLUMNS:
        # 1e-9: the same replicates merged in another order
        np.testing.assert_allclose(b.table[col].to_numpy(), a.table[col].to_numpy(), rtol=1e-9, atol=1e-9)
    # the rest of the table is the in-memory one
    memory = run(log, models=MODELS)
    # 1e-9: point estimates from merged statistics (sums in another order)
    np.testing.assert_allclose(seven.table["conversions"].to_numpy(), memory.table["conversions"].to_numpy(),
                               rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("period", [None, "month"])
def test_first_touch_replicates_are_poisson_weighted_sums(log, period, monkeypatch):
    """First touch credits a converting journey's conversions to its first channel, so replicate b's email credit
    is Σ_j k_jb · conversions_j · [j starts with email] (× [j converts in the period]): computed here from the
    in-memory journeys of the whole log and the public draw function."""
    from attribution.kpis.report import journey_periods

    memory = run(log, models=["first_touch"])
    j = memory.journeys
    seed, n_boot = 9, 50
    h = journey_hashes(j)
    first = np.full(j.n_journeys, -1)
    first[j.lengths > 0] = j.touch_channel[j.offsets[:-1][j.lengths > 0]]
    email = (first >= 0) & (np.asarray(j.channel_names, dtype=object)[np.maximum(first, 0)] == "email")
    in_period = np.ones(j.n_journeys, bool)
    if period is not None:
        periods = journey_periods(j, period)
        in_period = periods == np.unique(periods[email & (j.conversions > 0)])[1]
    reps = np.array([poisson_draws(h, seed, b) @ (j.conversions * email * in_period) for b in range(n_boot)])
    lo, hi = np.quantile(reps, [0.1, 0.9])
    got = partitioned(log, 3, monkeypatch, models=["first_touch"], ci=0.8, n_boot=n_boot, seed=seed,
                      period=period).table
    row = got[got["channel"] == "email"]
    if period is not None:
        start = np.unique(periods[email & (j.conversions > 0)])[1].astype("datetime64[D]").astype(object)
        row = row[row["period"].astype(str) == str(start)]
    assert len(row) == 1
    # rel=1e-12: the same replicate sums, computed here as a matrix product
    assert (row["conversions_lo"].item(), row["conversions_hi"].item()) == pytest.approx((lo, hi), rel=1e-12)


def simulated_journeys(rng, n_users, first_user=0):
    """One journey per user, one touch each: channel email with probability 0.3; converts with probability 0.2
    (revenue 10). First touch's expected email credit is n_users · 0.3 · 0.2."""
    email = rng.random(n_users) < 0.3
    conv = (rng.random(n_users) < 0.2).astype(float)
    return Journeys(channel_names=np.array(["email", "search"], dtype=object),
                    touch_channel=np.where(email, 0, 1).astype(np.int64), offsets=np.arange(n_users + 1),
                    conversions=conv, nulls=1.0 - conv, revenue=10.0 * conv,
                    touch_time=np.zeros(n_users, np.int64), end_time=np.zeros(n_users, np.int64),
                    user=np.arange(n_users), user_ids=pa.array([f"u{first_user + i}" for i in range(n_users)]))


def test_intervals_cover_the_expected_credit():
    """200 simulated logs of 1,000 users, split into two user partitions each; 90% intervals (100 replicates) of
    first touch's email credit must cover its expectation 1000 · 0.3 · 0.2 = 60 about 90% of the time (binomial
    standard error of the coverage over 200 logs: 2.1 points; the band below is about ±3.5 of them, wider on the
    low side where percentile intervals of small counts are known to fall short)."""
    from attribution.models import parse_model_spec

    rng = np.random.default_rng(2026)
    truth = 1000 * 0.3 * 0.2
    hits = 0
    trials = 200
    for t in range(trials):  # a loop over simulated logs, each one vectorised
        model = parse_model_spec("first_touch")
        parts = [partition_replicates([model], simulated_journeys(rng, 500, 0), n_boot=100, seed=t),
                 partition_replicates([model], simulated_journeys(rng, 500, 500), n_boot=100, seed=t)]
        iv = merge_replicates([model], parts, level=0.9, n_boot=100).set_index("channel").loc["email"]
        hits += iv["conversions_lo"] <= truth <= iv["conversions_hi"]
    assert 0.82 <= hits / trials <= 0.97


def test_draws_have_poisson_moments_and_ignore_the_partition(log):
    memory = run(log, models=["linear"])
    j = memory.journeys
    h = journey_hashes(j)
    k = np.array([poisson_draws(h, 3, b) for b in range(40)])
    n = k.size
    assert abs(k.mean() - 1) < 4 / np.sqrt(n) and abs(k.var() - 1) < 6 * np.sqrt(2 / n)
    assert abs(np.corrcoef(k[0], k[1])[0, 1]) < 4 / np.sqrt(k.shape[1])
    # abs: 4 binomial standard errors (sqrt(p(1 - p) / n) <= sqrt(0.25 / n)); the draws are seeded
    assert np.mean(k == 0) == pytest.approx(np.exp(-1), abs=4 * np.sqrt(0.25 / n))
    # a partition holding some of the users (its own, re-indexed user vocabulary, in another order) gives their
    # journeys the same keys, so the same draws
    from dataclasses import replace

    users = np.asarray(j.user)
    keep = np.flatnonzero(users % 3 == 0)
    sub = j.select(keep)
    kept_users = np.unique(sub.user)[::-1]  # reversed vocabulary
    new_index = np.empty(int(sub.user.max()) + 1, np.int64)
    new_index[kept_users] = np.arange(len(kept_users))
    sub = replace(sub, user=new_index[sub.user], user_ids=j.user_ids.take(pa.array(kept_users)))
    assert np.array_equal(journey_hashes(sub), h[keep])
    assert len(np.unique(h)) == j.n_journeys  # every journey its own key


def test_widths_match_the_in_memory_bootstrap(log, monkeypatch):
    """Both estimate the same sampling distribution: for channels with enough credit the 90% interval widths
    agree within the bootstrap's own noise (400 replicates each; a 90% percentile width has a relative standard
    error of about 7% at that count, so the band below is about ±4 of them)."""
    options = dict(models=["linear", "markov"], ci=0.9, n_boot=400, seed=0)
    memory = run(log, **options).table
    parted = partitioned(log, 4, monkeypatch, **options).table
    big = (memory["conversions"] >= 30).to_numpy()
    assert big.sum() >= 8
    for lo, hi in (("conversions_lo", "conversions_hi"), ("revenue_lo", "revenue_hi")):
        ratio = ((parted[hi] - parted[lo]) / (memory[hi] - memory[lo])).to_numpy()[big]
        assert np.all((ratio > 0.7) & (ratio < 1.4)), ratio
        assert np.all((parted[lo] <= parted["conversions" if lo.startswith("c") else "revenue"]).to_numpy()[big])


def test_ci_with_period_for_whole_log_models_is_refused(log, monkeypatch):
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    with pytest.raises(ParameterError, match="ci with period.*'markov'"):
        run(log, models=["linear", "markov"], memory_limit="1MB", ci=0.9, period="month")


def test_cli_ci_out_of_core(log, tmp_path):
    import pandas as pd

    from attribution.cli.app import main

    def cli(*args):
        with pytest.raises(SystemExit) as exit_:
            main(list(args))
        return exit_.value.code

    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    common = ("-m", "linear", "--ci", "0.9", "--bootstrap", "30", "--seed", "3", "--quiet")
    # about 8 and 4 user buckets (12,000 rows at ~320 bytes each; buckets of half the budget)
    assert cli("run", *log, *common, "-o", str(a), "--memory-limit", "1MB") in (0, None)
    assert cli("run", *log, *common, "-o", str(b), "--memory-limit", "2MB", "--spill-dir", str(tmp_path)) in (0, None)
    first, second = pd.read_csv(a), pd.read_csv(b)
    assert set(CI_COLUMNS) <= set(first.columns)
    # 1e-9: the same replicates merged in another order
    np.testing.assert_allclose(second[CI_COLUMNS].to_numpy(), first[CI_COLUMNS].to_numpy(), rtol=1e-9, atol=1e-9)
    assert (first["conversions_lo"] < first["conversions_hi"]).all()
