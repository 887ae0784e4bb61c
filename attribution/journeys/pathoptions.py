"""Path options applied once to the built journeys, so every model, the KPI layer and every engine see the same
journeys: the conversion window of a daily job, channel exclusions, a path transform and a touch limit.

In this order:

1. **Conversion window** (``--conversions-from DATE --conversions-to DATE``, UTC days, both inclusive): only the
   converting journeys whose conversion falls in the window are kept. Non-converting journeys are left out (a
   daily job cannot know whether a user's latest touches will still convert), so that runs over consecutive
   windows add up to the run over their union for every model whose weights depend on the journey alone.
2. **Channel exclusion** (``--exclude-channel NAME``, repeatable): the touches of those channels are removed
   and the channels leave the vocabulary. The journeys themselves (which touches a conversion's lookback
   window holds) are those of the log as read. A converting journey left with no touch becomes touchless: its
   conversion is credited to ``(none)``; a non-converting journey left with no touch is dropped.
3. **Path transform** (``--path-transform``, as google/fractribution defines them), on (D, A, B, B, C, D, C, C):

   - ``unique``: unchanged;
   - ``exposure``: consecutive repeats of a channel collapse into one touch, the first of the run:
     (D, A, B, C, D, C);
   - ``first``: only the first touch of each channel: (D, A, B, C);
   - ``frequency``: one touch per distinct channel in first-occurrence order carrying its count:
     (D(2), A(1), B(2), C(3)). The kept touch is the channel's first; its count is stored as the touch's
     multiplicity (``Journeys.touch_multiplicity``). Models that split credit equally over touches (``linear``)
     weigh each touch by its multiplicity, so their channel credit is that of the untransformed path; every
     other model sees the sequence of distinct channels (as with ``first``).
4. **Touch limit** (``--max-touches N``): the last N touches of each journey are kept (after the transform).

Everything is vectorised over the flat touch arrays (no loop per journey).

References
----------
.. [1] google/fractribution (Apache-2.0), README: path transforms unique, exposure, first, frequency.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, replace

import numpy as np

from attribution.exceptions import ParameterError, option
from attribution.io.timeparse import NS_PER_DAY
from attribution.journeys.journeys import Journeys

TRANSFORMS = ("unique", "exposure", "first", "frequency")


@dataclass(frozen=True)
class PathOptions:
    """The path options of a run (picklable: the partitioned engines apply them to every partition).

    Attributes
    ----------
    transform : {"unique", "exposure", "first", "frequency"}
    exclude_channels : tuple of str
    max_touches : int or None
    conversions_from, conversions_to : datetime.date or None
        The conversion window (UTC days, inclusive).
    """

    transform: str = "unique"
    exclude_channels: tuple = ()
    max_touches: int | None = None
    conversions_from: _dt.date | None = None
    conversions_to: _dt.date | None = None

    @classmethod
    def of(cls, path_transform=None, exclude_channels=None, max_touches=None, conversions_from=None,
           conversions_to=None) -> "PathOptions | None":
        """Validated options from the command-line / keyword values; None when none is set."""
        transform = "unique" if path_transform is None else str(path_transform).strip().lower()
        if transform not in TRANSFORMS:
            raise ParameterError(f"The {option('path-transform', quoted=True)} option must be one of {', '.join(TRANSFORMS)}. "
                                 f"Got {path_transform!r} instead.")
        if isinstance(exclude_channels, str):
            exclude_channels = [exclude_channels]
        excluded = tuple(dict.fromkeys(str(c) for c in (exclude_channels or ())))
        if any(not c.strip() for c in excluded):
            raise ParameterError(f"The {option('exclude-channel', quoted=True)} option must name a channel. Got an empty name instead.")
        if max_touches is not None:
            ok = isinstance(max_touches, (int, np.integer)) and not isinstance(max_touches, bool) and max_touches >= 1
            if not ok:
                raise ParameterError(f"The {option('max-touches', quoted=True)} option must be a whole number >= 1. Got {max_touches!r} "
                                     "instead.")
            max_touches = int(max_touches)
        start = _date(f"{option('conversions-from')}", conversions_from)
        end = _date(f"{option('conversions-to')}", conversions_to)
        if start is not None and end is not None and end < start:
            raise ParameterError(f"The {option('conversions-to', quoted=True)} date ({end}) is before the {option('conversions-from', quoted=True)} date "
                                 f"({start}).")
        options = cls(transform, excluded, max_touches, start, end)
        return None if options == cls() else options

    @property
    def window(self) -> tuple[int | None, int | None]:
        """The conversion window as UTC epoch nanoseconds [start, end) (None = open)."""
        return _day_ns(self.conversions_from), _day_ns(self.conversions_to, 1)

    def read_range(self, lookback_days: float | None) -> tuple[int | None, int | None]:
        """The timestamps the window's journeys can use: from ``lookback_days`` before its start to its end."""
        lo, hi = self.window
        if lo is not None:
            lo = None if lookback_days is None else lo - int(round(float(lookback_days) * NS_PER_DAY))
        return lo, hi

    def without_window(self) -> "PathOptions":
        return replace(self, conversions_from=None, conversions_to=None)


def _date(option: str, value) -> _dt.date | None:
    if value is None or isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value
    if isinstance(value, _dt.datetime):
        return value.date()
    try:
        return _dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(f"The '{option}' option must be a date such as 2024-03-01. "
                             f"Got {value!r} instead.") from None


def _day_ns(day: _dt.date | None, plus: int = 0) -> int | None:
    if day is None:
        return None
    return ((day - _dt.date(1970, 1, 1)).days + plus) * NS_PER_DAY


def apply_path_options(journeys, options: PathOptions | None):
    """The journeys with the conversion window, exclusions, transform and touch limit of ``options`` applied."""
    if options is None:
        return journeys
    if options.conversions_from is not None or options.conversions_to is not None:
        journeys = conversion_window(journeys, *options.window)
    if options.exclude_channels:
        journeys = exclude_channels(journeys, options.exclude_channels)
    if options.transform != "unique":
        journeys = transform_paths(journeys, options.transform)
    if options.max_touches is not None:
        journeys = keep_touches(journeys, journeys.touch_position >= journeys.lengths[journeys.touch_journey]
                                - options.max_touches)
    journeys.meta["path_options"] = options
    return journeys


def conversion_window(journeys, start: int | None, end: int | None):
    """Only the converting journeys whose conversion time is in [start, end)."""
    if journeys.end_time is None:
        raise ParameterError(f"{option('conversions-from')} / {option('conversions-to')} need conversion times: run them on an event log "
                             "(a path table has none).")
    keep = journeys.conversions > 0
    if start is not None:
        keep &= journeys.end_time >= start
    if end is not None:
        keep &= journeys.end_time < end
    return journeys.select(np.flatnonzero(keep))


def exclude_channels(journeys, names):
    """Remove the touches of the channels ``names`` (and those channels from the vocabulary)."""
    vocab = np.asarray(journeys.channel_names, dtype=object).astype(str)
    gone = np.isin(vocab, list(names))
    if not gone.any():
        return journeys
    out = keep_touches(journeys, ~gone[journeys.touch_channel])
    remap = np.cumsum(~gone) - 1
    out.channel_names = journeys.channel_names[~gone]
    out.touch_channel = remap[out.touch_channel].astype(np.int64)
    empty_null = (out.lengths == 0) & (out.conversions <= 0) & (journeys.lengths > 0)
    if empty_null.any():
        out = out.select(np.flatnonzero(~empty_null))
    return out


def transform_paths(journeys, transform: str):
    """Apply ``exposure``, ``first`` or ``frequency`` (see the module notes) to every journey at once."""
    ch = journeys.touch_channel
    jid = journeys.touch_journey
    if transform == "exposure":
        keep = np.ones(len(ch), bool)
        keep[1:] = (ch[1:] != ch[:-1]) | (jid[1:] != jid[:-1])
        return keep_touches(journeys, keep)
    # first occurrence of every (journey, channel): a stable sort by that key keeps time order within it
    key = jid * np.int64(max(journeys.n_channels, 1)) + ch
    order = np.argsort(key, kind="stable")
    sk = key[order]
    starts = np.ones(len(sk), bool)
    starts[1:] = sk[1:] != sk[:-1]
    keep = np.zeros(len(ch), bool)
    keep[order[starts]] = True
    if transform == "first":
        return keep_touches(journeys, keep)
    mult = journeys.touch_multiplicity if journeys.touch_multiplicity is not None else np.ones(len(ch), np.int64)
    group = np.cumsum(starts) - 1
    counts = np.bincount(group, mult[order]).astype(np.int64) if len(ch) else np.zeros(0, np.int64)
    multiplicity = np.zeros(len(ch), np.int64)
    multiplicity[order[starts]] = counts
    out = keep_touches(journeys, keep)
    out.touch_multiplicity = multiplicity[keep]
    return out


def keep_touches(journeys, keep: np.ndarray):
    """The journeys with only the touches ``keep`` (every journey kept, offsets recomputed)."""
    counts = np.bincount(journeys.touch_journey[keep], minlength=journeys.n_journeys)
    offsets = np.zeros(journeys.n_journeys + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    pick = lambda a: None if a is None else a[keep]  # noqa: E731
    return Journeys(
        channel_names=journeys.channel_names, touch_channel=journeys.touch_channel[keep], offsets=offsets,
        conversions=journeys.conversions, nulls=journeys.nulls, revenue=journeys.revenue,
        touch_time=pick(journeys.touch_time), end_time=journeys.end_time, user=journeys.user,
        user_ids=journeys.user_ids, touch_campaign=pick(journeys.touch_campaign),
        campaign_names=journeys.campaign_names, touch_row=pick(journeys.touch_row),
        conversion_row=journeys.conversion_row, lookback_days=journeys.lookback_days, meta=dict(journeys.meta),
        milestone_times=journeys.milestone_times, touch_multiplicity=pick(journeys.touch_multiplicity),
    )
