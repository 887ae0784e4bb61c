"""Shared helpers of the engine tests: a seeded log generator and a table comparison (importable as
``enginekit``; each test module puts this folder on ``sys.path``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.models import available_models
from attribution.runner import run

CHANNELS = ["direct", "email", "paid_search", "display", "social", "affiliate"]


def make_log(folder, *, n=6000, users=700, files=3, int_users=False, seed=0, bad=False):
    """A seeded event log split into ``files`` Parquet files by time (users span files)."""
    rng = np.random.default_rng(seed)
    ts = np.sort(rng.integers(0, 120 * 86_400, n)) // 3600 * 3600  # hourly: many ties
    user = rng.integers(0, users, n)
    event = rng.choice(["touch", "conversion", "lead", "pageview"], n, p=[0.8, 0.08, 0.07, 0.05])
    channel = np.where(event == "touch", rng.choice(CHANNELS, n), None)
    revenue = np.where(event == "conversion", np.round(rng.gamma(2.0, 30.0, n), 2), np.nan)
    frame = pd.DataFrame({
        "user_id": user if int_users else [f"user-{u:05d}" for u in user],
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(ts, unit="s"),
        "event": event, "channel": channel, "revenue": revenue,
        "campaign": np.where(event == "touch", rng.choice(["spring", "summer"], n), None),
    })
    if bad:
        frame.loc[[17, 4000], "channel"] = None
        frame.loc[[17, 4000], "event"] = "touch"
        frame.loc[[2500], "revenue"] = -5.0
        frame.loc[[2500], "event"] = "conversion"
    paths = []
    for i, part in enumerate(np.array_split(np.arange(n), files)):
        path = folder / f"part-{i}.parquet"
        frame.iloc[part].to_parquet(path, index=False, row_group_size=700)
        paths.append(str(path))
    return paths


def all_models():
    """Every registered model with default parameters, plus a parameterised one."""
    return available_models() + ["time_decay:half_life=2d", "position_based:first=0.2,middle=0.2,last=0.6"]


def assert_same_table(a: pd.DataFrame, b: pd.DataFrame, tol=1e-9):
    assert list(a.columns) == list(b.columns)
    assert a[["model", "channel"]].equals(b[["model", "channel"]])
    for col in a.columns[2:]:
        x, y = a[col].to_numpy(float), b[col].to_numpy(float)
        assert np.array_equal(np.isnan(x), np.isnan(y)), col
        ok = ~np.isnan(x)
        # 1e-9: models fitted on merged statistics summed in another order; iterative fits (logistic) amplify that
        np.testing.assert_allclose(y[ok], x[ok], rtol=tol, atol=tol, err_msg=col)


def run_on_dask(client, log, monkeypatch, **options):
    """``run(engine="dask")`` on the tests' shared cluster (the engine would otherwise start its own)."""
    import attribution.engines.dask_engine as de

    real = de.run_dask
    monkeypatch.setattr(de, "run_dask", lambda plan, spec, **kw: real(plan, spec, client=client, **kw))
    return run(log, engine="dask", **options)


def out_of_core(log, buckets, monkeypatch, **options):
    """``attribution.run`` forced out of core into ``buckets`` user buckets (the planner patched), checked to be."""
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: buckets)
    result = run(log, memory_limit="1MB", **options)
    assert result.journeys is None and result.summary["partitions"] == buckets
    return result
