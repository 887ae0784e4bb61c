"""Path reports from journeys: top converting paths, path lengths, time lags and early / middle / late credit.

All four are computed from a :class:`~attribution.journeys.journeys.Journeys` with array operations (one group-by
over path strings, bincounts over lengths, days and channels). ``attribution paths`` prints or writes them.

Rules (``docs/path-reports.md``, "attribution paths"):

* a *path* is a journey's channels in time order joined by ``" > "``; a conversion without touches has the path
  ``(none)``. ``journeys`` counts converting and non-converting journeys with that path, ``conversion_rate`` is
  conversions / journeys;
* *path length* is the number of touches of a converting journey; *time lag* is the whole number of days
  (rounded down) from the journey's first touch to its conversion (touchless conversions have no lag);
* *early / middle / late* credit (as GA4's conversion paths report): every touch of a journey of ``n`` touches
  spans ``[i/n, (i+1)/n)`` of the journey and carries ``1/n`` of its conversions (linear credit); the first
  25 % of the span is early, the middle 50 % middle, the last 25 % late. A touch that straddles a boundary is
  split in proportion to its span on each side, so a one-touch journey gives 25 % / 50 % / 25 % to its only
  channel, and every converting journey gives exactly 25 % / 50 % / 25 % of its conversions.

References
----------
.. [1] Google Analytics help, "[GA4] Conversion paths" (early, mid and late touchpoints; path length; days
   to conversion).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.io.timeparse import NS_PER_DAY
from attribution.journeys.journeys import Journeys

NONE_PATH = "(none)"
#: position segments of a journey's span: (name, start, end)
SEGMENTS = (("early", 0.0, 0.25), ("middle", 0.25, 0.75), ("late", 0.75, 1.0))


def top_paths(journeys: Journeys, top: int | None = None, separator: str = " > ") -> pd.DataFrame:
    """Distinct paths with ``path, conversions, journeys, conversion_rate, revenue``, most conversions first
    (ties: more journeys, then the path), the first ``top`` of them (all with None)."""
    paths = journeys.path_strings(separator)
    paths = pc.if_else(pc.equal(paths, ""), NONE_PATH, paths)
    table = pa.table({"path": paths, "conversions": journeys.conversions, "nulls": journeys.nulls,
                      "revenue": journeys.revenue})
    grouped = table.group_by("path", use_threads=False).aggregate(
        [("conversions", "sum"), ("nulls", "sum"), ("revenue", "sum")]).to_pandas()
    frame = pd.DataFrame({"path": grouped["path"].astype(object), "conversions": grouped["conversions_sum"],
                          "journeys": grouped["conversions_sum"] + grouped["nulls_sum"],
                          "revenue": grouped["revenue_sum"]})
    frame["conversion_rate"] = frame["conversions"] / frame["journeys"].where(frame["journeys"] > 0)
    frame = frame.sort_values(["conversions", "journeys", "path"], ascending=[False, False, True], kind="stable",
                              ignore_index=True)
    frame = frame[["path", "conversions", "journeys", "conversion_rate", "revenue"]]
    return frame if top is None else frame.head(int(top)).reset_index(drop=True)


def path_lengths(journeys: Journeys) -> pd.DataFrame:
    """Converting journeys by number of touches: ``touches, conversions, revenue, share`` (of conversions)."""
    converting = journeys.conversions > 0
    return _distribution(journeys, converting, journeys.lengths[converting], "touches")


def time_lags(journeys: Journeys) -> pd.DataFrame:
    """Converting journeys with touches by whole days from first touch to conversion: ``days, conversions,
    revenue, share``."""
    if not journeys.has_times:
        raise ValueError("time lags need journeys built from an event log (touch and conversion times)")
    has = (journeys.conversions > 0) & (journeys.lengths > 0)
    first = journeys.touch_time[journeys.offsets[:-1][has]]
    days = (journeys.end_time[has] - first) // NS_PER_DAY
    return _distribution(journeys, has, days, "days")


def position_credit(journeys: Journeys) -> pd.DataFrame:
    """Early / middle / late conversion credit per channel (rule in the module notes): ``channel, early,
    middle, late, conversions``, channels in name order."""
    n = journeys.lengths[journeys.touch_journey].astype(np.float64)
    lo = journeys.touch_position / np.where(n > 0, n, 1.0)
    hi = (journeys.touch_position + 1) / np.where(n > 0, n, 1.0)
    conv = journeys.touch_conversions
    k = journeys.n_channels
    out = {"channel": [str(c) for c in journeys.channel_names]}
    total = np.zeros(k)
    for name, a, b in SEGMENTS:
        share = np.clip(np.minimum(hi, b) - np.maximum(lo, a), 0.0, None)  # overlap of the touch's span
        out[name] = np.bincount(journeys.touch_channel, weights=share * conv, minlength=k)
        total += out[name]
    out["conversions"] = total
    return pd.DataFrame(out)


def _distribution(journeys: Journeys, rows: np.ndarray, values: np.ndarray, name: str) -> pd.DataFrame:
    """Conversions and revenue of the journeys ``rows`` summed by their whole-number ``values``: ``name,
    conversions, revenue, share``, one row per value with conversions."""
    conv = np.bincount(values, weights=journeys.conversions[rows]) if values.size else np.zeros(0)
    rev = np.bincount(values, weights=journeys.revenue[rows]) if values.size else np.zeros(0)
    keep = np.flatnonzero(conv > 0)
    return _with_share(pd.DataFrame({name: keep.astype(np.int64), "conversions": conv[keep], "revenue": rev[keep]}))


def _with_share(frame: pd.DataFrame) -> pd.DataFrame:
    total = frame["conversions"].sum()
    frame["share"] = frame["conversions"] / total if total > 0 else np.nan
    return frame


def path_report(journeys: Journeys, top: int | None = 20, separator: str = " > ") -> dict[str, pd.DataFrame]:
    """The four reports by name: ``top_paths``, ``path_length``, ``time_lag``, ``position``."""
    return {"top_paths": top_paths(journeys, top, separator), "path_length": path_lengths(journeys),
            "time_lag": time_lags(journeys), "position": position_credit(journeys)}


def tidy_report(reports: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The reports as one long table for files and BI tools: ``report, key`` (the path, touches, days or
    channel, as text) and the union of the metric columns (empty where a report has none)."""
    keys = {"top_paths": "path", "path_length": "touches", "time_lag": "days", "position": "channel"}
    parts = []
    for name, frame in reports.items():
        part = frame.rename(columns={keys[name]: "key"})
        part.insert(0, "report", name)
        part["key"] = part["key"].astype(str)
        parts.append(part)
    columns = ["report", "key", "conversions", "journeys", "conversion_rate", "revenue", "share", "early",
               "middle", "late"]
    return pd.concat(parts, ignore_index=True).reindex(columns=columns)
