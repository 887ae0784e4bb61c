"""``--period`` and ``--by campaign`` on the partitioned engines (out of core and Dask) give the in-memory table.

The reference is always the in-memory run of the same log in the same test (no typed-in numbers); the logs come
from the seeded generator of ``enginekit`` (several files, string and integer users, hourly timestamp ties, a
lead milestone, touches with and without campaigns) and the spend table below (dated, with campaigns).
Why it holds to 1e-12: a journey-local model's per-touch weights depend on each journey alone, and journeys
never cross users, so every (channel, campaign, period) credit is a sum over user-disjoint partitions, as are the
journey statistics (``kpis.journey_stats``). Markov, logistic and shapley's rate game get their weights from the
whole log in a second pass (``attribution/engines/second_pass.py``) that solves on the merged (channel set, p, v)
rows, the very table the in-memory run solves on, to the floating-point floor; only the order of float sums over
partitions differs (observed <= 2e-14 relative), checked here against the same reference.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import CHANNELS, make_log, out_of_core  # noqa: E402

from attribution.runner import run  # noqa: E402

#: every registered model whose per-touch weights are journey-local, plus parameterised ones
LOCAL_MODELS = ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based", "shapley",
                "time_decay:half_life=2d", "position_based:first=0.2,middle=0.2,last=0.6"]
KEYS = ("model", "channel", "campaign", "period")


def assert_same_keyed_table(a: pd.DataFrame, b: pd.DataFrame, tol=1e-12):
    """Same columns, same key rows in the same order, every value column equal to ``tol``."""
    assert list(a.columns) == list(b.columns)
    keys = [k for k in KEYS if k in a.columns]
    assert len(a) == len(b)
    for k in keys:
        assert a[k].astype(str).tolist() == b[k].astype(str).tolist(), k
    for col in [c for c in a.columns if c not in keys]:
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), col
        ok = ~np.isnan(x)
        # 1e-12: same solves on the same merged statistics; only float sums over partitions are added in another
        # order (observed <= 2e-14 relative)
        np.testing.assert_allclose(y[ok], x[ok], rtol=tol, atol=tol, err_msg=col)


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("log-keyed"), seed=21)


@pytest.fixture(scope="module")
def spend_file(tmp_path_factory):
    """Dated spend with campaigns (one channel never touched, one row without a campaign)."""
    rng = np.random.default_rng(4)
    days = pd.date_range("2024-01-01", periods=120, freq="7D")[:18]  # the log's days (enginekit.make_log)
    rows = [(c, d.date().isoformat(), camp, float(rng.integers(10, 200)))
            for c in CHANNELS for d in days for camp in ("spring", "summer")]
    rows.append(("email", "2024-02-03", None, 55.0))
    frame = pd.DataFrame(rows, columns=["channel", "date", "campaign", "spend"])
    path = tmp_path_factory.mktemp("spend-keyed") / "spend.csv"
    frame.to_csv(path, index=False)
    return str(path)




@pytest.mark.parametrize("buckets", [2, 7])
@pytest.mark.parametrize("period,by", [("day", None), ("week", None), ("month", None), (None, "campaign"),
                                       ("month", "campaign")])
def test_out_of_core_period_and_campaign_equal_in_memory(log, buckets, period, by, monkeypatch):
    memory = run(log, models=LOCAL_MODELS, period=period, by=by)
    ooc = out_of_core(log, buckets, monkeypatch, models=LOCAL_MODELS, period=period, by=by)
    assert ("period" in memory.table.columns) == (period is not None)
    assert ("campaign" in memory.table.columns) == (by is not None)
    assert_same_keyed_table(memory.table, ooc.table)


@pytest.mark.parametrize("buckets", [2, 7])
def test_out_of_core_keyed_with_spend_leads_and_integer_users(tmp_path, spend_file, buckets, monkeypatch):
    log = make_log(tmp_path, int_users=True, seed=8, files=2)
    options = dict(models=["linear", "last_touch", "shapley"], spend=spend_file, milestone_events=("lead",),
                   lookback_days=7, period="week", by="campaign")
    memory = run(log, **options)
    ooc = out_of_core(log, buckets, monkeypatch, **options)
    assert {"spend", "roas", "leads", "cpl", "journeys", "win_rate", "campaign", "period"} <= set(memory.table.columns)
    assert memory.table["leads"].sum() > 0 and memory.table["spend"].sum() > 0
    assert_same_keyed_table(memory.table, ooc.table)


@pytest.mark.parametrize("buckets", [2, 7])
@pytest.mark.parametrize("period,by", [("week", None), (None, "campaign"), ("day", "campaign")])
def test_second_pass_models_equal_in_memory(log, buckets, period, by, monkeypatch):
    """Markov (orders 1, 2 and auto), logistic and shapley's rate game weigh touches from the whole log: solved
    once on the merged (channel set, p, v) counts, applied in a second pass over the buckets."""
    import warnings

    models = ["markov", "markov:order=2", "markov:order=auto", "logistic", "shapley:game=rate", "linear", "hazard"]
    options = dict(models=models, period=period, by=by, milestone_events=("lead",))
    with warnings.catch_warnings(record=True) as mem_warnings:
        warnings.simplefilter("always")
        memory = run(log, **options)
    with warnings.catch_warnings(record=True) as ooc_warnings:
        warnings.simplefilter("always")
        ooc = out_of_core(log, buckets, monkeypatch, **options)
    assert "removal_effect" in memory.table.columns and memory.table["leads"].sum() > 0
    hazard = (memory.table["model"] == "hazard").to_numpy()
    assert_same_keyed_table(memory.table[~hazard].reset_index(drop=True), ooc.table[~hazard].reset_index(drop=True))
    # hazard: a penalised Newton fit on partition-summed statistics; the summation order moves its optimum by
    # ~1e-9 relative (observed <= 1.7e-9), so 1e-7, as in the Dask equality test
    assert_same_keyed_table(memory.table[hazard].reset_index(drop=True), ooc.table[hazard].reset_index(drop=True),
                            tol=1e-7)
    # the raking's warning (margins not met exactly) is raised when, and only when, the in-memory run raises it
    from attribution.exceptions import TouchWeightsWarning

    def raked(caught):
        return any(issubclass(w.category, TouchWeightsWarning) for w in caught)

    assert raked(mem_warnings) == raked(ooc_warnings)


def test_second_pass_keeps_buckets_until_the_end_and_cleans_up(log, tmp_path, monkeypatch):
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 4)
    result = run(log, models=["markov"], period="month", memory_limit="1MB", spill_dir=str(tmp_path))
    assert result.summary["partitions"] == 4 and "period" in result.table.columns
    assert not list(tmp_path.iterdir())


def test_automatic_mode_still_runs_keyed_options_in_memory(log, monkeypatch):
    """Without --memory-limit nothing changes: --period runs in memory whatever the models."""
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    assert run(log, models=["markov"], period="month").journeys is not None


def test_cli_out_of_core_period_by_campaign(log, tmp_path):
    from attribution.cli.app import main

    def cli(*args):
        with pytest.raises(SystemExit) as exit_:
            main(list(args))
        return exit_.value.code

    a, b = tmp_path / "mem.csv", tmp_path / "ooc.csv"
    common = ("-m", "linear", "-m", "first_touch", "--period", "month", "--by", "campaign", "--quiet")
    assert cli("run", *log, *common, "-o", str(a)) in (0, None)
    assert cli("run", *log, *common, "-o", str(b), "--memory-limit", "1MB", "--spill-dir", str(tmp_path)) in (0, None)
    assert_same_keyed_table(pd.read_csv(a), pd.read_csv(b))
    c, d = tmp_path / "mem-markov.csv", tmp_path / "ooc-markov.csv"
    common = ("-m", "markov", "--period", "week", "--quiet")
    assert cli("run", *log, *common, "-o", str(c)) in (0, None)
    assert cli("run", *log, *common, "-o", str(d), "--memory-limit", "1MB") in (0, None)
    # Markov's per-touch weights: the same solve on the same (channel set, p, v) rows, to the floating-point floor
    # (models/markov_weights.py); the CSV holds full-precision floats, so the 1e-12 of the in-process tables holds
    assert_same_keyed_table(pd.read_csv(c), pd.read_csv(d))
