"""Seeded generator of synthetic path tables (SPEC 1.2) for the Markov benchmark and tests.

Each path is a walk of a hidden first-order chain over ``--channels`` channels (fixed skewed start weights,
a random sparse-ish transition matrix with a preference to repeat the same channel), of length
1 + Geometric. Every distinct path gets a number of journeys (1 + Poisson), of which a Binomial share converts
with a probability that rises with the channels on the path (some channels help more than others), and a revenue
per conversion drawn from a log-normal whose mean depends on the last channel. Walks are generated in bulk
(one numpy step per path position, never a loop per path), deduplicated, and the first ``--paths`` distinct
paths in generation order are kept.

Columns: ``path`` (channels joined by ``" > "``), ``conversions`` (integer-valued float), ``revenue``, ``nulls``.

Usage::

    python benchmarks/gen_paths.py --paths 1_000_000 --channels 20 --out bench_data/paths_1m.parquet

Same arguments and seed, same table, byte for byte.
"""

from __future__ import annotations

import argparse
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

NAMES = ["paid_search", "organic_search", "direct", "email", "display", "paid_social", "organic_social",
         "affiliate", "referral", "video", "sms", "push", "podcast", "tv", "print", "radio", "ooh", "app",
         "partner", "retargeting"]


def channel_names(n: int) -> list[str]:
    return NAMES[:n] if n <= len(NAMES) else NAMES + [f"channel_{i:02d}" for i in range(len(NAMES), n)]


def _walks(rng: np.random.Generator, n: int, n_channels: int, mean_length: float, max_length: int):
    """``n`` walks as a padded (n, max_length) code matrix (-1 = past the end) and their lengths."""
    start = rng.dirichlet(np.full(n_channels, 0.7))
    trans = rng.dirichlet(np.full(n_channels, 0.3), size=n_channels)
    trans += np.eye(n_channels) * 0.3
    trans /= trans.sum(axis=1, keepdims=True)
    cum = np.cumsum(trans, axis=1)
    lengths = np.minimum(rng.geometric(1.0 / max(mean_length, 1.0), n), max_length)
    lengths = np.maximum(lengths, 1)
    codes = np.full((n, max_length), -1, np.int64)
    cur = rng.choice(n_channels, n, p=start)
    codes[:, 0] = cur
    for pos in range(1, max_length):  # one vectorised step per position
        u = rng.random(n)
        nxt = (u[:, None] > cum[cur]).sum(axis=1)
        cur = np.minimum(nxt, n_channels - 1)
        codes[:, pos] = np.where(pos < lengths, cur, -1)
    return codes, lengths


def generate(n_paths: int, n_channels: int = 20, *, seed: int = 0, mean_length: float = 4.0,
             max_length: int = 24) -> pd.DataFrame:
    """A path table of ``n_paths`` distinct paths (see the module docstring)."""
    rng = np.random.default_rng(seed)
    names = np.array(channel_names(n_channels), dtype=object)
    effect = rng.normal(0.0, 0.6, n_channels)
    value = rng.lognormal(4.0, 0.5, n_channels)
    frames = []
    have = 0
    while have < n_paths:
        want = int((n_paths - have) * 1.3) + 1000
        codes, lengths = _walks(rng, want, n_channels, mean_length, max_length)
        flat = codes[codes >= 0]
        offsets = np.zeros(want + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = pa.DictionaryArray.from_arrays(pa.array(flat.astype(np.int32)), pa.array(list(names), pa.string()))
        paths = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)),
                                                        values.cast(pa.string())), " > ")
        frame = pd.DataFrame({"path": paths.to_numpy(zero_copy_only=False)})
        # conversion probability: logistic of the mean effect of the distinct channels on the path
        present = np.zeros((want, n_channels), bool)
        rows = np.repeat(np.arange(want), lengths)
        present[rows, flat] = True
        score = (present * effect).sum(axis=1) / np.maximum(present.sum(axis=1), 1)
        p = 1.0 / (1.0 + np.exp(-(score - 1.2 + 0.08 * lengths)))
        n_journeys = 1 + rng.poisson(2.0, want)
        conv = rng.binomial(n_journeys, p)
        last = codes[np.arange(want), lengths - 1]
        revenue = conv * rng.lognormal(np.log(value[last]), 0.3)
        frame["conversions"] = conv.astype(float)
        frame["revenue"] = np.round(revenue, 2)
        frame["nulls"] = (n_journeys - conv).astype(float)
        frames.append(frame)
        both = pd.concat(frames, ignore_index=True)
        # keep the first occurrence of every path, in generation order
        ids = pc.dictionary_encode(pa.array(both["path"].to_numpy(dtype=object), pa.string())).indices.to_numpy()
        _, first = np.unique(ids, return_index=True)
        frames = [both.iloc[np.sort(first)].reset_index(drop=True)]
        have = len(frames[0])
    out = frames[0].iloc[:n_paths].reset_index(drop=True)
    out["path"] = out["path"].astype(object)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--paths", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--channels", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    args = ap.parse_args(argv)
    frame = generate(args.paths, args.channels, seed=args.seed)
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    tmp = args.out + ".tmp"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp, compression="zstd")
    os.replace(tmp, args.out)
    print(f"wrote {len(frame):,} distinct paths, {frame['conversions'].sum():,.0f} conversions, "
          f"{frame['nulls'].sum():,.0f} nulls to {args.out}")


if __name__ == "__main__":
    main()
