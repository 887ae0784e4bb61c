"""The per-partition step and the finalise step that every partitioned engine shares.

A partition is the rows of a set of users (a user bucket), given as one table per input file so that
validation names the original file and row. :func:`process_partition` validates it with the in-memory code
(:func:`attribution.io.events.validate_tables`), builds :class:`~attribution.journeys.journeys.Journeys` with the same
code, and returns each model's additive ``partial_stats`` (plus the lead models' and the journey KPI
statistics). :func:`finalise` merges them with :func:`attribution.models.base.merge_stats`, calls
``fit_stats`` and assembles the KPI table with :func:`attribution.kpis.report.report_frame`, exactly as a run in
memory does, so the engines agree with it up to floating-point summation order. With ``--period`` / ``--by``
each partition also returns every (journey-local) model's credit per channel [, campaign] [, period]
(:func:`keyed_credit`), merged by summing (:func:`merge_credits`).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from attribution.exceptions import DroppedRowsWarning, InputError, Problem
from attribution.io.events import add_units, mixed_unit_problems, validate_tables, warn_dropped
from attribution.journeys.journeys import Journeys
from attribution.journeys.pathoptions import apply_path_options
from attribution.kpis.report import (
    extras_in, fresh_model, journey_stats, merge_journey_stats, report_frame, touch_credit,
)
from attribution.kpis.result import journeys_per_model, model_spec
from attribution.kpis.summary import finalise_counts, merge_counts, run_counts
from attribution.kpis.uncertainty import add_intervals, merge_replicates, partition_replicates
from attribution.models import parse_model_spec
from attribution.models.base import local_weights, merge_stats
from attribution.models.set_rows import weight_rows


@dataclass
class RunSpec:
    """Everything a worker needs to process a partition (small and picklable)."""

    model_specs: list  # spec strings, or model instances (copied with fresh_model)
    mapping: dict
    on_bad_rows: str = "error"
    conversion_events: tuple = ("conversion",)
    lookback_days: float | None = 30.0
    lead_event: str | None = None
    grouping: object = None  # a ChannelGrouping applied to every piece before validation (--channel-grouping)
    period: str | None = None  # --period: credit and journey statistics per period (journey-local models only)
    by: str | None = None  # --by campaign
    ci: float | None = None  # --ci: bootstrap replicates per partition (uncertainty.partition_replicates)
    n_boot: int = 200
    seed: int = 0
    detail: bool = False  # --detail: the fact table is built in a second pass (engines/detail_out.py)
    time_rule: object = None  # --epoch-unit / --valid-years (attribution.io.timeparse.TimeRule)
    milestones: tuple = ()  # milestone events whose times the journeys carry (milestone models)
    path_options: object = None  # attribution.journeys.pathoptions.PathOptions applied to every partition's journeys

    def journeys(self, events, conversion_events=None):
        """The partition's journeys, built as a run in memory builds them."""
        return apply_path_options(
            Journeys.from_events(events, conversion_events=conversion_events or self.conversion_events,
                                 lookback_days=self.lookback_days, milestone_events=self.milestones),
            self.path_options)

    def per_model(self, journeys, events) -> list:
        """Each model's journeys of the partition, aligned with :meth:`models`: ``journeys`` (the run's
        lookback) unless a model declares another (:func:`attribution.kpis.result.journeys_per_model`)."""
        return journeys_per_model(journeys, self.models(), events)

    def models(self) -> list:
        return [parse_model_spec(m) if isinstance(m, str) else fresh_model(m) for m in self.model_specs]


@dataclass
class PartitionResult:
    """Additive results of one partition."""

    stats: list = field(default_factory=list)  # per model: partial_stats frame
    lead_stats: list | None = None  # per model, when a lead milestone is configured
    journey_stats: pd.DataFrame | None = None
    credits: list | None = None  # per model with --period / --by: additive credit per channel[, campaign][, period]
    lead_credits: list | None = None
    weight_rows: pd.DataFrame | None = None  # counts per (channel set, p, v) for the second pass (second_pass.py)
    lead_weight_rows: pd.DataFrame | None = None
    replicates: list | None = None  # --ci: per model, additive bootstrap replicates
    conversion_users: pd.DataFrame | None = None  # --detail: converting journeys per user id (user_id, n)
    counts: dict = field(default_factory=dict)  # rows, events per name, dropped per reason, journeys, ...
    problems: list = field(default_factory=list)  # InputError problems (validation failed)
    time_units: dict = field(default_factory=dict)  # file → {epoch unit: (rows, first row)} (Events.time_units)


def process_partition(pieces, spec: RunSpec) -> PartitionResult:
    """Validate one partition, build its journeys and every model's partition statistics.

    Parameters
    ----------
    pieces : list of (file path, pyarrow.Table)
        The partition's rows from each input file, with their ``_row`` column (row number within the file).
    spec : RunSpec
    """
    pieces = [(p, t) for p, t in pieces if t is not None]
    result = PartitionResult()
    if not pieces:
        return result
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DroppedRowsWarning)  # reported once, with the totals, by finalise
            if spec.grouping is not None:
                pieces = spec.grouping.apply(pieces, spec.mapping)
            events = validate_tables(pieces, mapping=spec.mapping, on_bad_rows=spec.on_bad_rows,
                                     time_rule=spec.time_rule, check_units=False)  # units: checked on all partitions
    except InputError as exc:
        result.problems = list(exc.problems)
        result.time_units = getattr(exc, "time_units", {})
        return result
    result.time_units = events.time_units
    journeys = spec.journeys(events)
    models = spec.models()
    per_model = spec.per_model(journeys, events)  # each model's lookback (the run's unless it declares another)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # model warnings are raised by fit_stats on the merged statistics
        result.stats = [m.partial_stats(j) for m, j in zip(models, per_model)]
        if spec.lead_event is not None:
            lead = spec.journeys(events, (spec.lead_event,))
            lead_per_model = spec.per_model(lead, events)
            result.lead_stats = [m.partial_stats(j) for m, j in zip(spec.models(), lead_per_model)]
    result.journey_stats = journey_stats(journeys, spec.period, spec.by)
    if spec.period is not None or spec.by is not None or spec.detail:
        if not all(map(local_weights, models)):  # their touch weights need a second pass over the partitions
            result.weight_rows = weight_rows(journeys)
            if spec.lead_event is not None and (spec.period is not None or spec.by is not None):
                result.lead_weight_rows = weight_rows(lead)
    if spec.detail:
        result.conversion_users = conversion_users(journeys)
    if spec.ci is not None:
        result.replicates = partition_replicates(spec.models(), journeys, n_boot=spec.n_boot, seed=spec.seed,
                                                 period=spec.period, per_model=per_model)
    if spec.period is not None or spec.by is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result.credits = [keyed_credit(m, s, j, spec) if local_weights(m) else None
                              for m, s, j in zip(models, result.stats, per_model)]
            if spec.lead_event is not None:
                result.lead_credits = [keyed_credit(m, s, j, spec) if local_weights(m) else None
                                       for m, s, j in zip(spec.models(), result.lead_stats, lead_per_model)]
    result.counts = run_counts(events, journeys, lead_journeys=lead if spec.lead_event is not None else None)
    return result


def conversion_users(journeys) -> pd.DataFrame:
    """Converting journeys per user id (``user_id``, ``n``): additive, for the global ``conversion_id`` numbering
    of a partitioned ``--detail``."""
    conv = np.flatnonzero(journeys.conversions > 0)
    counts = np.bincount(journeys.user[conv], minlength=len(journeys.user_ids)) if len(conv) else \
        np.zeros(len(journeys.user_ids), np.int64)
    have = np.flatnonzero(counts)
    return pd.DataFrame({"user_id": journeys.user_ids.take(pa.array(have)).to_pandas(), "n": counts[have]})


def keyed_credit(model, stats, journeys, spec: RunSpec) -> pd.DataFrame:
    """A journey-local model's credit per channel [, campaign] [, period] on one partition (additive).

    The model's per-touch weights depend on each journey alone, so the partition's credit rows are exactly the
    in-memory rows restricted to the partition's users; the model-level extra columns (none for journey-local
    models today) are dropped here and joined back from the merged fit by :func:`finalise`.
    """
    model.fit_stats(stats)  # touch_credit reads attribution_ (for the extra columns)
    frame = touch_credit(model, journeys, spec.period, spec.by)
    return frame[credit_keys(spec) + ["conversions", "revenue"]]


def credit_keys(spec: RunSpec) -> list[str]:
    return ["channel"] + (["campaign"] if spec.by is not None else []) + (["period"] if spec.period is not None else [])


def merge_credits(frames, spec: RunSpec, model=None) -> pd.DataFrame:
    """Sum :func:`keyed_credit` frames of user-disjoint partitions per key; ``model``'s extras joined back."""
    keys = credit_keys(spec)
    frames = [f for f in frames if f is not None]
    both = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=keys + ["conversions", "revenue"])
    out = both.groupby(keys, sort=True, as_index=False)[["conversions", "revenue"]].sum()
    for k in keys:
        if k != "period":
            out[k] = out[k].astype(object)
    if model is not None:
        extras = extras_in(model.attribution_)
        if extras:
            out = out.merge(model.attribution_[["channel"] + extras], on="channel", how="left")
    return out


def merge_problems(problem_lists, files=()) -> list[Problem]:
    """Problems of all partitions as the in-memory read reports them: one per (reason, column), counts added,
    the first offending row taken from the earliest file (in input order) and row."""
    rank = {f: i for i, f in enumerate(files)}
    merged: dict = {}
    for problems in problem_lists:
        for p in problems:
            key = (p.code, p.column, p.rule)
            if key not in merged:
                merged[key] = p
                continue
            q = merged[key]
            count = None if q.count is None and p.count is None else (q.count or 0) + (p.count or 0)
            where = lambda x: (rank.get(x.file, len(rank)), x.first_row if x.first_row is not None else -1)  # noqa: E731
            first = p if where(p) < where(q) else q
            merged[key] = Problem(q.code, q.rule, q.fix, file=first.file, column=q.column, count=count,
                                  first_row=first.first_row, example=first.example)
    return [merged[k] for k in sorted(merged, key=lambda k: (merged[k].count is not None, k[0]))]


def merge_time_units(results, files=()) -> dict:
    """The partitions' detected epoch units per file (:attr:`attribution.io.events.Events.time_units`), rows added
    and the first row kept, files in input order."""
    merged: dict = {}
    for r in results:
        for path, units in r.time_units.items():
            add_units(merged, path, units)
    rank = {f: i for i, f in enumerate(files)}
    return {p: dict(sorted(merged[p].items(), key=lambda kv: "s ms us ns".split().index(kv[0])))
            for p in sorted(merged, key=lambda p: rank.get(p, len(rank)))}


def fit_merged(results, spec: RunSpec, *, files, spend=None) -> dict:
    """Report the partitions' problems and warnings, then fit every model on the merged statistics.

    The merged counts end in :func:`attribution.kpis.summary.finalise_counts`, as a run in memory does (its
    warnings, then the run summary). Returns a dict (``live`` results, the ``summary``, ``fitted`` and
    ``lead_models``) for :func:`finalise`;
    the partitioned runs that need a second pass (:mod:`~attribution.engines.second_pass`) call it first.
    """
    results = list(results)
    problems = merge_problems((r.problems for r in results), files)
    problems += mixed_unit_problems(merge_time_units(results, files), spec.mapping)
    if problems:
        raise InputError(problems)
    counts = merge_counts(r.counts for r in results)
    warn_dropped(counts["dropped"])
    summary = finalise_counts(counts, files=len(files), conversion_events=spec.conversion_events,
                              lead_event=spec.lead_event, spend=spend)
    live = [r for r in results if r.stats]
    models = spec.models()
    if not live:
        raise InputError(Problem("no_rows", "the event log has no rows", "check the input files",
                                 file=files[0] if files else None))
    fitted = []
    for i, m in enumerate(models):
        m.fit_stats(merge_stats(m, [r.stats[i] for r in live]))
        fitted.append(m)
    lead_models = None
    if spec.lead_event is not None:
        lead_models = []
        for i, m in enumerate(spec.models()):
            m.fit_stats(merge_stats(m, [r.lead_stats[i] for r in live]))
            lead_models.append(m)
    return {"live": live, "summary": summary, "fitted": fitted, "lead_models": lead_models}


def finalise(results, spec: RunSpec, *, files, spend=None, state: dict | None = None):
    """Merge partition results into fitted models, the KPI table and the run summary.

    ``state`` is :func:`fit_merged`'s result when the caller fitted already (before a second pass).

    Returns
    -------
    table : pandas.DataFrame
    fitted : list of models (``attribution_`` set from the merged statistics)
    lead_models : list or None
    summary : dict
    """
    if state is None:
        state = fit_merged(results, spec, files=files, spend=spend)
    live, summary, fitted, lead_models = state["live"], state["summary"], state["fitted"], state["lead_models"]
    keyed = spec.period is not None or spec.by is not None
    leads = None
    if lead_models is not None:
        leads = [m.attribution_.copy() for m in lead_models]
        if keyed:
            leads = [merge_credits([r.lead_credits[i] for r in live], spec, m) for i, m in enumerate(lead_models)]
    jstats = merge_journey_stats([r.journey_stats for r in live])
    spend_frame = spend.by_channel(spec.period, by=spec.by) if spend is not None else None
    if keyed:
        credits = [(model_spec(m), merge_credits([r.credits[i] for r in live], spec, m)) for i, m in enumerate(fitted)]
    else:
        credits = [(model_spec(m), m.attribution_.copy()) for m in fitted]
    table = report_frame(credits, journey_stats=jstats, spend=spend_frame, leads=leads, period=spec.period,
                         by=spec.by)
    if spec.ci is not None:
        intervals = merge_replicates(spec.models(), [r.replicates for r in live], level=spec.ci, n_boot=spec.n_boot,
                                     period=spec.period, specs=[model_spec(m) for m in fitted])
        table = add_intervals(table, intervals, spec.period)
    return table, fitted, lead_models, summary
