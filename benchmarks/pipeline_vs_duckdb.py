"""Benchmark: ``attribution run`` (six heuristics + markov) against a warehouse-style DuckDB SQL job.

The baseline is what dbt attribution packages do in the warehouse: window functions over the event log split
each user's events into journeys at conversions, keep the touches inside the 30-day lookback, and give every
touch of a converting journey 1/n of its conversion and revenue (linear attribution, one model). It follows
the engine's journey rules exactly (SPEC 2: per user by timestamp, touches before conversions on ties, input
order otherwise, journeys closed by conversions, touches at most 30 days before the conversion, touchless
conversions to ``(none)``); ``tests/engines/test_duckdb_baseline.py`` checks on small data that its numbers equal
the engine's ``linear`` model, so the comparison is honest.

Both sides run as whole processes, one after the other (never concurrently), read the same Parquet file and
write Parquet. Wall time and peak RSS of each process come from ``os.wait4``. Each side runs ``--repeat`` times;
the table shows the best and the median, and the ratio of the medians.

Usage::

    python benchmarks/gen_events.py --events 10_000_000 --users 3_000_000 --out bench_data/events_10m.parquet
    python benchmarks/pipeline_vs_duckdb.py bench_data/events_10m.parquet --repeat 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

LINEAR_SQL = """
WITH ev AS (
    SELECT user_id, epoch_ns("timestamp") AS ts, (event = 'conversion')::INTEGER AS is_conv,
           channel, coalesce(revenue, 0) AS revenue, file_row_number AS rn
    FROM read_parquet({source}, file_row_number = true)
    WHERE event IN ('touch', 'conversion')
),
numbered AS (
    -- journey number = conversions strictly before this row in the user's order
    SELECT *, coalesce(sum(is_conv) OVER (PARTITION BY user_id ORDER BY ts, is_conv, rn
                                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS jn
    FROM ev
),
conversions AS (
    SELECT user_id, jn, ts AS conv_ts, revenue FROM numbered WHERE is_conv = 1
),
touches AS (
    SELECT t.channel, c.user_id, c.jn, c.revenue,
           count(*) OVER (PARTITION BY c.user_id, c.jn) AS n
    FROM numbered t JOIN conversions c ON t.user_id = c.user_id AND t.jn = c.jn
    WHERE t.is_conv = 0 AND c.conv_ts - t.ts <= {lookback_ns}
),
credit AS (
    SELECT channel, 1.0 / n AS conversions, revenue / n AS revenue FROM touches
    UNION ALL
    SELECT '(none)', 1.0, c.revenue FROM conversions c
    WHERE NOT EXISTS (SELECT 1 FROM touches t WHERE t.user_id = c.user_id AND t.jn = c.jn)
)
SELECT 'linear' AS model, channel, sum(conversions) AS conversions, sum(revenue) AS revenue
FROM credit GROUP BY channel ORDER BY channel
"""


def linear_sql(source: str, lookback_days: float = 30.0) -> str:
    """The SQL job over ``source`` (a Parquet file or glob)."""
    lookback_ns = int(round(lookback_days * 86_400 * 1_000_000_000))
    return LINEAR_SQL.format(source="'" + source.replace("'", "''") + "'", lookback_ns=lookback_ns)


def run_sql_job(source: str, output: str) -> None:
    """Run the DuckDB job and write its table to Parquet (the job the benchmark times)."""
    import duckdb

    con = duckdb.connect()
    out = output.replace("'", "''")
    con.execute(f"COPY ({linear_sql(source)}) TO '{out}' (FORMAT parquet)")


def timed(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd``; wall seconds, peak RSS in MB (of that process), exit status."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"command failed ({code}): {' '.join(cmd)}\n{err}", file=sys.stderr)
    return wall, usage.ru_maxrss / 1024.0, code


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("events", nargs="?", help="Parquet event log (see benchmarks/gen_events.py)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--attribution-args", default="", help="extra arguments for `attribution run`")
    p.add_argument("--sql-job", nargs=2, metavar=("SOURCE", "OUTPUT"), help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.sql_job:
        run_sql_job(*a.sql_job)
        return 0
    with tempfile.TemporaryDirectory(prefix="attr-bench-") as tmp:
        sql_cmd = [sys.executable, os.path.abspath(__file__), "--sql-job", a.events, os.path.join(tmp, "sql.parquet")]
        ours_cmd = [sys.executable, "-m", "attribution", "run", a.events, "--quiet",
                    "--output", os.path.join(tmp, "ours.parquet"), *a.attribution_args.split()]
        results = {"duckdb": [], "attribution": []}
        for i in range(a.repeat):
            for name, cmd in (("duckdb", sql_cmd), ("attribution", ours_cmd)):
                wall, rss, code = timed(cmd)
                if code != 0:
                    return 1
                results[name].append((wall, rss))
                print(f"run {i + 1}/{a.repeat} {name:12s} {wall:7.2f} s  {rss:7.0f} MB", file=sys.stderr)
    rows = []
    for name, label in (("duckdb", "DuckDB SQL, linear only"), ("attribution", "attribution run, 6 heuristics + markov")):
        walls = [w for w, _ in results[name]]
        rss = max(r for _, r in results[name])
        rows.append((label, min(walls), statistics.median(walls), max(walls), rss))
    ratio = rows[1][2] / rows[0][2]
    print(f"events: {a.events}  repeats: {a.repeat}  (2-core machine shared with others: expect some spread)")
    print(f"{'job':36s} {'best s':>8s} {'median s':>9s} {'worst s':>8s} {'peak RSS MB':>12s}")
    for label, best, med, worst, rss in rows:
        print(f"{label:36s} {best:8.2f} {med:9.2f} {worst:8.2f} {rss:12.0f}")
    print(f"ratio (attribution / DuckDB, medians): {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
