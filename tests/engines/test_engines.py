"""Engines: out of core and Dask give the in-memory numbers, for every registered model.

The reference is always the in-memory run of the same log in the same test (no typed-in numbers). Logs are
generated here with a seeded generator: several files, string or integer user ids, timestamp ties between
touches and conversions, several conversions per user, a lead milestone, ignored event names and a spend table.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import CHANNELS, all_models, assert_same_table, make_log  # noqa: E402

from attribution.engines import check_engine, parse_memory_limit, plan_buckets  # noqa: E402
from attribution.engines.partition import bucket_of  # noqa: E402
from attribution.kernels.userorder import hash_strings  # noqa: E402
from attribution.exceptions import InputError, ParameterError  # noqa: E402
from attribution.runner import run  # noqa: E402



@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("log"))


@pytest.fixture(scope="module")
def spend_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("spend") / "spend.csv"
    pd.DataFrame({"channel": CHANNELS + ["tv"], "spend": [0, 100, 900, 300, 250, 80, 500]}).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("buckets", [2, 7])
def test_out_of_core_equals_in_memory_for_every_model(log, buckets, monkeypatch):
    models = all_models()
    memory = run(log, models=models)
    # force the bucket count through the memory budget: the log's estimate / budget decides it
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: buckets)
    ooc = run(log, models=models, memory_limit="1MB")
    assert ooc.journeys is None and ooc.summary["partitions"] == buckets
    assert_same_table(memory.table, ooc.table)
    for key in ("rows", "journeys", "touches", "conversions", "touchless_conversions", "events", "ignored"):
        # approx: counts and revenue totals summed partition by partition (order only)
        assert ooc.summary[key] == pytest.approx(memory.summary[key]), key


def test_out_of_core_with_kpis_leads_lookback_and_integer_users(tmp_path, spend_file, monkeypatch):
    log = make_log(tmp_path, int_users=True, seed=3, files=2)
    options = dict(models=["linear", "last_touch", "time_decay"], spend=spend_file, milestone_events=("lead",),
                   lookback_days="none", conversion_events=("conversion",))
    with pytest.warns(UserWarning, match="'tv' never appear"):  # spend without touches: warned by both
        memory = run(log, **options)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 5)
    with pytest.warns(UserWarning, match="'tv' never appear"):
        ooc = run(log, memory_limit="1MB", **options)
    assert {"spend", "roas", "leads", "cpl", "journeys", "win_rate"} <= set(memory.table.columns)
    assert_same_table(memory.table, ooc.table)


def test_automatic_choice_and_budget():
    """In memory while the estimate fits; buckets sized to about half of the budget beyond that."""
    assert plan_buckets(1000, parse_memory_limit("1GB")) == 1
    rows = 10_000_000
    limit = parse_memory_limit("1GB")
    b = plan_buckets(rows, limit)
    assert b >= 2
    from attribution.engines import BYTES_PER_ROW

    assert rows * BYTES_PER_ROW / b <= limit * 0.5 + 1


@pytest.mark.parametrize("text,expected", [("8GB", 8 * 1024**3), ("512mb", 512 * 1024**2), ("1.5g", int(1.5 * 1024**3)),
                                           (2048, 2048)])
def test_memory_limit_parsing(text, expected):
    assert parse_memory_limit(text) == expected


@pytest.mark.parametrize("text", ["lots", "-1GB", "0", "5 parsecs"])
def test_bad_memory_limit_is_a_parameter_error(text):
    with pytest.raises(ParameterError, match="'memory_limit'"):
        parse_memory_limit(text)


def test_bad_engine_and_scheduler_without_dask():
    with pytest.raises(ParameterError, match="'engine'"):
        check_engine("spark")
    with pytest.raises(ParameterError, match="'scheduler'"):
        check_engine("local", "tcp://127.0.0.1:8786")


def test_bad_rows_reported_like_in_memory(tmp_path, monkeypatch):
    """Validation runs per bucket; the problems are merged into the in-memory message (counts, first row)."""
    log = make_log(tmp_path, bad=True, files=2)
    with pytest.raises(InputError) as mem:
        run(log, models=["linear"])
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 4)
    with pytest.raises(InputError) as ooc:
        run(log, models=["linear"], memory_limit="1MB")
    assert sorted(mem.value.codes) == sorted(ooc.value.codes)
    key = lambda p: (p.code, p.file, p.column)  # noqa: E731
    assert sorted((key(p), p.count, p.first_row) for p in mem.value.problems) == \
        sorted((key(p), p.count, p.first_row) for p in ooc.value.problems)
    # skipping gives the same numbers and the same dropped counts
    with pytest.warns(UserWarning):
        skipped_mem = run(log, models=["linear"], on_bad_rows="skip")
    with pytest.warns(UserWarning):
        skipped_ooc = run(log, models=["linear"], on_bad_rows="skip", memory_limit="1MB")
    assert skipped_mem.summary["dropped"] == skipped_ooc.summary["dropped"]
    assert_same_table(skipped_mem.table, skipped_ooc.table)


def test_partitioned_runs_refuse_ci_with_period_for_markov(log, monkeypatch):
    """--period, --by and --ci run partitioned now (tests/engines/test_partitioned_options.py,
    test_partitioned_ci.py); --ci together with --period for Markov does not yet."""
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    with pytest.raises(ParameterError, match="ci with period"):
        run(log, models=["markov"], memory_limit="1MB", ci=0.9, period="month")


def test_bucket_hash_is_a_function_of_the_value_only():
    """Same id → same bucket whatever the batch, the chunking or the dictionary encoding; buckets spread."""
    ids = pa.array([f"u{i}" for i in range(20_000)])
    whole = bucket_of(ids, 8, "string")
    halves = np.r_[bucket_of(ids.slice(0, 7_000), 8, "string"), bucket_of(ids.slice(7_000), 8, "string")]
    assert np.array_equal(whole, halves)
    assert np.array_equal(whole, bucket_of(pa.chunked_array([ids.dictionary_encode()]), 8, "string"))
    counts = np.bincount(whole, minlength=8)
    assert counts.min() > 20_000 / 8 * 0.9
    # distinct strings of different lengths and with a shared prefix hash apart
    h = hash_strings(pa.array(["a", "ab", "abc", "", "é", None]))
    assert len(set(h[:5].tolist())) == 5 and h[5] == 0
    ints = pa.array(np.arange(10_000, dtype=np.int64))
    assert np.array_equal(bucket_of(ints, 5, "int"), bucket_of(ints.cast(pa.int32()), 5, "int"))


def test_cli_out_of_core_matches_in_memory(log, tmp_path):
    from attribution.cli.app import main

    def cli(*args):
        with pytest.raises(SystemExit) as exit_:
            main(list(args))
        return exit_.value.code

    a, b = tmp_path / "mem.csv", tmp_path / "ooc.csv"
    assert cli("run", *log, "-m", "linear", "-m", "first_touch", "-o", str(a), "--quiet") in (0, None)
    assert cli("run", *log, "-m", "linear", "-m", "first_touch", "-o", str(b), "--quiet",
               "--memory-limit", "10KB", "--spill-dir", str(tmp_path)) in (0, None)
    assert_same_table(pd.read_csv(a), pd.read_csv(b))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("attribution-buckets-")]  # spill cleaned
    assert cli("run", *log, "--memory-limit", "lots") == 2
    assert cli("run", *log, "--engine", "spark") == 2


def test_automatic_mode_keeps_options_that_need_journeys_in_memory(log, monkeypatch):
    """Without --memory-limit the engine never refuses --period/--ci/--by: it runs them in memory."""
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)  # as if the log were huge
    result = run(log, models=["linear"], period="month")
    assert result.journeys is not None and "period" in result.table.columns
    assert run(log, models=["linear"]).journeys is None  # the same log without them goes out of core


def test_csv_whose_types_change_after_the_first_block_is_a_clear_input_error(tmp_path, capsys):
    """Read piece by piece, a CSV column's type is inferred from the first block; a later value that does not fit
    it (an id 'abc' after numeric ids) stops the run with one clear message and exit 2, not an internal error.
    In memory, the whole-file read infers a type that fits every row, and the run works."""
    from attribution.cli.app import main

    lines = ["user_id,timestamp,event,channel,revenue"]
    n = 200_000  # several CSV blocks
    lines += [f"{i % 997},2026-01-{1 + i % 28:02d}T00:00:00Z,touch,email," for i in range(n)]
    lines += ["abc,2026-02-01T00:00:00Z,conversion,,10"]
    path = tmp_path / "typed_later.csv"
    path.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out.csv"
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(path), "-m", "linear", "--quiet", "--memory-limit", "1MB", "-o", str(out)])
    assert exit_.value.code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "csv_type_changes" in err and "typed_later.csv" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(path), "-m", "linear", "--quiet", "-o", str(out)])
    assert exit_.value.code in (0, None) and out.exists()
