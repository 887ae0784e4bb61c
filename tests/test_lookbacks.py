"""Journeys at several lookbacks from one sort of the log (attribution/journeys/lookbacks.py): each equals
``Journeys.from_events`` at its lookback, array for array, with campaigns, milestones and path options."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from attribution.io.events import Events
from attribution.journeys.journeys import Journeys
from attribution.journeys.lookbacks import journeys_at_lookbacks, narrowed
from attribution.journeys.pathoptions import PathOptions, apply_path_options
from testkit import T0


def _log(seed: int = 5, users: int = 300) -> Events:
    """Touches spread over 120 days (with equal timestamps), conversions and lead milestones: journeys whose
    touches straddle every lookback tested."""
    rng = np.random.default_rng(seed)
    n = users * 12
    event = rng.choice(["touch", "touch", "touch", "touch", "conversion", "lead"], n)
    frame = pd.DataFrame({
        "user_id": rng.integers(0, users, n).astype(str),
        "timestamp": T0 + pd.to_timedelta(rng.integers(0, 120 * 24, n) // 3 * 3, unit="h"),
        "event": event,
        "channel": np.where(event == "touch", rng.choice(["email", "search", "social", "display"], n), None),
        "campaign": np.where(event == "touch", rng.choice(["c1", "c2", None], n), None),
        "revenue": np.where(event == "conversion", rng.uniform(1, 100, n).round(2), np.nan),
    })
    return Events.from_frame(frame)


def _same(a: Journeys, b: Journeys) -> None:
    for f in dataclasses.fields(Journeys):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if f.name == "meta":
            assert {k: v for k, v in x.items() if k != "by_lookback"} == y
        elif f.name == "user_ids":
            ids = lambda v: (v.value if hasattr(v, "value") else pa.array(v)).to_pylist()  # noqa: E731
            assert ids(x) == ids(y)
        elif isinstance(x, dict):
            assert x.keys() == y.keys() and all(np.array_equal(x[k], y[k]) for k in x)
        elif isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and np.array_equal(x, y), f.name
        else:
            assert x == y, f.name


@pytest.mark.parametrize("options", [None, PathOptions(max_touches=2, exclude_channels=("social",)),
                                     PathOptions(transform="first")])
def test_each_lookback_equals_its_own_build(options):
    events = _log()
    lookbacks = [30, None, 7.5, 0, 30.0]
    built = journeys_at_lookbacks(events, lookbacks, conversion_events=("conversion",),
                                  milestone_events=("lead",), path_options=options)
    assert list(built) == [30.0, None, 7.5, 0.0]
    for lookback in lookbacks:
        own = apply_path_options(Journeys.from_events(events, conversion_events=("conversion",),
                                                      lookback_days=lookback, milestone_events=("lead",)), options)
        _same(built[None if lookback is None else float(lookback)], own)
    # the cut drops touches: the narrower journeys hold fewer (the test is not vacuous)
    assert built[7.5].n_touches < built[30.0].n_touches < built[None].n_touches


def test_narrowing_cannot_widen():
    wide = Journeys.from_events(_log(users=20), lookback_days=10)
    with pytest.raises(ValueError):
        narrowed(wide, 30)
