"""``attribution channels``: derive touch channels from source / medium / campaign by ordered rules."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pyarrow as pa
import pyarrow.parquet as pq
import typer

from attribution.exceptions import ParameterError
from attribution.io.channel_groups import group_table, load_rules
from attribution.io.csvread import CsvOptions
from attribution.io.events import CANONICAL, check_column_map, parse_column_map
from attribution.io.export import check_output, encode, write_atomic
from attribution.io.schemas import canonical_log
from attribution.io.sources import read_columns, read_schema_names, resolve_sources

from attribution.cli.base import app
from attribution.cli.options import ConversionEvent, Decimal, Delimiter, Encoding, Schema, refuse_urls
from attribution.cli.render import format_frame


@app.command("channels")
def channels_command(
    events: list[Path] = typer.Argument(..., help="Event-log files (Parquet or CSV), folders or globs."),
    output: str = typer.Option(..., "--output", "-o", help="Write the grouped log here (.parquet or .csv)."),
    rules: str = typer.Option("ga4", "--rules", help="'ga4' (GA4's default channel group) or a CSV of rules: "
                              "channel, source, medium, campaign (regexes on lower-cased values; empty = any; "
                              "first match wins)."),
    column: Optional[list[str]] = typer.Option(None, "--column", help="Map a canonical column: CANONICAL=ACTUAL."),
    fill_only: bool = typer.Option(False, "--fill-only", help="Keep touches' existing channels; fill only missing ones."),
    default: str = typer.Option("Unassigned", "--default", help="Channel of touches no rule matches."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Do not print the source/medium → channel summary."),
    delimiter: Delimiter = None,
    decimal: Decimal = ".",
    encoding: Encoding = None,
    schema: Schema = None,
    conversion_event: ConversionEvent = None,
) -> None:
    """Derive the channel of every touch from its source / medium / campaign, as GA4's channel groups do.

    With --schema, the export is first mapped to the canonical columns (touches, conversions, stitched ids) and
    the grouped canonical log is written."""
    refuse_urls(events, rules=rules)
    fmt = check_output(output, None, None)
    if fmt not in ("parquet", "csv"):
        raise ParameterError(f"The grouped log must be written as .parquet or .csv. Got {output!r} instead.")
    mapping = parse_column_map(column)
    check_column_map(mapping, CANONICAL)
    csv = CsvOptions.of(delimiter, decimal, encoding)
    rule_set = load_rules(rules)
    if schema is not None:
        table, files = canonical_log([str(e) for e in events], schema, conversion_event, csv)
        mapping = {}
    else:
        files = resolve_sources([str(e) for e in events])
        revenue = [mapping.get("revenue", "revenue")]
        parts = [read_columns(f, read_schema_names(f, csv), csv=csv, numeric=revenue).drop_columns(["_row"])
                 for f in files]
        table = pa.concat_tables(parts, promote_options="permissive") if len(parts) > 1 else parts[0]
    grouped, summary = group_table(table, rule_set, columns=mapping, fill_only=fill_only, default=default,
                                   file=files[0] if len(files) == 1 else f"{len(files)} files")
    if fmt == "parquet":
        sink = pa.BufferOutputStream()
        pq.write_table(grouped, sink, compression="zstd")
        write_atomic(sink.getvalue().to_pybytes(), output)
    else:
        write_atomic(encode(grouped.to_pandas(), "csv"), output)
    if not quiet:
        print(format_frame(summary.head(30)))
        if len(summary) > 30:
            print(f"... {len(summary) - 30} more (source, medium) pairs")
