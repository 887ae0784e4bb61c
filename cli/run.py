"""``attribution run``: read an event log (or path table), attribute with every model, write or print the table."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from attribution.io.export import check_output, write_output
from attribution.options import RunOptions
from attribution.runner import execute

from attribution.cli.app import app
from attribution.cli.options import Column, ConversionEvent, Decimal, Delimiter, Encoding, EpochUnit, Events, Format, \
    InputKind, LockTimeout, LookbackDays, MilestoneEvent, OnBadRows, Quiet, Separator, Table, ValidYears, refuse_urls
from attribution.cli.options import IdentityMap, JourneyKey, Schema
from attribution.cli.render import echo_summary, echo_table


@app.command("run")
def run_command(
    events: Events,
    model: Optional[list[str]] = typer.Option(
        None, "--model", "-m",
        help="Model spec, repeatable: first_touch, last_touch, last_non_direct, linear, time_decay[:half_life=7d], "
        "position_based[:first=0.4,middle=0.2,last=0.4|shape=U|J|inverse_J], u_shaped[:lead=EVENT], "
        "w_shaped[:lead=EVENT,opportunity=EVENT], full_path[:lead=..,opportunity=..,closed_won=..], markov[:order=1|auto,collapse=false], shapley[:game=rate], "
        "logistic[:C=1]. Default: all heuristics and markov."),
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
        None, "--output", "-o", help="Write the table here: .csv, .parquet, .json, or a SQL URL "
        "(sqlite:///FILE.db, postgresql://USER@HOST/DB) with --table."),
    format: Format = None,
    quiet: Quiet = False,
    # KPI layer and BI exports (SPEC 4, 5); Annotated so that direct calls get plain defaults
    spend: Annotated[Optional[str], typer.Option(
        "--spend", help="Spend table (CSV or Parquet: channel, spend[, date, campaign, cost_type]): adds spend, "
        "roas, roi, cpa (and cpl) to every model's rows.")] = None,
    spend_column: Annotated[Optional[list[str]], typer.Option(
        "--spend-column", help="Map a spend-table column to yours: CANONICAL=ACTUAL (repeatable).")] = None,
    milestone_event: MilestoneEvent = None,
    period: Annotated[Optional[str], typer.Option(
        "--period", help="Cut the table by period: day, week (ISO, Monday) or month; credit by conversion date, "
        "spend by its date.")] = None,
    by: Annotated[Optional[str], typer.Option(
        "--by", help="Break the rows down further: campaign (credit by the touch's campaign, spend by the spend "
        "table's campaign).")] = None,
    table: Table = None,
    lock_timeout: LockTimeout = 60.0,
    detail: Annotated[Optional[str], typer.Option(
        "--detail", help="Also write the BI fact table (conversion x touch x model) here: a file or a SQL URL.")] = None,
    detail_table: Annotated[str, typer.Option(
        "--detail-table", help="Table name of a SQL --detail.")] = "attribution_detail",
    # uncertainty (SPEC 3.3)
    ci: Annotated[Optional[float], typer.Option(
        "--ci", help="Add bootstrap confidence intervals at this level (e.g. 0.95): conversions_lo/hi, "
        "revenue_lo/hi.")] = None,
    bootstrap: Annotated[int, typer.Option("--bootstrap", help="Bootstrap replicates for --ci.")] = 200,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap (same seed, same numbers).")] = 0,
    # engines: out of core and Dask
    engine: Annotated[str, typer.Option(
        "--engine", help="Where to run: 'local' (in memory, or out of core when the log does not fit) or 'dask' "
        "(extra 'dask').")] = "local",
    scheduler: Annotated[Optional[str], typer.Option(
        "--scheduler", help="Dask scheduler address (tcp://host:8786) for --engine dask; default: a LocalCluster "
        "on this machine.")] = None,
    memory_limit: Annotated[Optional[str], typer.Option(
        "--memory-limit", help="Memory budget such as 8GB: a larger log is processed out of core, in user buckets "
        "on local disk (default: out of core when the log would not fit half of the available memory).")] = None,
    spill_dir: Annotated[Optional[str], typer.Option(
        "--spill-dir", help="Folder for the out-of-core user buckets (default: the system's temporary folder).")] = None,
    # channels from source / medium (as `attribution channels`, applied while reading)
    channel_grouping: Annotated[Optional[str], typer.Option(
        "--channel-grouping", help="Derive every touch's channel from source / medium / campaign while reading: "
        "'ga4' (GA4's default channel group) or a CSV of rules (channel, source, medium, campaign; regexes, first "
        "match wins); unmatched touches get 'Unassigned'. The log then needs no channel column.")] = None,
    fill_only: Annotated[bool, typer.Option(
        "--fill-only", help="With --channel-grouping: keep touches' existing channels; derive only missing ones.")] = False,
    # calibration to lift tests
    experiments: Annotated[Optional[str], typer.Option(
        "--experiments", help="Lift tests (CSV or Parquet: channel, start, end, incremental_conversions[, se]): "
        "scale each model's channel credit to what the tests measured in their windows; the difference goes to "
        "(baseline). See docs/calibration.md.")] = None,
    calibrate_untested: Annotated[str, typer.Option(
        "--calibrate-untested", help="Channels without a test: 'pool' (partial pooling of the tested channels' "
        "factors) or 'keep' (unchanged).")] = "pool",
    # path options (as google/fractribution) and daily jobs
    path_transform: Annotated[Optional[str], typer.Option(
        "--path-transform", help="unique (default), exposure (consecutive repeats collapsed), first (first touch of "
        "each channel) or frequency (distinct channels with their counts).")] = None,
    exclude_channel: Annotated[Optional[list[str]], typer.Option(
        "--exclude-channel", help="Remove this channel's touches from every journey (repeatable); a conversion "
        "left without touches goes to (none).")] = None,
    max_touches: Annotated[Optional[int], typer.Option(
        "--max-touches", help="Keep the last N touches of each journey.")] = None,
    conversions_from: Annotated[Optional[str], typer.Option(
        "--conversions-from", help="Attribute only the conversions from this UTC day (YYYY-MM-DD), reading the "
        "touches their lookback needs (a daily job).")] = None,
    conversions_to: Annotated[Optional[str], typer.Option(
        "--conversions-to", help="... up to this UTC day (inclusive).")] = None,
    if_exists: Annotated[str, typer.Option(
        "--if-exists", help="A SQL --output table that exists: replace (default), append, or replace-periods (its "
        "rows of the periods written are replaced: re-running a day replaces that day).")] = "replace",
    schema: Schema = None,
    identity_map: IdentityMap = None,
    journey_key: JourneyKey = None,
) -> None:
    """Attribute conversions and revenue to channels with one or more models."""
    from attribution.io.sql import check_lock_timeout

    refuse_urls(events, spend=spend, channel_grouping=channel_grouping, identity_map=identity_map)
    lock_timeout = check_lock_timeout(lock_timeout)
    if output is not None:  # fail on a bad output before any work
        fmt = check_output(output, format, table)
    if spill_dir is not None:
        from attribution.io.export import check_folder

        check_folder(spill_dir, "--spill-dir")
    if if_exists != "replace":
        from attribution.exceptions import ParameterError
        from attribution.io.sql import check_if_exists

        check_if_exists(if_exists)
        if output is None or fmt != "sql":
            raise ParameterError("--if-exists applies to a SQL --output (sqlite:///FILE.db, postgresql://...).")
        if if_exists == "replace-periods" and detail is not None:
            raise ParameterError("--if-exists replace-periods rewrites the periods of the --output table; the --detail "
                                 "fact table has no periods: write it in a separate run (or use --if-exists append).")
    if detail is not None:
        if input == "paths":
            from attribution.exceptions import ParameterError

            raise ParameterError("--detail needs an event log (a path table has no users, touches or dates).")
        detail_fmt = check_output(detail, None, detail_table, "--detail-table")
        if output is not None and detail == output and (detail_fmt != "sql" or detail_table == table):
            from attribution.exceptions import ParameterError

            raise ParameterError(f"--table and --detail-table are both {table!r}; give them different names."
                                 if detail_fmt == "sql" else "--output and --detail name the same file.")
    sink = None
    if detail is not None:  # a partitioned run writes the fact table partition by partition, committed below
        from attribution.engines.detail_out import DetailSink

        sink = DetailSink(detail, detail_fmt)
    options = RunOptions.of(  # the flags, spelled as RunOptions' fields
        model=model, input=input, lookback_days=lookback_days, conversion_event=conversion_event, column=column,
        on_bad_rows=on_bad_rows, epoch_unit=epoch_unit, valid_years=valid_years, separator=separator, spend=spend,
        spend_column=spend_column, milestone_event=milestone_event, period=period, by=by, ci=ci,
        bootstrap=bootstrap, seed=seed, engine=engine, scheduler=scheduler, memory_limit=memory_limit,
        spill_dir=spill_dir, progress=False if quiet else None, channel_grouping=channel_grouping,
        fill_only=fill_only, delimiter=delimiter, decimal=decimal, encoding=encoding, experiments=experiments,
        calibrate_untested=calibrate_untested, path_transform=path_transform, exclude_channel=exclude_channel,
        max_touches=max_touches, conversions_from=conversions_from, conversions_to=conversions_to, schema=schema,
        identity_map=identity_map, journey_key=journey_key)
    # campaigns: --by and milestones keep them too; otherwise the column is read only for --detail
    result = execute([str(e) for e in events], options, campaigns=detail is not None, detail_sink=sink)
    echo_summary(result.summary, quiet)
    if detail is not None:
        from attribution.kpis.detail import detail_frame

        if result.journeys is None:  # partitioned: written during the run, moved into place now
            import pandas as pd

            from attribution.kpis.detail import DETAIL_COLUMNS

            sink.commit(empty=pd.DataFrame({c: pd.Series(dtype=object) for c in DETAIL_COLUMNS}))
        else:
            facts = detail_frame(result.models, result.journeys, result.events, per_model=result.model_journeys)
            if output is not None and fmt == "sql" and detail_fmt == "sql" and output == detail:
                from attribution.io.sql import write_sql_tables

                write_sql_tables([(facts, detail_table), (result.table, table)], output, lock_timeout,
                                 if_exists=if_exists)  # one transaction
                return
            write_output(facts, detail, detail_fmt, detail_table, lock_timeout,
                         if_exists=if_exists if detail_fmt == "sql" else "replace")
    if output is None:
        echo_table(result.table)
    else:
        write_output(result.table, output, fmt, table, lock_timeout, if_exists=if_exists)
