"""Journeys of one event log at several lookbacks, with the log sorted once.

A lookback only decides which touches a journey keeps: those at most ``lookback_days`` before the journey's end
(its conversion, or the user's last touch). The journeys themselves (their ends, conversions, revenue, users,
milestones) and the channel vocabulary do not depend on it. The journeys at a shorter lookback are therefore
those of a longer one with their older touches dropped (:func:`narrowed`), array for array what
:meth:`Journeys.from_events` builds, without sorting the log again. Path options act on the kept touches, so
they are applied to each lookback's journeys after the narrowing, as ``from_events`` applies them after the build.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from attribution.io.timeparse import NS_PER_DAY
from attribution.journeys.journeys import Journeys
from attribution.journeys.pathoptions import apply_path_options, keep_touches


def lookback_key(lookback_days) -> float | None:
    """A lookback as a dictionary key: None (unlimited) or float days."""
    return None if lookback_days is None else float(lookback_days)


def narrowed(journeys: Journeys, lookback_days: float) -> Journeys:
    """The journeys with only the touches at most ``lookback_days`` before their journey's end.

    ``journeys`` must come from an event log (touch and end times) with no path option applied and a lookback of
    at least ``lookback_days`` (or none); the result equals ``Journeys.from_events`` at ``lookback_days``.
    """
    if not journeys.has_times:
        raise ValueError("narrowed needs journeys with touch and end times")
    wide = journeys.lookback_days
    if wide is not None and float(wide) < float(lookback_days):
        raise ValueError(f"cannot widen journeys of lookback {wide} to {lookback_days}")
    limit = np.int64(round(float(lookback_days) * NS_PER_DAY))  # as the build's cut, in integer nanoseconds
    age = journeys.end_time[journeys.touch_journey] - journeys.touch_time
    keep = np.flatnonzero(age <= limit)
    del age
    out = keep_touches(journeys, keep)
    out.lookback_days = lookback_days
    return out


def journeys_at_lookbacks(events, lookbacks: Iterable, *, conversion_events=("conversion",), milestone_events=(),
                          path_options=None) -> dict:
    """``{lookback_key: Journeys}`` for each distinct lookback (days or None), the log sorted and cut into
    journeys once, at the widest of them; each equals ``Journeys.from_events`` at its lookback."""
    given = {}  # each distinct lookback as first given (the journeys keep it as they would from from_events)
    for x in lookbacks:
        given.setdefault(lookback_key(x), x)
    widest = None if None in given else max(given)
    raw = Journeys.from_events(events, conversion_events=conversion_events, lookback_days=given[widest],
                               milestone_events=milestone_events)
    derived = {k: raw if k == widest else narrowed(raw, given[k]) for k in given}
    return {k: apply_path_options(j, path_options) for k, j in derived.items()}
