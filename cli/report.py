"""``attribution report``: one self-contained HTML report of a run, for people who would rather look than read."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from attribution.exceptions import ParameterError

from attribution.cli.base import app
from attribution.cli.options import Column, ConversionEvent, Events, LookbackDays, MilestoneEvent, OnBadRows, Quiet
from attribution.cli.render import echo_summary

# attribution.htmlreport is imported inside the command: every command module is imported for `attribution
# --help` and every other command, which would otherwise load it (start-up time). Every other import is here.


@app.command("report")
def report_command(
    events: Events,
    output: Annotated[str, typer.Option(
        "--output", "-o", help="The report file (.html): one self-contained page, charts inline, no network.")],
    spend: Annotated[Optional[str], typer.Option(
        "--spend", help="Spend table (CSV or Parquet: channel, spend[, date, campaign, cost_type]): adds spend, "
        "ROAS, ROI and CPA.")] = None,
    spend_column: Annotated[Optional[list[str]], typer.Option(
        "--spend-column", help="Map a spend-table column to yours: CANONICAL=ACTUAL (repeatable).")] = None,
    model: Annotated[Optional[list[str]], typer.Option(
        "--model", "-m", help="Model spec, repeatable (as in 'attribution run'); the first leads the report. "
        "Default: all heuristics and markov, led by markov.")] = None,
    period: Annotated[str, typer.Option(
        "--period", help="Period of the trend: day, week, month, or none.")] = "month",
    ci: Annotated[Optional[float], typer.Option(
        "--ci", help="Add bootstrap intervals at this level (e.g. 0.95) to the comparison and the tables.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap replicates for --ci.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap.")] = 0,
    milestone_event: MilestoneEvent = None,
    lookback_days: LookbackDays = "30",
    conversion_event: ConversionEvent = None,
    column: Column = None,
    on_bad_rows: OnBadRows = "error",
    top: Annotated[int, typer.Option("--top", help="How many paths the top-paths section lists.")] = 10,
    quiet: Quiet = False,
) -> None:
    """Write an HTML report a marketing manager can read: headline figures, model comparison, channel ROI,
    ROAS/CPA, trend, funnel, top paths, Markov removal effects, each with a short "how to read this"."""
    from attribution.htmlreport import write_report

    if top < 1:
        raise ParameterError(f"The '--top' option must be at least 1. Got {top} instead.")
    content = write_report(
        output, [str(e) for e in events], models=model or None, spend=spend, spend_columns=spend_column,
        milestone_events=tuple(milestone_event or ()), period=None if period.strip().lower() == "none" else period,
        ci=ci, n_boot=bootstrap, seed=seed, lookback_days=lookback_days,
        conversion_events=tuple(conversion_event or ("conversion",)), columns=column, on_bad_rows=on_bad_rows,
        top=top, progress=False if quiet else None)
    if not quiet:
        echo_summary(content.result.summary, quiet)
        print(f"report written to {output}", file=sys.stderr)
