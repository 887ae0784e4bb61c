"""Seed spread of the share distance (TVD) on small ``b2b`` worlds with the default 30-day lookback.

The provenance of the bounds in ``tests/models/test_hazard.py::test_b2b_world_with_the_default_lookback_beats_the_
heuristics``: for seeds 1-5 of a 3000-user ``b2b`` world it prints the truly caused conversions and the TVD of
first touch, last touch, linear, Markov and hazard, and ``floor``: the TVD of a perfect model that credits only
the touches of a conversion's own 30-day journey (the true shares counted over the conversions whose causing
touch lies in that journey, against all true shares): no model that credits journey touches only can be closer.

Run: ``python benchmarks/hazard_b2b_noise.py [--users 3000] [--seeds 1,2,3,4,5]``.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd

from attribution.io.events import Events
from attribution.journeys.journeys import Journeys
from attribution.models import parse_model_spec
from attribution.sim.evaluate import scorecard
from attribution.sim.scenarios import scenario_params
from attribution.sim.simulate import Simulation

SPECS = ("first_touch", "last_touch", "linear", "markov", "hazard")


def own_journey_floor(events: pd.DataFrame, truth, lookback: float = 30.0) -> float:
    """TVD between the true shares and the true shares over conversions caused within their own journey."""
    days = events["timestamp"].to_numpy().astype("datetime64[ns]").astype(np.int64) / 86400e9
    causes = truth.causes[truth.causes["cause"] != "(baseline)"]
    conv = np.flatnonzero((events["event"] == "conversion").to_numpy())
    user = events["user_id"].to_numpy()
    previous = pd.Series(days[conv], index=conv).groupby(user[conv]).shift(1)
    prev = previous.reindex(causes["row"].to_numpy()).to_numpy()
    at, by = days[causes["row"].to_numpy()], days[causes["cause_row"].to_numpy()]
    own = (at - by <= lookback) & ~(by < np.nan_to_num(prev, nan=-np.inf))
    full = causes.groupby("cause").size()
    part = causes[own].groupby("cause").size().reindex(full.index).fillna(0)
    return 0.5 * float((full / full.sum() - part / part.sum()).abs().sum())


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
        print(seed, round(truth.table["conversions"].sum()), " ".join(f"{m}={v:.3f}" for m, v in tvd.items()),
              f"floor={own_journey_floor(events, truth):.3f}")


if __name__ == "__main__":
    main()
