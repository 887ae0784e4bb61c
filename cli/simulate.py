"""``attribution simulate`` (a log with a known truth) and ``attribution evaluate`` (a scorecard against it)."""

from __future__ import annotations

from typing import List, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import typer

from attribution.exceptions import InputError, Problem
from attribution.io.columns import NOT_NUMERIC, parse_numbers
from attribution.io.export import check_output, write_output
from attribution.models import default_model_specs
from attribution.runner import parse_lookback, run as run_pipeline

from attribution.cli.base import app
from attribution.cli.render import format_frame

# attribution.sim (which loads scipy.stats) is imported inside the functions that use it: every command module
# is imported for `attribution --help` and every other command, which would otherwise load it (start-up time).
# Every other import is here.


@app.command("simulate")
def simulate_command(
    scenario: str = typer.Option("retail", "--scenario", help="Preset world: no_confounding, targeting, "
                                 "navigational, b2b, many_channels, retail (see attribution.sim.scenarios)."),
    users: int = typer.Option(20000, "--users", help="Users simulated."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random draw (same seed, same files)."),
    output: str = typer.Option(..., "--output", "-o", help="Event log to write (.parquet or .csv)."),
    truth: str = typer.Option(..., "--truth", help="Ground truth to write (CSV): conversions and revenue each "
                              "channel really caused, plus a (baseline) row."),
    spend: Optional[str] = typer.Option(None, "--spend", help="Also write a daily spend table (CSV)."),
) -> None:
    """Simulate an event log whose causal truth is known (see ``attribution.sim.simulate``)."""
    from attribution.sim.scenarios import scenario_params
    from attribution.sim.simulate import Simulation, make_spend

    params = scenario_params(scenario, n_users=users)
    sim = Simulation(**params)  # parameter errors before any file is touched
    fmt = check_output(output)
    truth_fmt = check_output(truth)
    spend_fmt = check_output(spend) if spend is not None else None
    events, gt = sim.run(seed=seed)
    write_output(events, output, fmt)
    write_output(gt.to_frame(include_baseline=True), truth, truth_fmt)
    if spend is not None:
        write_output(make_spend(events, costs=_costs(sim), start=sim.start, days=sim.days), spend, spend_fmt)
    n_conv = int((events["event"] == "conversion").sum())
    print(f"{scenario}: {len(events):,} events, {events['user_id'].nunique():,} users, {n_conv:,} conversions "
          f"({gt.baseline_conversions:,.0f} caused by no channel) -> {output}, {truth}")


def _costs(sim) -> dict:
    """Cost per touch of the simulation's paid channels (the defaults, 1.0 for channels they do not cover)."""
    from attribution.sim.simulate import DEFAULT_COSTS

    free = {"direct", "organic_search", "referral", "content"}
    return {c: DEFAULT_COSTS.get(c, 1.0) for c in sim.channels if c not in free}


@app.command("evaluate")
def evaluate_command(
    events: str = typer.Argument(..., help="Event log (as written by 'attribution simulate')."),
    truth: str = typer.Option(..., "--truth", help="Ground truth CSV (as written by 'attribution simulate')."),
    model: Optional[List[str]] = typer.Option(None, "--model", "-m", help="Model spec (repeatable); default: the "
                                              "heuristics, markov and hazard."),
    basis: str = typer.Option("conversions", "--basis", help="Score conversions or revenue."),
    lookback_days: str = typer.Option("30", "--lookback-days", help="Journey lookback window in days."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Also write the scorecard here."),
    experiments: Optional[str] = typer.Option(None, "--experiments", help="Lift tests (channel, start, end, "
                                              "incremental_conversions[, se]): score the calibrated credit."),
) -> None:
    """Score models against a simulated ground truth: shares (TVD, errors, rank correlation, credit to
    zero-effect channels) and levels (Σ|credit − true| / Σ true); with ``--experiments``, of the credit
    calibrated to the lift tests (attribution.kpis.calibrate)."""
    from attribution.sim.evaluate import scorecard

    fmt = check_output(output) if output is not None else None
    truth_frame = read_truth(truth)
    specs = list(model) if model else default_model_specs() + ["hazard"]
    result = run_pipeline([events], models=specs, lookback_days=parse_lookback(lookback_days),
                          experiments=experiments)
    card = scorecard(result.table, truth_frame, basis)
    print(f"Scorecard on {basis}{' calibrated to ' + experiments if experiments else ''} (shares exclude (none) and (baseline); level_error = Σ|credit − true| / Σ true):\n")
    print(format_frame(card))
    if output is not None:
        write_output(card, output, fmt)


def read_truth(path: str):
    """A truth CSV: ``channel`` and ``conversions`` (and ``revenue``) columns, one row per channel."""
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(Problem("file_missing", "the truth file does not exist", "check the --truth path",
                                 file=path)) from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(Problem("truth_unreadable", f"is not a readable CSV ({exc})",
                                 "pass the truth CSV written by 'attribution simulate'", file=path)) from None
    for col in ("channel", "conversions"):
        if col not in frame.columns:
            raise InputError(Problem("column_missing", f"a truth table needs a '{col}' column",
                                     "pass the truth CSV written by 'attribution simulate'", file=path, column=col))
    values, empty, not_number = parse_numbers(pa.array(frame["conversions"], from_pandas=True))
    bad = not_number | empty | np.isinf(values)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputError(Problem(NOT_NUMERIC, "must be a finite number", "fix the truth file", file=path,
                                 column="conversions", count=int(bad.sum()), first_row=i,
                                 example=frame[["channel", "conversions"]].iloc[i].astype(str).to_dict()))
    return frame
