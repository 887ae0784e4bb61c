"""Input problems are exit 2 with one message, never an internal error: nested columns, unsigned 64-bit user
ids, huge values echoed in messages, revenue that would overflow. Through ``attribution run`` in-process, in
memory and out of core."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.exceptions import MAX_SHOWN, Problem, shorten

runner = CliRunner()
NESTED = {"struct": pa.array([{"a": 1}] * 4), "list": pa.array([[1]] * 4),
          "map": pa.array([[("k", 1)]] * 4, pa.map_(pa.string(), pa.int64()))}


def base_columns():
    return {"user_id": pa.array(["a", "a", "b", "b"]),
            "timestamp": pa.array(["2026-01-01", "2026-01-02", "2026-01-01", "2026-01-03"]),
            "event": pa.array(["touch", "conversion", "touch", "conversion"]),
            "channel": pa.array(["x", None, "y", None]), "revenue": pa.array([None, 3.0, None, 4.0])}


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def out_of_core(monkeypatch, buckets=3):
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: buckets)
    return ["--memory-limit", "1MB"]


@pytest.mark.parametrize("kind", list(NESTED))
@pytest.mark.parametrize("column", ["user_id", "timestamp", "event", "channel", "revenue", "campaign", "source",
                                    "medium", "conversion_id"])
def test_nested_columns_are_a_type_error_naming_the_column(tmp_path, column, kind):
    cols = base_columns()
    cols[column] = NESTED[kind]
    pq.write_table(pa.table(cols), tmp_path / "e.parquet")
    extra = ["--by", "campaign"] if column == "campaign" else []  # the campaign column is read only when used
    res = invoke("run", tmp_path / "e.parquet", "-m", "linear", *extra)
    assert res.exit_code == 2, res.output
    assert f"column '{column}': must be a" in res.stderr and "[column_type]" in res.stderr
    assert "internal error" not in res.output and "Traceback" not in res.output


@pytest.mark.parametrize("column", ["user_id", "timestamp"])
def test_nested_columns_out_of_core_too(tmp_path, column, monkeypatch):
    cols = base_columns()
    cols[column] = NESTED["struct"]
    pq.write_table(pa.table(cols), tmp_path / "e.parquet")
    res = invoke("run", tmp_path / "e.parquet", "-m", "linear", *out_of_core(monkeypatch))
    assert res.exit_code == 2, res.output
    assert f"column '{column}': must be a" in res.stderr and "[column_type]" in res.stderr


def uint64_log(path):
    """Users 2**64 - 1, 2**63 + 5 and 5: three distinct people (5 and 2**63 + 5 share their low 63 bits)."""
    ids = [2**64 - 1, 2**63 + 5, 5]
    rows = []
    for i, u in enumerate(ids):
        rows += [(u, 1767225600 + 60 * i, "touch", ["x", "y", "z"][i], None),
                 (u, 1767225700 + 60 * i, "conversion", None, 10.0 * (i + 1))]
    frame = pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "channel", "revenue"])
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.set_column(0, "user_id", pa.array([r[0] for r in rows], pa.uint64()))
    pq.write_table(table, path)
    return str(path)


@pytest.mark.parametrize("partitioned", [False, True])
def test_unsigned_64_bit_user_ids_stay_distinct(tmp_path, monkeypatch, partitioned):
    log = uint64_log(tmp_path / "e.parquet")
    out = tmp_path / "out.csv"
    options = out_of_core(monkeypatch) if partitioned else []
    res = invoke("run", log, "-m", "first_touch", "-o", out, *options)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out).set_index("channel")
    # each user converts once on its own channel: merged ids would move credit between channels
    assert table.loc[["x", "y", "z"], "revenue"].tolist() == [10.0, 20.0, 30.0]
    assert table.loc[["x", "y", "z"], "journeys"].tolist() == [1, 1, 1]


def test_a_megabyte_user_id_on_a_bad_row_is_not_echoed_whole(tmp_path):
    big = "u" * 1_000_000
    frame = pd.DataFrame({"user_id": [big, "b"], "timestamp": ["2026-01-01", "2026-01-02"],
                          "event": ["touch", "conversion"], "channel": [None, None]})
    frame.to_parquet(tmp_path / "e.parquet", index=False)
    res = invoke("run", tmp_path / "e.parquet")
    assert res.exit_code == 2 and "[channel_missing_on_touch]" in res.stderr
    assert len(res.stderr) < 2_000 and "… (1,000,000 chars)" in res.stderr
    assert "u" * MAX_SHOWN not in res.stderr and "u" * (MAX_SHOWN - 1) in res.stderr


def test_shorten_cuts_text_only():
    assert shorten("a" * 80) == "a" * 80
    assert shorten("a" * 81) == "a" * 79 + "… (81 chars)"
    assert shorten(b"b" * 100).startswith(b"b" * 79 + b"...") and shorten(12345) == 12345
    text = Problem("c", "rule", "fix", column="c" * 500, count=1, first_row=0,
                   example={"user_id": "x" * 10_000}).describe()
    assert len(text) < 400


@pytest.mark.parametrize("partitioned", [False, True])
def test_revenue_that_would_overflow_is_bad_input_without_a_warning(tmp_path, monkeypatch, partitioned):
    frame = pd.DataFrame({"user_id": ["a", "a", "b", "b"], "timestamp": ["2026-01-01", "2026-01-02"] * 2,
                          "event": ["touch", "conversion"] * 2, "channel": ["x", None] * 2,
                          "revenue": [None, 1e308, None, 1e308]})
    frame.to_parquet(tmp_path / "e.parquet", index=False)
    options = out_of_core(monkeypatch) if partitioned else []
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        res = invoke("run", tmp_path / "e.parquet", *options)
        assert res.exit_code == 2, res.output
        assert "column 'revenue': must be at most 1e+15" in res.stderr
        assert "[too_large]; 2 rows break it, first at row 1" in res.stderr
        assert "Warning" not in res.stderr
        out = tmp_path / "out.csv"
        res = invoke("run", tmp_path / "e.parquet", "-m", "linear", "--on-bad-rows", "skip", "-o", out, *options)
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out)
    assert np.isfinite(table["revenue"]).all() and table["revenue"].sum() == 0.0


def test_integers_beyond_float64_precision_are_too_large_not_an_internal_error(tmp_path):
    """An int64 revenue or path count above 2**53 has no exact float64: it is refused as too large (it is far
    above the 1e15 limit), never a crash of the conversion."""
    cols = base_columns()
    cols["revenue"] = pa.array([None, 2**60, None, 4], pa.int64())
    pq.write_table(pa.table(cols), tmp_path / "e.parquet")
    res = invoke("run", tmp_path / "e.parquet", "-m", "linear")
    assert res.exit_code == 2, res.output
    assert "column 'revenue'" in res.stderr and "[too_large]; 1 row breaks it, first at row 1" in res.stderr
    pq.write_table(pa.table({"path": ["a", "b"], "conversions": pa.array([1, 2**62], pa.int64())}),
                   tmp_path / "p.parquet")
    res = invoke("run", tmp_path / "p.parquet", "--input", "paths", "-m", "linear")
    assert res.exit_code == 2, res.output
    assert "column 'conversions'" in res.stderr and "[too_large]" in res.stderr and "Traceback" not in res.output
