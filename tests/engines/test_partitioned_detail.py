"""``--detail`` on a partitioned run: the fact table built in the second pass, partition by partition.

Reference: the in-memory fact table of the same log in the same test (attribution.kpis.detail.detail_frame through
the command line). Partitioned rows come in partition order (engines/detail_out.py), so the tables are compared
after sorting by (model, conversion_id, position); every column, conversion_id included, must then be equal (floats
to 1e-9).
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import make_log  # noqa: E402

from attribution.cli.app import main  # noqa: E402

MODELS = ["linear", "first_touch", "time_decay", "shapley", "markov", "logistic", "shapley:game=rate"]
FLOATS = ["weight", "attributed_conversions", "attributed_revenue"]


def cli(*args):
    with pytest.raises(SystemExit) as exit_:
        main([str(a) for a in args])
    return exit_.value.code


def read(path):
    frame = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
    return frame.sort_values(["model", "conversion_id", "position"], kind="stable", ignore_index=True)


def assert_same_facts(a: pd.DataFrame, b: pd.DataFrame):
    assert list(a.columns) == list(b.columns) and len(a) == len(b) and len(a) > 0
    for col in a.columns:
        if col in FLOATS:
            # 1e-9: the same weights; the models' fits on merged statistics sum in another order (logistic iterates)
            np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float), rtol=1e-9, atol=1e-9,
                                       err_msg=col)
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("log-detail"), seed=51)


@pytest.mark.parametrize("buckets", [2, 7])
@pytest.mark.parametrize("ext", ["parquet", "csv"])
def test_out_of_core_detail_equals_in_memory(log, tmp_path, buckets, ext, monkeypatch):
    models = [a for m in MODELS for a in ("-m", m)]
    mem_detail, ooc_detail = tmp_path / f"mem.{ext}", tmp_path / f"ooc.{ext}"
    mem_table, ooc_table = tmp_path / "mem-table.csv", tmp_path / "ooc-table.csv"
    assert cli("run", *log, *models, "--detail", mem_detail, "-o", mem_table, "-q") in (0, None)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: buckets)
    assert cli("run", *log, *models, "--detail", ooc_detail, "-o", ooc_table, "-q", "--memory-limit", "1MB",
               "--spill-dir", tmp_path) in (0, None)
    mem, ooc = read(mem_detail), read(ooc_detail)
    assert mem["campaign"].notna().any()
    assert_same_facts(mem, ooc)
    assert sorted(mem["model"].unique()) == sorted(MODELS)
    # the ROI table is written too, and the spill folder and temporary files are gone
    # 1e-9: models fitted on merged statistics summed in another order; iterative fits amplify that
    pd.testing.assert_frame_equal(pd.read_csv(mem_table), pd.read_csv(ooc_table), rtol=1e-9, atol=1e-9)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["mem." + ext, "ooc." + ext, "mem-table.csv",
                                                                     "ooc-table.csv"])


def test_detail_with_conversion_ids_and_integer_users(tmp_path, monkeypatch):
    """A log with its own conversion_id column keeps it; integer user ids order numerically."""
    paths = make_log(tmp_path, int_users=True, seed=52, files=2)
    for i, p in enumerate(paths):
        frame = pd.read_parquet(p)
        frame["conversion_id"] = np.where(frame["event"] == "conversion",
                                          [f"c-{i}-{k}" for k in range(len(frame))], None)
        frame.to_parquet(p, index=False, row_group_size=700)
    out = tmp_path / "out"
    out.mkdir()
    assert cli("run", *paths, "-m", "markov", "-m", "linear", "--detail", out / "mem.parquet", "-q") in (0, None)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    assert cli("run", *paths, "-m", "markov", "-m", "linear", "--detail", out / "ooc.parquet", "-q",
               "--memory-limit", "1MB") in (0, None)
    mem, ooc = read(out / "mem.parquet"), read(out / "ooc.parquet")
    assert mem["conversion_id"].str.startswith("c-").all()
    assert_same_facts(mem, ooc)
    no_ids = make_log(tmp_path / "out", int_users=True, seed=53, files=1)
    assert cli("run", *no_ids, "-m", "linear", "--detail", out / "mem2.csv", "-q") in (0, None)
    assert cli("run", *no_ids, "-m", "linear", "--detail", out / "ooc2.csv", "-q", "--memory-limit", "1MB") in (0, None)
    assert_same_facts(read(out / "mem2.csv"), read(out / "ooc2.csv"))


def test_detail_to_json_or_sql_is_refused_partitioned_before_any_work(log, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    assert cli("run", *log, "-m", "linear", "--detail", tmp_path / "d.json", "--memory-limit", "1MB") == 2
    assert "--detail to a JSON file is not available" in capsys.readouterr().err
    assert cli("run", *log, "-m", "linear", "--detail", f"sqlite:///{tmp_path / 'd.db'}", "--memory-limit", "1MB") == 2
    assert "--detail to a SQL table" in capsys.readouterr().err
    assert not [p for p in tmp_path.iterdir() if p.name.startswith((".attribution-", "attribution-buckets-"))]
