"""Seed spread of the share distance (TVD) on small ``b2b`` worlds with the default 30-day lookback.

The provenance of the bounds in ``tests/models/test_hazard.py::test_b2b_world_with_the_default_lookback_beats_the_
heuristics``: for seeds 1-5 of a 3000-user ``b2b`` world it prints the truly caused conversions and the TVD of
first touch, last touch, linear, Markov and hazard.

Run: ``python benchmarks/hazard_b2b_noise.py [--users 3000] [--seeds 1,2,3,4,5]``.
"""

from __future__ import annotations

import argparse
import warnings

import pandas as pd

from attribution.io.events import Events
from attribution.journeys.journeys import Journeys
from attribution.models import parse_model_spec
from attribution.sim.evaluate import scorecard
from attribution.sim.scenarios import scenario_params
from attribution.sim.simulate import Simulation

SPECS = ("first_touch", "last_touch", "linear", "markov", "hazard")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--seeds", default="1,2,3,4,5")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    for seed in map(int, args.seeds.split(",")):
        events, truth = Simulation(n_users=args.users, **scenario_params("b2b")).run(seed=seed)
        journeys = Journeys.from_events(Events.from_frame(events))
        table = pd.concat([parse_model_spec(s).fit(journeys).attribution_.assign(model=s) for s in SPECS])
        tvd = scorecard(table, truth.to_frame()).set_index("model")["tvd"]
        print(seed, round(truth.table["conversions"].sum()), " ".join(f"{m}={v:.3f}" for m, v in tvd.items()))


if __name__ == "__main__":
    main()
