"""The Dask engine on a real ``distributed.LocalCluster`` gives the local engine's numbers to 1e-9.

One cluster (2 workers, loopback only) is shared by the module; the reference is the in-memory run of the same
log in the same test.
"""

from __future__ import annotations

import os
import sys

import pytest

pytest.importorskip("distributed", reason="the dask extra is not installed")

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import all_models, assert_same_table, make_log, run_on_dask  # noqa: E402

from attribution.engines import partitioned_run  # noqa: E402
from attribution.runner import run  # noqa: E402


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("dask-log"), files=3, seed=11)


def run_on(client, log, models, monkeypatch, **options):
    return run_on_dask(client, log, monkeypatch, models=models, **options)


def test_dask_equals_local_for_every_model(client, log, monkeypatch):
    models = all_models()
    local = run(log, models=models)
    dask = run_on(client, log, models, monkeypatch)
    assert dask.summary["engine"] == "dask"
    hazard = local.table["model"] == "hazard"
    assert_same_table(local.table[~hazard].reset_index(drop=True), dask.table[~hazard].reset_index(drop=True))
    # hazard: a penalised Newton fit on partition-summed statistics; the summation order moves its optimum by
    # ~1e-9 relative (the fit stops at a 1e-10 gradient tolerance), so 1e-7
    assert_same_table(local.table[hazard].reset_index(drop=True), dask.table[hazard].reset_index(drop=True),
                      tol=1e-7)
    for key in ("rows", "journeys", "touches", "conversions", "events"):
        # approx: counts and revenue totals summed partition by partition (order only)
        assert dask.summary[key] == pytest.approx(local.summary[key]), key


def test_dask_with_leads_integer_users_and_many_partitions(client, tmp_path, monkeypatch):
    log = make_log(tmp_path, int_users=True, files=2, seed=5)
    options = dict(milestone_events=("lead",), lookback_days=7)
    local = run(log, models=["linear", "position_based", "time_decay"], **options)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 9)
    dask = run_on(client, log, ["linear", "position_based", "time_decay"], monkeypatch, **options)
    assert dask.summary["partitions"] == 9
    assert "leads" in local.table.columns
    assert_same_table(local.table, dask.table)


def test_dask_reports_bad_rows_like_local(client, tmp_path, monkeypatch):
    from attribution.exceptions import InputError

    log = make_log(tmp_path, bad=True, files=2, seed=2)
    with pytest.raises(InputError) as local:
        run(log, models=["linear"])
    with pytest.raises(InputError) as dask:
        run_on(client, log, ["linear"], monkeypatch)
    assert str(local.value) == str(dask.value)


def test_dask_refuses_path_tables():
    from attribution.exceptions import ParameterError
    from attribution.options import RunOptions
    from attribution.runner import prepare

    with pytest.raises(ParameterError, match="dask"):
        partitioned_run(["x.csv"], prepare(RunOptions.of(engine="dask", input="paths")))


def test_dask_reads_spreadsheet_csv_as_local(client, tmp_path, monkeypatch):
    """A French export (';', decimal commas, cp1252, accented channels) gives the Parquet log's numbers on Dask,
    and a value with a decimal point under --decimal , is refused on Dask as in memory."""
    import pandas as pd

    paths = make_log(tmp_path, files=2, seed=3)
    csvs = []
    for i, p in enumerate(paths):
        frame = pd.read_parquet(p)
        frame["channel"] = frame["channel"].str.replace("display", "Référencement")
        frame.to_parquet(p, index=False)
        csvs.append(str(tmp_path / f"part-{i}.csv"))
        frame.to_csv(csvs[-1], index=False, sep=";", decimal=",", encoding="cp1252")
    options = dict(decimal=",", encoding="cp1252")
    local = run(paths, models=["linear", "markov"])
    dask = run_on(client, csvs, ["linear", "markov"], monkeypatch, **options)
    assert "Référencement" in set(dask.table["channel"])
    assert_same_table(local.table, dask.table)
    from attribution.exceptions import InputError

    with open(csvs[1], "a", encoding="cp1252") as fh:
        fh.write("user-x;2024-05-01 00:00:00;conversion;;1.5;\n")
    with pytest.raises(InputError) as mem:
        run(csvs, models=["linear"], **options)
    monkeypatch.undo()  # run_on patches the engine once per call
    with pytest.raises(InputError) as dist:
        run_on(client, csvs, ["linear"], monkeypatch, **options)
    assert mem.value.codes == ["decimal_mark"] and str(mem.value) == str(dist.value)


@pytest.mark.parametrize("group_rows", [[100] * 10, [100, 300, 50, 50, 200, 100, 100], [700], [10] * 3])
@pytest.mark.parametrize("workers", [1, 2, 3])
def test_read_tasks_cover_every_row_group_once_in_a_multiple_of_the_workers(tmp_path, group_rows, workers):
    """A file's read tasks: contiguous runs of its row groups, in order, each group once, with the right first
    row; as many as a multiple of the workers when there are enough groups, of near-equal rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from attribution.engines.dask_engine import _pieces_of

    path = str(tmp_path / "log.parquet")
    with pq.ParquetWriter(path, pa.schema([("x", pa.int64())])) as writer:
        for n in group_rows:
            writer.write_table(pa.table({"x": np.arange(n, dtype=np.int64)}), row_group_size=n)
    batch = 250
    pieces = _pieces_of(path, batch, workers)
    groups = [g for gs, _ in pieces for g in gs]
    assert groups == list(range(len(group_rows)))
    starts = np.r_[0, np.cumsum(group_rows)[:-1]]
    assert [first for _, first in pieces] == [int(starts[gs[0]]) for gs, _ in pieces]
    tasks = workers * -(-sum(group_rows) // (workers * batch))
    assert len(pieces) <= tasks
    if len(group_rows) >= tasks and len(set(group_rows)) == 1:  # equal groups, enough of them: equal shares
        assert len(pieces) == tasks
        sizes = [sum(group_rows[g] for g in gs) for gs, _ in pieces]
        assert max(sizes) - min(sizes) <= group_rows[0]
