"""``attribution demo``: every model on the bundled sample, side by side with the simulator's ground truth."""

from __future__ import annotations

from typing import Optional

import pandas as pd
import typer

from attribution.io.export import check_output, write_output
from attribution.models import available_models
from attribution.runner import run as run_pipeline

from attribution.cli.base import app
from attribution.cli.render import echo_summary, format_frame

# attribution.sim (which loads scipy.stats) is imported inside the functions that use it: every command module
# is imported for `attribution --help` and every other command, which would otherwise load it (start-up time).
# Every other import is here.


def comparison(table: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Channel × model shares of credited conversions (real channels only), with the true incremental share."""
    from attribution.sim.evaluate import channel_errors

    errors = channel_errors(table, truth)
    wide = errors.pivot(index="channel", columns="model", values="share")[list(dict.fromkeys(table["model"]))]
    wide["TRUTH"] = errors.groupby("channel")["true_share"].first()
    return (wide * 100).reset_index()


@app.command("demo")
def demo_command(
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Also write the full long table here."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary on stderr."),
) -> None:
    """Attribute the bundled sample with every model and compare each with the simulated ground truth."""
    from attribution.sim.datasets import sample_events_path, sample_ground_truth, sample_spend_path
    from attribution.sim.evaluate import compare_to_truth

    fmt = check_output(output, None, None) if output is not None else None
    result = run_pipeline([sample_events_path()], models=available_models(), spend=sample_spend_path(),
                          milestone_events=("lead", "qualified"))
    echo_summary(result.summary, quiet)
    truth = sample_ground_truth()
    print("% of credited conversions per channel (touchless conversions left out); TRUTH = % of the conversions "
          "each channel really caused in the simulation:\n")
    print(format_frame(comparison(result.table, truth)))
    print("\nHow far each model is from the truth (mean and largest absolute error in percentage points, "
          "Spearman rank correlation of the channels):\n")
    scores = compare_to_truth(result.table, truth)
    scores[["mae", "max_error"]] *= 100
    print(format_frame(scores))
    if output is not None:
        write_output(result.table, output, fmt, None)
