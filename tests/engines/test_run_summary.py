"""One end for every run: in memory and out of core give the same warnings and the same run summary.

Both paths count with :func:`attribution.kpis.summary.run_counts` and end in
:func:`attribution.kpis.summary.finalise_counts`; this holds them to it on a log that triggers every run warning
(dropped bad rows, a conversion event and a lead milestone without rows, a spend channel no touch names).
"""

from __future__ import annotations

import os
import sys
import warnings

import pandas as pd
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import CHANNELS, make_log  # noqa: E402

from attribution.runner import run  # noqa: E402

#: keys only a partitioned run has (where it ran)
WHERE = ("engine", "partitions")


def _run(log, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run(log, **options)
    return result, [(w.category.__name__, str(w.message)) for w in caught]


@pytest.mark.parametrize("milestone", ["signup", "lead"])
def test_in_memory_and_out_of_core_warn_and_summarise_alike(tmp_path, monkeypatch, milestone):
    log = make_log(tmp_path, bad=True, files=2, seed=5)
    spend = tmp_path / "spend.csv"
    pd.DataFrame({"channel": CHANNELS + ["tv"], "spend": [10.0] * (len(CHANNELS) + 1)}).to_csv(spend, index=False)
    options = dict(model=["linear", "last_touch"], on_bad_rows="skip", conversion_event=["conversion", "purchase"],
                   milestone_event=[milestone], spend=str(spend))
    memory, memory_warnings = _run(log, **options)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 3)
    ooc, ooc_warnings = _run(log, memory_limit="1MB", **options)
    assert ooc.journeys is None and memory.journeys is not None  # the two paths did run

    assert ooc_warnings == memory_warnings
    texts = " | ".join(m for _, m in memory_warnings)
    assert "dropped bad rows" in texts and "conversion event 'purchase'" in texts and "'tv' never appear" in texts
    assert ("milestone event 'signup'" in texts) == (milestone == "signup")

    assert list(k for k in ooc.summary if k not in WHERE) == list(memory.summary)
    for key, value in memory.summary.items():
        # approx: conversions and revenue are float sums, added partition by partition in another order
        assert ooc.summary[key] == (pytest.approx(value) if isinstance(value, float) else value), key
