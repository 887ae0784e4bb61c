"""Channel names that collide with the engine's own: the touchless row's ``(none)`` and control characters
(the unit separator ``\\x1f`` joins channel names in internal keys). Every model, through the command line."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.models import available_models

runner = CliRunner()
MODELS = available_models() + ["shapley:game=rate", "markov:order=2"]


def write_log(tmp_path, channels, fmt):
    """Users u0.. each with one touch on ``channels[i]`` and a conversion; user t converts without a touch;
    user n has a touch and no conversion."""
    rows = []
    for i, ch in enumerate(channels):
        rows += [(f"u{i}", "2026-01-01T00:00:00Z", "touch", ch, None),
                 (f"u{i}", "2026-01-02T00:00:00Z", "conversion", None, 10.0 * (i + 1))]
    rows += [("t", "2026-01-02T00:00:00Z", "conversion", None, 5.0), ("n", "2026-01-01T00:00:00Z", "touch", "z", None)]
    frame = pd.DataFrame(rows, columns=["user_id", "timestamp", "event", "channel", "revenue"])
    path = tmp_path / f"events.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return str(path)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("model", MODELS)
def test_a_touch_channel_named_none_is_renamed_not_merged(tmp_path, model, fmt):
    log = write_log(tmp_path, ["(none)", "x", "(none)"], fmt)
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["run", log, "-m", model, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "reported as '(none) (channel)'" in res.stderr
    table = pd.read_csv(out, keep_default_na=False).set_index("channel")
    assert set(table.index) <= {"(none)", "(none) (channel)", "x", "z", "(baseline)"}  # (baseline): hazard
    assert "(none) (channel)" in table.index
    # the touchless conversion stays alone on the touchless row; every conversion is credited once
    assert table.loc["(none)", "conversions"] == pytest.approx(1.0)
    assert table.loc["(none)", "revenue"] == pytest.approx(5.0)
    assert table["conversions"].sum() == pytest.approx(4.0)  # 4 conversions, credits are fractions of 1 each
    assert table["revenue"].sum() == pytest.approx(65.0)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
@pytest.mark.parametrize("model, name", [(m, "x\x1fy") for m in MODELS]
                         + [("linear", n) for n in ("x\x1ey", "a\tb", "x\x7f", "x\x00y")])
def test_control_characters_in_channel_names_never_split_into_other_channels(tmp_path, model, fmt, name):
    log = write_log(tmp_path, [name, "x", "y"], fmt)
    res = runner.invoke(app, ["run", log, "-m", model])
    assert res.exit_code == 2, res.output
    assert "[channel_control_character]" in res.stderr and "first at row 0" in res.stderr
    assert "Traceback" not in res.output
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["run", log, "-m", model, "-o", str(out), "--on-bad-rows", "skip"])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(out, keep_default_na=False).set_index("channel")
    assert set(table.index) <= {"(none)", "x", "y", "z", "(baseline)"}  # nothing invented from the pieces of the name
    # the dropped touch leaves its conversion touchless: 10 of revenue on (none) besides the touchless 5
    assert table.loc["(none)", "revenue"] == pytest.approx(15.0)
    assert table["revenue"].sum() == pytest.approx(65.0)


@pytest.mark.parametrize("model", ["linear", "markov", "shapley:game=rate", "logistic"])
def test_path_tables_follow_the_same_channel_rules(tmp_path, model):
    table = tmp_path / "paths.csv"
    table.write_text("path,conversions,nulls,revenue\n(none) > x,2,1,20\n,1,0,5\nx,1,2,3\n")
    out = tmp_path / "out.csv"
    res = runner.invoke(app, ["run", str(table), "--input", "paths", "-m", model, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "reported as '(none) (channel)'" in res.stderr
    got = pd.read_csv(out, keep_default_na=False).set_index("channel")
    assert set(got.index) == {"(none)", "(none) (channel)", "x"}
    assert got.loc["(none)", "conversions"] == pytest.approx(1.0)  # the touchless path alone
    assert got["conversions"].sum() == pytest.approx(4.0)  # 4 conversions, every one credited once
    table.write_text("path,conversions,nulls,revenue\nx,1,0,1\nx\x1fy > z,2,1,20\n")
    res = runner.invoke(app, ["run", str(table), "--input", "paths", "-m", model])
    assert res.exit_code == 2 and "[channel_control_character]; 1 row breaks it, first at row 1" in res.stderr
