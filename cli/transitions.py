"""``attribution transitions``: fit a Markov model and show (or write) its transition matrix and removal effects."""

from __future__ import annotations

from typing import Optional

import pandas as pd
import typer

from attribution.exceptions import ParameterError
from attribution.io.csvread import CsvOptions
from attribution.io.export import check_writable, output_format, write_table
from attribution.models import Markov, parse_model_spec
from attribution.runner import load_journeys

from attribution.cli.base import app
from attribution.cli.options import (
    Column, ConversionEvent, Decimal, Delimiter, Encoding, EpochUnit, Events, Format, InputKind, LookbackDays,
    OnBadRows, Quiet, Separator, ValidYears, refuse_urls,
)
from attribution.cli.render import echo_summary, echo_table


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
    events: Events,
    model: str = typer.Option("markov", "--model", "-m",
                              help="A Markov spec: markov, markov:order=2, markov:order=auto, markov:collapse=true."),
    lookback_days: LookbackDays = "30",
    conversion_event: ConversionEvent = None,
    column: Column = None,
    input: InputKind = "events",
    separator: Separator = " > ",
    on_bad_rows: OnBadRows = "error",
    delimiter: Delimiter = None,
    decimal: Decimal = ".",
    encoding: Encoding = None,
    epoch_unit: EpochUnit = None,
    valid_years: ValidYears = None,
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write the transition matrix here (.csv, .parquet, .json) instead of printing it."),
    effects_output: Optional[str] = typer.Option(
        None, "--effects-output", help="Also write the removal-effects table here."),
    format: Format = None,
    quiet: Quiet = False,
) -> None:
    """Show the fitted Markov transition matrix (from_state, to_state, count, probability) and removal effects."""
    refuse_urls(events)
    fitted = parse_model_spec(model)
    if not isinstance(fitted, Markov):
        raise ParameterError(f"'attribution transitions' needs a Markov model spec such as markov:order=2. "
                             f"Got {model!r} instead.")
    csv = CsvOptions.of(delimiter, decimal, encoding)
    targets = [(o, output_format(o, format)) for o in (output, effects_output) if o is not None]
    for path, _ in targets:
        check_writable(path)
    journeys, _events, summary = load_journeys(
        [str(e) for e in events], input=input, lookback_days=lookback_days,
        conversion_events=tuple(conversion_event or ("conversion",)), columns=column, on_bad_rows=on_bad_rows,
        separator=separator, csv=csv, epoch_unit=epoch_unit, valid_years=valid_years)
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
