"""``attribution paths``: top converting paths, path lengths, time lags and early / middle / late credit."""

from __future__ import annotations

from typing import Optional

import typer

from attribution.exceptions import ParameterError
from attribution.io.csvread import CsvOptions
from attribution.io.export import check_output, write_output
from attribution.io.sql import check_lock_timeout
from attribution.kpis.pathreport import path_report, tidy_report
from attribution.runner import load_journeys

from attribution.cli.base import app
from attribution.cli.options import (
    Column, ConversionEvent, Decimal, Delimiter, Encoding, Events, Format, IdentityMap, JourneyKey, LockTimeout,
    LookbackDays, OnBadRows, Quiet, Schema, Table, refuse_urls,
)
from attribution.cli.render import echo_summary, echo_table

TITLES = {"top_paths": "Top converting paths", "path_length": "Path length (touches of converting journeys)",
          "time_lag": "Time lag (whole days from first touch to conversion)",
          "position": "Early / middle / late credit (first 25%, middle 50%, last 25% of each journey's touches)"}


@app.command("paths")
def paths_command(
    events: Events,
    top: int = typer.Option(20, "--top", help="How many top converting paths to show (0: all)."),
    lookback_days: LookbackDays = "30",
    conversion_event: ConversionEvent = None,
    column: Column = None,
    on_bad_rows: OnBadRows = "error",
    delimiter: Delimiter = None,
    decimal: Decimal = ".",
    encoding: Encoding = None,
    schema: Schema = None,
    identity_map: IdentityMap = None,
    journey_key: JourneyKey = None,
    output: Optional[str] = typer.Option(
        None, "--output", "-o", help="Write the four reports as one long table (report, key, metrics) here: .csv, "
        ".parquet, .json or a SQL URL with --table."),
    format: Format = None,
    table: Table = None,
    lock_timeout: LockTimeout = 60.0,
    quiet: Quiet = False,
) -> None:
    """Top converting paths (conversions, journeys, conversion rate, revenue), path-length and time-lag
    distributions, and GA4-style early / middle / late credit per channel."""
    refuse_urls(events, identity_map=identity_map)
    lock_timeout = check_lock_timeout(lock_timeout)
    if top < 0:
        raise ParameterError(f"The '--top' option must be a number >= 0 (0: all paths). Got {top} instead.")
    fmt = check_output(output, format, table) if output is not None else None
    journeys, _events, summary = load_journeys(
        [str(e) for e in events], lookback_days=lookback_days,
        conversion_events=tuple(conversion_event or ("conversion",)), columns=column, on_bad_rows=on_bad_rows,
        csv=CsvOptions.of(delimiter, decimal, encoding), schema=schema, identity_map=identity_map,
        journey_key=journey_key)
    echo_summary(summary, quiet)
    reports = path_report(journeys, top or None)
    if output is not None:
        write_output(tidy_report(reports), output, fmt, table, lock_timeout)
        return
    for name, frame in reports.items():
        print(TITLES[name])
        echo_table(frame)
        print()
