"""``attribution funnel``: users through the milestones to customers, overall, per lead source and per campaign."""

from __future__ import annotations

from typing import Optional

import typer

from attribution.io.export import check_output, write_output
from attribution.io.sql import check_lock_timeout
from attribution.kpis.funnel import funnel

from attribution.cli.base import app
from attribution.cli.options import (
    Column, ConversionEvent, Decimal, Delimiter, Encoding, EpochUnit, Events, Format, IdentityMap, JourneyKey,
    LockTimeout, MilestoneEvent, OnBadRows, Quiet, Schema, Table, ValidYears, refuse_urls,
)
from attribution.cli.render import echo_table


@app.command("funnel")
def funnel_command(
    events: Events,
    milestone_event: MilestoneEvent = None,
    conversion_event: ConversionEvent = None,
    won_event: Optional[str] = typer.Option(None, "--won-event", help="Event of a won opportunity (adds win_rate)."),
    lost_event: Optional[str] = typer.Option(None, "--lost-event", help="Event of a lost opportunity (adds win_rate)."),
    period: Optional[str] = typer.Option(
        None, "--period", help="Add cohort rows: users by the day, week or month of their first row in the log."),
    column: Column = None,
    on_bad_rows: OnBadRows = "error",
    delimiter: Delimiter = None,
    decimal: Decimal = ".",
    encoding: Encoding = None,
    epoch_unit: EpochUnit = None,
    valid_years: ValidYears = None,
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write the summary here (.csv, .parquet, .json, or a SQL URL with --table)."),
    format: Format = None,
    table: Table = None,
    lock_timeout: LockTimeout = 60.0,
    quiet: Quiet = False,  # noqa: ARG001
    schema: Schema = None,
    identity_map: IdentityMap = None,
    journey_key: JourneyKey = None,
    ltv: bool = typer.Option(
        False, "--ltv", help="Write the cohort lifetime-value table instead: customers by the --period (default "
        "month) of their first conversion; revenue, cumulative revenue and cumulative revenue per customer by "
        "periods since it."),
) -> None:
    """Funnel summary: users, each milestone's count and rate, customers, repeat customers, days to convert,
    revenue per customer and win rate, overall, per lead source (first-touch channel) and per campaign."""
    refuse_urls(events, identity_map=identity_map)
    lock_timeout = check_lock_timeout(lock_timeout)
    fmt = check_output(output, format, table) if output is not None else None
    frame = funnel([str(e) for e in events], milestone_events=tuple(milestone_event or ()),
                   conversion_events=tuple(conversion_event or ("conversion",)), won_event=won_event,
                   lost_event=lost_event, columns=column, on_bad_rows=on_bad_rows, period=period,
                   delimiter=delimiter, decimal=decimal, encoding=encoding, epoch_unit=epoch_unit,
                   valid_years=valid_years, schema=schema, identity_map=identity_map, journey_key=journey_key,
                   ltv=ltv)
    if output is None:
        echo_table(frame)
    else:
        write_output(frame, output, fmt, table, lock_timeout)
