"""``--period`` and ``--by campaign`` on the Dask engine (a real 2-worker ``distributed.LocalCluster``) give the
in-memory table to 1e-9; the reference is the in-memory run of the same log in the same test."""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import make_log, run_on_dask  # noqa: E402
from test_partitioned_options import LOCAL_MODELS, assert_same_keyed_table  # noqa: E402

from attribution.runner import run  # noqa: E402


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("dask-keyed"), files=3, seed=31)




@pytest.mark.parametrize("period,by", [("week", None), (None, "campaign"), ("day", "campaign")])
def test_dask_period_and_campaign_equal_in_memory(client, log, period, by, monkeypatch):
    options = dict(models=LOCAL_MODELS, period=period, by=by, milestone_events=("lead",))
    local = run(log, **options)
    dask = run_on_dask(client, log, monkeypatch, **options)
    assert dask.summary["engine"] == "dask" and dask.summary["partitions"] >= 4
    assert_same_keyed_table(local.table, dask.table)


def test_dask_second_pass_models_equal_in_memory(client, log, monkeypatch):
    """Markov, logistic and shapley's rate game: weights from the merged counts, a second pass of Dask tasks."""
    options = dict(models=["markov", "logistic", "shapley:game=rate", "first_touch"], period="month", by="campaign",
                   milestone_events=("lead",))
    local = run(log, **options)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 5)
    dask = run_on_dask(client, log, monkeypatch, **options)
    assert dask.summary["partitions"] == 5
    assert_same_keyed_table(local.table, dask.table)


def test_dask_ci_equals_out_of_core(client, log, monkeypatch):
    """Poisson-bootstrap intervals are a function of (journey, seed, replicate): Dask's equal the out-of-core
    run's to 1e-9 (they are not the in-memory multinomial ones; see tests/engines/test_partitioned_ci.py)."""
    import numpy as np

    from attribution.kpis.uncertainty import CI_COLUMNS

    options = dict(models=["linear", "markov", "shapley"], ci=0.9, n_boot=30, seed=4)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    ooc = run(log, memory_limit="1MB", **options)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 5)
    dask = run_on_dask(client, log, monkeypatch, **options)
    assert ooc.summary["partitions"] == 3 and dask.summary["partitions"] == 5
    assert ooc.table[["model", "channel"]].equals(dask.table[["model", "channel"]])
    for col in CI_COLUMNS + ["conversions", "revenue"]:
        # 1e-9: replicate statistics merged from 3 vs 5 partitions; refitted Markov bootstraps sum in another order
        np.testing.assert_allclose(dask.table[col].to_numpy(), ooc.table[col].to_numpy(), rtol=1e-9, atol=1e-9)


def test_dask_detail_equals_in_memory(client, log, tmp_path, monkeypatch):
    """The fact table from Dask's second pass (partition outputs gathered in partition order) has the in-memory
    rows: compared after sorting by (model, conversion_id, position)."""
    import numpy as np
    import pandas as pd

    from attribution.kpis.detail import detail_frame
    from attribution.engines.detail_out import DetailSink

    models = ["markov", "linear", "shapley:game=rate"]
    local = run(log, models=models)
    expected = detail_frame(local.models, local.journeys, local.events)
    sink = DetailSink(str(tmp_path / "facts.parquet"), "parquet")
    dask = run_on_dask(client, log, monkeypatch, models=models, detail_sink=sink)
    assert dask.journeys is None and sink.rows == len(expected) > 0
    sink.commit()
    got = pd.read_parquet(tmp_path / "facts.parquet")
    key = ["model", "conversion_id", "position"]
    a = expected.sort_values(key, kind="stable", ignore_index=True)
    b = got.sort_values(key, kind="stable", ignore_index=True)
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if col in ("weight", "attributed_conversions", "attributed_revenue"):
            # the same weight solve on the same merged rows; only the model's revenue sums (per path, per
            # partition) are added in another order: observed <= 1e-14 relative
            np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float), rtol=1e-12, atol=1e-12)
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
