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

import pandas as pd

from attribution.io.events import add_units, mixed_unit_problems
from attribution.exceptions import DroppedRowsWarning, InputError, Problem, option


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
        from attribution.journeys.journeys import Journeys

        return Journeys.from_events(events, conversion_events=conversion_events or self.conversion_events,
                                    lookback_days=self.lookback_days, milestone_events=self.milestones,
                                    path_options=self.path_options)

    def per_model(self, journeys, events) -> list:
        """Each model's journeys of the partition, aligned with :meth:`models`: ``journeys`` (the run's
        lookback) unless a model declares another (:func:`attribution.kpis.result.journeys_per_model`)."""
        from attribution.kpis.result import journeys_per_model

        return journeys_per_model(journeys, self.models(), events)

    def models(self) -> list:
        from attribution.kpis.report import fresh_model
        from attribution.models import parse_model_spec

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
    from attribution.io.events import validate_tables
    from attribution.kpis.report import journey_stats
    from attribution.kpis.summary import run_counts

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
        from attribution.engines import journey_local
        from attribution.engines.second_pass import weight_rows

        if not all(map(journey_local, models)):  # their touch weights need a second pass over the partitions
            result.weight_rows = weight_rows(journeys)
            if spec.lead_event is not None and (spec.period is not None or spec.by is not None):
                result.lead_weight_rows = weight_rows(lead)
    if spec.detail:
        from attribution.engines.second_pass import conversion_users

        result.conversion_users = conversion_users(journeys)
    if spec.ci is not None:
        from attribution.kpis.uncertainty import partition_replicates

        result.replicates = partition_replicates(spec.models(), journeys, n_boot=spec.n_boot, seed=spec.seed,
                                                 period=spec.period, per_model=per_model)
    if spec.period is not None or spec.by is not None:
        from attribution.engines import journey_local

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result.credits = [keyed_credit(m, s, j, spec) if journey_local(m) else None
                              for m, s, j in zip(models, result.stats, per_model)]
            if spec.lead_event is not None:
                result.lead_credits = [keyed_credit(m, s, j, spec) if journey_local(m) else None
                                       for m, s, j in zip(spec.models(), result.lead_stats, lead_per_model)]
    channels = set(map(str, journeys.channel_names))
    if spec.lead_event is not None:
        channels |= set(map(str, lead.channel_names))
    result.counts = {"channels": sorted(channels), **run_counts(events, journeys)}
    return result


def keyed_credit(model, stats, journeys, spec: RunSpec) -> pd.DataFrame:
    """A journey-local model's credit per channel [, campaign] [, period] on one partition (additive).

    The model's per-touch weights depend on each journey alone, so the partition's credit rows are exactly the
    in-memory rows restricted to the partition's users; the model-level extra columns (none for journey-local
    models today) are dropped here and joined back from the merged fit by :func:`finalise`.
    """
    from attribution.kpis.report import touch_credit

    model.fit_stats(stats)  # touch_credit reads attribution_ (for the extra columns)
    frame = touch_credit(model, journeys, spec.period, spec.by)
    return frame[credit_keys(spec) + ["conversions", "revenue"]]


def credit_keys(spec: RunSpec) -> list[str]:
    return ["channel"] + (["campaign"] if spec.by is not None else []) + (["period"] if spec.period is not None else [])


def merge_credits(frames, spec: RunSpec, model=None) -> pd.DataFrame:
    """Sum :func:`keyed_credit` frames of user-disjoint partitions per key; ``model``'s extras joined back."""
    from attribution.kpis.report import _extras

    keys = credit_keys(spec)
    frames = [f for f in frames if f is not None]
    both = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=keys + ["conversions", "revenue"])
    out = both.groupby(keys, sort=True, as_index=False)[["conversions", "revenue"]].sum()
    for k in keys:
        if k != "period":
            out[k] = out[k].astype(object)
    if model is not None:
        extras = _extras(model.attribution_)
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


def merge_counts(results) -> dict:
    total: dict = {"rows": 0, "events": {}, "dropped": {}, "journeys": 0, "touches": 0, "conversions": 0.0,
                   "touchless_conversions": 0.0, "revenue": 0.0}
    for r in results:
        c = r.counts
        if not c:
            continue
        for k in ("rows", "journeys", "touches", "conversions", "touchless_conversions", "revenue"):
            total[k] += c[k]
        for k, v in c["events"].items():
            total["events"][k] = total["events"].get(k, 0) + v
        for k, v in c["dropped"].items():
            total["dropped"][k] = total["dropped"].get(k, 0) + v
    total["events"] = dict(sorted(total["events"].items(), key=lambda kv: str(kv[0])))
    return total


def fit_merged(results, spec: RunSpec, *, files) -> dict:
    """Report the partitions' problems and warnings, then fit every model on the merged statistics.

    Returns a dict (``live`` results, merged ``counts``, ``fitted`` and ``lead_models``) for :func:`finalise`;
    the partitioned runs that need a second pass (:mod:`~attribution.engines.second_pass`) call it first.
    """
    from attribution.models.base import merge_stats

    results = list(results)
    problems = merge_problems((r.problems for r in results), files)
    problems += mixed_unit_problems(merge_time_units(results, files), spec.mapping)
    if problems:
        raise InputError(problems)
    counts = merge_counts(results)
    dropped = {k: v for k, v in counts["dropped"].items() if v}
    if dropped:
        warnings.warn("dropped bad rows: " + ", ".join(f"{k}: {v:,}" for k, v in dropped.items()),
                      DroppedRowsWarning, stacklevel=2)
    missing = [e for e in spec.conversion_events if e not in counts["events"]]
    if missing and counts["rows"]:
        warnings.warn(
            f"no rows with conversion event {', '.join(map(repr, missing))}; event names in the log: "
            f"{', '.join(map(repr, list(counts['events'])[:10]))}. Use {option('conversion-event', 'NAME')}.",
            UserWarning, stacklevel=2,
        )
    if spec.lead_event is not None and spec.lead_event not in counts["events"]:
        warnings.warn(f"no rows with milestone event {spec.lead_event!r}: every channel gets 0 leads.", UserWarning,
                      stacklevel=2)
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
    return {"live": live, "counts": counts, "fitted": fitted, "lead_models": lead_models}


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
    from attribution.kpis.report import merge_journey_stats, report_frame
    from attribution.kpis.result import model_spec

    if state is None:
        state = fit_merged(results, spec, files=files)
    live, counts, fitted, lead_models = state["live"], state["counts"], state["fitted"], state["lead_models"]
    keyed = spec.period is not None or spec.by is not None
    leads = None
    if lead_models is not None:
        leads = [m.attribution_.copy() for m in lead_models]
        if keyed:
            leads = [merge_credits([r.lead_credits[i] for r in live], spec, m) for i, m in enumerate(lead_models)]
    if spend is not None:  # as in memory: spend channels never touched are kept, but usually a typo
        known = {c for r in live for c in r.counts.get("channels", ())}
        unseen = sorted(set(spend.frame["channel"].astype(str)) - known)
        if unseen:
            warnings.warn(
                f"spend channel(s) {', '.join(map(repr, unseen[:10]))}{', ...' if len(unseen) > 10 else ''} never "
                f"appear on a touch of the event log: they get rows with spend and no credit. Check the spelling "
                f"(log channels: {', '.join(sorted(known)[:12])}).", UserWarning, stacklevel=2)
    jstats = merge_journey_stats([r.journey_stats for r in live])
    spend_frame = spend.by_channel(spec.period, by=spec.by) if spend is not None else None
    if keyed:
        credits = [(model_spec(m), merge_credits([r.credits[i] for r in live], spec, m)) for i, m in enumerate(fitted)]
    else:
        credits = [(model_spec(m), m.attribution_.copy()) for m in fitted]
    table = report_frame(credits, journey_stats=jstats, spend=spend_frame, leads=leads, period=spec.period,
                         by=spec.by)
    if spec.ci is not None:
        from attribution.kpis.uncertainty import add_intervals, merge_replicates

        intervals = merge_replicates(spec.models(), [r.replicates for r in live], level=spec.ci, n_boot=spec.n_boot,
                                     period=spec.period, specs=[model_spec(m) for m in fitted])
        table = add_intervals(table, intervals, spec.period)
    known = {"touch", *spec.conversion_events}
    summary = {
        "files": len(files),
        "rows": counts["rows"],
        "events": counts["events"],
        "ignored": sum(v for k, v in counts["events"].items() if k not in known),
        "dropped": counts["dropped"],
        "journeys": counts["journeys"],
        "touches": counts["touches"],
        "conversions": counts["conversions"],
        "touchless_conversions": counts["touchless_conversions"],
        "revenue": counts["revenue"],
    }
    return table, fitted, lead_models, summary
