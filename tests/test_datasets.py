"""The bundled sample data (attribution.sim.datasets): provenance, schema, consistency with its truth and spend."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from attribution.sim import datasets
from attribution.io.events import Events
from attribution.io.reader import read_events
from attribution.sim.simulate import CHANNELS, DEFAULT_COSTS

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "make_sample_data.py"
COMMITTED = REPO / "attribution" / "data"


@pytest.fixture(scope="module")
def events():
    return datasets.load_sample_events()


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """The script's output now, in a temporary folder (the golden files' provenance)."""
    if not SCRIPT.exists():
        pytest.skip(f"{SCRIPT} is not here (tests run outside the repository)")
    out = tmp_path_factory.mktemp("sample")
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True,
                   cwd=out)
    return out


def test_paths_point_into_the_package():
    for path in (datasets.sample_events_path(), datasets.sample_spend_path(), datasets.sample_truth_path()):
        p = Path(path)
        assert p.is_file()
        assert p.parent.name == "data" and p.parent.parent.name == "attribution"
    assert Path(datasets.sample_events_path()).stat().st_size < 1_000_000


@pytest.mark.parametrize("name", ["sample_spend.csv", "sample_truth.csv"])
def test_committed_csv_equals_script_output(regenerated, name):
    assert (regenerated / name).read_bytes() == (COMMITTED / name).read_bytes()


def test_committed_parquet_equals_script_output(regenerated):
    """Same rows and types always; same bytes when written by the same Arrow version as the committed file."""
    new, old = regenerated / "sample_events.parquet", COMMITTED / "sample_events.parquet"
    assert pq.read_table(new).equals(pq.read_table(old))
    if pq.ParquetFile(new).metadata.created_by == pq.ParquetFile(old).metadata.created_by:
        assert new.read_bytes() == old.read_bytes()


def test_script_is_deterministic(regenerated, tmp_path):
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(tmp_path)], check=True, capture_output=True)
    for name in ("sample_events.parquet", "sample_spend.csv", "sample_truth.csv"):
        assert (tmp_path / name).read_bytes() == (regenerated / name).read_bytes()


def test_sample_shape(events):
    assert 30_000 <= len(events) <= 60_000
    assert 3_000 <= events["user_id"].nunique() <= 4_000
    assert set(events["event"]) == {"touch", "lead", "qualified", "conversion"}
    assert set(events.loc[events["event"] == "touch", "channel"]) == set(CHANNELS)
    assert list(events.columns[:6]) == ["user_id", "timestamp", "event", "channel", "campaign", "revenue"]
    assert {"source", "medium"} <= set(events.columns)
    assert events["timestamp"].dtype.kind == "M"
    schema = pq.read_schema(datasets.sample_events_path())
    assert schema.field("user_id").type == pa.string()


def test_sample_passes_validation(events):
    from_file = read_events(datasets.sample_events_path())
    from_frame = Events.from_frame(events)
    assert from_file.num_rows == from_frame.num_rows == len(events)
    assert from_file.event_counts() == from_frame.event_counts()


def test_truth_matches_the_sample(events):
    truth = datasets.sample_ground_truth()
    assert list(truth["channel"]) == list(CHANNELS) + ["(baseline)"]
    conv = events[events["event"] == "conversion"]
    assert truth["conversions"].sum() == len(conv)
    # abs=0.05: truth revenue per channel is rounded to cents (simulate.py), a few rows' half-cents add up
    assert truth["revenue"].sum() == pytest.approx(conv["revenue"].sum(), abs=0.05)
    touches = events[events["event"] == "touch"].groupby("channel").size()
    by_channel = datasets.sample_ground_truth(include_baseline=False).set_index("channel")
    assert (by_channel["touches"] == touches[by_channel.index]).all()
    assert by_channel.loc["direct", "conversions"] == 0
    # abs=1e-5: the shares are stored rounded in the committed CSV
    assert by_channel["share"].sum() == pytest.approx(1.0, abs=1e-5)


def test_spend_matches_the_sample(events):
    spend = datasets.load_sample_spend()
    assert list(spend.columns) == ["date", "channel", "campaign", "cost_type", "spend"]
    assert spend["date"].dtype.kind == "M"
    assert set(spend["cost_type"]) == {"media", "tools"}
    assert not spend["channel"].isin(["direct", "organic_search"]).any()
    media = spend[spend["cost_type"] == "media"].groupby("channel")["spend"].sum()
    touches = events[events["event"] == "touch"].groupby("channel").size()
    for channel, cost in DEFAULT_COSTS.items():
        # abs=1.0: spend is rounded to cents per day (90 days x up to 3 campaigns x 0.005)
        assert media[channel] == pytest.approx(touches[channel] * cost, abs=1.0)


def test_models_disagree_on_the_sample():
    """The sample is built to separate the models: first touch favours awareness channels, last touch the
    channels close to the purchase (search, direct, email)."""
    from attribution.runner import run

    table = run([datasets.sample_events_path()], models=["first_touch", "last_touch", "linear"]).table
    table = table[table["channel"] != "(none)"]
    top = {m: g.nlargest(2, "conversions")["channel"].tolist() for m, g in table.groupby("model")}
    assert set(top["first_touch"]) == {"display", "social"}
    assert set(top["last_touch"]) <= {"paid_search", "direct", "email"}
    totals = table.groupby("model")["conversions"].sum()
    assert np.ptp(totals.to_numpy()) < 1e-6  # every model credits the same conversions


def test_demo_command_runs():
    from typer.testing import CliRunner

    from attribution.cli.app import app
    from attribution.models import available_models

    result = CliRunner().invoke(app, ["demo", "--quiet"])
    assert result.exit_code == 0, result.output
    for model in available_models():
        assert model in result.output
