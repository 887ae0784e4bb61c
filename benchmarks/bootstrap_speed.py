"""Bootstrap intervals on 1M journeys: the six heuristics and ``markov``, seconds for ``--replicates`` replicates.

Journeys are built directly with numpy (seeded), not read from an event log: lengths 0..5 touches, 20 channels, 30% converting, revenue
uniform, touch times within 20 days of the conversion (the shape of ``tests/test_speed_paths.py``'s journeys).
The process keeps freed memory as the command line does (:func:`attribution.memory.keep_freed_memory`).
Each model is fitted once (not timed); then :func:`attribution.kpis.uncertainty.bootstrap_intervals` is timed
per model group, and the seconds for 200 replicates are the measured seconds × 200 / ``--replicates`` when fewer
are run (the work per replicate is the same for every replicate).

Usage::

    python benchmarks/bootstrap_speed.py --journeys 1_000_000 --replicates 200
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np


def journeys(n: int, n_channels: int = 20, seed: int = 0):
    from attribution.journeys.journeys import Journeys

    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 6, n)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    t = int(offsets[-1])
    conv = (rng.random(n) < 0.3).astype(float)
    end = rng.integers(10**15, 2 * 10**15, n)
    touch_time = np.repeat(end, lengths) - rng.integers(0, 20 * 86_400 * 10**9, t)
    return Journeys(channel_names=np.array([f"c{i:02d}" for i in range(n_channels)], dtype=object),
                    touch_channel=rng.integers(0, n_channels, t), offsets=offsets, conversions=conv,
                    nulls=1.0 - conv, revenue=conv * rng.uniform(1, 100, n), touch_time=touch_time, end_time=end)


def main(argv=None) -> None:
    from attribution.kpis.result import fit_models
    from attribution.kpis.uncertainty import bootstrap_intervals
    from attribution.models import default_model_specs, parse_model_spec

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--journeys", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--replicates", type=int, default=200)
    args = ap.parse_args(argv)
    from attribution.memory import keep_freed_memory

    keep_freed_memory()  # as the command line does (`attribution run --ci`): freed arrays' memory is reused
    j = journeys(args.journeys)
    specs = default_model_specs()
    fitted = fit_models(j, [parse_model_spec(s) for s in specs])
    heuristics = [m for s, m in zip(specs, fitted) if s != "markov"]
    markov = [m for s, m in zip(specs, fitted) if s == "markov"]
    print(f"{j.n_journeys:,} journeys, {j.n_touches:,} touches; {args.replicates} replicates measured")
    for label, models in (("six heuristics", heuristics), ("markov", markov)):
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        bootstrap_intervals(models, j, level=0.95, n_boot=args.replicates, seed=0)
        s = time.perf_counter() - t0
        print(f"{label:>15}: {s:8.2f} s for {args.replicates} replicates, {s * 200 / args.replicates:8.2f} s per 200 "
              f"(load average {load:.1f})", flush=True)


if __name__ == "__main__":
    main()
