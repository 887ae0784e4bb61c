"""Engines: where a run's work happens.

- ``local`` (default): on this machine. In memory when the log fits; otherwise out of core
  (:mod:`~attribution.engines.outofcore`): the log is split by a hash of the user into buckets on local disk and
  processed one bucket at a time. ``--memory-limit`` sets the budget; without it the engine goes out of core by
  itself when the log's estimated in-memory size exceeds half of the memory available (the least of the
  system's available memory, the cgroup memory limit and ``ulimit -v``: :func:`attribution.memory.memory_budget`).
- ``dask`` (:mod:`~attribution.engines.dask_engine`, extra ``dask``): on a Dask cluster (``--scheduler ADDRESS``,
  else a ``distributed.LocalCluster`` on this machine).

Every partitioned engine validates and builds journeys per user partition with the in-memory code, and merges
each model's ``partial_stats`` with ``merge_stats`` before ``fit_stats`` (:mod:`~attribution.engines.partial`).
Journeys never cross users, so the numbers equal the in-memory run's up to floating-point summation order
(tests hold them to 1e-9).

``--period`` and ``--by campaign`` run partitioned too: each partition returns every model's credit per
(channel[, campaign][, period]) from its per-touch weights, and the journey statistics with the same keys; both
are sums over journeys and add up over user partitions. The rule-based models and ``shapley`` (game=journey)
weigh a touch from its journey alone, in the first pass. Markov, ``logistic`` and ``shapley:game=rate`` weigh
it from the whole log: their weights are solved once on the merged per-(channel set, conversion, revenue) counts
and applied in a second pass over the partitions (:mod:`~attribution.engines.second_pass`; the out-of-core
buckets stay on disk until then, Dask re-reads the files). ``--ci`` draws Poisson-bootstrap weights per journey
from a hash of (user id, journey rank, seed, replicate), so the replicates add up over partitions
(:mod:`attribution.kpis.uncertainty`: same intervals for any partitioning, statistically equivalent to, not equal to,
the in-memory multinomial ones); ``--ci`` together with ``--period`` is refused for the three whole-log models.
``--detail`` (CSV or Parquet) is written in the second pass, partition by partition
(:mod:`~attribution.engines.detail_out`). Without ``--memory-limit`` or ``--engine dask`` a run with
``--period``, ``--by`` or ``--ci`` stays in memory, as before.
"""

from __future__ import annotations

import math
import os
import re

from attribution.engines import dask_engine
from attribution.engines.outofcore import run_out_of_core
from attribution.engines.partial import RunSpec, finalise
from attribution.engines.partition import file_rows
from attribution.engines.second_pass import SecondPass
from attribution.exceptions import ParameterError, option
from attribution.io.events import plan_read
from attribution.io.timeparse import TimeRule
from attribution.kpis.result import model_lookbacks, model_spec
from attribution.memory import memory_budget
from attribution.models.base import local_weights

ENGINES = ("local", "dask")
#: peak bytes of the in-memory run per event row, measured on the 10M-event benchmark log (about 300)
BYTES_PER_ROW = 320
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
          "g": 1024**3, "gb": 1024**3, "gib": 1024**3, "t": 1024**4, "tb": 1024**4, "tib": 1024**4}


def check_engine(engine: str | None, scheduler: str | None = None) -> str:
    engine = (engine or "local").strip().lower()
    if engine not in ENGINES:
        raise ParameterError(f"The {option('engine', quoted=True)} option must be one of {', '.join(ENGINES)}. Got {engine!r} instead.")
    if scheduler is not None and engine != "dask":
        raise ParameterError(f"The {option('scheduler', quoted=True)} option needs {option('engine', 'dask', quoted=True)}.")
    return engine


def parse_memory_limit(value) -> int | None:
    """``8GB``, ``512MB``, ``2g``, ``1.5GiB`` or a number of bytes → bytes (None stays None)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        size = float(value)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([a-zA-Z]*)\s*", str(value))
        unit = m.group(2).lower() if m else None
        size = float(m.group(1)) * _UNITS[unit] if m and unit in _UNITS else float("nan")
    if not math.isfinite(size) or size <= 0:
        raise ParameterError(f"The {option('memory-limit', quoted=True)} option must be a size such as 4GB or 512MB. Got {value!r} instead.")
    return int(size)


def available_memory() -> int:
    """Bytes this process can still allocate: the least of ``MemAvailable``, the cgroup memory limits and the
    address-space limit (:func:`attribution.memory.memory_budget`)."""
    return memory_budget()[0]


def estimate_rows(plan) -> int:
    """Rows of the log: exact for Parquet (footers); CSV estimated from its size (about 60 bytes a row)."""
    total = 0
    for path, _ in plan.files:
        rows = file_rows(path)
        total += rows if rows is not None else os.path.getsize(path) // 60
    return int(total)


def plan_buckets(rows: int, memory_limit: int | None) -> int:
    """User buckets needed to keep a run under ``memory_limit`` (1 = in memory).

    Without a limit: in memory unless the estimate exceeds half of the available memory. With a limit: in memory
    if the estimate fits 80% of it, else enough buckets for each to use about half of it.
    """
    need = rows * BYTES_PER_ROW
    if memory_limit is None:
        budget = available_memory() // 2
        if need <= budget:
            return 1
        return max(2, math.ceil(need / (budget * 0.5)))
    if need <= memory_limit * 0.8:
        return 1
    return max(2, math.ceil(need / (memory_limit * 0.5)))


def pass_one_rows(memory_limit: int | None) -> int:
    """Rows read at a time while splitting the log into buckets: a quarter of the budget (``memory_limit``, else
    half of the available memory) at :data:`BYTES_PER_ROW`, between 100,000 and 2,000,000 (whole Parquet row
    groups are read, so a piece can be larger). The buckets' contents do not depend on it."""
    budget = memory_limit if memory_limit is not None else available_memory() // 2
    return int(min(max(budget // (4 * BYTES_PER_ROW), 100_000), 2_000_000))


def journey_local(model) -> bool:
    """Whether a model's per-touch weights in a journey depend on that journey alone (then its credit per period
    or campaign adds up over user partitions)."""
    return local_weights(model)


def _check_own_lookbacks(models, lookback_days, where: str) -> None:
    """The second pass weighs a whole-log model's touches from counts of the run's journeys: a model with its own
    lookback must weigh them from its fit (``weights_from_fit``, as ``hazard``) or from each journey alone."""
    for m, lookback in zip(models, model_lookbacks(models, lookback_days)):
        if lookback != lookback_days and not journey_local(m) and not getattr(m, "weights_from_fit", False):
            raise ParameterError(
                f"{option('period')}, {option('by')} and {option('detail')} are not available with {where} for "
                f"{model_spec(m)!r} yet: its journeys have their own lookback and its touch weights need the whole "
                f"log's. Run it in memory ({option('engine', 'local')} with a larger {option('memory-limit')}).")


def partitioned_run(sources, prepared, *, detail_sink=None, n_partitions: int | None = None):
    """Run partitioned when the engine or the memory budget asks for it; None means "run in memory".

    Parameters
    ----------
    sources : str, path or list of them
        Event-log files, folders or globs.
    prepared : attribution.runner.Prepared
        The run's checked :class:`~attribution.options.RunOptions` (``prepared.options``) and what was derived from
        them once (models, spend table, period, CSV options, lookback in days, channel grouping, interval
        options, path options, milestones).
    detail_sink : attribution.engines.detail_out.DetailSink, optional
        Receives the ``--detail`` fact table, partition by partition.
    n_partitions : int, optional
        User partitions to use (default: from the memory budget).

    Returns
    -------
    (table, fitted models, lead models, summary) or None

    Notes
    -----
    The CSV options travel with the read plan: every piece of a CSV file is read with the same delimiter, decimal
    mark, encoding and null tokens as the in-memory read.
    """
    p, o = prepared, prepared.options
    engine = check_engine(o.engine, o.scheduler)
    limit = parse_memory_limit(o.memory_limit)
    if o.input != "events":
        if engine == "dask":
            raise ParameterError(f"The dask engine reads event logs; a path table is small: run it with {option('engine', 'local')}.")
        return None
    plan = _plan(sources, p)
    buckets = _buckets(plan, p, engine, limit, detail_sink, n_partitions)
    if buckets is None:
        return None
    where = "the dask engine" if engine == "dask" else f"an out-of-core run ({buckets} user buckets)"
    _check_partitioned(p, where, detail_sink)
    spec = run_spec(p, plan.mapping, detail=detail_sink is not None)
    files = [f for f, _ in plan.files]
    second = None
    if ((p.period is not None or o.by is not None) and not all(map(journey_local, p.models))) or detail_sink is not None:
        second = SecondPass(spec, files, detail_sink, spend=p.spend)
    try:
        if engine == "dask":
            results = dask_engine.run_dask(plan, spec, n_partitions=buckets, scheduler=o.scheduler,
                                           show_progress=o.progress, second=second)
        else:
            results = run_out_of_core(plan, spec, n_buckets=buckets, spill_dir=o.spill_dir, show_progress=o.progress,
                                      second=second, batch_rows=pass_one_rows(limit))
        state = second.state if second is not None else None
        table, fitted, lead_models, summary = finalise(results, spec, files=files, spend=p.spend, state=state)
    except BaseException:
        if detail_sink is not None:
            detail_sink.discard()  # a failed run leaves no half-written fact table (nor a previous one touched)
        raise
    summary["engine"] = engine if engine == "dask" else f"local, out of core ({buckets} buckets)"
    summary["partitions"] = buckets
    return table, fitted, lead_models, summary


def _plan(sources, p):
    """The read plan of the log (each partition is grouped before its validation: partial.process_partition)."""
    columns = p.options.column or None
    if p.grouping is not None:
        return p.grouping.plan(sources, columns=columns, csv=p.csv)
    return plan_read(sources, columns=columns, csv=p.csv)


def _buckets(plan, p, engine: str, limit: int | None, detail_sink, n_partitions: int | None) -> int | None:
    """User partitions of the run, or None to run in memory (the local engine when the log fits its budget)."""
    if engine != "local":
        return n_partitions or max(4, plan_buckets(estimate_rows(plan), limit))
    needs_journeys = (p.period is not None or p.ci is not None or p.options.by is not None
                      or (detail_sink is not None and not detail_sink.streamable))
    if limit is None and n_partitions is None and needs_journeys:
        return None  # automatic mode never refuses an option: these need the journeys in memory, try there
    buckets = n_partitions or plan_buckets(estimate_rows(plan), limit)
    return None if buckets <= 1 else buckets


def _check_partitioned(p, where: str, detail_sink) -> None:
    """Refuse, before any reading, what a partitioned run cannot do yet."""
    if detail_sink is not None:
        detail_sink.check(where)
    if p.ci is not None and p.period is not None and not all(map(journey_local, p.models)):
        names = ", ".join(repr(model_spec(m)) for m in p.models if not journey_local(m))
        raise ParameterError(
            f"{option('ci')} with {option('period')} is not available with {where} for {names} yet: each bootstrap "
            f"replicate would need its own touch weights from the whole log. Run those models with {option('ci')} or "
            f"{option('period')} (not both), or in memory ({option('engine', 'local')} with a larger "
            f"{option('memory-limit')}).")
    if p.period is not None or p.options.by is not None or detail_sink is not None:
        _check_own_lookbacks(p.models, p.lookback, where)


def run_spec(p, mapping: dict, *, detail: bool = False) -> RunSpec:
    """What every partition's worker needs of the prepared run (small and picklable)."""
    o = p.options
    milestones = [str(m) for m in o.milestone_event]
    return RunSpec(list(p.models), mapping, o.on_bad_rows, tuple(o.conversion_event) or ("conversion",),
                   p.lookback, milestones[0] if milestones else None, p.grouping, period=p.period, by=o.by, ci=p.ci,
                   n_boot=p.bootstrap, seed=p.seed, detail=detail, time_rule=TimeRule.of(o.epoch_unit, o.valid_years),
                   milestones=tuple(p.milestones), path_options=p.path_options)
