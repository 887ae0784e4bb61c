"""One run from files to the tidy table: read → validate → journeys → models (DESIGN data flow).

The command line calls :func:`run`; notebooks can call it too, or use the steps directly.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa

from attribution.engines import partitioned_run
from attribution.exceptions import InputError, ParameterError, option
from attribution.io.channel_groups import ChannelGrouping
from attribution.io.csvread import CsvOptions
from attribution.io.columns import absent_mappings, check_column_map
from attribution.io.events import CANONICAL, REQUIRED, Events, parse_column_map, validate_tables
from attribution.io.reader import read_events
from attribution.io.export import check_output, write_output
from attribution.io.identity import Identity
from attribution.io.schemas import DEFAULT_CONVERSIONS, check_schema
from attribution.io.timeparse import TimeRule
from attribution.journeys.journeys import DEFAULT_LOOKBACK_DAYS, Journeys
from attribution.journeys.lookbacks import journeys_at_lookbacks, lookback_key
from attribution.journeys.pathoptions import PathOptions, apply_path_options
from attribution.journeys.paths import DEFAULT_SEPARATOR, PATH_COLUMNS, PathTable, read_paths
from attribution.kernels.preload import preload
from attribution.kpis.calibrate import calibrate, check_run_options, read_experiments
from attribution.kpis.compare import compare_table
from attribution.kpis.detail import detail_frame
from attribution.kpis.report import channel_report, fit_leads, kpi_inputs, lead_journeys_from
from attribution.kpis.result import fit_models, journeys_per_model, model_lookbacks, widest_lookback
from attribution.kpis.summary import finalise_counts, run_counts
from attribution.kpis.uncertainty import add_intervals, bootstrap_intervals, check_ci
from attribution.models import default_model_specs, parse_model_spec
from attribution.options import RunOptions


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
        raise ParameterError(f"The {option('lookback-days', quoted=True)} option must be a number of days >= 0 or 'none'. Got {value!r} instead.")
    return days


@dataclass
class RunResult:
    """What a run produced: the tidy table, the fitted models and, in memory, the journeys.

    Attributes
    ----------
    table : pandas.DataFrame
        The tidy result (SPEC 5): one row per model × channel (× campaign, × period) with the KPI columns.
    journeys : Journeys or None
        The journeys of the run's lookback (None after an out-of-core or Dask run); the journey columns of the
        table come from them.
    models : list of fitted models
        In the order given; ``result["markov:order=2"]`` picks one by its label.
    events : Events or None
        The validated event log (None for a path-table input or a partitioned run).
    summary : dict
        Counts for the run summary (rows read, events per name, journeys, conversions, ...).

    Examples
    --------
    >>> result = attribution.run(load_sample_events(), model=["linear", "markov:order=2"])  # doctest: +SKIP
    >>> result.compare()            # channels × models, shares of credit to real channels
    >>> result["markov:order=2"].removal_effects_
    >>> result.to_csv("roi.csv"); result.detail().head()
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
    # in memory: each model's journeys, aligned with models (a model may declare its own lookback)
    model_journeys: list | None = None

    # ------------------------------------------------------------------ access
    @property
    def labels(self) -> list[str]:
        """The ``model`` labels of the run, in order."""
        return [m.label for m in self.models]

    def journeys_of(self, model) -> Journeys | None:
        """The journeys ``model`` (one of :attr:`models`) was fitted on: those of its own lookback
        (:meth:`~attribution.models.base.AttributionModel.journey_lookback`), else the run's."""
        for m, j in zip(self.models, self.model_journeys or ()):
            if m is model:
                return j
        return self.journeys

    def __getitem__(self, label: str):
        """The fitted model whose label (the ``model`` column) is ``label``."""
        for m in self.models:
            if m.label == label:
                return m
        raise KeyError(f"no model {label!r} in this run; models: {', '.join(self.labels)}")

    def compare(self, touchless: bool = False) -> pd.DataFrame:
        """The models side by side: each channel's share under each model, its rank, and the spread between
        models (:func:`attribution.kpis.compare.compare_table`).

        A share is a channel's conversions over the model's conversions; with ``touchless=False`` (the default)
        the touchless ``(none)`` row is left out of both, so shares are of the credit given to real channels and
        sum to 1 per model (the same "share" as the plots, the demo and the scorecard).
        """
        return compare_table(self.table, touchless=touchless)

    def path_table(self) -> pd.DataFrame:
        """The distinct paths of the run's journeys (SPEC 1.2): ``path, conversions, nulls, revenue``."""
        if self.journeys is None:
            raise ValueError("path_table() needs the journeys, which a partitioned run does not keep; "
                             "run in memory (memory_limit=None on a machine where the log fits).")
        return PathTable.from_journeys(self.journeys).to_frame()

    def detail(self) -> pd.DataFrame:
        """The conversion × touch × model fact table (the command line's ``--detail``)."""
        if self.journeys is None:
            raise ValueError("detail() needs the journeys, which a partitioned run does not keep; pass "
                             "detail=PATH to run() to write the fact table partition by partition.")
        return detail_frame(self.models, self.journeys, self.events, per_model=self.model_journeys)

    # ------------------------------------------------------------------ writing
    def to_csv(self, path, *, detail: bool = False) -> None:
        """Write the table (or, with ``detail=True``, the fact table) to a CSV file, atomically."""
        self._write(path, "csv", None, detail)

    def to_parquet(self, path, *, detail: bool = False) -> None:
        """Write the table (or the fact table) to a Parquet file, atomically."""
        self._write(path, "parquet", None, detail)

    def to_sql(self, url: str, table: str = "attribution", *, detail: bool = False) -> None:
        """Replace ``table`` in the database at ``url`` (``sqlite:///x.db``, ``postgresql://...``) in one
        transaction."""
        self._write(url, None, table, detail)

    def _write(self, target, fmt, table, detail) -> None:
        fmt = check_output(str(target), fmt, table)
        write_output(self.detail() if detail else self.table, str(target), fmt, table)

    def __repr__(self) -> str:
        s = self.summary or {}
        where = "in memory" if self.journeys is not None else s.get("engine", "partitioned")
        counts = ", ".join(f"{k}={s[k]:,.0f}" for k in ("journeys", "conversions") if isinstance(s.get(k), (int, float)))
        return (f"RunResult({len(self.models)} models: {', '.join(self.labels)}; {counts}; {where}; "
                f"table {self.table.shape[0]} rows × {self.table.shape[1]} columns)")

    def _repr_html_(self) -> str:
        return f"<p><code>{_html_escape(repr(self))}</code></p>" + self.table.head(20).to_html(index=False)


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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
    models=(),
) -> tuple[Journeys, Events | None, dict]:
    """Read the input and build the journeys once; returns (journeys, events or None, run summary).

    ``channel_grouping`` (a :class:`~attribution.io.channel_groups.ChannelGrouping`, ``"ga4"`` or a rules CSV)
    derives touch channels from source / medium / campaign while reading, before validation. With
    ``campaigns=False`` the log's campaign column is not read (nothing of the run reports campaigns). ``csv``
    (:class:`~attribution.io.csvread.CsvOptions`) says how CSV files are read.
    ``epoch_unit`` and ``valid_years`` are :func:`attribution.io.reader.read_events`'s timestamp rules.
    ``milestones`` are the event names whose times the journeys carry (milestone models); ``path_options``
    (:class:`~attribution.journeys.pathoptions.PathOptions`) are applied to the journeys. With a conversion
    window, only the Parquet row groups that can hold rows from the lookback before the window to its end are read.
    ``schema`` reads a GA4, Segment or Snowplow export in its native shape (its own conversion events unless
    others are given); ``identity_map`` and ``journey_key`` group ids into persons or accounts
    (:mod:`attribution.io.identity`). ``models``: the run's models, so that a conversion window's read covers
    the longest lookback any of them needs (:func:`attribution.kpis.result.widest_lookback`). The summary and its
    warnings are a run's (:func:`attribution.kpis.summary.finalise_counts`).
    """
    options = RunOptions.of(input=input, conversion_event=conversion_events, column=columns or None,
                            on_bad_rows=on_bad_rows, separator=separator, epoch_unit=epoch_unit,
                            valid_years=valid_years, schema=schema, identity_map=identity_map, journey_key=journey_key)
    p = Prepared(options, csv=CsvOptions.of(csv), grouping=_grouping(channel_grouping, input),
                 lookback=parse_lookback(lookback_days) if input == "events" else DEFAULT_LOOKBACK_DAYS,
                 path_options=path_options, milestones=tuple(milestones or ()), models=list(models))
    journeys, events, counts = read_journeys(sources, p, campaigns=campaigns)
    if events is None:
        return journeys, None, counts
    return journeys, events, finalise_counts(counts, files=len(events.files),
                                             conversion_events=journeys.meta["conversion_events"])


def read_journeys(sources, p: Prepared, *, campaigns: bool = True) -> tuple[Journeys, Events | None, dict]:
    """The journeys of the input as the prepared options ``p`` say, the validated events (None for a path
    table) and the additive counts of the run summary (:func:`attribution.kpis.summary.run_counts`; a path
    table's own summary). Validation's warnings only: the run's are :func:`~attribution.kpis.summary.finalise_counts`'.
    """
    o = p.options
    if o.input == "paths":
        return _read_paths(sources, p)
    if o.input != "events":
        raise ParameterError(f"The {option('input', quoted=True)} option must be 'events' or 'paths'. "
                             f"Got {o.input!r} instead.")
    conversion_events = tuple(o.conversion_event) or ("conversion",)
    if o.schema is not None and conversion_events == ("conversion",):  # not given: the schema's own
        conversion_events = DEFAULT_CONVERSIONS[check_schema(o.schema)]
    events = _read_events(sources, p, conversion_events, campaigns)
    counts = events.event_counts()
    journeys = _run_journeys(events, conversion_events, p.lookback, p.milestones, p.path_options, p.models)
    return journeys, events, _counts(events, journeys, counts)


def _counts(events: Events, journeys: Journeys, event_counts: dict, lead_journeys=None) -> dict:
    """:func:`~attribution.kpis.summary.run_counts` of the one in-memory log, and the ids stitching merged."""
    counts = run_counts(events, journeys, event_counts, lead_journeys=lead_journeys)
    if events.ids_merged is not None:
        counts["ids_merged"] = events.ids_merged
    return counts


def _read_paths(sources, p: Prepared) -> tuple[Journeys, None, dict]:
    """A path table's journeys (path options applied) and its summary."""
    o = p.options
    columns = o.column or None
    if _is_frame(sources):
        table = PathTable.from_frame(_renamed(sources, columns), separator=o.separator)
    else:
        table = read_paths(sources, columns=columns, separator=o.separator, csv=p.csv)
    j = apply_path_options(table.journeys, p.path_options)
    return j, None, {"paths": j.n_journeys, "conversions": j.total_conversions, "revenue": j.total_revenue}


def _read_events(sources, p: Prepared, conversion_events: tuple, campaigns: bool) -> Events:
    """The validated event log: an analytics export in its native shape, a frame in memory, a log whose channels
    are derived while reading, or files (only the row groups a conversion window needs)."""
    o, csv, grouping = p.options, p.csv, p.grouping
    columns = o.column or None
    time = {"epoch_unit": o.epoch_unit, "valid_years": o.valid_years}
    identity = Identity.of(o.identity_map, o.journey_key)
    text = {"delimiter": csv.delimiter, "decimal": csv.decimal, "encoding": csv.encoding}
    if o.schema is not None:
        schema = check_schema(o.schema)
        if grouping is not None:
            raise ParameterError(f"{option('schema', schema)} derives touch channels with GA4's channel group "
                                 f"already; leave out {option('channel-grouping')}.")
        return read_events(sources, schema=schema, conversion_events=conversion_events, identity_map=identity,
                           on_bad_rows=o.on_bad_rows, **text, **time)
    if _is_frame(sources):
        return _frame_events(sources, columns, o.on_bad_rows, grouping, time)
    if grouping is not None:
        return grouping.read(sources, columns=columns, on_bad_rows=o.on_bad_rows, csv=csv, identity=identity, **time)
    time_range = None
    if p.path_options is not None and (p.path_options.conversions_from or p.path_options.conversions_to):
        time_range = p.path_options.read_range(widest_lookback(p.models, p.lookback))
    return read_events(sources, columns=columns, on_bad_rows=o.on_bad_rows, skip=() if campaigns else ("campaign",),
                       time_range=time_range, identity_map=identity, **text, **time)


def _run_journeys(events, conversion_events, lookback, milestones, path_options, models) -> Journeys:
    """The run's journeys; when a model needs another lookback, its journeys too, from one sort of the log
    (in ``meta["by_lookback"]``, where :func:`attribution.kpis.result.journeys_per_model` finds them)."""
    models = [m for m in models if not isinstance(m, str)]
    built = journeys_at_lookbacks(events, [lookback, *model_lookbacks(models, lookback)],
                                  conversion_events=conversion_events, milestone_events=milestones,
                                  path_options=path_options)
    journeys = built[lookback_key(lookback)]
    if len(built) > 1:
        journeys.meta["by_lookback"] = built
    return journeys


def _frame_events(frame, columns, on_bad_rows, grouping, time) -> Events:
    """Validate an event log given in memory (pandas or Arrow) as a file's rows are validated."""
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    mapping = parse_column_map(columns)
    check_column_map(mapping, CANONICAL)
    problems = absent_mappings(mapping, [("<frame>", table.column_names)], skip=REQUIRED)
    if problems:
        raise InputError(problems)
    pieces = [("<frame>", table)]
    if grouping is not None:
        pieces = grouping.apply(pieces, mapping)
    return validate_tables(pieces, mapping=mapping, on_bad_rows=on_bad_rows, time_rule=TimeRule.of(**time))


def _renamed(frame, columns):
    """A path table given in memory with its columns mapped to the canonical names."""
    mapping = parse_column_map(columns)
    if not mapping:
        return frame
    check_column_map(mapping, PATH_COLUMNS)
    names = list(frame.columns) if isinstance(frame, pd.DataFrame) else frame.column_names
    problems = absent_mappings(mapping, [("<frame>", names)], skip=("path", "conversions"))
    if problems:
        raise InputError(problems)
    inverse = {actual: canon for canon, actual in mapping.items()}
    if isinstance(frame, pd.DataFrame):
        return frame.rename(columns=inverse)
    return frame.rename_columns([inverse.get(c, c) for c in frame.column_names])


def _grouping(channel_grouping, input: str = "events", fill_only: bool = False):
    """The run's :class:`~attribution.io.channel_groups.ChannelGrouping` (None without one), checked before reading."""
    if channel_grouping is None and not fill_only:
        return None
    grouping = ChannelGrouping.of(channel_grouping, fill_only=fill_only)
    if input == "paths":
        raise ParameterError(f"{option('channel-grouping')} derives touch channels from the source / medium columns of an "
                             f"event log; a path table has channels already (leave out {option('channel-grouping')}).")
    return grouping


def journey_milestones(milestone_events, models) -> tuple[str, ...]:
    """The milestone events the journeys must carry: the configured ones, then those the models name."""
    named = [m for model in models for m in getattr(model, "milestone_events", lambda: [])()]
    return tuple(dict.fromkeys([str(m) for m in (milestone_events or ())] + named))


def run(events, *, model=None, input="events", lookback_days=30.0, conversion_event=None, milestone_event=None,
        column=None, separator=" > ", on_bad_rows="error", delimiter=None, decimal=".", encoding=None,
        epoch_unit=None, valid_years=None, channel_grouping=None, fill_only=False, spend=None, spend_column=None,
        period=None, by=None, ci=None, bootstrap=200, seed=0, engine="local", scheduler=None, memory_limit=None,
        spill_dir=None, progress=None, experiments=None, calibrate_untested="pool", path_transform=None,
        exclude_channel=None, max_touches=None, conversions_from=None, conversions_to=None, schema=None,
        identity_map=None, journey_key=None, campaigns=True, detail_sink=None, **aliases) -> RunResult:
    """Read, build journeys, fit every model, and return the tidy table (the command line's ``attribution run``).

    Every keyword is spelled as its command-line flag (``--conversion-event`` → ``conversion_event``) and collected
    into one :class:`~attribution.options.RunOptions`; the plural spellings ``models``, ``conversion_events``,
    ``milestone_events``, ``columns``, ``spend_columns``, ``exclude_channels`` and ``n_boot`` (for ``bootstrap``)
    are accepted too. A single string where a list is expected is one item; an unknown keyword is an error.

    Parameters
    ----------
    events : str, path, list of them, pandas.DataFrame or pyarrow.Table
        Event-log files, folders or globs, or the log itself in memory (or path tables with ``input="paths"``).
    model : str, model or list of them, optional
        Spec strings such as ``"time_decay:half_life=3d"`` or model instances; default: every heuristic model and
        ``markov``.
    input : {"events", "paths"}
        An event log or a path table (``path, conversions[, nulls][, revenue]``).
    lookback_days : float or "none"
        Days of touches before a conversion that belong to its journey (default 30).
    conversion_event, milestone_event : str or list of str
        Event names that close journeys (default ``conversion``); funnel milestones (the first is the lead).
    column : list of "CANONICAL=ACTUAL" or dict
        Map the log's columns to the canonical ones (``{"user_id": "visitor"}``).
    separator : str
        What joins channels in a path table (default ``" > "``).
    on_bad_rows : {"error", "skip"}
        Stop on rows that break a rule, or drop them and report the counts.
    spend : str, path or pandas.DataFrame, optional
        A spend table (SPEC 1.3) to join: adds spend, ROAS, ROI, CPA (and CPL) to every model's rows.
    spend_column : dict or list of "canonical=actual", optional
        Column mapping of the spend table.
    period : {"day", "week", "month"}, optional
        Cut credit (by conversion date), spend (by date) and journey statistics into periods.
    by : {"campaign"}, optional
        Also break the KPI rows down by the touch's campaign (spend by the spend table's campaign).
    ci : float, optional
        Confidence level of bootstrap intervals (e.g. 0.95): adds ``conversions_lo, conversions_hi, revenue_lo,
        revenue_hi`` from ``bootstrap`` replicates resampling journeys, seeded by ``seed``.
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
    exclude_channel : str or sequence of str, optional
    max_touches : int, optional
        Path options applied to the journeys (:mod:`attribution.journeys.pathoptions`).
    conversions_from, conversions_to : str or datetime.date, optional
        Attribute only the conversions of these UTC days (inclusive), reading the touches their lookback needs
        (a daily job; :mod:`attribution.journeys.pathoptions`).
    epoch_unit : {"s", "ms", "us", "ns"}, optional
        Unit of numeric timestamps (default: detected from their magnitude); ``valid_years`` the plausible years
        (default ``"1990:2100"``).
    schema : {"ga4", "segment", "snowplow"}, optional
        Read an analytics export in its native shape (:mod:`attribution.io.schemas`).
    identity_map : str, path or pandas.DataFrame, optional
        ``id, person_id``: ids joined into one person before journeys (:mod:`attribution.io.identity`).
    journey_key : str, optional
        A column (``account_id``) whose value makes one journey of all its users' events. Runs with
        ``schema``, ``identity_map`` or ``journey_key`` join ids over the whole log and are read in memory.

    Returns
    -------
    RunResult
    """
    named = {k: v for k, v in locals().items() if k in RunOptions.names()}
    defaults = {f: getattr(RunOptions, f, None) for f in named}
    given = {k: v for k, v in named.items() if not (v is None or _is_default(v, defaults[k]))}
    return execute(events, RunOptions.of(**given, **aliases), campaigns=campaigns, detail_sink=detail_sink)


def _is_default(value, default) -> bool:
    try:
        return type(value) is type(default) and bool(value == default)
    except Exception:  # noqa: BLE001 - arrays, frames: never a default
        return False


def execute(events, options: RunOptions, *, campaigns: bool = True, detail_sink=None) -> RunResult:
    """The one orchestrator: validate every option, then run in memory or partitioned, and assemble the result.

    ``campaigns=False`` skips reading the log's campaign column when nothing of the run reports campaigns;
    ``detail_sink`` receives a partitioned run's ``--detail`` fact table (the caller commits it). Both paths end
    their counting in :func:`attribution.kpis.summary.finalise_counts` and their table in
    :func:`attribution.kpis.report.report_frame`.
    """
    p = prepare(options)
    preload(name for m in p.models for name in getattr(m, "imports", ()))  # while the input is read
    parted = _partitioned(events, p, detail_sink)
    if parted is not None:  # out of core or on Dask: same models, merged partition statistics
        table, fitted, lead_models, summary = parted
        return RunResult(table, None, fitted, None, summary, lead_models, None, p.spend, p.period)
    o = p.options
    campaigns = campaigns or o.by is not None or bool(o.milestone_event)
    return _in_memory(*read_journeys(events, p, campaigns=campaigns), p)


def _partitioned(events, p: Prepared, detail_sink):
    """The partitioned run's (table, fitted, lead models, summary), or None when the run stays in memory."""
    o = p.options
    if _is_frame(events):
        if o.engine == "dask":
            raise ParameterError("The dask engine reads files; write the frame to Parquet and pass the file, or "
                                 "run it with engine='local'.")
        return None
    stitched = [k for k in ("schema", "identity_map", "journey_key") if getattr(o, k) is not None]
    if stitched:
        if o.engine != "local" or o.memory_limit is not None:
            warnings.warn(f"--{stitched[0].replace('_', '-')} joins ids over the whole log (a person's events may "
                          "lie in any file piece): the log is read in memory, not out of core or on Dask.",
                          UserWarning, stacklevel=3)
        return None
    parted = partitioned_run(events, p, detail_sink=detail_sink)
    if parted is not None and p.experiments is not None:
        raise ParameterError(f"{option('experiments')} needs an in-memory run (it dates every touch's credit by "
                             f"its conversion); this log was processed out of core or on Dask. Raise "
                             f"{option('memory-limit')} or use {option('engine', 'local')}.")
    return parted


def _in_memory(journeys, events, counts, p: Prepared) -> RunResult:
    """Warnings and summary, fit, KPI table, intervals and calibration of an in-memory run."""
    o = p.options
    if events is None:  # a path table: its own summary, no event names to check
        summary, lead_event, lead_journeys = counts, None, None
    else:
        lead_event = o.milestone_event[0] if o.milestone_event else None
        lead_journeys = lead_journeys_from(events, journeys, lead_event) if lead_event is not None else None
        if lead_journeys is not None:
            counts = _counts(events, journeys, counts["events"], lead_journeys)
        summary = finalise_counts(counts, files=len(events.files), lead_event=lead_event, spend=p.spend,
                                  conversion_events=journeys.meta["conversion_events"])
    per_model = journeys_per_model(journeys, p.models, events)  # each model's lookback, built once each
    fitted = fit_models(journeys, p.models, per_model=per_model)
    lead_models = lead_per_model = None
    if lead_journeys is not None:
        lead_per_model = journeys_per_model(lead_journeys, fitted, events)
        lead_models = fit_leads(fitted, lead_per_model, lead_event)
    table = channel_report(fitted, journeys, spend=p.spend, period=p.period, lead_models=lead_models,
                           lead_journeys=lead_journeys, by=o.by, per_model=per_model, lead_per_model=lead_per_model)
    if p.ci is not None:
        intervals = bootstrap_intervals(fitted, journeys, level=p.ci, n_boot=p.bootstrap, seed=p.seed,
                                        period=p.period, per_model=per_model)
        table = add_intervals(table, intervals, p.period)
    factors = None
    if p.experiments is not None:
        table, factors = calibrate(table, p.experiments, models=fitted, journeys=journeys, events=events,
                                   untested=o.calibrate_untested, per_model=per_model)
    return RunResult(table, journeys, fitted, events, summary, lead_models, lead_journeys, p.spend, p.period,
                     factors, per_model)


@dataclass
class Prepared:
    """What :func:`prepare` derived from the options, every check passed (before any reading).

    The partitioned engines take it whole (:func:`attribution.engines.partitioned_run`): ``options`` are the
    run's :class:`~attribution.options.RunOptions`, the other fields what was derived from them, once.
    """

    options: RunOptions
    models: list = field(default_factory=list)
    spend: object = None
    period: str | None = None
    csv: CsvOptions = field(default_factory=CsvOptions)
    lookback: float | None = DEFAULT_LOOKBACK_DAYS
    grouping: object = None
    ci: float | None = None
    bootstrap: int = 200
    seed: int = 0
    experiments: object = None
    path_options: object = None
    milestones: tuple = ()


def prepare(o: RunOptions) -> Prepared:
    """Check every option and build what the run needs from them, so that a bad option fails before any work."""
    specs = list(o.model) if o.model else default_model_specs()
    models = [parse_model_spec(m) if isinstance(m, str) else m for m in specs]
    path_options = PathOptions.of(o.path_transform, list(o.exclude_channel) or None, o.max_touches,
                                  o.conversions_from, o.conversions_to)
    csv = CsvOptions.of(o.delimiter, o.decimal, o.encoding)
    kpi_options = {"input": o.input}
    spend, period = kpi_inputs(o.spend, o.spend_column or None, o.period, o.milestone_event, kpi_options, o.by, csv)
    TimeRule.of(o.epoch_unit, o.valid_years)
    grouping = _grouping(o.channel_grouping, o.input, o.fill_only)
    if o.input not in ("events", "paths"):
        raise ParameterError(f"The {option('input', quoted=True)} option must be 'events' or 'paths'. Got {o.input!r} instead.")
    lookback = parse_lookback(o.lookback_days)
    ci, bootstrap, seed = o.ci, o.bootstrap, o.seed
    if ci is not None:
        ci, bootstrap, seed = check_ci(ci, bootstrap, seed)
    experiments = None
    if o.experiments is not None:  # the table's own rules before the (long) event read
        check_run_options(o.input, o.calibrate_untested)
        experiments = read_experiments(o.experiments)
    return Prepared(o, models, spend, period, csv, lookback, grouping, ci, bootstrap, seed, experiments, path_options,
                    journey_milestones(o.milestone_event, models))


def _is_frame(events) -> bool:
    """An event log (or path table) given in memory: a pandas DataFrame or a pyarrow Table."""
    return isinstance(events, (pd.DataFrame, pa.Table))
