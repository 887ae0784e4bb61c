"""Journey statistics for charts and reports: path lengths, time lags and the top paths, vectorised.

Each function reads a built :class:`~attribution.journeys.journeys.Journeys` and returns a small tidy frame; nothing here
fits a model. Counts are sums of the journeys' (possibly fractional) ``conversions`` and ``nulls``, so the same
numbers come out of an event log and of the path table built from it.

- :func:`path_length_distribution`: journeys, conversions and the conversion rate per number of touches (the
  "path length" report of Google Analytics' multi-channel funnels [1]_), touchless conversions under 0 touches.
- :func:`time_lag_distribution`: converting journeys by the days from their first touch to the conversion
  ("time lag" [1]_), in bins whose edges are given in days.
- :func:`top_paths`: the distinct channel paths with the most conversions, with their conversion rate.

References
----------
.. [1] Google Analytics help, "About Multi-Channel Funnels: Path Length and Time Lag reports"
   (https://support.google.com/analytics/answer/1191204).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.exceptions import ParameterError
from attribution.journeys.journeys import NONE_CHANNEL, Journeys
from attribution.journeys.paths import PathTable
from attribution.kpis.report import ratio
from attribution.io.timeparse import NS_PER_DAY

#: Default time-lag bin edges in days: same day, then 1, 2-3, 4-7, 8-14, 15-30, 31-60 and over 60 days.
DEFAULT_LAG_EDGES = (0.0, 1.0, 2.0, 4.0, 8.0, 15.0, 31.0, 61.0)


def path_length_distribution(journeys: Journeys, max_length: int | None = None) -> pd.DataFrame:
    """Journeys, conversions and conversion rate per path length (number of touches).

    Parameters
    ----------
    journeys : Journeys
    max_length : int, optional
        Lengths above it are counted in one last row, ``touches = max_length`` and ``label = "≥ max_length"``.

    Returns
    -------
    pandas.DataFrame
        ``touches, label, journeys, conversions, nulls, conversion_rate``, one row per length present, by
        length; ``journeys = conversions + nulls``; ``conversion_rate = conversions / journeys``.
    """
    lengths = np.asarray(journeys.lengths, np.int64)
    if max_length is not None:
        if int(max_length) < 1:
            raise ParameterError(f"max_length must be at least 1. Got {max_length!r} instead.")
        lengths = np.minimum(lengths, int(max_length))
    size = int(lengths.max()) + 1 if len(lengths) else 0
    conv = np.bincount(lengths, journeys.conversions, minlength=size)
    nulls = np.bincount(lengths, journeys.nulls, minlength=size)
    touches = np.flatnonzero((conv + nulls) > 0)
    labels = touches.astype(str).astype(object)
    if max_length is not None and len(touches) and touches[-1] == int(max_length):
        labels[-1] = f"≥ {int(max_length)}"
    total = conv[touches] + nulls[touches]
    return pd.DataFrame({"touches": touches, "label": pd.Series(labels, dtype=object), "journeys": total,
                         "conversions": conv[touches], "nulls": nulls[touches],
                         "conversion_rate": ratio(conv[touches], total)})


def journey_time_lags(journeys: Journeys) -> pd.DataFrame:
    """Days from the first touch to the conversion of every converting journey with touches.

    Returns
    -------
    pandas.DataFrame
        ``journey, days, conversions, revenue``: the journey's index, its lag in (fractional) days, and what it
        stands for.

    Raises
    ------
    ParameterError
        For journeys without times (a path table).
    """
    if not journeys.has_times:
        raise ParameterError("Time lags need timestamps, which a path table does not have; use an event log.")
    rows = np.flatnonzero((journeys.conversions > 0) & (journeys.lengths > 0))
    first = journeys.touch_time[journeys.offsets[rows]]
    days = (journeys.end_time[rows] - first) / NS_PER_DAY
    return pd.DataFrame({"journey": rows, "days": days, "conversions": journeys.conversions[rows],
                         "revenue": journeys.revenue[rows]})


def time_lag_distribution(journeys: Journeys, edges=DEFAULT_LAG_EDGES) -> pd.DataFrame:
    """Conversions by the days from the journey's first touch to its conversion, in bins.

    Parameters
    ----------
    journeys : Journeys
    edges : sequence of float
        Increasing bin edges in days starting at 0; a bin holds ``edges[i] <= days < edges[i + 1]`` and the last
        one everything from ``edges[-1]`` on.

    Returns
    -------
    pandas.DataFrame
        ``days_from, days_to, label, conversions, share, revenue``, one row per bin (empty bins included);
        ``days_to`` is inf for the last bin; ``share`` = the bin's part of the converting journeys with touches.
    """
    edges = np.asarray(edges, float)
    if len(edges) < 1 or edges[0] != 0 or np.any(np.diff(edges) <= 0):
        raise ParameterError(f"Time-lag edges must start at 0 and increase. Got {edges.tolist()!r} instead.")
    lags = journey_time_lags(journeys)
    bins = np.searchsorted(edges, lags["days"].to_numpy(float), side="right") - 1
    conv = np.bincount(bins, lags["conversions"].to_numpy(float), minlength=len(edges))
    rev = np.bincount(bins, lags["revenue"].to_numpy(float), minlength=len(edges))
    upper = np.r_[edges[1:], np.inf]
    return pd.DataFrame({"days_from": edges, "days_to": upper,
                         "label": pd.Series([_lag_label(a, b) for a, b in zip(edges, upper)], dtype=object),
                         "conversions": conv, "share": ratio(conv, np.full(len(conv), conv.sum())),
                         "revenue": rev})


def _lag_label(lo: float, hi: float) -> str:
    """``<1 day``, ``1 day``, ``2–3 days``, ``≥ 61 days`` for the half-open bin [lo, hi) in days."""
    fmt = lambda v: f"{v:g}"  # noqa: E731
    if not np.isfinite(hi):
        return f"≥ {fmt(lo)} days"
    if lo == 0 and hi == 1:
        return "< 1 day"
    if float(lo).is_integer() and float(hi).is_integer():
        last = hi - 1
        if last == lo:
            return f"{fmt(lo)} day" if lo == 1 else f"{fmt(lo)} days"
        return f"{fmt(lo)}–{fmt(last)} days"
    return f"{fmt(lo)}–{fmt(hi)} days"


def top_paths(journeys: Journeys, n: int = 10, separator: str = " > ", by: str = "conversions") -> pd.DataFrame:
    """The ``n`` distinct paths with the most conversions (or revenue, or journeys).

    Parameters
    ----------
    journeys : Journeys
        Journeys of an event log or a path table (touchless conversions are the empty path ``(none)``).
    n : int
    separator : str
        Joins the channels of a path.
    by : {"conversions", "revenue", "journeys"}

    Returns
    -------
    pandas.DataFrame
        ``path, touches, journeys, conversions, nulls, revenue, conversion_rate``, most first; ties in path-text
        order, so the order is deterministic.
    """
    if by not in ("conversions", "revenue", "journeys"):
        raise ParameterError(f"by must be 'conversions', 'revenue' or 'journeys'. Got {by!r} instead.")
    if int(n) < 1:
        raise ParameterError(f"n must be at least 1. Got {n!r} instead.")

    table = PathTable.from_journeys(journeys).journeys  # distinct paths, sorted by path text
    values = {"conversions": table.conversions, "revenue": table.revenue,
              "journeys": table.conversions + table.nulls}[by]
    rows = np.argsort(-values, kind="stable")[: int(n)]  # stable: ties keep the path-text order
    pick = table.select(rows)
    paths = np.asarray(pick.path_strings(separator).to_pylist(), dtype=object)
    paths[pick.lengths == 0] = NONE_CHANNEL
    total = pick.conversions + pick.nulls
    return pd.DataFrame({"path": pd.Series(paths, dtype=object), "touches": pick.lengths.astype(np.int64),
                         "journeys": total, "conversions": pick.conversions, "nulls": pick.nulls,
                         "revenue": pick.revenue, "conversion_rate": ratio(pick.conversions, total)})
