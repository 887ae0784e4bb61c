"""The options of a run: one frozen, typed carrier from the command line to the library to the engines.

Every field is spelled as its command-line flag (``--conversion-event`` → ``conversion_event``); the command
line builds a :class:`RunOptions` from its flags and :func:`attribution.run` from its keywords, and both hand
it to the one orchestrator (:func:`attribution.runner.execute`). An option that does not exist is an error
naming the closest one; a single string where a list is expected is one item (``model="linear"``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, fields, replace
from typing import Any

from attribution.exceptions import ParameterError

#: the plural spellings the Python API has always accepted, and the field each one means
ALIASES = {"models": "model", "conversion_events": "conversion_event", "milestone_events": "milestone_event",
           "columns": "column", "spend_columns": "spend_column", "n_boot": "bootstrap",
           "exclude_channels": "exclude_channel"}
#: fields that hold several values (repeatable flags)
LISTS = ("model", "conversion_event", "milestone_event", "column", "spend_column", "exclude_channel")


@dataclass(frozen=True)
class RunOptions:
    """Every option of ``attribution run`` and :func:`attribution.run`, with its default.

    Attributes
    ----------
    model : tuple of str or models
        Model specs (``"markov:order=2"``) or model instances; empty = every heuristic model and ``markov``.
    input : {"events", "paths"}
        An event log or a path table (SPEC 1.2).
    lookback_days : float, str or None
        Days of touches before a conversion that count (``"none"`` = unlimited).
    conversion_event, milestone_event : tuple of str
        Event names that close journeys; funnel milestones (the first is the lead).
    column : tuple of "CANONICAL=ACTUAL" or dict
        Column mapping of the event log; ``spend_column`` the same for the spend table.
    separator, on_bad_rows : str
        Path-table separator; ``"error"`` or ``"skip"`` for rows that break a rule.
    delimiter, decimal, encoding : str
        How CSV files are read (:mod:`attribution.io.csvread`).
    epoch_unit, valid_years
        Timestamp rules (:mod:`attribution.io.timeparse`).
    channel_grouping, fill_only
        Channels derived from source / medium (:mod:`attribution.io.channel_groups`).
    spend, period, by
        The KPI layer: spend table, ``day|week|month`` periods, ``campaign`` breakdown.
    ci, bootstrap, seed
        Bootstrap confidence intervals (level, replicates, seed).
    engine, scheduler, memory_limit, spill_dir, progress
        Where and how the run executes (:mod:`attribution.engines`).
    experiments, calibrate_untested
        Calibration to lift tests (:mod:`attribution.kpis.calibrate`).
    path_transform, exclude_channel, max_touches, conversions_from, conversions_to
        Path options and daily-job windows (:mod:`attribution.journeys.pathoptions`).
    schema, identity_map, journey_key
        Analytics exports in their native shape and identity stitching (:mod:`attribution.io.schemas`,
        :mod:`attribution.io.identity`).
    """

    model: tuple = ()
    input: str = "events"
    lookback_days: Any = 30.0
    conversion_event: tuple = ("conversion",)
    milestone_event: tuple = ()
    column: Any = ()
    separator: str = " > "
    on_bad_rows: str = "error"
    delimiter: str | None = None
    decimal: str = "."
    encoding: str | None = None
    epoch_unit: str | None = None
    valid_years: Any = None
    channel_grouping: Any = None
    fill_only: bool = False
    spend: Any = None
    spend_column: Any = ()
    period: str | None = None
    by: str | None = None
    ci: float | None = None
    bootstrap: int = 200
    seed: int = 0
    engine: str = "local"
    scheduler: str | None = None
    memory_limit: Any = None
    spill_dir: str | None = None
    progress: bool | None = None
    experiments: Any = None
    calibrate_untested: str = "pool"
    path_transform: str | None = None
    exclude_channel: tuple = ()
    max_touches: int | None = None
    conversions_from: Any = None
    conversions_to: Any = None
    schema: str | None = None
    identity_map: Any = None
    journey_key: str | None = None

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    @classmethod
    def of(cls, **values) -> "RunOptions":
        """Options from keywords: aliases mapped, ``None`` for a default, single strings made lists, unknown
        names refused (with the closest existing name)."""
        known = set(cls.names())
        out: dict[str, Any] = {}
        for key, value in values.items():
            name = ALIASES.get(key, key)
            if name not in known:
                close = difflib.get_close_matches(key, sorted(known | set(ALIASES)), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ParameterError(f"Unknown option {key!r}{hint} The options are: {', '.join(cls.names())}.")
            if name in out and key != name:
                raise ParameterError(f"The option {name!r} is given twice (as {name!r} and {key!r}).")
            if value is None and name in LISTS:
                continue
            out[name] = _as_list(value) if name in LISTS else value
        if "conversion_event" in out and not out["conversion_event"]:
            del out["conversion_event"]  # an empty list means the default, as with no --conversion-event
        return cls(**{k: v for k, v in out.items() if v is not None or cls.__dataclass_fields__[k].default is None})

    def replace(self, **changes) -> "RunOptions":
        """A copy with some options changed (checked as in :meth:`of`)."""
        new = RunOptions.of(**changes)
        return replace(self, **{ALIASES.get(k, k): getattr(new, ALIASES.get(k, k)) for k in changes})


def _as_list(value) -> Any:
    """A single string (or model) is one item; dicts (column maps) stay; other iterables become tuples."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        return (value,)
    if isinstance(value, dict):
        return value
    return tuple(value)
