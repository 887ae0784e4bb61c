"""Benchmark: ``attribution run --engine dask`` (a 2-worker ``LocalCluster``) against the out-of-core run.

Both are the command a user runs, each in a fresh process, one after the other in the same loop (never
concurrently), on the same Parquet log with the same models; the out-of-core run is forced with a
``--memory-limit`` below the in-memory estimate. Wall time and the peak RSS of the command's own process (not
of its Dask workers) come from ``os.wait4``; the table shows the medians and their ratio. Both runs write the
same table (checked).

Usage::

    python benchmarks/gen_events.py --events 10_000_000 --users 3_000_000 --out bench_data/events_10m.parquet
    python benchmarks/dask_vs_outofcore.py bench_data/events_10m.parquet --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS in MB of ``cmd``'s own process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{proc.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024


def _largest_relative_difference(a: str, b: str) -> float:
    """The largest |x - y| / max(|x|, |y|) over the numeric cells of two tables with the same rows (the engines
    add partitions' sums in another order, so the last digits may differ)."""
    import numpy as np
    import pandas as pd

    x, y = pd.read_csv(a), pd.read_csv(b)
    assert list(x.columns) == list(y.columns) and len(x) == len(y)
    num = x.select_dtypes("number").columns
    u, v = x[num].to_numpy(float), y[num].to_numpy(float)
    scale = np.maximum(np.abs(u), np.abs(v))
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(scale > 0, np.abs(u - v) / scale, 0.0)
    return float(np.nanmax(rel)) if rel.size else 0.0


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("events", help="Parquet event log (see benchmarks/gen_events.py)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--memory-limit", default="1GB", help="forces the out-of-core run (default 1GB)")
    a = p.parse_args(argv)
    base = [sys.executable, "-m", "attribution", "run", a.events, "--quiet"]
    with tempfile.TemporaryDirectory() as tmp:
        sides = {"out of core": ["--memory-limit", a.memory_limit], "dask, 2 workers": ["--engine", "dask"]}
        times: dict[str, list] = {k: [] for k in sides}
        for i in range(a.repeat):
            for name, extra in sides.items():
                out = os.path.join(tmp, name.split()[0].strip(",") + ".csv")
                times[name].append(timed(base + extra + ["-o", out]))
                print(f"run {i + 1}/{a.repeat} {name:16s} {times[name][-1][0]:7.2f} s", flush=True)
        same = _largest_relative_difference(os.path.join(tmp, "out.csv"), os.path.join(tmp, "dask.csv"))
    print(f"events: {a.events}  repeats: {a.repeat}  largest relative difference of the tables: {same:.1e}  "
          f"load: {os.getloadavg()[0]:.1f}")
    print(f"{'run':18s} {'median s':>9s} {'peak RSS MB':>12s}")
    for name, rows in times.items():
        print(f"{name:18s} {statistics.median(t for t, _ in rows):9.2f} {max(m for _, m in rows):12.0f}")
    ratio = statistics.median(t for t, _ in times["dask, 2 workers"]) / statistics.median(t for t, _ in times["out of core"])
    print(f"ratio (dask / out of core, medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
