"""Speed of the ``hazard`` model against ``linear`` on the same log: the ratio of run times.

Generates a log with ``benchmarks/gen_events.py`` (same seed, same file) unless it exists, then times what a user
runs, ``attribution run LOG --model hazard -o out.csv`` against ``--model linear``, each in a fresh process
(start-up, read, journeys, fit, KPI table and write included), alternating, ``--repeats`` times each, and prints
the medians, their ratio and the load average before and after. ``--in-process`` times
``attribution.runner.run`` in this process instead (no start-up, no writing). The target is a ratio of at most 3
at 10M events.

Usage::

    python benchmarks/hazard_speed.py --events 10_000_000 --users 3_000_000 [--repeats 3] [--in-process]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))

MODELS = ("linear", "hazard")


def command() -> list[str]:
    """The installed ``attribution`` command next to this interpreter, else ``python -m attribution``."""
    here = os.path.join(os.path.dirname(sys.executable), "attribution")
    found = here if os.path.exists(here) else shutil.which("attribution")
    return [found] if found else [sys.executable, "-m", "attribution"]


def time_cli(path: str, model: str, out_dir: str) -> float:
    """Wall time of one ``attribution run`` process (it must succeed)."""
    out = os.path.join(out_dir, f"{model}.csv")
    t = time.perf_counter()
    subprocess.run([*command(), "run", path, "--model", model, "-o", out], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def time_in_process(path: str, model: str) -> float:
    from attribution.runner import run

    t = time.perf_counter()
    run([path], models=[model])
    return time.perf_counter() - t


def main(argv=None) -> None:
    from gen_events import generate

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    p.add_argument("--users", type=lambda s: int(s.replace("_", "")), default=3_000_000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--dir", default="bench_data")
    p.add_argument("--in-process", action="store_true", help="time attribution.runner.run in this process")
    a = p.parse_args(argv)
    os.makedirs(a.dir, exist_ok=True)
    path = os.path.join(a.dir, f"events_{a.events}_{a.users}.parquet")
    if not os.path.exists(path):
        generate(path, events=a.events, users=a.users, quiet=True)
    load_before = os.getloadavg()
    times = {m: [] for m in MODELS}
    with tempfile.TemporaryDirectory() as out_dir:
        for _ in range(a.repeats):
            for model in MODELS:
                seconds = time_in_process(path, model) if a.in_process else time_cli(path, model, out_dir)
                times[model].append(seconds)
    load_after = os.getloadavg()
    lin, haz = statistics.median(times["linear"]), statistics.median(times["hazard"])
    how = "in process (attribution.runner.run)" if a.in_process else "attribution run ... -o out.csv, fresh processes"
    print(f"{a.events:,} events, {a.users:,} users, {how}, alternating:")
    for model in MODELS:
        print(f"  {model:7s} " + ", ".join(f"{s:.1f}" for s in times[model]) + " s")
    print(f"linear {lin:.1f} s, hazard {haz:.1f} s (medians of {a.repeats}); ratio {haz / lin:.2f}; "
          f"load average {load_before[0]:.1f} before, {load_after[0]:.1f} after")


if __name__ == "__main__":
    main()
