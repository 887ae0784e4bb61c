"""``attribution compare``: every model's share of each channel side by side, with ranks and the spread."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from attribution.io.export import check_output, write_output
from attribution.kpis.compare import compare_table
from attribution.runner import run as run_pipeline

from attribution.cli.base import app
from attribution.cli.options import (
    Column, ConversionEvent, Events, Format, InputKind, LookbackDays, OnBadRows, Quiet, Separator, Table,
)
from attribution.cli.render import echo_summary, echo_table

# attribution.plotting (the charts, over matplotlib) is imported only with --plot: every command module is imported
# for `attribution --help` and every other command, which would otherwise load it (start-up time). Every other
# import is here.


@app.command("compare")
def compare_command(
    events: Events,
    model: Optional[list[str]] = typer.Option(
        None, "--model", "-m", help="Model spec, repeatable (as in 'attribution run'). Default: all heuristics "
        "and markov."),
    lookback_days: LookbackDays = "30",
    conversion_event: ConversionEvent = None,
    column: Column = None,
    input: InputKind = "events",
    separator: Separator = " > ",
    on_bad_rows: OnBadRows = "error",
    touchless: Annotated[bool, typer.Option(
        "--touchless", help="Keep the touchless conversions as the channel '(none)' (by default shares are over "
        "the real channels).")] = False,
    plot: Annotated[Optional[str], typer.Option(
        "--plot", help="Also draw the comparison chart here (.png, .svg or .pdf; extra 'plot').")] = None,
    ci: Annotated[Optional[float], typer.Option(
        "--ci", help="Bootstrap intervals at this level (e.g. 0.95), drawn as error bars by --plot.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap replicates for --ci.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write the wide table here (.csv, .parquet, .json, or a SQL URL with --table)."),
    format: Format = None,
    table: Table = None,
    quiet: Quiet = False,
) -> None:
    """Compare models: each channel's share of conversions under every model (channels x models), its rank under
    each model (1 = largest share) and the spread between models (largest - smallest share)."""
    fmt = check_output(output, format, table) if output is not None else None
    if plot is not None:
        from attribution.plotting import chart_format

        chart_format(plot)
    result = run_pipeline([str(e) for e in events], models=model or None, input=input, lookback_days=lookback_days,
                          conversion_events=tuple(conversion_event or ("conversion",)), columns=column,
                          on_bad_rows=on_bad_rows, separator=separator, ci=ci, n_boot=bootstrap, seed=seed,
                          progress=False if quiet else None, campaigns=False)
    echo_summary(result.summary, quiet)
    wide = compare_table(result.table, touchless=touchless)
    if plot is not None:
        _draw(result.table, plot, touchless)
    if output is None:
        echo_table(wide)
    else:
        write_output(wide, output, fmt, table)


def _draw(table, path: str, touchless: bool) -> None:
    from matplotlib.figure import Figure  # no pyplot: no window, no global state

    from attribution.plotting import plot_model_comparison, save_chart

    ax = Figure(figsize=(11.0, 4.8)).subplots()
    save_chart(plot_model_comparison(table, touchless=touchless, ax=ax), path)
