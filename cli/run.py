"""``attribution run``: read an event log (or path table), attribute with every model, write or print the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Optional

import pandas as pd
import typer

from attribution.engines.detail_out import DetailSink
from attribution.exceptions import ParameterError
from attribution.io.export import check_folder, check_output, write_output
from attribution.io.sql import check_if_exists, check_lock_timeout, write_sql_tables
from attribution.kpis.detail import DETAIL_COLUMNS, detail_frame
from attribution.options import RunOptions
from attribution.runner import RunResult, execute

from attribution.cli.base import app
from attribution.cli.options import (
    Column, ConversionEvent, Decimal, Delimiter, Encoding, EpochUnit, Events, Format, IdentityMap, InputKind,
    JourneyKey, LockTimeout, LookbackDays, MilestoneEvent, OnBadRows, Quiet, Schema, Separator, Table, ValidYears,
    refuse_urls,
)
from attribution.cli.render import echo_summary, echo_table


def _option(*names: str, help: str, kind=Optional[str]):  # noqa: A002 - typer's keyword
    """A typer option as an ``Annotated`` type (direct calls of the command get the plain defaults)."""
    return Annotated[kind, typer.Option(*names, help=help)]


Model = _option("--model", "-m", kind=Optional[list[str]], help=(
    "Model spec, repeatable: first_touch, last_touch, last_non_direct, linear, time_decay[:half_life=7d], "
    "position_based[:first=0.4,middle=0.2,last=0.4|shape=U|J|inverse_J], u_shaped[:lead=EVENT], "
    "w_shaped[:lead=EVENT,opportunity=EVENT], full_path[:lead=..,opportunity=..,closed_won=..], "
    "markov[:order=1|auto,collapse=false], shapley[:game=rate], logistic[:C=1]. Default: all heuristics and markov."))
Output = _option("--output", "-o", help=(
    "Write the table here: .csv, .parquet, .json, or a SQL URL (sqlite:///FILE.db, postgresql://USER@HOST/DB) "
    "with --table."))
# KPI layer and BI exports (SPEC 4, 5)
Spend = _option("--spend", help=(
    "Spend table (CSV or Parquet: channel, spend[, date, campaign, cost_type]): adds spend, roas, roi, cpa (and "
    "cpl) to every model's rows."))
SpendColumn = _option("--spend-column", kind=Optional[list[str]],
                      help="Map a spend-table column to yours: CANONICAL=ACTUAL (repeatable).")
Period = _option("--period", help=(
    "Cut the table by period: day, week (ISO, Monday) or month; credit by conversion date, spend by its date."))
By = _option("--by", help=(
    "Break the rows down further: campaign (credit by the touch's campaign, spend by the spend table's campaign)."))
Detail = _option("--detail", help=(
    "Also write the BI fact table (conversion x touch x model) here: a file or a SQL URL."))
DetailTable = _option("--detail-table", kind=str, help="Table name of a SQL --detail.")
# uncertainty (SPEC 3.3)
Ci = _option("--ci", kind=Optional[float], help=(
    "Add bootstrap confidence intervals at this level (e.g. 0.95): conversions_lo/hi, revenue_lo/hi."))
Bootstrap = _option("--bootstrap", kind=int, help="Bootstrap replicates for --ci.")
Seed = _option("--seed", kind=int, help="Seed of the bootstrap (same seed, same numbers).")
# engines: out of core and Dask
Engine = _option("--engine", kind=str, help=(
    "Where to run: 'local' (in memory, or out of core when the log does not fit) or 'dask' (extra 'dask')."))
Scheduler = _option("--scheduler", help=(
    "Dask scheduler address (tcp://host:8786) for --engine dask; default: a LocalCluster on this machine."))
MemoryLimit = _option("--memory-limit", help=(
    "Memory budget such as 8GB: a larger log is processed out of core, in user buckets on local disk (default: out "
    "of core when the log would not fit half of the available memory)."))
SpillDir = _option("--spill-dir", help=(
    "Folder for the out-of-core user buckets (default: the system's temporary folder)."))
# channels from source / medium (as `attribution channels`, applied while reading)
ChannelGrouping = _option("--channel-grouping", help=(
    "Derive every touch's channel from source / medium / campaign while reading: 'ga4' (GA4's default channel "
    "group) or a CSV of rules (channel, source, medium, campaign; regexes, first match wins); unmatched touches get "
    "'Unassigned'. The log then needs no channel column."))
FillOnly = _option("--fill-only", kind=bool, help=(
    "With --channel-grouping: keep touches' existing channels; derive only missing ones."))
# calibration to lift tests
Experiments = _option("--experiments", help=(
    "Lift tests (CSV or Parquet: channel, start, end, incremental_conversions[, se]): scale each model's channel "
    "credit to what the tests measured in their windows; the difference goes to (baseline). See "
    "docs/calibration.md."))
CalibrateUntested = _option("--calibrate-untested", kind=str, help=(
    "Channels without a test: 'pool' (partial pooling of the tested channels' factors) or 'keep' (unchanged)."))
# path options (as google/fractribution) and daily jobs
PathTransform = _option("--path-transform", help=(
    "unique (default), exposure (consecutive repeats collapsed), first (first touch of each channel) or frequency "
    "(distinct channels with their counts)."))
ExcludeChannel = _option("--exclude-channel", kind=Optional[list[str]], help=(
    "Remove this channel's touches from every journey (repeatable); a conversion left without touches goes to "
    "(none)."))
MaxTouches = _option("--max-touches", kind=Optional[int], help="Keep the last N touches of each journey.")
ConversionsFrom = _option("--conversions-from", help=(
    "Attribute only the conversions from this UTC day (YYYY-MM-DD), reading the touches their lookback needs (a "
    "daily job)."))
ConversionsTo = _option("--conversions-to", help="... up to this UTC day (inclusive).")
IfExists = _option("--if-exists", kind=str, help=(
    "A SQL --output table that exists: replace (default), append, or replace-periods (its rows of the periods "
    "written are replaced: re-running a day replaces that day)."))


@app.command("run")
def run_command(
    events: Events,
    model: Model = None,
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
    output: Output = None,
    format: Format = None,
    quiet: Quiet = False,
    spend: Spend = None,
    spend_column: SpendColumn = None,
    milestone_event: MilestoneEvent = None,
    period: Period = None,
    by: By = None,
    table: Table = None,
    lock_timeout: LockTimeout = 60.0,
    detail: Detail = None,
    detail_table: DetailTable = "attribution_detail",
    ci: Ci = None,
    bootstrap: Bootstrap = 200,
    seed: Seed = 0,
    engine: Engine = "local",
    scheduler: Scheduler = None,
    memory_limit: MemoryLimit = None,
    spill_dir: SpillDir = None,
    channel_grouping: ChannelGrouping = None,
    fill_only: FillOnly = False,
    experiments: Experiments = None,
    calibrate_untested: CalibrateUntested = "pool",
    path_transform: PathTransform = None,
    exclude_channel: ExcludeChannel = None,
    max_touches: MaxTouches = None,
    conversions_from: ConversionsFrom = None,
    conversions_to: ConversionsTo = None,
    if_exists: IfExists = "replace",
    schema: Schema = None,
    identity_map: IdentityMap = None,
    journey_key: JourneyKey = None,
) -> None:
    """Attribute conversions and revenue to channels with one or more models."""
    refuse_urls(events, spend=spend, channel_grouping=channel_grouping, identity_map=identity_map)
    targets = Targets.check(output, format, table, detail, detail_table, if_exists, lock_timeout, spill_dir, input)
    # a partitioned run writes the fact table partition by partition, committed by Targets.write
    sink = DetailSink(detail, targets.detail_fmt) if detail is not None else None
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
    targets.write(result, sink)


@dataclass(frozen=True)
class Targets:
    """Where ``attribution run`` writes: the table (``--output``, or stdout) and the fact table (``--detail``)."""

    output: str | None
    fmt: str | None
    table: str | None
    detail: str | None
    detail_fmt: str | None
    detail_table: str
    if_exists: str
    lock_timeout: float

    @classmethod
    def check(cls, output, format, table, detail, detail_table, if_exists, lock_timeout, spill_dir,  # noqa: A002
              input) -> "Targets":  # noqa: A002
        """Every output option checked before any work: a bad target fails before the (long) run."""
        lock_timeout = check_lock_timeout(lock_timeout)
        fmt = check_output(output, format, table) if output is not None else None
        if spill_dir is not None:
            check_folder(spill_dir, "--spill-dir")
        if if_exists != "replace":
            check_if_exists(if_exists)
            if output is None or fmt != "sql":
                raise ParameterError("--if-exists applies to a SQL --output (sqlite:///FILE.db, postgresql://...).")
            if if_exists == "replace-periods" and detail is not None:
                raise ParameterError("--if-exists replace-periods rewrites the periods of the --output table; the "
                                     "--detail fact table has no periods: write it in a separate run (or use "
                                     "--if-exists append).")
        detail_fmt = None
        if detail is not None:
            if input == "paths":
                raise ParameterError("--detail needs an event log (a path table has no users, touches or dates).")
            detail_fmt = check_output(detail, None, detail_table, "--detail-table")
            if output is not None and detail == output and (detail_fmt != "sql" or detail_table == table):
                raise ParameterError(f"--table and --detail-table are both {table!r}; give them different names."
                                     if detail_fmt == "sql" else "--output and --detail name the same file.")
        return cls(output, fmt, table, detail, detail_fmt, detail_table, if_exists, lock_timeout)

    def write(self, result: RunResult, sink: DetailSink | None) -> None:
        """The fact table (committed from ``sink`` after a partitioned run), then the table; both in one
        transaction when they go to the same database."""
        if self.detail is not None:
            if result.journeys is None:  # partitioned: written during the run, moved into place now
                sink.commit(empty=pd.DataFrame({c: pd.Series(dtype=object) for c in DETAIL_COLUMNS}))
            else:
                facts = detail_frame(result.models, result.journeys, result.events, per_model=result.model_journeys)
                if self.output is not None and self.fmt == "sql" and self.detail_fmt == "sql" \
                        and self.output == self.detail:
                    write_sql_tables([(facts, self.detail_table), (result.table, self.table)], self.output,
                                     self.lock_timeout, if_exists=self.if_exists)  # one transaction
                    return
                write_output(facts, self.detail, self.detail_fmt, self.detail_table, self.lock_timeout,
                             if_exists=self.if_exists if self.detail_fmt == "sql" else "replace")
        if self.output is None:
            echo_table(result.table)
        else:
            write_output(result.table, self.output, self.fmt, self.table, self.lock_timeout, if_exists=self.if_exists)
