"""The speed paths give the numbers of the plain ones: models fitted on threads, the bitmask (journey, channel)
pairs, and the process memory setting of the command line."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.journeys.journeys import Journeys
from attribution.kpis.report import journey_code_pairs
from attribution.memory import keep_freed_memory
from attribution.models import default_model_specs, parse_model_spec
from attribution.kpis.result import fit_models


def random_journeys(n_journeys: int, n_channels: int, seed: int = 0) -> Journeys:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 6, n_journeys)
    offsets = np.zeros(n_journeys + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    t = int(offsets[-1])
    conv = (rng.random(n_journeys) < 0.3).astype(float)
    end = rng.integers(10**15, 2 * 10**15, n_journeys)
    touch_time = np.repeat(end, lengths) - rng.integers(0, 20 * 86_400 * 10**9, t)
    return Journeys(channel_names=np.array([f"c{i:02d}" for i in range(n_channels)], dtype=object),
                    touch_channel=rng.integers(0, n_channels, t), offsets=offsets, conversions=conv,
                    nulls=1.0 - conv, revenue=conv * rng.uniform(1, 100, n_journeys), touch_time=touch_time,
                    end_time=end)


def test_models_on_threads_equal_models_one_by_one():
    j = random_journeys(60_000, 9)
    assert j.n_touches >= 100_000  # above the threshold where threads are used
    specs = default_model_specs()
    serial = fit_models(j, [parse_model_spec(s) for s in specs], threads=1)
    threaded = fit_models(Journeys(**{k: getattr(j, k) for k in ("channel_names", "touch_channel", "offsets",
                                                                  "conversions", "nulls", "revenue", "touch_time",
                                                                  "end_time")}),
                          [parse_model_spec(s) for s in specs], threads=2)
    for a, b in zip(serial, threaded):
        pd.testing.assert_frame_equal(a.attribution_, b.attribution_)


@pytest.mark.parametrize("n_channels", [1, 5, 8, 9, 16, 17, 32, 33, 64, 65, 200])
def test_bitmask_pairs_equal_distinct_pairs(n_channels):
    """Up to 64 codes the pairs come from per-journey bitmasks (8, 16, 32 or 64 bits wide); beyond, from sorting.
    Both are the set of distinct (journey, code) pairs of the touches."""
    j = random_journeys(3000, n_channels, seed=n_channels)
    jj, cc = journey_code_pairs(j, j.touch_channel, n_channels)
    expected = set(zip(j.touch_journey.tolist(), j.touch_channel.tolist()))
    assert len(jj) == len(expected) and set(zip(jj.tolist(), cc.tolist())) == expected


def test_memory_setting_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("ATTRIBUTION_KEEP_MEMORY", "0")
    assert keep_freed_memory() is False


@pytest.mark.parametrize("touchless", [True, False])
@pytest.mark.parametrize("n_channels", [3, 12, 20, 40, 64])
def test_journey_stats_by_bitmask_equal_a_plain_loop(n_channels, touchless):
    """Per channel: journeys holding it (conversions + nulls), their conversions, and conversion-weighted days
    from first touch to conversion; touchless journeys under (none). Reference: a loop over journeys."""
    from attribution.kpis.report import journey_stats
    from attribution.io.timeparse import NS_PER_DAY

    j = random_journeys(400, n_channels, seed=7)
    if not touchless:
        keep = np.flatnonzero(j.lengths > 0)
        j = Journeys(channel_names=j.channel_names, touch_channel=j.touch_channel,
                     offsets=np.r_[0, j.offsets[keep + 1]], conversions=j.conversions[keep], nulls=j.nulls[keep], revenue=j.revenue[keep],
                     touch_time=j.touch_time, end_time=j.end_time[keep])
        assert not j.touchless().any()
    got = journey_stats(j).set_index("channel")
    ref: dict = {}
    for k in range(j.n_journeys):
        touches = j.touch_channel[j.offsets[k]:j.offsets[k + 1]]
        names = {str(j.channel_names[c]) for c in touches} or {"(none)"}
        known = len(touches) > 0 and j.conversions[k] > 0
        days = (j.end_time[k] - j.touch_time[j.offsets[k]]) / NS_PER_DAY if len(touches) else 0.0
        for name in names:
            row = ref.setdefault(name, np.zeros(4))
            row += [j.conversions[k] + j.nulls[k], j.conversions[k], j.conversions[k] * days if known else 0.0,
                    j.conversions[k] if known else 0.0]
    assert sorted(got.index) == sorted(ref)
    for name, row in ref.items():
        # rtol=1e-12: the fast path sums the same days in another order
        np.testing.assert_allclose(got.loc[name, ["journeys", "converting_journeys", "days_sum", "days_weight"]]
                                   .to_numpy(float), row, rtol=1e-12)
