"""Exact Markov attribution vs ChannelAttribution's simulated one: time, peak memory, deviation.

Default (``--mode cli``): what a user runs. Per order and repeat, side by side in the same loop:

- ours: the command ``attribution run PATHS.csv --input paths --model markov:order=k --output OUT.csv`` in a
  subprocess (read, validate, group, fit, KPI table, write), wall time, minus the start-up: the same command on a
  two-row path table, timed right before it (interpreter, imports, option checks, a trivial fit and write);
- ChannelAttribution: ``markov_model`` on the same table already in a pandas DataFrame (its read is not timed).

The ratio is ChannelAttribution's time over our net time; the table shows each repeat's figures and the load
average, then the median ratio. ``--mode fit`` times ``Markov.fit_paths`` on the in-memory frame instead.

Data: ``--paths`` distinct synthetic paths over 20 channels from the committed generator ``gen_paths.py``
(seed 0; written once to ``bench_data/`` and reused). For every order, each tool runs in its own fresh
subprocess that loads the same path table into a pandas DataFrame and then times only the attribution call:

- ours: ``Markov(order=k).fit_paths(frame)`` (parses the ``" > "`` paths, builds the chain, one exact sparse
  solve per channel plus the full chain, credits conversions and revenue);
- ChannelAttribution: ``markov_model(frame, "path", "conversions", var_value="revenue", var_null="nulls",
  order=k)`` with its defaults (seed 0, 1e5 starting simulations, convergence 5%), single-threaded like ours.

Peak memory is the process's resident-set high-water mark during the call (reset just before it via
``/proc/self/clear_refs``), minus the resident size before the call: what the attribution itself needed.
The deviation column is the largest relative difference of ChannelAttribution's channel credit from ours.

With ``--repeat N`` each tool runs N times per order and the fastest run is shown.

Usage::

    python benchmarks/markov_vs_channelattribution.py --orders 1 3 --repeat 3   # 1M paths, the command line
    python benchmarks/markov_vs_channelattribution.py --mode fit              # 1M paths, fit_paths in memory
    python benchmarks/markov_vs_channelattribution.py --paths 100_000 --orders 1 2

Needs ``pip install channelattribution`` (builds from source, about a minute); without it only our column runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _rss_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def worker(tool: str, data: str, order: int, out: str) -> None:
    import numpy as np
    import pandas as pd

    frame = pd.read_parquet(data)
    if tool == "ca":
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            from ChannelAttribution import markov_model
        frame["conversions"] = frame["conversions"].astype(np.int64)
        frame["nulls"] = frame["nulls"].astype(np.int64)
    else:
        from attribution.models import Markov
    before = _rss_kb("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")  # reset the peak-RSS counter
    except OSError:
        pass
    t0 = time.perf_counter()
    if tool == "ca":
        res = markov_model(frame, "path", "conversions", var_value="revenue", var_null="nulls", order=order,
                           verbose=False, flg_pro=False)
        credit = dict(zip(res["channel_name"], zip(res["total_conversions"], res["total_conversion_value"])))
    else:
        model = Markov(order=order).fit_paths(frame)
        a = model.attribution_
        credit = dict(zip(a["channel"], zip(a["conversions"], a["revenue"])))
    seconds = time.perf_counter() - t0
    peak = _rss_kb("VmHWM")
    with open(out, "w") as fh:
        json.dump({"seconds": seconds, "peak_mb": max(peak - before, 0) / 1024, "credit": credit}, fh)


def run_worker(tool: str, data: str, order: int, timeout: float):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as tmp:
        out = tmp.name
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", tool, "--data", data, "--orders", str(order),
           "--out", out]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if proc.returncode != 0:
            print(f"{tool} order {order} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            return None
        with open(out) as fh:
            return json.load(fh)
    except subprocess.TimeoutExpired:
        print(f"{tool} order {order}: no result within {timeout:.0f} s", file=sys.stderr)
        return None
    finally:
        if os.path.exists(out):
            os.unlink(out)


def time_command(args: list[str], cwd: str, source: str | None = None) -> float:
    """Wall seconds of one ``attribution`` command in a fresh process (its output discarded); with ``source``, the
    package found first in that source tree (an earlier version, for a before/after column)."""
    if source:
        boot = (f"import sys; sys.path.insert(0, {source!r}); from attribution.cli.app import main; "
                "sys.argv[0] = 'attribution'; main()")
        cmd = [sys.executable, "-c", boot, *args]
    else:
        cmd = [os.path.join(os.path.dirname(sys.executable), "attribution"), *args]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"attribution {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return seconds


def cli_csv(data: str) -> str:
    """The path table as the CSV a user would hand to the command (written once next to the Parquet file)."""
    csv = os.path.splitext(data)[0] + ".csv"
    if not os.path.exists(csv):
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        pcsv.write_csv(pq.read_table(data), csv)
    return csv


def cli_rows(args, data: str, ca: bool) -> None:
    """The command line, net of start-up, against ChannelAttribution in memory, interleaved per repeat."""
    import statistics

    inputs = {"csv": cli_csv(data), "parquet": data}
    with tempfile.TemporaryDirectory() as tmp:
        tiny = os.path.join(tmp, "tiny.csv")
        with open(tiny, "w") as fh:
            fh.write("path,conversions,nulls,revenue\na > b,1,2,3.5\nb,0,1,0\n")
        out = os.path.join(tmp, "out.csv")
        header = (f"{'order':>5} | {'input':>7} | {'load':>5} | {'start s':>7} | {'cmd s':>7} | {'net s':>7} | "
                  f"{'CA s':>7} | {'ratio':>6}" + (f" | {'before net s':>12} | {'ratio':>6}" if args.before else ""))
        print(header)
        print("-" * len(header))
        for k in args.orders:
            ratios: dict[str, list[float]] = {name: [] for name in args.inputs}
            for _ in range(args.repeat):
                for name in args.inputs:
                    model = ["--input", "paths", "--model", f"markov:order={k}", "--output", out]
                    load = os.getloadavg()[0]
                    start = time_command(["run", tiny, *model], tmp)
                    cmd = time_command(["run", inputs[name], *model], tmp)
                    theirs = run_worker("ca", data, k, args.timeout) if ca else None
                    net = cmd - start  # below the start-up's own noise on tiny inputs: no ratio
                    ratio = theirs["seconds"] / net if theirs and net > 0.05 else float("nan")
                    ratios[name].append(ratio)
                    ca_s = f"{theirs['seconds']:7.2f}" if theirs else f"{'-':>7}"
                    extra = ""
                    if args.before:
                        old = (time_command(["run", inputs[name], *model], tmp, args.before)
                               - time_command(["run", tiny, *model], tmp, args.before))
                        old_ratio = theirs["seconds"] / old if theirs and old > 0.05 else float("nan")
                        extra = f" | {old:12.2f} | {old_ratio:5.1f}x"
                    print(f"{k:>5} | {name:>7} | {load:5.1f} | {start:7.2f} | {cmd:7.2f} | {net:7.2f} | {ca_s} | "
                          f"{ratio:5.1f}x{extra}", flush=True)
            for name in args.inputs:
                print(f"order {k}, {name}: median ratio {statistics.median(ratios[name]):.1f}x over {args.repeat} "
                      f"repeat(s); load average now {os.getloadavg()[0]:.1f}", flush=True)


def have_channelattribution() -> bool:
    proc = subprocess.run([sys.executable, "-c", "import ChannelAttribution"], capture_output=True)
    return proc.returncode == 0


def best(results):
    results = [r for r in results if r]
    return min(results, key=lambda r: r["seconds"]) if results else None


def max_rel_dev(ours: dict, theirs: dict, i: int) -> float:
    devs = [abs(theirs.get(c, (0.0, 0.0))[i] - v[i]) / abs(v[i]) for c, v in ours.items() if c != "(none)" and v[i]]
    return max(devs) if devs else float("nan")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--orders", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--data", default=None, help="a path table parquet (default: generated into bench_data/)")
    ap.add_argument("--timeout", type=float, default=3600.0, help="seconds allowed per tool and order")
    ap.add_argument("--repeat", type=int, default=1, help="runs per tool and order; the fastest is shown")
    ap.add_argument("--mode", choices=["cli", "fit"], default="cli",
                    help="cli: the command end to end net of start-up (default); fit: Markov.fit_paths in memory")
    ap.add_argument("--inputs", nargs="+", choices=["csv", "parquet"], default=["csv", "parquet"],
                    help="path-table formats given to the command (--mode cli)")
    ap.add_argument("--before", metavar="SOURCE_TREE",
                    help="also time the command of an earlier source tree (e.g. `git archive` of a commit, with "
                         "attribution/cli and attribution/models linked to its cli/ and models/)")
    ap.add_argument("--worker", choices=["ours", "ca"], help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args.worker, args.data, args.orders[0], args.out)
        return
    data = args.data or os.path.join(ROOT, "bench_data", f"paths_{args.paths}_{args.channels}ch.parquet")
    if not os.path.exists(data):
        sys.path.insert(0, HERE)
        import gen_paths

        print(f"generating {args.paths:,} distinct paths into {data} ...", file=sys.stderr)
        gen_paths.main(["--paths", str(args.paths), "--channels", str(args.channels), "--out", data])
    ca = have_channelattribution()
    if not ca:
        print("ChannelAttribution is not installed (pip install channelattribution): only our figures.",
              file=sys.stderr)
    import pyarrow.parquet as pq

    n = pq.ParquetFile(data).metadata.num_rows
    if args.mode == "cli":
        print(f"{n:,} distinct paths, {args.channels} channels ({data}); {os.cpu_count()} CPUs; the command line "
              f"net of start-up vs ChannelAttribution in memory")
        cli_rows(args, data, ca)
        return
    print(f"{n:,} distinct paths, {args.channels} channels ({data}); fastest of {args.repeat} run(s) per cell; "
          f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    header = (f"{'order':>5} | {'ours s':>8} | {'ours MB':>8} | {'CA s':>8} | {'CA MB':>8} | {'speed-up':>8} | "
              f"{'max dev conv':>12} | {'max dev rev':>11}")
    print(header)
    print("-" * len(header))
    for k in args.orders:
        ours = best([run_worker("ours", data, k, args.timeout) for _ in range(args.repeat)])
        theirs = best([run_worker("ca", data, k, args.timeout) for _ in range(args.repeat)]) if ca else None
        fmt = lambda r, key: f"{r[key]:8.2f}" if r else f"{'-':>8}"  # noqa: E731
        ratio = f"{theirs['seconds'] / ours['seconds']:7.1f}x" if ours and theirs else f"{'-':>8}"
        dc = f"{max_rel_dev(ours['credit'], theirs['credit'], 0):12.2%}" if ours and theirs else f"{'-':>12}"
        dr = f"{max_rel_dev(ours['credit'], theirs['credit'], 1):11.2%}" if ours and theirs else f"{'-':>11}"
        print(f"{k:>5} | {fmt(ours, 'seconds')} | {fmt(ours, 'peak_mb')} | {fmt(theirs, 'seconds')} | "
              f"{fmt(theirs, 'peak_mb')} | {ratio} | {dc} | {dr}", flush=True)


if __name__ == "__main__":
    main()
