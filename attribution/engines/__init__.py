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

from attribution.exceptions import ParameterError, option

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
    from attribution.memory import memory_budget

    return memory_budget()[0]


def estimate_rows(plan) -> int:
    """Rows of the log: exact for Parquet (footers); CSV estimated from its size (about 60 bytes a row)."""
    from attribution.engines.partition import file_rows

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
    from attribution.models.base import local_weights

    return local_weights(model)


def _check_own_lookbacks(models, lookback_days, where: str) -> None:
    """The second pass weighs a whole-log model's touches from counts of the run's journeys: a model with its own
    lookback must weigh them from its fit (``weights_from_fit``, as ``hazard``) or from each journey alone."""
    from attribution.kpis.result import model_lookbacks, model_spec

    for m, lookback in zip(models, model_lookbacks(models, lookback_days)):
        if lookback != lookback_days and not journey_local(m) and not getattr(m, "weights_from_fit", False):
            raise ParameterError(
                f"{option('period')}, {option('by')} and --detail are not available with {where} for {model_spec(m)!r} yet: its "
                "journeys have their own lookback and its touch weights need the whole log's. Run it in memory "
                f"({option('engine', 'local')} with a larger {option('memory-limit')}).")


def partitioned_run(sources, models, *, engine: str = "local", scheduler: str | None = None, memory_limit=None,
                    spill_dir: str | None = None, show_progress=None, n_partitions: int | None = None,
                    spend=None, milestone_events=(), period=None, ci=None, n_boot=200, seed=0, by=None,
                    detail_sink=None, input: str = "events",
                    lookback_days=30.0, conversion_events=("conversion",), columns=None, on_bad_rows: str = "error",
                    channel_grouping=None, csv=None, epoch_unit=None, valid_years=None, milestones=(),
                    path_options=None, **_ignored):
    """Run partitioned when the engine or the memory budget asks for it; None means "run in memory".

    Returns
    -------
    (table, fitted models, lead models, summary) or None

    Notes
    -----
    ``csv`` (:class:`~attribution.io.csvread.CsvOptions`) travels with the read plan: every piece of a CSV file is
    read with the same delimiter, decimal mark, encoding and null tokens as the in-memory read.
    """
    from attribution.io.events import plan_read
    from attribution.io.timeparse import TimeRule

    engine = check_engine(engine, scheduler)
    limit = parse_memory_limit(memory_limit)
    if input != "events":
        if engine == "dask":
            raise ParameterError(f"The dask engine reads event logs; a path table is small: run it with {option('engine', 'local')}.")
        return None
    if channel_grouping is not None:  # each partition is grouped before its validation (partial.process_partition)
        from attribution.io.channel_groups import ChannelGrouping

        channel_grouping = ChannelGrouping.of(channel_grouping)
        plan = channel_grouping.plan(sources, columns=columns, csv=csv)
    else:
        plan = plan_read(sources, columns=columns, csv=csv)
    if engine == "local":
        if limit is None and n_partitions is None and (period is not None or ci is not None or by is not None
                                                        or (detail_sink is not None and not detail_sink.streamable)):
            return None  # automatic mode never refuses an option: these need the journeys in memory, try there
        buckets = n_partitions or plan_buckets(estimate_rows(plan), limit)
        if buckets <= 1:
            return None
    else:
        buckets = n_partitions or max(4, plan_buckets(estimate_rows(plan), limit))
    where = "the dask engine" if engine == "dask" else f"an out-of-core run ({buckets} user buckets)"
    if detail_sink is not None:
        detail_sink.check(where)
    if ci is not None and period is not None and not all(map(journey_local, models)):
        from attribution.kpis.result import model_spec

        names = ", ".join(repr(model_spec(m)) for m in models if not journey_local(m))
        raise ParameterError(
            f"{option('ci')} with {option('period')} is not available with {where} for {names} yet: each bootstrap replicate would need "
            f"its own touch weights from the whole log. Run those models with {option('ci')} or {option('period')} (not both), or in "
            f"memory ({option('engine', 'local')} with a larger {option('memory-limit')}).")
    if period is not None or by is not None or detail_sink is not None:
        _check_own_lookbacks(models, lookback_days, where)
    from attribution.engines.partial import RunSpec, finalise

    milestone_events = [str(m) for m in (milestone_events or ())]
    spec = RunSpec(list(models), plan.mapping, on_bad_rows, tuple(conversion_events) or ("conversion",),
                   lookback_days, milestone_events[0] if milestone_events else None, channel_grouping,
                   period=period, by=by, ci=ci, n_boot=n_boot, seed=seed, detail=detail_sink is not None,
                   time_rule=TimeRule.of(epoch_unit, valid_years), milestones=tuple(milestones or ()),
                   path_options=path_options)
    files = [p for p, _ in plan.files]
    second = None
    if ((period is not None or by is not None) and not all(map(journey_local, models))) or detail_sink is not None:
        from attribution.engines.second_pass import SecondPass

        second = SecondPass(spec, files, detail_sink)
    try:
        if engine == "dask":
            from attribution.engines.dask_engine import run_dask

            results = run_dask(plan, spec, n_partitions=buckets, scheduler=scheduler, show_progress=show_progress,
                               second=second)
        else:
            from attribution.engines.outofcore import run_out_of_core

            results = run_out_of_core(plan, spec, n_buckets=buckets, spill_dir=spill_dir,
                                      show_progress=show_progress, second=second, batch_rows=pass_one_rows(limit))
        state = second.state if second is not None else None
        table, fitted, lead_models, summary = finalise(results, spec, files=files, spend=spend, state=state)
    except BaseException:
        if detail_sink is not None:
            detail_sink.discard()  # a failed run leaves no half-written fact table (nor a previous one touched)
        raise
    summary["engine"] = engine if engine == "dask" else f"local, out of core ({buckets} buckets)"
    summary["partitions"] = buckets
    return table, fitted, lead_models, summary
