"""One run from files to the tidy table: read → validate → journeys → models (DESIGN data flow).

The command line calls :func:`run`; notebooks can call it too, or use the steps directly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from attribution.io.csvread import CsvOptions
from attribution.io.events import Events, read_events
from attribution.exceptions import ParameterError
from attribution.journeys.journeys import DEFAULT_LOOKBACK_DAYS, Journeys
from attribution.journeys.paths import DEFAULT_SEPARATOR, read_paths
from attribution.kpis.result import fit_models
from attribution.kpis.summary import run_counts


def parse_lookback(value) -> float | None:
    """``30``, ``7.5`` or ``none`` (unlimited) → days or None."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.strip().lower() in ("none", "unlimited", "inf"):
            return None
        try:
            value = float(value)
        except ValueError:
            value = float("nan")
    try:
        days = float(value)
    except (TypeError, ValueError):
        days = float("nan")
    if not days == days or days < 0:
        raise ParameterError(f"The '--lookback-days' option must be a number of days >= 0 or 'none'. Got {value!r} instead.")
    return days


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    table : pandas.DataFrame
        The tidy result (SPEC 5).
    journeys : Journeys
    models : list of fitted models
    events : Events or None (path-table input)
    summary : dict
        Counts for the run summary (rows read, events per name, journeys, conversions, ...).
    """

    table: pd.DataFrame
    journeys: Journeys
    models: list
    events: Events | None = None
    summary: dict = field(default_factory=dict)
    # KPI layer (SPEC 4): the lead models and journeys (with a milestone), the spend table and the period
    lead_models: list | None = None
    lead_journeys: Journeys | None = None
    spend: object = None
    period: str | None = None
    # calibration to experiments: the factors per model x channel (attribution.kpis.calibrate)
    calibration: pd.DataFrame | None = None


def load_journeys(
    sources,
    *,
    input: str = "events",
    lookback_days=DEFAULT_LOOKBACK_DAYS,
    conversion_events=("conversion",),
    columns=None,
    on_bad_rows: str = "error",
    separator: str = DEFAULT_SEPARATOR,
    channel_grouping=None,
    campaigns: bool = True,
    csv=None,
    epoch_unit: str | None = None,
    valid_years=None,
    milestones=(),
    path_options=None,
    schema: str | None = None,
    identity_map=None,
    journey_key: str | None = None,
) -> tuple[Journeys, Events | None, dict]:
    """Read the input and build the journeys once.

    ``channel_grouping`` (a :class:`~attribution.io.channel_groups.ChannelGrouping`, ``"ga4"`` or a rules CSV)
    derives touch channels from source / medium / campaign while reading, before validation. With
    ``campaigns=False`` the log's campaign column is not read (nothing of the run reports campaigns). ``csv``
    (:class:`~attribution.io.csvread.CsvOptions`) says how CSV files are read.
    ``epoch_unit`` and ``valid_years`` are :func:`attribution.io.events.read_events`'s timestamp rules.
    ``milestones`` are the event names whose times the journeys carry (milestone models); ``path_options``
    (:class:`~attribution.journeys.pathoptions.PathOptions`) are applied to the journeys. With a conversion
    window, only the Parquet row groups that can hold rows from the lookback before the window to its end are read.
    ``schema`` reads a GA4, Segment or Snowplow export in its native shape (its own conversion events unless
    others are given); ``identity_map`` and ``journey_key`` group ids into persons or accounts
    (:mod:`attribution.io.identity`).
    """
    csv = CsvOptions.of(csv)
    grouping = _grouping(channel_grouping, input)
    if input == "paths":
        from attribution.journeys.pathoptions import apply_path_options

        table = read_paths(sources, columns=columns, separator=separator, csv=csv)
        j = apply_path_options(table.journeys, path_options)
        return j, None, {"paths": j.n_journeys, "conversions": j.total_conversions, "revenue": j.total_revenue}
    if input != "events":
        raise ParameterError(f"The '--input' option must be 'events' or 'paths'. Got {input!r} instead.")
    lookback = parse_lookback(lookback_days)  # option errors before any reading
    time = {"epoch_unit": epoch_unit, "valid_years": valid_years}
    time_range = None
    if path_options is not None and (path_options.conversions_from or path_options.conversions_to):
        time_range = path_options.read_range(lookback)
    conversion_events = tuple(conversion_events) or ("conversion",)
    from attribution.io.identity import Identity

    identity = Identity.of(identity_map, journey_key)
    if schema is not None:
        from attribution.io.schemas import DEFAULT_CONVERSIONS, check_schema

        schema = check_schema(schema)
        if grouping is not None:
            raise ParameterError(f"--schema {schema} derives touch channels with GA4's channel group already; "
                                 "leave out --channel-grouping.")
        if conversion_events == ("conversion",):  # not given: the schema's own
            conversion_events = DEFAULT_CONVERSIONS[schema]
        events = read_events(sources, schema=schema, conversion_events=conversion_events, identity_map=identity,
                             on_bad_rows=on_bad_rows, delimiter=csv.delimiter, decimal=csv.decimal,
                             encoding=csv.encoding, **time)
    elif grouping is not None:
        events = grouping.read(sources, columns=columns, on_bad_rows=on_bad_rows, csv=csv, identity=identity, **time)
    else:
        events = read_events(sources, columns=columns, on_bad_rows=on_bad_rows, skip=() if campaigns else ("campaign",),
                             delimiter=csv.delimiter, decimal=csv.decimal, encoding=csv.encoding,
                             time_range=time_range, identity_map=identity, **time)
    counts = events.event_counts()
    missing = [e for e in conversion_events if e not in counts]
    if missing and events.num_rows:
        warnings.warn(
            f"no rows with conversion event {', '.join(map(repr, missing))}; event names in the log: "
            f"{', '.join(map(repr, list(counts)[:10]))}. Use --conversion-event NAME.",
            UserWarning, stacklevel=2,
        )
    journeys = Journeys.from_events(events, conversion_events=conversion_events, lookback_days=lookback,
                                    milestone_events=milestones, path_options=path_options)
    known = {"touch", *conversion_events}
    summary = {"files": len(events.files), **run_counts(events, journeys, counts)}
    summary["ignored"] = sum(v for k, v in counts.items() if k not in known)
    if events.ids_merged is not None:
        summary["ids_merged"] = events.ids_merged
    return journeys, events, summary


def _grouping(channel_grouping, input: str = "events", fill_only: bool = False):
    """The run's :class:`~attribution.io.channel_groups.ChannelGrouping` (None without one), checked before reading."""
    if channel_grouping is None and not fill_only:
        return None
    from attribution.io.channel_groups import ChannelGrouping

    grouping = ChannelGrouping.of(channel_grouping, fill_only=fill_only)
    if input == "paths":
        raise ParameterError("--channel-grouping derives touch channels from the source / medium columns of an "
                             "event log; a path table has channels already (leave out --channel-grouping).")
    return grouping


def journey_milestones(milestone_events, models) -> tuple[str, ...]:
    """The milestone events the journeys must carry: the configured ones, then those the models name."""
    named = [m for model in models for m in getattr(model, "milestone_events", lambda: [])()]
    return tuple(dict.fromkeys([str(m) for m in (milestone_events or ())] + named))


def run(sources, *, models=None, spend=None, spend_columns=None, milestone_events=(), period=None,
        ci=None, n_boot=200, seed=0, engine="local", scheduler=None, memory_limit=None, spill_dir=None,
        progress=None, by=None, channel_grouping=None, fill_only=False, campaigns=True, detail_sink=None,
        delimiter=None, decimal=".", encoding=None, experiments=None, calibrate_untested="pool",
        path_transform=None, exclude_channels=None, max_touches=None, conversions_from=None, conversions_to=None,
        **options) -> RunResult:
    """Read, build journeys, fit every model, and return the tidy table.

    Parameters
    ----------
    sources : str, path or list
        Event-log files, folders or globs (or path-table files with ``input="paths"``).
    models : list of str or models, optional
        Spec strings such as ``"time_decay:half_life=3d"``; default: every heuristic model and ``markov``.
    spend : str, path or pandas.DataFrame, optional
        A spend table (SPEC 1.3) to join: adds spend, ROAS, ROI, CPA (and CPL) to every model's rows.
    spend_columns : dict or list of "canonical=actual", optional
        Column mapping of the spend table.
    milestone_events : sequence of str
        Funnel milestones; the first one is the lead, attributed with the same models (``leads``, ``cpl``).
    period : {"day", "week", "month"}, optional
        Cut credit (by conversion date), spend (by date) and journey statistics into periods.
    by : {"campaign"}, optional
        Also break the KPI rows down by the touch's campaign (spend by the spend table's campaign).
    ci : float, optional
        Confidence level of bootstrap intervals (e.g. 0.95): adds ``conversions_lo, conversions_hi, revenue_lo,
        revenue_hi`` from ``n_boot`` replicates resampling journeys, seeded by ``seed``.
    engine : {"local", "dask"}
        Where to run (:mod:`attribution.engines`); ``scheduler`` is a Dask scheduler address (else a LocalCluster).
    memory_limit : str or int, optional
        Memory budget (``8GB``): a log whose in-memory run would not fit is processed out of core, in user
        buckets under ``spill_dir`` (default: the system's temporary folder). Without it, out of core happens
        when the log's estimated size exceeds half of the available memory. Partitioned runs return no
        ``journeys`` or ``events``.
    progress : bool, optional
        Progress bars on stderr (default: when stderr is a terminal).
    channel_grouping : str, path, pandas.DataFrame or ChannelGrouping, optional
        Derive every touch's channel from its source / medium / campaign while reading: ``"ga4"`` (GA4's default
        channel group) or a rules CSV / frame (:mod:`attribution.io.channel_groups`); touches no rule matches get
        ``Unassigned``. The log then needs no ``channel`` column. Every engine applies it.
    fill_only : bool
        With ``channel_grouping``: keep a touch's non-empty channel, derive only the missing ones.
    campaigns : bool
        Keep the touches' campaigns in ``journeys`` (default). The command line turns it off when nothing it
        writes reports campaigns (no ``--by``, ``--detail`` or milestones), and then does not read the column.
    delimiter, decimal, encoding : str, optional
        How every CSV file of the run (event log, path table, spend table) is read (:mod:`attribution.io.csvread`):
        the delimiter (default: detected among ``,`` ``;`` and tab), the decimal mark of the numeric columns
        (``.`` or ``,``) and the encoding of files without a byte-order mark (default UTF-8).
    detail_sink : attribution.engines.detail_out.DetailSink, optional
        Where a partitioned run writes the ``--detail`` fact table, partition by partition (the caller commits
        it when the result has no ``journeys``; an in-memory run leaves it untouched).
    experiments : str, path or pandas.DataFrame, optional
        Lift tests (``channel, start, end, incremental_conversions[, se]``): calibrate every model's credit to
        them (:func:`attribution.kpis.calibrate.calibrate`); ``RunResult.calibration`` holds the factors.
    calibrate_untested : {"pool", "keep"}
        Channels without a test: partial pooling of the tested channels' factors, or unchanged.
    path_transform : {"unique", "exposure", "first", "frequency"}, optional
    exclude_channels : str or sequence of str, optional
    max_touches : int, optional
        Path options applied to the journeys (:mod:`attribution.journeys.pathoptions`).
    conversions_from, conversions_to : str or datetime.date, optional
        Attribute only the conversions of these UTC days (inclusive), reading the touches their lookback needs
        (a daily job; :mod:`attribution.journeys.pathoptions`).
    **options
        Passed to :func:`load_journeys`: ``input``, ``lookback_days``, ``conversion_events``, ``columns``,
        ``on_bad_rows``, ``separator``, ``epoch_unit`` (``"s"``, ``"ms"``, ``"us"`` or ``"ns"``; default: detected
        from the magnitude), ``valid_years`` (``"1990:2100"``, the default), ``schema`` (``"ga4"``,
        ``"segment"``, ``"snowplow"``: read the export in its native shape), ``identity_map`` (``id, person_id``
        file or frame) and ``journey_key`` (``"account_id"``). The last three join ids over the whole log, so
        such runs are read in memory.
    """
    from attribution.models import default_model_specs, parse_model_spec

    specs = list(models) if models else default_model_specs()
    instances = [parse_model_spec(m) if isinstance(m, str) else m for m in specs]  # validate before reading
    from attribution.journeys.pathoptions import PathOptions

    options["path_options"] = PathOptions.of(path_transform, exclude_channels, max_touches, conversions_from,
                                             conversions_to)
    options["milestones"] = journey_milestones(milestone_events, instances)
    from attribution.kpis.report import kpi_inputs, kpi_table

    csv = options["csv"] = CsvOptions.of(delimiter, decimal, encoding)
    spend_table, period = kpi_inputs(spend, spend_columns, period, milestone_events, options, by, csv)  # fail early
    from attribution.io.timeparse import TimeRule

    TimeRule.of(options.get("epoch_unit"), options.get("valid_years"))  # option errors before any reading
    grouping = _grouping(channel_grouping, options.get("input", "events"), fill_only)
    if grouping is not None:
        options["channel_grouping"] = grouping
    if ci is not None:
        from attribution.kpis.uncertainty import check_ci

        ci, n_boot, seed = check_ci(ci, n_boot, seed)
    if experiments is not None:  # the table's own rules before the (long) event read
        from attribution.kpis.calibrate import check_run_options, read_experiments

        check_run_options(options.get("input", "events"), calibrate_untested)
        experiments = read_experiments(experiments)
    from attribution.engines import partitioned_run

    stitched = [k for k in ("schema", "identity_map", "journey_key") if options.get(k) is not None]
    if stitched and (engine != "local" or memory_limit is not None):
        warnings.warn(f"--{stitched[0].replace('_', '-')} joins ids over the whole log (a person's events may lie "
                      "in any file piece): the log is read in memory, not out of core or on Dask.", UserWarning,
                      stacklevel=2)
    parted = None if stitched else partitioned_run(sources, instances, engine=engine, scheduler=scheduler, memory_limit=memory_limit,
                             spill_dir=spill_dir, show_progress=progress, spend=spend_table,
                             milestone_events=milestone_events, period=period, ci=ci, n_boot=n_boot, seed=seed, by=by,
                             detail_sink=detail_sink,
                             lookback_days=parse_lookback(options.get("lookback_days", DEFAULT_LOOKBACK_DAYS)),
                             **{k: v for k, v in options.items() if k != "lookback_days"})
    if parted is not None:  # out of core or on Dask: same models, merged partition statistics
        if experiments is not None:
            raise ParameterError("--experiments needs an in-memory run (it dates every touch's credit by its "
                                 "conversion); this log was processed out of core or on Dask. Raise --memory-limit "
                                 "or use --engine local.")
        table, fitted, lead_models, summary = parted
        return RunResult(table, None, fitted, None, summary, lead_models, None, spend_table, period)
    journeys, events, summary = load_journeys(sources, campaigns=campaigns or by is not None or bool(milestone_events),
                                              **options)
    fitted = fit_models(journeys, instances)
    table, lead_models, lead_journeys = kpi_table(fitted, journeys, events, spend=spend_table, period=period,
                                                  milestone_events=milestone_events, by=by)
    if ci is not None:
        from attribution.kpis.uncertainty import add_intervals, bootstrap_intervals

        intervals = bootstrap_intervals(fitted, journeys, level=ci, n_boot=n_boot, seed=seed, period=period)
        table = add_intervals(table, intervals, period)
    factors = None
    if experiments is not None:
        from attribution.kpis.calibrate import calibrate

        table, factors = calibrate(table, experiments, models=fitted, journeys=journeys, events=events,
                                   untested=calibrate_untested)
    return RunResult(table, journeys, fitted, events, summary, lead_models, lead_journeys, spend_table, period,
                     factors)
