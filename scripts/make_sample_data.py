#!/usr/bin/env python
"""Write the bundled sample data of ``attribution.sim.datasets`` (our own simulated data, Apache-2.0).

    python scripts/make_sample_data.py            # writes attribution/data/
    python scripts/make_sample_data.py --out DIR  # writes DIR/ (tests regenerate and compare bytes)

Files (all deterministic: the same code and library versions give byte-identical files):

- ``sample_events.parquet``: the event log of ``Simulation.sample()`` (4,000 users, 8 channels, targeting and
  navigational traps on, ``source``/``medium`` columns) run with ``SEED``;
- ``sample_spend.csv``: ``make_spend`` of that log (media cost per touch, plus the email platform as ``tools``);
- ``sample_truth.csv``: the ground truth per channel (``GroundTruth.to_frame()``, with the ``(baseline)`` row).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from attribution.sim.simulate import Simulation, make_spend

SEED = 20260101
EVENTS = "sample_events.parquet"
SPEND = "sample_spend.csv"
TRUTH = "sample_truth.csv"
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "attribution" / "data"


def build():
    """The sample's events, spend and truth frames."""
    sim = Simulation.sample()
    events, truth = sim.run(seed=SEED)
    spend = make_spend(events, start=sim.start, days=sim.days)
    return events, spend, truth.to_frame()


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; package data must be readable by all
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write(out: Path) -> list[Path]:
    """Write the three files into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    events, spend, truth = build()
    # no pandas metadata in the file: it would embed the pandas version
    table = pa.Table.from_pandas(events, preserve_index=False).replace_schema_metadata(None)
    schema = pa.schema([pa.field(f.name, pa.string() if pa.types.is_large_string(f.type) else f.type)
                        for f in table.schema])
    table = table.cast(schema)  # plain string (not large_string) for the widest reader support
    paths = [out / EVENTS, out / SPEND, out / TRUTH]
    _atomic_write(paths[0], lambda p: pq.write_table(table, p, compression="zstd", compression_level=9,
                                                     use_dictionary=True, row_group_size=1 << 20))
    _atomic_write(paths[1], lambda p: spend.to_csv(p, index=False, lineterminator="\n", date_format="%Y-%m-%d"))
    _atomic_write(paths[2], lambda p: truth.to_csv(p, index=False, lineterminator="\n", float_format="%.6f"))
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: attribution/data)")
    args = parser.parse_args(argv)
    for path in write(args.out):
        print(f"{path}  {path.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
