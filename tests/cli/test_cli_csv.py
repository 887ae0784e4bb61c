"""Spreadsheet CSVs on the command line: --delimiter, --decimal and --encoding on every command that reads CSV,
the spend table read with the same options, out-of-core runs, and the messages of misread files."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from testkit import events_frame

runner = CliRunner()

ROWS = [("u1", 0, "touch", "Référencement"), ("u1", 1, "touch", "email"), ("u1", 2, "conversion", None, 12.5),
        ("u2", 0, "touch", "Réseaux sociaux"), ("u2", 3, "conversion", None, 1234.75),
        ("u3", 0, "touch", "email"), ("u3", 1, "lead", None), ("u3", 2, "touch", "Référencement"),
        ("u3", 4, "conversion", None, 80.0), ("u4", 0, "touch", "email")]
FRENCH = {"sep": ";", "decimal": ",", "encoding": "cp1252"}
FRENCH_OPTIONS = ["--decimal", ",", "--encoding", "cp1252"]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def logs(tmp_path):
    """The same event log as Parquet and as a French spreadsheet export (';', decimal commas, cp1252)."""
    frame = events_frame(ROWS)
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    frame.to_csv(tmp_path / "log_fr.csv", index=False, **FRENCH)
    return tmp_path / "log.parquet", tmp_path / "log_fr.csv"


@pytest.mark.parametrize("command, extra", [
    ("run", ["-m", "linear", "-m", "markov"]),
    ("run", ["-m", "linear", "--memory-limit", "1KB"]),   # out of core: 1 KB forces many user buckets
    ("funnel", ["--milestone-event", "lead"]),
    ("transitions", []),
])
def test_french_export_equals_parquet(logs, tmp_path, command, extra):
    parquet, french = logs
    out = "out.csv" if command != "transitions" else "matrix.csv"
    a = invoke(command, parquet, *extra, "-o", tmp_path / f"a-{out}", "-q")
    b = invoke(command, french, *extra, *FRENCH_OPTIONS, "-o", tmp_path / f"b-{out}", "-q")
    assert a.exit_code == 0, a.output
    assert b.exit_code == 0, b.output
    assert (tmp_path / f"a-{out}").read_bytes() == (tmp_path / f"b-{out}").read_bytes()


def test_explicit_delimiter_and_tab_spelling(logs, tmp_path):
    parquet, _ = logs
    frame = events_frame(ROWS)
    frame.to_csv(tmp_path / "log.tsv.csv", index=False, sep="\t")
    a = invoke("run", parquet, "-m", "linear", "-o", tmp_path / "a.csv", "-q")
    b = invoke("run", tmp_path / "log.tsv.csv", "-m", "linear", "--delimiter", "tab", "-o", tmp_path / "b.csv", "-q")
    assert a.exit_code == 0 and b.exit_code == 0, b.output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_spend_csv_is_read_with_the_same_options(logs, tmp_path):
    parquet, french = logs
    spend = pd.DataFrame({"channel": ["Référencement", "email"], "spend": [10.25, 3.5]})
    spend.to_csv(tmp_path / "spend.csv", index=False)
    spend.to_csv(tmp_path / "spend_fr.csv", index=False, **FRENCH)
    a = invoke("run", parquet, "-m", "linear", "--spend", tmp_path / "spend.csv", "-o", tmp_path / "a.csv", "-q")
    b = invoke("run", french, "-m", "linear", "--spend", tmp_path / "spend_fr.csv", *FRENCH_OPTIONS,
               "-o", tmp_path / "b.csv", "-q")
    assert a.exit_code == 0 and b.exit_code == 0, b.output
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert pd.read_csv(tmp_path / "b.csv").set_index("channel").loc["Référencement", "spend"] == 10.25


def test_channels_command_reads_the_options(tmp_path):
    frame = pd.DataFrame({"user_id": ["u1", "u1"], "timestamp": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
                          "event": ["touch", "conversion"], "source": ["google", None], "medium": ["cpc", None],
                          "revenue": [None, 12.5]})
    frame.to_csv(tmp_path / "fr.csv", index=False, **FRENCH)
    res = invoke("channels", tmp_path / "fr.csv", "-o", tmp_path / "grouped.parquet", *FRENCH_OPTIONS, "-q")
    assert res.exit_code == 0, res.output
    grouped = pd.read_parquet(tmp_path / "grouped.parquet")
    assert grouped["channel"].tolist()[0] == "Paid Search" and float(grouped["revenue"].iloc[1]) == 12.5


def test_large_utf16_export_in_memory_and_out_of_core(tmp_path):
    """Excel's "Unicode text": UTF-16 LE with its byte-order mark, tab-separated, over 1 MB (several blocks)."""
    rng = np.random.default_rng(7)
    n = 40_000
    users = rng.integers(0, 3000, n)
    frame = pd.DataFrame({
        "user_id": [f"user-{u:04d}" for u in users],
        "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(np.sort(rng.integers(0, 90 * 86400, n)), "s"),
        "event": rng.choice(["touch", "conversion"], n, p=[0.9, 0.1]),
    })
    names = rng.choice(["Référencement", "email", "Réseaux"], n)
    frame["channel"] = np.where(frame["event"] == "touch", names, None)
    frame["revenue"] = np.where(frame["event"] == "conversion", np.round(rng.gamma(2.0, 30.0, n), 2), np.nan)
    frame.to_parquet(tmp_path / "log.parquet", index=False)
    frame.to_csv(tmp_path / "unicode.csv", index=False, sep="\t", decimal=",", encoding="utf-16")
    assert (tmp_path / "unicode.csv").stat().st_size > 2**20
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "attribution", "run", *map(str, args), "-m", "linear", "-q"],
                              capture_output=True, text=True, env=env, cwd=tmp_path)

    ref = cli(tmp_path / "log.parquet", "-o", tmp_path / "ref.csv")
    mem = cli(tmp_path / "unicode.csv", "--decimal", ",", "-o", tmp_path / "mem.csv")
    ooc = cli(tmp_path / "unicode.csv", "--decimal", ",", "--memory-limit", "1MB", "-o", tmp_path / "ooc.csv")
    for proc in (ref, mem, ooc):
        assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "ref.csv").read_bytes() == (tmp_path / "mem.csv").read_bytes()
    # out of core sums credit over user buckets in another order: equal to the in-memory table within float
    # rounding of a few thousand additions (1e-12 relative)
    a, b = pd.read_csv(tmp_path / "ref.csv"), pd.read_csv(tmp_path / "ooc.csv")
    pd.testing.assert_frame_equal(a, b, rtol=1e-12)


def test_wrong_delimiter_says_so(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_text("user_id;timestamp;event;channel\nu1;2026-01-01;touch;a\nu1;2026-01-02;conversion;\n")
    res = invoke("run", path, "--delimiter", ",")
    assert res.exit_code == 2
    assert "--delimiter ';'" in res.output and "--column" not in res.output and "Traceback" not in res.output
    assert invoke("run", path, "-q").exit_code == 0  # detected


def test_latin1_without_encoding_names_column_row_and_option(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("user_id,timestamp,event,channel\nu1,2026-01-01,touch,email\n"
                     "u1,2026-01-02,touch,Référencement\nu1,2026-01-03,conversion,\n".encode("latin-1"))
    res = invoke("run", path)
    assert res.exit_code == 2
    assert f"file {path}" in res.output and "column 'channel'" in res.output and "first at row 1" in res.output
    assert "--encoding" in res.output and "binary" not in res.output
    ok = invoke("run", path, "--encoding", "latin-1", "-m", "last_touch", "-q")
    assert ok.exit_code == 0 and "Référencement" in ok.output


def test_duplicate_header_exit_2(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("user_id,timestamp,event,channel,channel\nu1,2026-01-01,touch,a,b\n")
    res = invoke("run", path)
    assert res.exit_code == 2 and "'channel'" in res.output and "duplicate_column" in res.output


@pytest.mark.parametrize("option", [["--delimiter", "ab"], ["--decimal", ";"], ["--encoding", "klingon"]])
def test_bad_csv_option_values_exit_2(logs, option):
    res = invoke("run", logs[1], *option)
    assert res.exit_code == 2 and option[0] in res.output
