"""Calibration to lift tests on simulated worlds: shares and levels per model, before and after (docs/calibration.md).

A world is simulated with both causal traps (channels targeting likely buyers, navigational arrivals); lift tests
measure the conversions each tested channel truly caused in each calendar month (``attribution.sim.simulate``'s
cause of every conversion), with normal noise of 10 % (seeded). Every default model is fitted once; the report
then prints, per model:

- ``tvd``: total variation distance between the model's channel shares and the true incremental shares
  (½ Σ |share − true share| over channels, ``(none)`` and ``(baseline)`` left out);
- ``level``: Σ |credit − true incremental| / Σ true incremental over channels (what calibration should lower);
- ``untested``: the same level error over the untested channels only;

before calibration, after it with the untested channels pooled (``--calibrate-untested pool``) and left as they
are (``keep``). A second section tests two channels whose factors disagree, a case where partial pooling hurts
the untested channels.

Usage::

    python benchmarks/calibration_report.py            # about a minute on one core
    python benchmarks/calibration_report.py --users 20000 --seed 3
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from attribution.kpis.calibrate import calibrate, lift_tests_from_truth
from attribution.io.events import Events
from attribution.journeys.journeys import Journeys
from attribution.kpis.report import kpi_table
from attribution.models import default_model_specs, parse_model_spec
from attribution.kpis.result import fit_models
from attribution.sim.simulate import Simulation

MONTHS = [("2026-01-01", "2026-01-31"), ("2026-02-01", "2026-02-28"), ("2026-03-01", "2026-03-31")]
EXCLUDED = ("(none)", "(baseline)")


def credit(table: pd.DataFrame, model: str, channels) -> pd.Series:
    rows = table[(table["model"] == model) & ~table["channel"].isin(EXCLUDED)]
    return rows.groupby("channel")["conversions"].sum().reindex(channels).fillna(0.0)


def scores(table, model, true: pd.Series, untested) -> dict:
    got = credit(table, model, true.index)
    share = got / got.sum()
    tvd = 0.5 * float((share - true / true.sum()).abs().sum())
    level = float((got - true).abs().sum() / true.sum())
    u = list(untested)
    rest = float((got[u] - true[u]).abs().sum() / true[u].sum()) if u else np.nan
    return {"tvd": tvd, "level": level, "untested": rest}


def section(world, tested, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    events, truth, ev, journeys, models, table = world
    true = truth.table.set_index("channel")["conversions"]
    untested = [c for c in true.index if c not in tested]
    exps = lift_tests_from_truth(events, truth, [(c, a, b) for c in tested for a, b in MONTHS], rel_se=0.1, seed=seed)
    runs = {"before": (table, None)}
    for how in ("pool", "keep"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            runs[how] = calibrate(table, exps.drop(columns="true_conversions"), models=models, journeys=journeys,
                                  events=ev, untested=how)
    rows = []
    for spec in default_model_specs():
        row = {"model": spec}
        for name, (t, _) in runs.items():
            for k, v in scores(t, spec, true, untested).items():
                row[f"{k} {name}"] = v
        rows.append(row)
    factors = runs["pool"][1]
    wide = (factors.pivot(index="model", columns="channel", values="calibration_factor")
            .reindex(index=default_model_specs(), columns=true.index))
    ratio = pd.DataFrame({spec: true / credit(table, spec, true.index) for spec in default_model_specs()}).T
    cells = pd.DataFrame({c: [f"{f:.2f} ({r:.2f})" for f, r in zip(wide[c], ratio[c])] for c in true.index},
                         index=wide.index)
    cells.columns = [f"{c}{' *' if c in tested else ''}" for c in true.index]
    return pd.DataFrame(rows), cells


def shares(world) -> pd.DataFrame:
    events, truth, ev, journeys, models, table = world
    true = truth.table.set_index("channel")["conversions"]
    out = {"truth": true / true.sum()}
    for spec in default_model_specs():
        got = credit(table, spec, true.index)
        out[spec] = got / got.sum()
    return pd.DataFrame(out).T


def build_world(users: int, seed: int):
    events, truth = Simulation(n_users=users, targeting=1.0, navigational=0.3).run(seed=seed)
    ev = Events.from_frame(events)
    journeys = Journeys.from_events(ev)
    models = fit_models(journeys, [parse_model_spec(s) for s in default_model_specs()])
    table, _, _ = kpi_table(models, journeys, ev)
    return events, truth, ev, journeys, models, table


def md(frame: pd.DataFrame, digits: int = 3) -> str:
    """A Markdown table (index first), numbers with ``digits`` decimals."""
    cols = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in frame.columns]
    lines = ["| | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for idx, values in zip(frame.index, frame.to_numpy()):
        cells = [f"{v:.{digits}f}" if isinstance(v, (float, np.floating)) else str(v) for v in values]
        lines.append(f"| {idx} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    world = build_world(args.users, args.seed)
    truth = world[1]
    print(f"World: Simulation(n_users={args.users}, targeting=1.0, navigational=0.3).run(seed={args.seed}): "
          f"{truth.total_conversions:.0f} conversions, {truth.baseline_conversions:.0f} of them caused by no "
          "channel.\n")
    print("True incremental shares and each model's shares (uncalibrated):\n")
    print(md(shares(world)))
    cases = [("Tests on paid_search, display and email (monthly, se 10 %)", ["paid_search", "display", "email"], 0),
             ("Tests on direct and affiliate: factors that disagree", ["direct", "affiliate"], 0)]
    for title, tested, seed in cases:
        table, factors = section(world, tested, seed)
        print(f"\n### {title}\n")
        print(md(table.set_index("model")))
        print("\nFactor with --calibrate-untested pool, and in brackets the factor that would give the true credit "
              "(true / credit); * marks the tested channels:\n")
        print(md(factors, 2))


if __name__ == "__main__":
    main()
