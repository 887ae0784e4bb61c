"""``attribution run`` end to end: outputs, formats, exit statuses, atomic writes, byte-for-byte reruns."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app

runner = CliRunner()

ROWS = [
    ("a", 0, "touch", "email"), ("a", 3, "touch", "search"), ("a", 4, "conversion", None, 100.0),
    ("b", 0, "touch", "social"), ("b", 1, "conversion", None, 40.0),
    ("c", 0, "touch", "search"),
]


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_done_when_linear_and_time_decay_to_parquet(tmp_events, tmp_path):
    events = tmp_events(ROWS)
    out = tmp_path / "out.parquet"
    res = invoke("run", events, "--model", "linear", "--model", "time_decay:half_life=3d", "--output", out)
    assert res.exit_code == 0, res.output
    table = pd.read_parquet(out)
    assert list(table.columns[:5]) == ["model", "channel", "conversions", "revenue", "share"]
    assert list(table["model"]) == ["linear"] * 3 + ["time_decay:half_life=3d"] * 3
    assert list(table["channel"]) == ["email", "search", "social"] * 2
    lin = table[table["model"] == "linear"].set_index("channel")
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert lin["conversions"].tolist() == pytest.approx([0.5, 0.5, 1.0])
    assert lin["revenue"].tolist() == pytest.approx([50.0, 50.0, 40.0])
    assert lin["share"].tolist() == pytest.approx([0.25, 0.25, 0.5])
    # time decay, half-life 3 days: email 4 days old, search 1 day old → weights 2^(-4/3), 2^(-1/3), normalised
    td = table[table["model"] == "time_decay:half_life=3d"].set_index("channel")
    w_email = 2 ** (-4 / 3) / (2 ** (-4 / 3) + 2 ** (-1 / 3))
    # rel=1e-12: the same exp2 weights computed here and by the model, read back from CSV (repr floats)
    assert td.loc["email", "conversions"] == pytest.approx(w_email, rel=1e-12)
    assert td.loc["search", "revenue"] == pytest.approx(100 * (1 - w_email), rel=1e-12)


def test_stdout_table_without_output(tmp_events):
    res = invoke("run", tmp_events(ROWS), "-m", "first_touch", "--quiet")
    assert res.exit_code == 0
    lines = res.stdout.strip().splitlines()
    assert lines[0].split()[:5] == ["model", "channel", "conversions", "revenue", "share"]
    assert lines[1].split()[:5] == ["first_touch", "email", "1", "100.00", "0.5000"]


@pytest.mark.parametrize("ext, reader", [("csv", pd.read_csv), ("json", pd.read_json), ("parquet", pd.read_parquet)])
def test_formats_by_extension_and_reruns_are_byte_identical(tmp_events, tmp_path, ext, reader):
    events = tmp_events(ROWS)
    a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
    assert invoke("run", events, "-o", a, "-q").exit_code == 0
    assert invoke("run", events, "-o", b, "-q").exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    table = reader(a)
    assert set(table["model"]) == {"first_touch", "last_touch", "last_non_direct", "linear", "time_decay",
                                   "position_based"} | ({"markov"} if "markov" in set(table["model"]) else set())


def test_format_option_overrides_extension(tmp_events, tmp_path):
    out = tmp_path / "table.txt"
    assert invoke("run", tmp_events(ROWS), "-m", "linear", "-o", out, "--format", "csv").exit_code == 0
    assert out.read_text().startswith("model,channel,conversions,revenue,share")


def test_bad_input_exits_2_and_leaves_previous_output_untouched(tmp_events, tmp_path):
    out = tmp_path / "out.csv"
    out.write_text("previous good output\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("user_id,timestamp,event,channel,revenue\na,2024-01-01,touch,email,\na,2024-01-02,conversion,,-3\n")
    res = invoke("run", bad, "-o", out)
    assert res.exit_code == 2
    assert "revenue" in res.stderr and "must be >= 0" in res.stderr and "first at row 1" in res.stderr
    assert "Traceback" not in res.output
    assert out.read_text() == "previous good output\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".attribution-")] == []


@pytest.mark.parametrize("args, fragment", [
    (["-m", "nosuch"], "Unknown model 'nosuch'"),
    (["-m", "time_decay:half_life=0"], "must be a duration > 0"),
    (["--lookback-days", "-1"], "--lookback-days"),
    (["--input", "tables"], "'--input' option must be 'events' or 'paths'"),
    (["-o", "out.xlsx"], "Cannot tell the format"),
    (["-o", "/no/such/folder/out.csv"], "does not exist"),
    (["--column", "nosuch=x"], "unknown canonical column"),
])
def test_bad_options_exit_2_with_one_message(tmp_events, args, fragment):
    res = invoke("run", tmp_events(ROWS), *args)
    assert res.exit_code == 2, res.output
    assert fragment in res.stderr
    assert "Traceback" not in res.output


def test_missing_file_exits_2(tmp_path):
    res = invoke("run", tmp_path / "missing.parquet")
    assert res.exit_code == 2
    assert "does not exist" in res.stderr


def test_summary_on_stderr_unless_quiet(tmp_events):
    events = tmp_events(ROWS + [("d", 0, "lead", None)])
    loud = invoke("run", events, "-m", "linear")
    assert "3 journeys" in loud.stderr and "1 rows of other events ignored" in loud.stderr
    assert invoke("run", events, "-m", "linear", "-q").stderr == ""


def test_path_table_input(tmp_path):
    paths = tmp_path / "paths.csv"
    paths.write_text("path,conversions,nulls,revenue\nemail > search,2.5,1,50\nsearch,1,3,10\n")
    res = invoke("run", paths, "--input", "paths", "-m", "linear", "-m", "first_touch", "-q")
    assert res.exit_code == 0, res.output
    out = tmp_path / "o.csv"
    invoke("run", paths, "--input", "paths", "-m", "linear", "-o", out)
    t = pd.read_csv(out).set_index("channel")
    # email gets half of 2.5 conversions; search the other half plus 1
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert t["conversions"].to_dict() == pytest.approx({"email": 1.25, "search": 2.25})
    assert t["revenue"].to_dict() == pytest.approx({"email": 25.0, "search": 35.0})
    # a model that needs timestamps cannot run on a path table
    res = invoke("run", paths, "--input", "paths", "-m", "time_decay")
    assert res.exit_code == 2 and "needs touch timestamps" in res.stderr


def test_python_dash_m_subprocess(tmp_events, tmp_path):
    events = tmp_events(ROWS)
    out = tmp_path / "out.csv"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([sys.executable, "-m", "attribution", "run", str(events), "-m", "last_touch", "-o", str(out)],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert pd.read_csv(out).set_index("channel")["conversions"].to_dict() == {"search": 1.0, "social": 1.0, "email": 0.0}
    bad = subprocess.run([sys.executable, "-m", "attribution", "run", str(tmp_path / "nope.csv")],
                         capture_output=True, text=True, env=env, cwd=tmp_path)
    assert bad.returncode == 2
    assert bad.stderr.startswith("error: invalid input") and "Traceback" not in bad.stderr


def test_debug_shows_the_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "attribution", "--debug", "run", str(tmp_path / "nope.csv")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_python_dash_m_from_a_source_checkout(tmp_events):
    """From the repository root the source folder shadows the installed package; it must still run."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    if not (root / "pyproject.toml").is_file() or not (root / "models" / "__init__.py").is_file():
        pytest.skip("the tests are not running inside a source checkout")
    proc = subprocess.run([sys.executable, "-m", "attribution", "run", str(tmp_events(ROWS)), "-m", "linear", "-q"],
                          capture_output=True, text=True, cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1].split()[:3] == ["linear", "email", "0.50"]
