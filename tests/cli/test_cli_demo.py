"""``attribution demo``: every registered model on the bundled sample, against the simulator's truth."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.models import available_models


def test_demo_compares_every_model_with_the_truth(tmp_path):
    out = tmp_path / "demo.csv"
    res = CliRunner().invoke(app, ["demo", "-q", "-o", str(out)])
    assert res.exit_code == 0, res.output
    header = res.stdout.splitlines()[2].split()
    assert header == ["channel", *available_models(), "TRUTH"]
    table = pd.read_csv(out)
    assert list(dict.fromkeys(table["model"])) == available_models()
    # every model credits all the sample's conversions
    totals = table.groupby("model")["conversions"].sum()
    assert (abs(totals - totals.iloc[0]) < 1e-6).all() and totals.iloc[0] > 500
    assert {"spend", "roas", "leads", "cpl"} <= set(table.columns)
