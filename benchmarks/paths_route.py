"""The ``--input paths`` route timed inside one process, without the start-up: this tree and an earlier one.

``markov_vs_channelattribution.py`` times the command line net of its start-up, and the start-up (interpreter,
imports) moves by a second or more between runs on a shared machine, more than the work left to time. Here each
side runs in a fresh process that first imports everything, then times ``attribution.runner.run(PATHS,
input="paths", models=["markov:order=K"])`` (read, validate, group distinct paths, fit, KPI table; the table is
not written). The sides alternate per repeat, so both see the same machine state.

Usage::

    python benchmarks/paths_route.py --data bench_data/paths_1m.csv --orders 1 3 --repeat 3 --before /tmp/base
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

WORKER = """
import json, sys, time
sys.path.insert(0, {source!r}) if {source!r} else None
from attribution.runner import run
import attribution.models.markov.model, attribution.kpis.report, scipy.sparse.linalg  # imports paid before timing
t0 = time.perf_counter()
res = run({data!r}, input="paths", models=["markov:order={order}"])
print(json.dumps({{"seconds": time.perf_counter() - t0, "rows": len(res.table)}}))
"""


def timed(data: str, order: int, source: str | None) -> float:
    code = WORKER.format(source=source or "", data=data, order=order)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", nargs="+", required=True, help="path tables (CSV or Parquet)")
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--before", metavar="SOURCE_TREE", help="an earlier source tree, timed the same way")
    args = ap.parse_args(argv)
    print(f"{'order':>5} | {'input':>28} | {'load':>5} | {'this s':>7} | {'before s':>8} | {'speed-up':>8}")
    for k in args.orders:
        for data in args.data:
            now, old = [], []
            for _ in range(args.repeat):
                load = os.getloadavg()[0]
                now.append(timed(data, k, None))
                if args.before:
                    old.append(timed(data, k, args.before))
                b = f"{old[-1]:8.2f} | {old[-1] / now[-1]:7.2f}x" if old else f"{'-':>8} | {'-':>8}"
                print(f"{k:>5} | {os.path.basename(data):>28} | {load:5.1f} | {now[-1]:7.2f} | {b}", flush=True)
            med = statistics.median(now)
            extra = f", before {statistics.median(old):.2f} s" if old else ""
            print(f"order {k}, {os.path.basename(data)}: median {med:.2f} s{extra}", flush=True)


if __name__ == "__main__":
    main()
