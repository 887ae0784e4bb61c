"""Speed of the ``hazard`` model against ``linear`` on the same log (ratio of run times in one process).

Generates a log with ``benchmarks/gen_events.py`` (same seed, same file), then times ``attribution.runner.run``
with ``models=["linear"]`` and with ``models=["hazard"]`` alternately, ``--repeats`` times each, and prints the
medians and their ratio. The target is a ratio of at most 3 at 10M events.

Usage::

    python benchmarks/hazard_speed.py --events 10_000_000 --users 3_000_000 [--repeats 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))


def main(argv=None) -> None:
    from gen_events import generate

    from attribution.runner import run

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    p.add_argument("--users", type=lambda s: int(s.replace("_", "")), default=3_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dir", default="bench_data")
    a = p.parse_args(argv)
    os.makedirs(a.dir, exist_ok=True)
    path = os.path.join(a.dir, f"events_{a.events}_{a.users}.parquet")
    if not os.path.exists(path):
        generate(path, events=a.events, users=a.users, quiet=True)
    times = {"linear": [], "hazard": []}
    for _ in range(a.repeats):
        for model in times:
            t = time.perf_counter()
            run([path], models=[model])
            times[model].append(time.perf_counter() - t)
    lin, haz = statistics.median(times["linear"]), statistics.median(times["hazard"])
    print(f"{a.events:,} events, {a.users:,} users: linear {lin:.1f} s, hazard {haz:.1f} s (medians of "
          f"{a.repeats}); ratio {haz / lin:.2f}")


if __name__ == "__main__":
    main()
