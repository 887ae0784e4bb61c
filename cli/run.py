"""``attribution run``: read an event log (or path table), attribute with every model, write or print the table."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from attribution.export import check_writable, output_format, write_table
from attribution.pipeline import run as run_pipeline

from .app import app
from .render import echo_summary, echo_table


@app.command("run")
def run_command(
    events: list[Path] = typer.Argument(..., help="Event-log files (Parquet or CSV), folders of Parquet files or globs."),
    model: Optional[list[str]] = typer.Option(
        None, "--model", "-m",
        help="Model spec, repeatable: first_touch, last_touch, last_non_direct, linear, time_decay[:half_life=7d], "
        "position_based[:first=0.4,middle=0.2,last=0.4], markov[:order=1]. Default: all heuristics and markov."),
    lookback_days: str = typer.Option("30", "--lookback-days", help="Lookback window in days, or 'none'."),
    conversion_event: Optional[list[str]] = typer.Option(
        None, "--conversion-event", help="Event name that is a conversion (repeatable; default 'conversion')."),
    column: Optional[list[str]] = typer.Option(
        None, "--column", help="Map a canonical column to yours: CANONICAL=ACTUAL (repeatable)."),
    input: str = typer.Option("events", "--input", help="What the files hold: 'events' or 'paths' (a path table)."),
    separator: str = typer.Option(" > ", "--separator", help="Channel separator of path-table paths."),
    on_bad_rows: str = typer.Option("error", "--on-bad-rows", help="'error' (default) or 'skip' bad rows, counted per reason."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Write the table here (.csv, .parquet, .json)."),
    format: Optional[str] = typer.Option(None, "--format", help="Output format: csv, parquet or json (default: from the extension)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress or summary on stderr."),
) -> None:
    """Attribute conversions and revenue to channels with one or more models."""
    if output is not None:  # fail on a bad output before any work
        fmt = output_format(output, format)
        check_writable(output)
    result = run_pipeline(
        [str(e) for e in events],
        models=model or None,
        input=input,
        lookback_days=lookback_days,
        conversion_events=tuple(conversion_event or ("conversion",)),
        columns=column,
        on_bad_rows=on_bad_rows,
        separator=separator,
    )
    echo_summary(result.summary, quiet)
    if output is None:
        echo_table(result.table)
    else:
        write_table(result.table, output, fmt)
