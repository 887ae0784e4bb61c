"""A new model in one file: defined here in about 30 lines, with no other file touched, it runs through
``attribution.run`` in memory, out of core and on Dask, with periods, campaigns, the detail table and bootstrap
intervals, and by its spec string from the command line (the model contract of ``attribution.models.base``).
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.models import TouchWeightModel
from attribution.models.params import Number


# ------------------------------------------------------------------------------------------ the new model
class Recency(TouchWeightModel, register=False):  # registered by the fixture below, for these tests only
    """Weight ∝ (position + 1) ** power within each journey: later touches earn more (power 0 = linear).

    Parameters
    ----------
    power : float, default 1
        How steeply credit rises towards the conversion (>= 0).
    """

    name = "recency"
    journey_local = True  # a journey's weights depend on that journey alone
    parameter_constraints = {"power": Number(0)}

    def __init__(self, power=1.0):
        self._set_params(power=power)

    def touch_weights(self, journeys):
        raw = (journeys.touch_position + 1.0) ** float(self.power)
        total = np.bincount(journeys.touch_journey, raw, minlength=journeys.n_journeys)
        return raw / total[journeys.touch_journey]
# ------------------------------------------------------------------------------------------------------


sys.path.insert(0, __file__.rsplit("/", 1)[0])
from enginekit import make_log, run_on_dask  # noqa: E402

from attribution import run  # noqa: E402

def assert_same_table(a, b, tol):
    assert list(a.columns) == list(b.columns)
    for col in a.columns:
        if pd.api.types.is_float_dtype(a[col]):
            np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float), rtol=tol, atol=tol, err_msg=col)
        else:
            assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col


@pytest.fixture
def registered():
    """``recency`` in the registry for one test: a class statement without ``register=False`` registers for good,
    and the other tests of the session (which run every registered model, on Dask workers too) must not see it."""
    from attribution.models.base import MODELS

    MODELS["recency"] = Recency
    yield
    MODELS.pop("recency", None)


OPTIONS = [{}, {"period": "month"}, {"by": "campaign"}, {"ci": 0.9, "n_boot": 20, "seed": 3}]


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    return make_log(tmp_path_factory.mktemp("newmodel"), n=3000, users=300)


def test_label_registry_and_parameters(registered):
    from attribution.models import parse_model_spec

    assert Recency(power=2).label == "recency:power=2" and Recency().label == "recency"
    assert repr(Recency(power=2)) == "Recency(power=2)"
    assert parse_model_spec("recency:power=0.5").power == 0.5
    with pytest.raises(ValueError, match="The 'power' parameter of Recency must be a number >= 0"):
        Recency(power=-1)


def test_hand_computed_weights():
    from testkit import journeys_of

    j = journeys_of([("u", 0, "touch", "a"), ("u", 1, "touch", "b"), ("u", 2, "conversion", None, 30.0)])
    credit = Recency(power=1).fit(j).attribution_.set_index("channel")
    assert credit.loc["a", "conversions"] == pytest.approx(1 / 3, abs=1e-15)  # weights 1/3, 2/3: exact ratios
    assert credit.loc["b", "revenue"] == pytest.approx(20.0, abs=1e-12)


@pytest.mark.parametrize("options", OPTIONS, ids=["plain", "period", "campaign", "ci"])
def test_out_of_core_equals_in_memory(log, options, monkeypatch):
    models = [Recency(power=2), "linear"]
    memory = run(log, models=models, **options).table
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    parted = run(log, models=models, memory_limit="1MB", **options).table
    bounds = [c for c in memory.columns if c.endswith(("_lo", "_hi"))]
    if options.get("ci"):  # both engines give intervals around the credit (drawn by different bootstraps)
        assert bounds and (parted["conversions_lo"] <= parted["conversions_hi"]).all()
    # 1e-9: sums over 3 buckets in another order (~1e-15 each)
    assert_same_table(memory.drop(columns=bounds), parted.drop(columns=bounds), tol=1e-9)
    assert set(memory["model"]) == {"recency:power=2", "linear"}


def test_dask_equals_in_memory(log, monkeypatch):
    distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
    # a cluster in this process: its workers see this module's class as a user's own cluster sees the user's code
    with distributed.Client(processes=False, n_workers=2, threads_per_worker=1, dashboard_address=None) as client:
        models = [Recency(power=2)]
        memory = run(log, models=models, period="month").table
        monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
        dask = run_on_dask(client, log, monkeypatch, models=models, period="month").table
    assert_same_table(memory, dask, tol=1e-9)  # 1e-9: sums over 3 buckets in another order (~1e-15 each)


def test_command_line_spec_and_detail(log, tmp_path, registered):
    from attribution.cli.app import app

    out, detail = tmp_path / "t.csv", tmp_path / "d.csv"
    res = CliRunner().invoke(app, ["run", *log, "--model", "recency:power=2", "--quiet", "-o", str(out),
                                   "--detail", str(detail)])
    assert res.exit_code == 0, res.output
    table, facts = pd.read_csv(out), pd.read_csv(detail)
    assert set(table["model"]) == {"recency:power=2"}
    # the fact table's credit adds up to the table's (the same weights summed in another order: 1e-12)
    assert facts["attributed_conversions"].sum() == pytest.approx(table["conversions"].sum(), rel=1e-12)
