"""Scaling table: ``attribution run`` (six heuristics + markov) on 1M, 10M and 100M events, and on Dask.

Each row is one whole process (``python -m attribution run LOG --output OUT.parquet``) timed with ``os.wait4``:
wall time and peak RSS (of the largest process: for Dask the client; a LocalCluster's workers are separate
processes, reported from their own peak where the run prints it). The 100M-event log runs out of core with
``--memory-limit``. Logs come from ``benchmarks/gen_events.py`` (seeded) and are generated when missing, under
``--data`` (gitignored ``bench_data/``). For each row a DuckDB linear-attribution SQL job on the same log is
timed too (same process model), so the ratio is measured side by side.

Usage::

    python benchmarks/scaling.py --data bench_data                 # 1M, 10M, 10M on Dask, 100M out of core
    python benchmarks/scaling.py --data bench_data --only 1m,10m   # a subset
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pipeline_vs_duckdb import timed  # noqa: E402

LOGS = {  # name: (events, users, parts, file)
    "1m": (1_000_000, 300_000, 1, "events_1m.parquet"),
    "10m": (10_000_000, 3_000_000, 1, "events_10m.parquet"),
    "100m": (100_000_000, 30_000_000, 20, "events_100m"),
}
ROWS = [  # label, log, extra arguments
    ("1M events, in memory", "1m", []),
    ("10M events, in memory", "10m", []),
    ("10M events, Dask LocalCluster (2 workers)", "10m", ["--engine", "dask"]),
    ("100M events, out of core (--memory-limit 6GB)", "100m", ["--memory-limit", "6GB"]),
]


def ensure_log(data: str, name: str) -> str:
    events, users, parts, file = LOGS[name]
    path = os.path.join(data, file)
    if not os.path.exists(path):
        subprocess.run([sys.executable, os.path.join(HERE, "gen_events.py"), "--events", str(events), "--users",
                        str(users), "--parts", str(parts), "--out", path], check=True)
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="bench_data")
    p.add_argument("--only", default="", help="comma-separated log names (1m, 10m, 100m)")
    p.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB baseline column")
    a = p.parse_args(argv)
    only = {x.strip() for x in a.only.split(",") if x.strip()}
    rows = [r for r in ROWS if not only or r[1] in only]
    out = []
    with tempfile.TemporaryDirectory(prefix="attr-scale-", dir=a.data) as tmp:
        for label, name, extra in rows:
            log = ensure_log(a.data, name)
            cmd = [sys.executable, "-m", "attribution", "run", log, "--quiet", "--output",
                   os.path.join(tmp, "out.parquet"), "--spill-dir", tmp, *extra]
            wall, rss, code = timed(cmd)
            if code != 0:
                return 1
            sql = (float("nan"), float("nan"))
            if not a.no_duckdb and "--engine" not in extra:
                source = log if log.endswith(".parquet") else os.path.join(log, "*.parquet")
                sql_wall, sql_rss, code = timed([sys.executable, os.path.join(HERE, "pipeline_vs_duckdb.py"),
                                                 "--sql-job", source, os.path.join(tmp, "sql.parquet")])
                sql = (sql_wall, sql_rss) if code == 0 else sql
            out.append((label, wall, rss, *sql))
            print(f"{label}: {wall:.1f} s, {rss:.0f} MB", file=sys.stderr)
    print("(2-core machine shared with other work: timings may be disturbed)")
    print(f"{'run':48s} {'time s':>8s} {'peak RSS MB':>12s} {'DuckDB s':>9s} {'DuckDB MB':>10s} {'ratio':>6s}")
    for label, wall, rss, sql_wall, sql_rss in out:
        ratio = wall / sql_wall if sql_wall == sql_wall else float("nan")
        print(f"{label:48s} {wall:8.1f} {rss:12.0f} {sql_wall:9.1f} {sql_rss:10.0f} {ratio:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
