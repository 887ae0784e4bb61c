"""Regressions found by tests/cli/test_fuzz_cli.py, one per cause, through ``attribution run`` in-process."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app

runner = CliRunner()
HEADER = "user_id,timestamp,event,channel,revenue\n"


def test_a_header_only_csv_out_of_core_is_an_empty_result(tmp_path, monkeypatch):
    """Out of core, an empty log reads the schema from its first file's first piece; a header-only CSV has no
    piece unless the reader yields an empty one (it raised StopIteration: exit 1)."""
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    (tmp_path / "e.csv").write_text(HEADER)
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["run", str(tmp_path / "e.csv"), "-m", "linear", "--memory-limit", "1MB",
                              "--period", "month", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert out.read_text().splitlines()[0].startswith("model,channel,period,conversions")
    assert len(out.read_text().splitlines()) == 1
    assert "0 conversions" in res.stderr


@pytest.mark.parametrize("game", ["rate", "journey"])
def test_shapley_on_a_log_whose_rows_were_all_dropped(tmp_path, game):
    """No channel set at all: the touchless mask must stay boolean (a float empty array indexed: exit 1)."""
    pq.write_table(pa.table({"user_id": [None, None], "timestamp": ["2026-01-05", "2026-01-06"],
                             "event": ["touch", "conversion"], "channel": ["x", None],
                             "revenue": [None, 1.0]}), tmp_path / "e.parquet")
    res = runner.invoke(app, ["run", str(tmp_path / "e.parquet"), "-m", f"shapley:game={game}",
                              "--on-bad-rows", "skip", "-o", str(tmp_path / "out.csv")])
    assert res.exit_code == 0, res.output
    assert "0 conversions" in res.stderr and "user_id_null: 2" in res.stderr
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 1


@pytest.mark.parametrize("memory", [[], ["--memory-limit", "1MB"]])
def test_csv_user_ids_above_2_63_are_distinct_users(tmp_path, monkeypatch, memory):
    """pyarrow's CSV reader infers float64 for integers above 2**63 - 1 (the column was then refused); the CSV
    user column is read as text, in memory and out of core."""
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    ids = [2**64 - 1, 2**63 + 1, 2**63]
    rows = "".join(f"{u},2026-01-0{i + 1},touch,c{i},\n{u},2026-01-0{i + 2},conversion,,1\n"
                   for i, u in enumerate(ids))
    (tmp_path / "e.csv").write_text(HEADER + rows)
    res = runner.invoke(app, ["run", str(tmp_path / "e.csv"), "-m", "linear", "-o", str(tmp_path / "out.csv"), *memory])
    assert res.exit_code == 0, res.output
    assert "3 journeys" in res.stderr and "3 conversions" in res.stderr


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_text_column_mixing_iso_strings_and_epoch_numbers_reads_both(tmp_path, fmt):
    """Epoch numbers in a text column that also holds ISO strings were all 'timestamp_unparsable'."""
    ts = ["2026-01-05T10:00:00Z", "1767866400000000000", "2026-01-06", "1767952800000000000"]  # ns: Jan 8, Jan 9
    cols = {"user_id": ["a", "a", "b", "b"], "timestamp": ts, "event": ["touch", "conversion"] * 2,
            "channel": ["x", None, "y", None], "revenue": [None, 1.0, None, 2.0]}
    path = tmp_path / f"e.{fmt}"
    if fmt == "csv":
        path.write_text(HEADER + "".join(f"{u},{t},{e},{c or ''},{r or ''}\n" for u, t, e, c, r in zip(*cols.values())))
    else:
        pq.write_table(pa.table(cols), path)
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["run", str(path), "-m", "linear", "-o", str(out), "--lookback-days", "5"])
    assert res.exit_code == 0, res.output
    assert "2 conversions" in res.stderr and "touchless" not in res.stderr  # both touches within 5 days
    assert "linear,x,1.0,1.0" in out.read_text() and "linear,y,1.0,2.0" in out.read_text()
