"""Seeded generator of large synthetic event logs for the scale benchmarks.

Writes an event log with the canonical columns (``user_id`` string, ``timestamp`` naive UTC, ``event``,
``channel``, ``revenue``, ``campaign``) plus two columns a run never needs (``session_id``, ``page``), laid out
the way warehouse exports are: rows in time order, and with ``--parts N`` a folder of N time-ranged files
(users appear in many files, so no file holds whole journeys).

Each touch picks a user uniformly among ``--users`` (string ids such as ``u4821736150``), a time, and a channel
from fixed skewed weights over ``--channels`` channels. A share ``--conversion-rate`` of the rows are
conversions (channel null, revenue > 0): each follows one of its user's touches by about a day, touches of the
first channels more often than of the last ones (so models have something to tell apart). Generation runs in
chunks of ``--chunk`` rows, so 100M rows need about 1.5 GB of memory.

Usage::

    python benchmarks/gen_events.py --events 10_000_000 --users 3_000_000 --out bench_data/events_10m.parquet
    python benchmarks/gen_events.py --events 100_000_000 --users 30_000_000 --parts 20 --out bench_data/events_100m

Same arguments and seed, same files, byte for byte.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

START = np.datetime64("2026-01-01T00:00:00", "s").astype(np.int64)


def channel_names(n: int) -> list[str]:
    base = ["paid_search", "organic_search", "direct", "email", "display", "paid_social", "organic_social",
            "affiliate", "referral", "video", "sms", "push", "podcast", "tv", "print", "radio", "ooh", "app",
            "partner", "retargeting"]
    return base[:n] if n <= len(base) else base + [f"channel_{i:02d}" for i in range(len(base), n)]


def chunk_table(rng: np.random.Generator, n: int, t0: int, t1: int, *, n_users: int, names: list[str],
                weights: np.ndarray, p_conv: np.ndarray, conversion_rate: float) -> pa.Table:
    """``n`` rows with times in [t0, t1) seconds, sorted by time."""
    ts = rng.integers(t0, t1, n, dtype=np.int64)
    user = rng.integers(0, n_users, n, dtype=np.int64)
    ch = rng.choice(len(names), n, p=weights)
    # a conversion follows one of the user's touches (about a day later), touches on some channels more often
    conv = rng.random(n) < conversion_rate
    touch_rows = np.flatnonzero(~conv)
    odds = p_conv[ch[touch_rows]]
    source = touch_rows[np.searchsorted(np.cumsum(odds), rng.random(int(conv.sum())) * odds.sum())]
    user[conv] = user[source]
    ts[conv] = ts[source] + rng.exponential(86_400.0, len(source)).astype(np.int64)
    order = np.argsort(ts, kind="stable")
    ts, user, ch, conv = ts[order], user[order], ch[order], conv[order]
    # a bijection of [0, 10^10): distinct, scattered ids
    uid = (user * 2654435761 + 1234567) % 10_000_000_000
    revenue = np.where(conv, np.round(rng.lognormal(3.5, 0.8, n), 2), np.nan)
    campaign = np.where(conv, -1, ch * 8 + rng.integers(0, 8, n))
    uid_str = pc.binary_join_element_wise("u", pc.utf8_lpad(pc.cast(pa.array(uid), pa.string()), 10, "0"), "")
    name_arr = pa.array(names, pa.string())
    camp_names = pa.array([f"{c}_{k}" for c in names for k in range(8)], pa.string())
    return pa.table({
        "user_id": uid_str,
        "timestamp": pa.array(ts, pa.timestamp("s")).cast(pa.timestamp("us")),
        "event": pa.DictionaryArray.from_arrays(pa.array(conv.astype(np.int8)), pa.array(["touch", "conversion"])
                                                ).cast(pa.string()),
        "channel": name_arr.take(pa.array(np.where(conv, -1, ch), mask=conv)),
        "revenue": pa.array(revenue, pa.float64(), from_pandas=True),
        "campaign": camp_names.take(pa.array(campaign, mask=conv)),
        "session_id": pa.array(rng.integers(0, 2**40, n, dtype=np.int64)),
        "page": pa.array(np.array(["/", "/pricing", "/blog", "/product", "/signup"])[rng.integers(0, 5, n)]),
    })


def generate(out: str, *, events: int, users: int, channels: int = 15, conversion_rate: float = 0.03,
             days: int = 90, parts: int = 1, seed: int = 0, chunk: int = 2_000_000, quiet: bool = False) -> list[str]:
    """Write the log; returns the files written."""
    rng = np.random.default_rng(seed)
    names = channel_names(channels)
    raw = 1.0 / np.arange(1, channels + 1) ** 0.8  # skewed channel popularity
    weights = raw / raw.sum()
    lift = np.linspace(2.0, 0.5, channels)  # channel-dependent conversion odds, mean-matched below
    p_conv = lift * conversion_rate / float(weights @ lift)
    t_start, t_end = int(START), int(START) + days * 86_400
    if parts > 1:
        os.makedirs(out, exist_ok=True)
        files = [os.path.join(out, f"part-{i:04d}.parquet") for i in range(parts)]
    else:
        os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
        files = [out]
    per_part = np.full(parts, events // parts, np.int64)
    per_part[: events % parts] += 1
    edges = np.linspace(t_start, t_end, parts + 1).astype(np.int64)
    t_begin = time.perf_counter()
    done = 0
    for i, path in enumerate(files):
        n_part = int(per_part[i])
        n_chunks = max(1, -(-n_part // chunk))
        sub = np.linspace(edges[i], edges[i + 1], n_chunks + 1).astype(np.int64)
        sizes = np.full(n_chunks, n_part // n_chunks, np.int64)
        sizes[: n_part % n_chunks] += 1
        tmp = path + ".tmp"
        writer = None
        for k in range(n_chunks):
            table = chunk_table(rng, int(sizes[k]), int(sub[k]), int(sub[k + 1]), n_users=users, names=names,
                                weights=weights, p_conv=p_conv, conversion_rate=conversion_rate)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
            writer.write_table(table, row_group_size=1_000_000)
            done += table.num_rows
            if not quiet:
                print(f"\r{done:,} / {events:,} rows ({time.perf_counter() - t_begin:.0f} s)", end="", file=sys.stderr)
        writer.close()
        os.replace(tmp, path)
    if not quiet:
        print(file=sys.stderr)
    return files


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    p.add_argument("--users", type=lambda s: int(s.replace("_", "")), default=3_000_000)
    p.add_argument("--channels", type=int, default=15)
    p.add_argument("--conversion-rate", type=float, default=0.03)
    p.add_argument("--days", type=int, default=90)
    p.add_argument("--parts", type=int, default=1, help="write a folder of this many time-ranged files")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chunk", type=lambda s: int(s.replace("_", "")), default=2_000_000)
    p.add_argument("--out", required=True)
    p.add_argument("--quiet", action="store_true")
    a = p.parse_args(argv)
    generate(a.out, events=a.events, users=a.users, channels=a.channels, conversion_rate=a.conversion_rate,
             days=a.days, parts=a.parts, seed=a.seed, chunk=a.chunk, quiet=a.quiet)


if __name__ == "__main__":
    main()
