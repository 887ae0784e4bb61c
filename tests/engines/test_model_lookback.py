"""A model with its own lookback (``hazard``, unlimited by default) next to a rule-based one at the run's 30 days:
out of core and Dask give the in-memory numbers, with leads, spend, ``--period``, ``--by campaign``, ``--detail``
and ``--ci``.

The reference is always the in-memory run of the same log in the same test. Each model is fitted on the journeys
of its own lookback (``attribution.kpis.result.journeys_per_model``), in memory as in every partition; the journey
columns are the run's (30 days) for every model.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import CHANNELS, assert_same_table, make_log, out_of_core, run_on_dask  # noqa: E402
from test_partitioned_detail import cli, read  # noqa: E402
from test_partitioned_options import assert_same_keyed_table  # noqa: E402

from attribution.kpis.uncertainty import CI_COLUMNS, bootstrap_intervals  # noqa: E402
from attribution.runner import run  # noqa: E402

MODELS = ["linear", "hazard", "hazard:lookback_days=run"]
JOURNEY_COLUMNS = ["journeys", "converting_journeys", "win_rate", "avg_days_to_convert"]
# hazard: a penalised Newton fit on partition-summed statistics; the summation order moves its optimum by ~1e-9
# relative (the fit stops at a 1e-10 gradient tolerance), so 1e-7 (as in test_dask_engine.py)
HAZARD_TOL = 1e-7


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("log-lookback"), seed=61)


@pytest.fixture(scope="module")
def spend_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("spend-lookback") / "spend.csv"
    pd.DataFrame({"channel": CHANNELS, "spend": [0, 100, 900, 300, 250, 80]}).to_csv(path, index=False)
    return str(path)




def test_in_memory_gives_each_model_the_journeys_of_its_lookback(log):
    result = run(log, models=MODELS, lookback_days=30)
    own, run_lb = result["hazard"], result["hazard:lookback_days=run"]
    assert result.journeys_of(result["linear"]) is result.journeys and result.journeys.lookback_days == 30
    assert result.journeys_of(own).lookback_days is None and result.journeys_of(run_lb) is result.journeys
    # the unlimited journeys hold more touches (the log spans months), so hazard's credit differs from its
    # 30-day fit and it leaves fewer conversions touchless
    assert result.journeys_of(own).n_touches > result.journeys.n_touches
    table = result.table.set_index(["model", "channel"])
    assert not np.allclose(table.loc["hazard", "conversions"].drop(["(none)", "(baseline)"]),
                           table.loc["hazard:lookback_days=run", "conversions"].drop(["(none)", "(baseline)"]))
    assert table.loc[("hazard", "(none)"), "conversions"] < table.loc[("linear", "(none)"), "conversions"]
    for model in MODELS:  # credited totals equal the input's conversions for every model
        assert table.loc[model, "conversions"].sum() == pytest.approx(result.summary["conversions"], rel=1e-12)
    # the journey columns are the run's (30-day journeys) on every model's rows
    linear = table.loc["linear", JOURNEY_COLUMNS].drop("(none)")
    hazard = table.loc["hazard", JOURNEY_COLUMNS].drop(["(none)", "(baseline)"])
    pd.testing.assert_frame_equal(linear, hazard)


@pytest.mark.parametrize("buckets", [2, 5])
def test_out_of_core_equals_in_memory_with_leads_and_spend(log, spend_file, buckets, monkeypatch):
    options = dict(models=MODELS, lookback_days=30, milestone_events=("lead",), spend=spend_file)
    memory = run(log, **options)
    ooc = out_of_core(log, buckets, monkeypatch, **options)
    assert {"leads", "spend", "journeys"} <= set(memory.table.columns)
    assert_same_table(memory.table, ooc.table, tol=HAZARD_TOL)


@pytest.mark.parametrize("period,by", [("month", None), (None, "campaign")])
def test_out_of_core_period_and_campaign_equal_in_memory(log, period, by, monkeypatch):
    options = dict(models=MODELS, lookback_days=30, period=period, by=by)
    memory = run(log, **options)
    ooc = out_of_core(log, 3, monkeypatch, **options)
    assert_same_keyed_table(memory.table, ooc.table, tol=HAZARD_TOL)


def test_out_of_core_detail_equals_in_memory(log, tmp_path, monkeypatch):
    models = [a for m in MODELS for a in ("-m", m)]
    mem, ooc = tmp_path / "mem.parquet", tmp_path / "ooc.parquet"
    assert cli("run", *log, *models, "--lookback-days", "30", "--detail", mem, "-o", tmp_path / "a.csv",
               "-q") in (0, None)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    assert cli("run", *log, *models, "--lookback-days", "30", "--detail", ooc, "-o", tmp_path / "b.csv", "-q",
               "--memory-limit", "1MB", "--spill-dir", tmp_path) in (0, None)
    a, b = read(mem), read(ooc)
    # the fact table holds hazard's touches older than 30 days before their conversion (its own journeys)
    age = (a["conversion_ts"] - a["touch_ts"]).dt.total_seconds() / 86400
    assert (age[a["model"] == "hazard"] > 30).any() and not (age[a["model"] == "linear"] > 30).any()
    # per model and conversion the weights sum to 1 (hazard's remainder is its (baseline) row); 1e-9: float sums
    sums = a.groupby(["model", "conversion_id"])["weight"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-9)
    assert list(a.columns) == list(b.columns) and len(a) == len(b)
    for col in a.columns:
        if col in ("weight", "attributed_conversions", "attributed_revenue"):
            np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float), rtol=HAZARD_TOL,
                                       atol=HAZARD_TOL, err_msg=col)
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


def test_out_of_core_intervals_do_not_depend_on_the_buckets(log, monkeypatch):
    options = dict(models=["linear", "hazard"], lookback_days=30, ci=0.9, n_boot=8, seed=3)
    two = out_of_core(log, 2, monkeypatch, **options)
    five = out_of_core(log, 5, monkeypatch, **options)
    assert two.table[["model", "channel"]].equals(five.table[["model", "channel"]])
    for col in CI_COLUMNS:
        # the same replicates merged in another order; hazard refits each replicate (see HAZARD_TOL)
        np.testing.assert_allclose(five.table[col].to_numpy(), two.table[col].to_numpy(), rtol=HAZARD_TOL,
                                   atol=HAZARD_TOL, err_msg=col)
    # in memory: hazard's intervals are those of a bootstrap on its own (unlimited) journeys alone
    memory = run(log, **options)
    model = memory["hazard"]
    alone = bootstrap_intervals([model], memory.journeys_of(model), level=0.9, n_boot=8, seed=3)
    rows = memory.table[memory.table["model"] == "hazard"].merge(alone, on=["model", "channel"], suffixes=("", "_"))
    assert len(rows) == len(alone) > 0
    for col in CI_COLUMNS:  # the same draws and refits: equal to rounding
        np.testing.assert_allclose(rows[col].to_numpy(), rows[col + "_"].to_numpy(), rtol=1e-12, atol=1e-12)


def test_dask_equals_in_memory(client, log, monkeypatch):
    options = dict(models=MODELS, lookback_days=30, milestone_events=("lead",))
    memory = run(log, **options)
    dask = run_on_dask(client, log, monkeypatch, **options)
    assert dask.summary["engine"] == "dask"
    assert_same_table(memory.table, dask.table, tol=HAZARD_TOL)


def test_whole_log_model_with_its_own_lookback(log, monkeypatch):
    """A model whose touch weights need the whole log (logistic) and that declares its own lookback: partitioned,
    its credit equals the in-memory one (statistics of its own journeys); ``--period`` would need second-pass
    counts of its own journeys, which the engines do not build: refused before any work, with the way out."""
    from attribution.exceptions import ParameterError
    from attribution.models.logistic import Logistic

    class UnlimitedLogistic(Logistic, register=False):
        def journey_lookback(self, run_lookback):
            return None

    memory = run(log, models=[UnlimitedLogistic(), "logistic"], lookback_days=30)
    table = memory.table.set_index(["model", "channel"])["conversions"]
    assert memory.journeys_of(memory.models[0]).lookback_days is None
    # the unlimited journeys hold older touches: another split than on the 30-day journeys
    assert not np.allclose(table.iloc[: len(table) // 2].to_numpy(), table.iloc[len(table) // 2:].to_numpy())
    ooc = out_of_core(log, 3, monkeypatch, models=[UnlimitedLogistic(), "logistic"], lookback_days=30)
    assert_same_table(memory.table, ooc.table)
    with pytest.raises(ParameterError, match="their own lookback.*Run it in memory"):
        out_of_core(log, 3, monkeypatch, models=[UnlimitedLogistic()], lookback_days=30, period="month")
