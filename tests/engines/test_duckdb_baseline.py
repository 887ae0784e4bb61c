"""The benchmark's DuckDB SQL job computes the engine's linear attribution (same journey rules, SPEC 2).

``benchmarks/pipeline_vs_duckdb.py`` times a warehouse-style SQL job against ``attribution run``; this checks on
small logs (ties between touches and conversions, several conversions per user, touchless conversions, the
30-day lookback, other event names) that the SQL's numbers equal ours, so the comparison is honest.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

duckdb = pytest.importorskip("duckdb", reason="duckdb is not installed (extra 'test')")

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import make_log  # noqa: E402

from attribution.runner import run  # noqa: E402

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "pipeline_vs_duckdb.py"


def load_benchmark():
    if not BENCH.exists():
        pytest.skip("benchmarks/ is not in this checkout")
    spec = importlib.util.spec_from_file_location("pipeline_vs_duckdb", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("seed", [0, 1])
def test_sql_linear_equals_engine_linear(tmp_path, seed):
    bench = load_benchmark()
    paths = make_log(tmp_path, n=5000, users=400, files=1, seed=seed)
    out = tmp_path / "sql.parquet"
    bench.run_sql_job(paths[0], str(out))
    sql = pd.read_parquet(out).sort_values("channel", ignore_index=True)
    ours = run(paths, models=["linear"]).table.sort_values("channel", ignore_index=True)
    assert sql["channel"].tolist() == ours["channel"].tolist()
    assert "(none)" in ours["channel"].tolist()  # touchless conversions are part of the check
    # rtol=1e-9: DuckDB sums the same fractional credits in its own (parallel) order
    np.testing.assert_allclose(sql["conversions"].to_numpy(float), ours["conversions"].to_numpy(float), rtol=1e-9)
    np.testing.assert_allclose(sql["revenue"].to_numpy(float), ours["revenue"].to_numpy(float), rtol=1e-9)
