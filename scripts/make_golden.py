#!/usr/bin/env python
"""Write the golden outputs of the bundled sample: every model under every run variant, in memory and out of core.

    python scripts/make_golden.py              # writes tests/golden/
    python scripts/make_golden.py --out DIR    # writes DIR/ (tests/test_golden.py regenerates and compares)

Each file is what ``attribution run`` writes for the bundled sample (``attribution.sim.datasets``) with every model
(``MODELS``) and one of the variants below, run in memory (``mem``) and out of core (``ooc``: a memory budget
small enough to force user buckets). The ``--detail`` fact table is kept as Parquet (a tenth of the CSV's size,
the same values). These files pin the numbers: any change to code that moves a number shows
up as a diff of these files, to be explained in the commit that regenerates them.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.sim.datasets import sample_events_path, sample_spend_path

MODELS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "time_decay:half_life=3d",
          "position_based", "markov", "markov:order=2", "shapley", "shapley:game=rate", "logistic")

VARIANTS = {
    "plain": [],
    "month": ["--period", "month"],
    "campaign": ["--by", "campaign"],
    "spend": ["--spend", "{spend}"],
    "ci": ["--ci", "0.9", "--bootstrap", "20", "--seed", "7"],
    "detail": ["--detail", "{detail}"],
}
ENGINES = {"mem": [], "ooc": ["--memory-limit", "1MB"]}


def golden_runs():
    """(file name, argument list with ``{spend}``, ``{detail}`` and ``{out}`` placeholders) of every golden run."""
    models = [a for m in MODELS for a in ("--model", m)]
    for variant, extra in VARIANTS.items():
        for engine, engine_args in ENGINES.items():
            name = f"{variant}-{engine}"
            yield name, ["run", "{events}", *models, *extra, *engine_args, "--quiet", "--output", "{out}"]


def write_golden(out: Path) -> list[Path]:
    """Run every golden run into ``out``; return the files written."""
    out.mkdir(parents=True, exist_ok=True)
    runner = CliRunner()
    written = []
    with tempfile.TemporaryDirectory() as spill:
        for name, args in golden_runs():
            table, detail = out / f"{name}.csv", out / f"{name}.detail.parquet"
            values = {"events": str(sample_events_path()), "spend": str(sample_spend_path()),
                      "detail": str(detail), "out": str(table)}
            argv = [a.format(**values) for a in args]
            if "--memory-limit" in argv:
                argv += ["--spill-dir", spill]
            res = runner.invoke(app, argv, catch_exceptions=False)
            if res.exit_code != 0:
                raise SystemExit(f"golden run {name} failed ({res.exit_code}): {res.output}")
            written.append(table)
            if detail.exists():
                written.append(detail)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "tests" / "golden")
    args = parser.parse_args(argv)
    for path in write_golden(args.out):
        print(path, os.path.getsize(path), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
