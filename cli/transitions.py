"""``attribution transitions``: fit a Markov model and show (or write) its transition matrix and removal effects."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pandas as pd
import typer

from attribution.exceptions import ParameterError
from attribution.export import check_writable, output_format, write_table
from attribution.pipeline import load_journeys

from .app import app
from .render import echo_summary, echo_table


def _shown(frame: pd.DataFrame, columns=("probability", "revenue_removal_effect", "log_likelihood")) -> pd.DataFrame:
    """Probabilities and effects with 6 decimals on the terminal (files keep full precision)."""
    out = frame.copy()
    for c in columns:
        if c in out.columns:
            out[c] = [f"{v:.6f}" for v in out[c].to_numpy(float)]
    return out


def markov_report(model) -> pd.DataFrame:
    """``channel, removal_effect, revenue_removal_effect, conversions, revenue`` of a fitted Markov model."""
    effects = model.removal_effects_[["channel", "removal_effect", "revenue_removal_effect"]]
    credit = model.attribution_[["channel", "conversions", "revenue"]]
    return credit.merge(effects, on="channel", how="left")


@app.command("transitions")
def transitions_command(
    events: list[Path] = typer.Argument(..., help="Event-log files (Parquet or CSV), folders or globs; or path tables."),
    model: str = typer.Option("markov", "--model", "-m",
                              help="A Markov spec: markov, markov:order=2, markov:order=auto, markov:collapse=true."),
    lookback_days: str = typer.Option("30", "--lookback-days", help="Lookback window in days, or 'none'."),
    conversion_event: Optional[list[str]] = typer.Option(
        None, "--conversion-event", help="Event name that is a conversion (repeatable; default 'conversion')."),
    column: Optional[list[str]] = typer.Option(
        None, "--column", help="Map a canonical column to yours: CANONICAL=ACTUAL (repeatable)."),
    input: str = typer.Option("events", "--input", help="What the files hold: 'events' or 'paths' (a path table)."),
    separator: str = typer.Option(" > ", "--separator", help="Channel separator of path-table paths and of states."),
    on_bad_rows: str = typer.Option("error", "--on-bad-rows", help="'error' (default) or 'skip' bad rows."),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write the transition matrix here (.csv, .parquet, .json) instead of printing it."),
    effects_output: Optional[str] = typer.Option(
        None, "--effects-output", help="Also write the removal-effects table here."),
    format: Optional[str] = typer.Option(None, "--format", help="Output format: csv, parquet or json."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary on stderr."),
) -> None:
    """Show the fitted Markov transition matrix (from_state, to_state, count, probability) and removal effects."""
    from attribution.models import Markov, parse_model_spec

    fitted = parse_model_spec(model)
    if not isinstance(fitted, Markov):
        raise ParameterError(f"'attribution transitions' needs a Markov model spec such as markov:order=2. "
                             f"Got {model!r} instead.")
    targets = [(o, output_format(o, format)) for o in (output, effects_output) if o is not None]
    for path, _ in targets:
        check_writable(path)
    journeys, _events, summary = load_journeys(
        [str(e) for e in events], input=input, lookback_days=lookback_days,
        conversion_events=tuple(conversion_event or ("conversion",)), columns=column, on_bad_rows=on_bad_rows,
        separator=separator)
    fitted.fit(journeys)
    echo_summary(summary, quiet)
    matrix = fitted.transition_matrix(separator)
    report = markov_report(fitted)
    if output is None:
        echo_table(_shown(matrix))
        print()
    else:
        write_table(matrix, output, output_format(output, format))
    if effects_output is not None:
        write_table(report, effects_output, output_format(effects_output, format))
    print(f"order {fitted.order_}; {fitted.chain_.n_states:,} channel states; "
          f"P(conversion) = {fitted.conversion_probability_:.6g}; "
          f"expected revenue per journey = {fitted.expected_revenue_:.6g}")
    if fitted.order_scores_ is not None:
        print("order chosen by out-of-sample log-likelihood of journey outcomes:")
        echo_table(_shown(fitted.order_scores_))
    print()
    echo_table(_shown(report))
