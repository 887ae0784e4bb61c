"""Customer journeys as columnar arrays (SPEC 2).

A :class:`Journeys` holds every journey of a run as flat touch arrays cut by ``offsets`` plus one entry per
journey. It is built once, from an event log (:meth:`Journeys.from_events`) or a path table
(:meth:`Journeys.from_paths`), and handed to every model. Each journey carries a conversion count and a null
(non-conversion) count; from an event log they are 1/0 or 0/1, from a path table they are the (possibly
fractional) counts of that distinct path. Models credit ``weight × conversions`` and ``weight × revenue``.

Journey rules (SPEC 2):

- events are ordered per user by timestamp; at equal timestamps touches come before conversions, otherwise the
  input order is kept (stable sort);
- each conversion closes one journey with the user's touches after the previous conversion that are no older
  than the lookback window before it (a touch exactly ``lookback`` old is inside the window);
- the touches after a user's last conversion form one non-converting journey, limited to the lookback window
  counted back from that user's last touch;
- a conversion with no touch in its window is a touchless conversion (zero touches); models credit it to
  ``(none)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attribution.kernels.encoding import compact_codes, positions, segment_ids, take_segments
from attribution.io.events import TOUCH_EVENT, Events
from attribution.io.timeparse import NS_PER_DAY
from attribution.kernels.userorder import DeferredIds, code_time_order, user_time_order
from attribution.journeys.milestones import NO_MILESTONE, milestone_rows, split_milestones  # noqa: F401 - re-exported
from attribution.kernels.constants import BASELINE_CHANNEL, NONE_CHANNEL  # noqa: F401 - re-exported

DEFAULT_LOOKBACK_DAYS = 30.0


@dataclass(eq=False)
class Journeys:
    """Columnar journeys.

    Attributes
    ----------
    channel_names : numpy.ndarray of str
        Sorted channel vocabulary; ``touch_channel`` indexes it.
    touch_channel : numpy.ndarray of int64, shape (T,)
        Channel code of every touch, journeys one after another, touches in time order.
    offsets : numpy.ndarray of int64, shape (J + 1,)
        Journey ``j`` owns touches ``offsets[j]:offsets[j + 1]``.
    conversions, nulls, revenue : numpy.ndarray of float64, shape (J,)
        Conversions, non-converting journeys and revenue each journey stands for.
    touch_time : numpy.ndarray of int64 (UTC epoch ns), shape (T,), or None for path tables
    end_time : numpy.ndarray of int64, shape (J,), or None
        Conversion time of a converting journey; last touch time of a non-converting one.
    user : numpy.ndarray of int64, shape (J,), or None
        Index into ``user_ids``.
    user_ids : pyarrow.Array or None
        Distinct user ids (in the order of their hash from an event log; see :mod:`attribution.kernels.userorder`).
    touch_campaign : numpy.ndarray of int64 (-1 = none), or None; ``campaign_names`` is its vocabulary.
    touch_row : numpy.ndarray of int64, or None
        Position of each touch in the validated event table (for detail exports).
    conversion_row : numpy.ndarray of int64 (-1 for non-converting journeys), or None
    lookback_days : float or None
        The lookback the journeys were built with (None = unlimited).
    milestone_times : dict of str to numpy.ndarray of int64, shape (J,), or None
        Per milestone event name, the time of its first occurrence within each journey (the user's rows after the
        previous conversion, up to and including this journey's conversion); ``NO_MILESTONE`` where it does not
        occur (:mod:`attribution.journeys.milestones`).
    touch_multiplicity : numpy.ndarray of int64, shape (T,), or None
        How many touches of the log each touch stands for (the ``frequency`` path transform); None = one each.
    """

    channel_names: np.ndarray
    touch_channel: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    revenue: np.ndarray
    touch_time: np.ndarray | None = None
    end_time: np.ndarray | None = None
    user: np.ndarray | None = None
    user_ids: pa.Array | None = None
    touch_campaign: np.ndarray | None = None
    campaign_names: np.ndarray | None = None
    touch_row: np.ndarray | None = None
    conversion_row: np.ndarray | None = None
    lookback_days: float | None = DEFAULT_LOOKBACK_DAYS
    meta: dict = field(default_factory=dict)
    milestone_times: dict | None = None
    touch_multiplicity: np.ndarray | None = None

    # ------------------------------------------------------------------ sizes and derived arrays
    @property
    def n_journeys(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_touches(self) -> int:
        return int(self.offsets[-1])

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)

    @cached_property
    def lengths(self) -> np.ndarray:
        """Touches per journey."""
        return np.diff(self.offsets)

    @cached_property
    def touch_journey(self) -> np.ndarray:
        """Journey index of every touch."""
        return segment_ids(self.offsets)

    @cached_property
    def touch_position(self) -> np.ndarray:
        """0-based position of every touch within its journey."""
        return positions(self.offsets, self.touch_journey)

    @cached_property
    def touch_conversions(self) -> np.ndarray:
        """The conversions of every touch's journey (what a touch weight multiplies), shared by the models."""
        return self.conversions[self.touch_journey]

    @cached_property
    def touch_revenue(self) -> np.ndarray:
        """The revenue of every touch's journey."""
        return self.revenue[self.touch_journey]

    @cached_property
    def crediting(self) -> "Journeys":
        """The journeys that carry conversions or revenue (``self`` when every journey does), in order.

        A model whose touch weights depend on each journey alone credits from these only: the touches of every
        other journey add exactly 0 to each channel's sums (weight × 0), and typically most journeys do not
        convert.
        """
        keep = (self.conversions != 0) | (self.revenue != 0)
        if keep.all():
            return self
        return self.select(np.flatnonzero(keep))

    @property
    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    @property
    def total_revenue(self) -> float:
        return float(self.revenue.sum())

    @property
    def has_times(self) -> bool:
        return self.touch_time is not None and self.end_time is not None

    def touchless(self) -> np.ndarray:
        """Mask of journeys without touches (their conversions go to ``(none)``)."""
        return self.lengths == 0

    # ------------------------------------------------------------------ constructors
    @classmethod
    def from_events(
        cls,
        events: Events,
        *,
        conversion_events=("conversion",),
        lookback_days: float | None = DEFAULT_LOOKBACK_DAYS,
        milestone_events=(),
    ) -> "Journeys":
        """Build journeys from a validated event log (SPEC 2), fully vectorised.

        Parameters
        ----------
        events : Events
        conversion_events : sequence of str
            Event names that close a journey (a lead milestone can be used as the conversion to attribute leads).
        lookback_days : float or None
            Touches older than this before the conversion (or the user's last touch) belong to no journey.
        milestone_events : sequence of str
            Funnel milestones (lead, opportunity, ...) whose times the milestone models need
            (``milestone_times``); their rows are no touches and close no journey.

        Notes
        -----
        Channel exclusions, path transforms, touch limits and conversion windows are applied to built journeys
        by :func:`attribution.journeys.pathoptions.apply_path_options`; the distinct-path table of journeys is
        :meth:`attribution.journeys.paths.PathTable.from_journeys`.
        """
        return cls._from_events(events, [str(e) for e in conversion_events], lookback_days,
                                [str(m) for m in milestone_events])

    @classmethod
    def _from_events(cls, events: Events, conversion_events: list, lookback_days, milestone_events: list
                     ) -> "Journeys":
        mile_names = list(dict.fromkeys(m for m in milestone_events if m not in conversion_events))
        kept_rows, conv, mile = _journey_rows(events, conversion_events, mile_names)
        all_rows = kept_rows is None
        pick = (lambda a: a) if all_rows else (lambda a: a[kept_rows])  # noqa: E731
        ts = pick(_int64(events.column("timestamp")))
        # stable sort by (user, time, conversion flag): ties keep input order, touches before conversions
        order, first_of_user, user_ids, (sorted_ts, sorted_conv) = _user_time_order(events, kept_rows, conv, ts)
        channel_codes, channel_names, campaign_codes, campaign_names = _touch_vocabularies(events, pick, conv, mile)
        ts, conv = sorted_ts, sorted_conv
        del sorted_ts, sorted_conv
        marks = None
        if mile is not None:  # milestone rows leave the sequence; where they stood is kept (milestones.py)
            ts, conv, order, first_of_user, user_ids, marks = split_milestones(ts, conv, order, first_of_user,
                                                                               user_ids, mile[order])
        if len(order) == 0:
            return cls._empty(user_ids, campaign_names, lookback_days, conversion_events, milestone_events, mile_names)

        seg_start, seg, n_seg, end_idx = _segments(first_of_user, conv)
        converted = conv[end_idx]
        ref = ts[end_idx]
        kept = _kept_touches(ts, conv, ref, seg, lookback_days)
        counts = np.bincount(seg[kept], minlength=n_seg)
        milestone_times = None if marks is None else marks.journey_times(seg, conv, ts, n_seg, mile_names)
        del seg
        offsets = np.zeros(n_seg + 1, np.int64)
        np.cumsum(counts, out=offsets[1:])
        conversions = converted.astype(np.float64)
        user = np.cumsum(first_of_user[np.flatnonzero(seg_start)]) - 1  # journeys starting a user step it
        del first_of_user, seg_start
        # gather per-row columns only where they are needed: kept touches and journey ends (temporaries are
        # dropped as soon as they are used: this is the peak of a run's memory)
        touch_time = ts[kept]
        del ts
        touch_src = order[kept]
        del kept
        end_src = order[end_idx]
        del order
        row_of = (lambda i: i) if all_rows else (lambda i: kept_rows[i])  # noqa: E731
        end_rows = row_of(end_src)
        revenue = _float64(events.column("revenue"))[end_rows]
        touch_channel = channel_codes[touch_src].astype(np.int64, copy=False)
        del channel_codes
        touch_campaign = None
        if campaign_codes is not None:
            touch_campaign = campaign_codes[touch_src].astype(np.int64, copy=False)
            del campaign_codes
        return cls(
            channel_names=_names(channel_names),
            touch_channel=touch_channel,
            offsets=offsets,
            conversions=conversions,
            nulls=1.0 - conversions,
            revenue=np.where(converted, revenue, 0.0),
            touch_time=touch_time,
            end_time=ref,
            user=user,
            user_ids=user_ids,
            touch_campaign=touch_campaign,
            campaign_names=_names(campaign_names) if campaign_names is not None else None,
            touch_row=row_of(touch_src),
            conversion_row=np.where(converted, end_rows, -1),
            lookback_days=lookback_days,
            meta={"conversion_events": conversion_events, "milestone_events": milestone_events},
            milestone_times=milestone_times,
        )

    @classmethod
    def _empty(cls, user_ids, campaign_names, lookback_days, conversion_events, milestone_events, mile_names
               ) -> "Journeys":
        """No journey: every array empty, the vocabularies and the run's parameters kept."""
        empty_i = np.zeros(0, np.int64)
        return cls(np.array([], dtype=object), empty_i, np.zeros(1, np.int64), np.zeros(0), np.zeros(0),
                   np.zeros(0), empty_i, empty_i, empty_i, user_ids, empty_i if campaign_names is not None else None,
                   _names(campaign_names) if campaign_names is not None else None, empty_i, empty_i,
                   lookback_days, {"conversion_events": conversion_events, "milestone_events": milestone_events},
                   {m: np.zeros(0, np.int64) for m in mile_names} if mile_names else None)

    # ------------------------------------------------------------------ views
    def select(self, rows: np.ndarray) -> "Journeys":
        """A new Journeys holding only the journeys ``rows`` (in that order)."""
        rows = np.asarray(rows, np.int64)
        flat, offsets = take_segments(self.offsets, rows)
        pick = lambda a: None if a is None else a[flat]  # noqa: E731
        pickj = lambda a: None if a is None else a[rows]  # noqa: E731
        miles = None if self.milestone_times is None else {k: v[rows] for k, v in self.milestone_times.items()}
        return Journeys(
            channel_names=self.channel_names, touch_channel=self.touch_channel[flat], offsets=offsets,
            conversions=self.conversions[rows], nulls=self.nulls[rows], revenue=self.revenue[rows],
            touch_time=pick(self.touch_time), end_time=pickj(self.end_time), user=pickj(self.user),
            user_ids=self.user_ids, touch_campaign=pick(self.touch_campaign), campaign_names=self.campaign_names,
            touch_row=pick(self.touch_row), conversion_row=pickj(self.conversion_row),
            lookback_days=self.lookback_days, meta=dict(self.meta), milestone_times=miles,
            touch_multiplicity=pick(self.touch_multiplicity),
        )

    def path_strings(self, separator: str = " > ") -> pa.Array:
        """Every journey's path as one string (channels joined by ``separator``)."""
        names = pa.array(self.channel_names.tolist(), pa.string())
        values = names.take(pa.array(self.touch_channel)) if self.n_touches else pa.array([], pa.string())
        lists = pa.ListArray.from_arrays(pa.array(self.offsets.astype(np.int32)), values)
        return pc.binary_join(lists, separator)

    def __repr__(self) -> str:
        return (f"Journeys({self.n_journeys:,} journeys, {self.n_touches:,} touches, {self.n_channels} channels, "
                f"{self.total_conversions:,.6g} conversions)")


def _journey_rows(events: Events, conversion_events: list, mile_names: list):
    """The rows journeys are built from (touches, conversions, milestones): their indices (``None`` for every
    row), and for those rows the conversion flag and the milestone code (``None`` without milestones).
    Every string column is handled as int codes into a sorted vocabulary (no per-row strings moved)."""
    ev_codes, ev_vocab = events.codes("event")
    ev_names = np.asarray(ev_vocab.to_pylist(), dtype=object)
    conv_code = np.isin(ev_names, conversion_events)
    touch_code = ev_names == TOUCH_EVENT
    is_conv_all = np.append(conv_code, False)[ev_codes]  # code -1 (null) → last entry, False
    keep = is_conv_all | np.append(touch_code, False)[ev_codes]
    mile_all = milestone_rows(ev_names, ev_codes, mile_names)
    if mile_all is not None:
        keep |= mile_all >= 0
    if keep.all():
        return None, is_conv_all, mile_all
    kept_rows = np.flatnonzero(keep).astype(np.int64)
    return kept_rows, is_conv_all[kept_rows], None if mile_all is None else mile_all[kept_rows]


def _segments(first_of_user: np.ndarray, conv: np.ndarray):
    """Journeys over the (user, time)-sorted rows: a journey starts at a user's first row and after each
    conversion. Returns the start flags, each row's journey, the number of journeys and each journey's last row."""
    seg_start = first_of_user.copy()
    seg_start[1:] |= conv[:-1]
    seg = np.cumsum(seg_start)
    seg -= 1
    seg_end = np.empty(len(conv), bool)
    seg_end[:-1] = seg_start[1:]
    seg_end[-1] = True
    return seg_start, seg, int(seg[-1]) + 1, np.flatnonzero(seg_end)


def _touch_vocabularies(events: Events, pick, conv: np.ndarray, mile):
    """Channel and campaign codes of the kept rows with their compact vocabularies, from every touch (and
    campaign) row, whatever the journeys keep: order-independent. Campaigns are ``None`` without the column."""
    not_touch = conv if mile is None else conv | (mile >= 0)
    ch_codes, ch_vocab = events.codes("channel")
    channel_codes, channel_names = compact_codes(np.where(not_touch, -1, pick(ch_codes)), ch_vocab)
    campaign_codes = campaign_names = None
    if "campaign" in events.column_names:
        cp_codes, cp_vocab = events.codes("campaign")
        cp = pick(cp_codes) if mile is None else np.where(mile >= 0, -1, pick(cp_codes))
        campaign_codes, campaign_names = compact_codes(cp, cp_vocab)
    return channel_codes, channel_names, campaign_codes, campaign_names


def _user_time_order(events: Events, rows: np.ndarray | None, conv: np.ndarray, ts: np.ndarray):
    """The order of the kept rows by (user, timestamp, conversion flag, input position), a flag per row in that
    order marking each user's first row, the distinct user ids (in the order the users come), and the rows'
    timestamps and conversion flags in that order.

    Users are grouped by an exact 64-bit hash of their ids (:mod:`attribution.kernels.userorder`); should two distinct
    ids share a hash, by their sorted dictionary codes instead. Either way each user's rows are in the SPEC 2
    order and the result does not depend on the input's row order.
    """
    column = events.column("user_id")
    if "user_id" not in events.encodings and not column.null_count:
        order, first, user_rows, exact, times = user_time_order(_hashed_ids(events, column), conv, ts, rows,
                                                                sorted_times=True)
        if exact:
            return order, first, DeferredIds(column, user_rows), times
    codes, vocab = events.codes("user_id")
    users, user_ids = compact_codes(codes if rows is None else codes[rows], vocab)
    order, sorted_users = code_time_order(users + 1, conv, ts)  # a null id (-1) groups apart
    first = np.ones(len(order), bool)
    np.not_equal(sorted_users[1:], sorted_users[:-1], out=first[1:])
    return order, first, user_ids, (ts[order], conv[order])


def _kept_touches(ts: np.ndarray, conv: np.ndarray, ref: np.ndarray, seg: np.ndarray, lookback_days) -> np.ndarray:
    """The sorted rows that are touches within ``lookback_days`` of their journey's end ``ref[seg]`` (every touch
    without a lookback); the age temporary is freed on return."""
    touch = ~conv
    if lookback_days is not None:
        limit = np.int64(round(float(lookback_days) * NS_PER_DAY))
        age = ref[seg]
        age -= ts
        touch &= age <= limit
    return np.flatnonzero(touch)


def _hashed_ids(events: Events, column):
    """The user ids' hashes started while the log was validated, else the id column (hashed when used)."""
    hashed = events.take_user_hashes()
    return hashed if hashed is not None and hashed.n == len(column) else column


def _int64(col) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)


def _float64(col) -> np.ndarray:
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


def _names(arr) -> np.ndarray:
    return np.array(arr.to_pylist() if hasattr(arr, "to_pylist") else list(arr), dtype=object)
