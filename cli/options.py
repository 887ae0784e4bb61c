"""Options shared by several commands, declared once (typer ``Annotated`` aliases; defaults stay in signatures)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from attribution.io.sql import refuse_url

Events = Annotated[list[Path], typer.Argument(
    help="Event-log files (Parquet or CSV), folders of Parquet files or globs (or path tables with --input paths).")]
LookbackDays = Annotated[str, typer.Option("--lookback-days", help="Lookback window in days, or 'none'.")]
ConversionEvent = Annotated[Optional[list[str]], typer.Option(
    "--conversion-event", help="Event name that is a conversion (repeatable; default 'conversion').")]
MilestoneEvent = Annotated[Optional[list[str]], typer.Option(
    "--milestone-event", help="Funnel milestone event, in funnel order (repeatable): lead, qualified, ...; "
    "in 'run' the first is the lead, attributed with the same models (adds leads, and cpl with --spend).")]
Column = Annotated[Optional[list[str]], typer.Option(
    "--column", help="Map a canonical column to yours: CANONICAL=ACTUAL (repeatable).")]
InputKind = Annotated[str, typer.Option(
    "--input", help="What the files hold: 'events' or 'paths' (a path table).")]
Separator = Annotated[str, typer.Option("--separator", help="Channel separator of path-table paths.")]
OnBadRows = Annotated[str, typer.Option(
    "--on-bad-rows", help="'error' (default) or 'skip' bad rows, counted per reason.")]
EpochUnit = Annotated[Optional[str], typer.Option(
    "--epoch-unit", help="Unit of numeric timestamps: s, ms, us or ns (default: detected from each value's "
    "magnitude: below 1e11 s, below 1e14 ms, below 1e17 us, else ns; a column that mixes units is refused).")]
ValidYears = Annotated[Optional[str], typer.Option(
    "--valid-years", help="Plausible years of the timestamps, FIRST:LAST inclusive (default 1990:2100); rows "
    "outside are bad rows (timestamp_out_of_range).")]
Format = Annotated[Optional[str], typer.Option(
    "--format", help="Output format: csv, parquet or json (default: from the extension).")]
Table = Annotated[Optional[str], typer.Option(
    "--table", help="Table name for a SQL --output (sqlite:///FILE.db, postgresql://...), replaced in one "
    "transaction.")]
LockTimeout = Annotated[float, typer.Option(
    "--lock-timeout", help="Seconds a SQL output waits for a table another session holds locked, then gives up "
    "with nothing changed (exit 2).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")]
Delimiter = Annotated[Optional[str], typer.Option(
    "--delimiter", help="Delimiter of CSV inputs: ',', ';', 'tab', '|' (default: detected among ',', ';' and tab "
    "from the header and the first lines).")]
Decimal = Annotated[str, typer.Option(
    "--decimal", help="Decimal mark of numbers in CSV inputs (revenue, spend, conversions): '.' or ','.")]
Encoding = Annotated[Optional[str], typer.Option(
    "--encoding", help="Text encoding of CSV inputs without a byte-order mark: utf-8 (default), latin-1, cp1252, "
    "... (UTF-16 and UTF-8 with a byte-order mark are detected).")]


def refuse_urls(events=(), **files) -> None:
    """Input files given as URLs (``postgresql://...``): exit 2 naming the option, credentials masked.

    ``files`` maps an option (``spend="--spend"`` style: keyword = option name without dashes) to its value.
    """
    for value in events or ():
        refuse_url(value, "EVENTS")
    for option, value in files.items():
        refuse_url(value, "--" + option.replace("_", "-"))
Schema = Annotated[Optional[str], typer.Option(
    "--schema", help="Read an analytics export in its native shape: ga4 (BigQuery export, Parquet or NDJSON), "
    "segment (JSON lines or Parquet) or snowplow (atomic events, CSV, Parquet or NDJSON). Touches, conversions "
    "(default purchase / 'Order Completed' / transaction), ids and GA4 channels are derived.")]
IdentityMap = Annotated[Optional[str], typer.Option(
    "--identity-map", help="CSV or Parquet of id, person_id: every event of a mapped id belongs to the person "
    "(retroactively).")]
JourneyKey = Annotated[Optional[str], typer.Option(
    "--journey-key", help="Column that replaces user_id for grouping, e.g. account_id: one journey per account "
    "(rows without it keep their user).")]
