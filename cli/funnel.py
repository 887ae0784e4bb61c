"""``attribution funnel``: users through the milestones to customers, overall, per lead source and per campaign."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from .app import app
from .render import echo_table


@app.command("funnel")
def funnel_command(
    events: list[Path] = typer.Argument(..., help="Event-log files (Parquet or CSV), folders of Parquet files or globs."),
    milestone_event: Optional[list[str]] = typer.Option(
        None, "--milestone-event", help="Funnel stage event, in funnel order (repeatable): lead, qualified, ..."),
    conversion_event: Optional[list[str]] = typer.Option(
        None, "--conversion-event", help="Event name that is a conversion (repeatable; default 'conversion')."),
    won_event: Optional[str] = typer.Option(None, "--won-event", help="Event of a won opportunity (adds win_rate)."),
    lost_event: Optional[str] = typer.Option(None, "--lost-event", help="Event of a lost opportunity (adds win_rate)."),
    period: Optional[str] = typer.Option(
        None, "--period", help="Add cohort rows: users by the day, week or month of their first row in the log."),
    column: Optional[list[str]] = typer.Option(
        None, "--column", help="Map a canonical column to yours: CANONICAL=ACTUAL (repeatable)."),
    on_bad_rows: str = typer.Option("error", "--on-bad-rows", help="'error' (default) or 'skip' bad rows."),
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write the summary here (.csv, .parquet, .json, or a SQL URL with --table)."),
    format: Optional[str] = typer.Option(None, "--format", help="Output format: csv, parquet or json."),
    table: Optional[str] = typer.Option(None, "--table", help="Table name for a SQL --output."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No summary on stderr."),  # noqa: ARG001
) -> None:
    """Funnel summary: users, each milestone's count and rate, customers, repeat customers, days to convert,
    revenue per customer and win rate, overall, per lead source (first-touch channel) and per campaign."""
    from attribution.export import check_output, write_output
    from attribution.funnel import funnel

    fmt = check_output(output, format, table) if output is not None else None
    frame = funnel([str(e) for e in events], milestone_events=tuple(milestone_event or ()),
                   conversion_events=tuple(conversion_event or ("conversion",)), won_event=won_event,
                   lost_event=lost_event, columns=column, on_bad_rows=on_bad_rows, period=period)
    if output is None:
        echo_table(frame)
    else:
        write_output(frame, output, fmt, table)
