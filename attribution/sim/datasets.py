"""Bundled sample data (DESIGN convention 10): a simulated event log, its spend table and its ground truth.

The files live in ``attribution/data`` and are written by ``scripts/make_sample_data.py`` from
:meth:`attribution.sim.simulate.Simulation.sample` (4,000 users, eight channels, revenue, ``lead`` and
``qualified`` milestones, targeting and navigational traps on). They are our own data (Apache-2.0).

Examples
--------
>>> from attribution.sim.datasets import load_sample_events, sample_ground_truth
>>> events = load_sample_events()
>>> sorted(events["event"].unique())
['conversion', 'lead', 'qualified', 'touch']
>>> truth = sample_ground_truth()
>>> float(truth["conversions"].sum()) == float((events["event"] == "conversion").sum())
True
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from attribution.kernels.constants import BASELINE_CHANNEL

__all__ = ["sample_events_path", "sample_spend_path", "sample_truth_path", "load_sample_events",
           "load_sample_spend", "sample_ground_truth"]

EVENTS = "sample_events.parquet"
SPEND = "sample_spend.csv"
TRUTH = "sample_truth.csv"


DATA_DIR = Path(__file__).resolve().parents[1] / "data"


def _path(name: str) -> str:
    # The package-data folder of the package (attribution/data). (``importlib.resources.files("attribution")`` would fail under
    # setuptools' editable install, which imports ``attribution`` as a namespace package outside the repository.)
    return str(DATA_DIR / name)


def sample_events_path() -> str:
    """Path of the bundled sample event log (Parquet; columns ``user_id, timestamp, event, channel, campaign,
    revenue, source, medium``)."""
    return _path(EVENTS)


def sample_spend_path() -> str:
    """Path of the bundled daily spend table (CSV; ``date, channel, campaign, cost_type, spend``)."""
    return _path(SPEND)


def sample_truth_path() -> str:
    """Path of the sample's ground truth per channel (CSV; see :class:`attribution.sim.simulate.GroundTruth`)."""
    return _path(TRUTH)


def load_sample_events() -> pd.DataFrame:
    """The sample event log as a pandas frame (one row per event, sorted by user and time)."""
    return pd.read_parquet(sample_events_path())


def load_sample_spend() -> pd.DataFrame:
    """The sample's daily spend: ``date`` (datetime64), ``channel``, ``campaign`` (null for channel-level
    costs), ``cost_type`` (``media`` or ``tools``), ``spend``."""
    return pd.read_csv(sample_spend_path(), parse_dates=["date"])


def sample_ground_truth(include_baseline: bool = True) -> pd.DataFrame:
    """What each channel of the sample really caused.

    Columns ``channel, touches, effect_per_touch, expected_conversions, conversions, revenue, expected_revenue,
    share, revenue_share``; ``conversions``/``revenue`` are the true removal effects (see
    :mod:`attribution.sim.simulate`), ``share`` the incremental share. The last row, ``(baseline)``, holds the
    conversions no channel caused; ``include_baseline=False`` drops it.
    """
    truth = pd.read_csv(sample_truth_path())
    if not include_baseline:
        truth = truth[truth["channel"] != BASELINE_CHANNEL].reset_index(drop=True)
    return truth
