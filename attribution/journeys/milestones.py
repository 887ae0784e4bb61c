"""Funnel milestones inside journeys (lead, opportunity, closed-won), for the milestone models.

A milestone is an event of the log (``--milestone-event``) that is neither a touch nor a conversion. While
journeys are built its rows are sorted with the touches and conversions of the user, then taken out of the
sequence; each occurrence belongs to the journey of the user's rows around it:

- a milestone before a user's conversion (or at its timestamp) belongs to the journey that conversion closes,
  if no earlier conversion of the user follows the milestone;
- a milestone after the user's last conversion belongs to the non-converting journey of the touches after that
  conversion (none when no touch follows the conversion);
- a user's milestone rows with no touch or conversion of that user form no journey.

A journey's milestone time is the **first** occurrence of the milestone in that journey (``milestone_times``);
its **milestone touch** is the last touch of the journey at or before that time (:func:`milestone_touch`),
ties of time included. A milestone that does not occur in the journey, or occurs before the journey's first
touch (say, before the lookback window), has no milestone touch: it is *missing*. The closed-won milestone is
by default the conversion itself, whose milestone touch is the journey's last touch.

References
----------
.. [1] HubSpot, "Understand attribution reporting" (W-shaped, full path: first interaction, lead creation,
   deal creation, closed won).
.. [2] Marketo Measure (Bizible), "Attribution models" (U-shaped, W-shaped, full path touchpoints).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from attribution.kernels.encoding import unique_sorted
from attribution.kernels.userorder import DeferredIds

_NOT_SEEN = np.iinfo(np.int64).max
#: ``milestone_times`` entry of a journey in which the milestone does not occur (no touch is at or before it)
NO_MILESTONE = np.iinfo(np.int64).min


@dataclass
class MilestoneMarks:
    """Where the milestone rows stood in the sorted sequence of a user's touches and conversions.

    Attributes
    ----------
    next_row : numpy.ndarray of int64
        Index (in the sequence without milestones) of the first row after each milestone row.
    user : numpy.ndarray of int64
        User code of each milestone row (in the numbering of the sequence without milestones, -1 for a user
        with milestone rows only).
    time : numpy.ndarray of int64
    name : numpy.ndarray of int64
        Index of the milestone's name in the list of milestone names.
    row_user : numpy.ndarray of int64
        User code of every row of the sequence without milestones.
    """

    next_row: np.ndarray
    user: np.ndarray
    time: np.ndarray
    name: np.ndarray
    row_user: np.ndarray

    def journey_times(self, seg: np.ndarray, conv: np.ndarray, ts: np.ndarray, n_seg: int, names) -> dict:
        """Each milestone's first time in every journey (``NO_MILESTONE`` where it does not occur).

        ``seg`` is the journey of every row of the sequence without milestones, ``conv`` its conversion flags.
        """
        n = len(seg)
        journey = np.full(len(self.time), -1, np.int64)
        if n:
            nxt = np.minimum(self.next_row, n - 1)
            prev = np.maximum(self.next_row - 1, 0)
            same_next = (self.next_row < n) & (self.row_user[nxt] == self.user)
            same_prev = (self.next_row > 0) & (self.row_user[prev] == self.user) & ~conv[prev]
            journey = np.where(same_next, seg[nxt], np.where(same_prev, seg[prev], -1))
        out = {}
        for i, name in enumerate(names):
            times = np.full(n_seg, _NOT_SEEN, np.int64)
            sel = (journey >= 0) & (self.name == i)
            np.minimum.at(times, journey[sel], self.time[sel])
            times[times == _NOT_SEEN] = NO_MILESTONE
            out[name] = times
        return out


def milestone_rows(event_names: np.ndarray, event_codes: np.ndarray, milestones: list):
    """Index of every row's event in ``milestones`` (-1 for other events), or None without milestones."""
    if not milestones:
        return None
    of_code = np.full(len(event_names) + 1, -1, np.int64)  # code -1 (null event) → the last entry
    for i, name in enumerate(milestones):
        of_code[:-1][event_names == name] = i
    return of_code[event_codes]


def split_milestones(ts, conv, order, first_of_user, user_ids, mile):
    """Take the milestone rows (``mile >= 0``) out of the user-time sorted sequence.

    Returns the sequence's ``ts, conv, order, first_of_user`` without them, the user ids without users that have
    milestone rows only, and the :class:`MilestoneMarks` of the milestone rows.
    """
    is_mile = mile >= 0
    user = np.cumsum(first_of_user) - 1
    core = np.flatnonzero(~is_mile)
    at = np.flatnonzero(is_mile)
    next_row = np.cumsum(~is_mile)[at] if len(at) else np.zeros(0, np.int64)
    row_user = user[core]
    n_users = int(user[-1]) + 1 if len(user) else 0
    present = unique_sorted(row_user)
    m_user = user[at]
    if len(present) < n_users:  # users with milestone rows only: no journey, no entry in the ids
        pos = np.searchsorted(present, m_user)
        ok = pos < len(present)
        ok[ok] = present[pos[ok]] == m_user[ok]
        m_user = np.where(ok, pos, -1)
        row_user = np.searchsorted(present, row_user)
        user_ids = _subset_ids(user_ids, present)
    first = np.ones(len(core), bool)
    if len(core):
        np.not_equal(row_user[1:], row_user[:-1], out=first[1:])
    marks = MilestoneMarks(next_row.astype(np.int64), m_user.astype(np.int64), ts[at], mile[at].astype(np.int64),
                           row_user.astype(np.int64))
    return ts[core], conv[core], order[core], first, user_ids, marks


def _subset_ids(user_ids, rows: np.ndarray):
    """The ids ``rows`` of ``user_ids`` (a pyarrow array or :class:`~attribution.kernels.userorder.DeferredIds`)."""
    if isinstance(user_ids, DeferredIds) and user_ids._value is None:
        return DeferredIds(user_ids._column, user_ids._rows[rows])
    return user_ids.take(pa.array(rows, pa.int64()))


def conversion_touch(journeys) -> np.ndarray:
    """The last touch (flat index) of every converting journey; -1 for the others and touchless ones."""
    out = np.full(journeys.n_journeys, -1, np.int64)
    sel = (journeys.lengths > 0) & (journeys.conversions > 0)
    out[sel] = journeys.offsets[1:][sel] - 1
    return out


def milestone_touch(journeys, name: str | None) -> np.ndarray:
    """The milestone touch of every journey: the last touch at or before the milestone's first time in it.

    Parameters
    ----------
    journeys : Journeys
    name : str or None
        The milestone event; a conversion event of the journeys (or None) names the conversion itself.

    Returns
    -------
    numpy.ndarray of int64, shape (n_journeys,)
        Flat touch index, or -1 where the milestone is missing (no such event in the journey, no touch at or
        before it, no timestamps, or not among the milestones the journeys were built with).
    """
    times = journeys.milestone_times or {}
    if name is None or (name not in times and name in journeys.meta.get("conversion_events", ())):
        return conversion_touch(journeys)
    out = np.full(journeys.n_journeys, -1, np.int64)
    if name not in times or journeys.touch_time is None or journeys.n_touches == 0:
        return out
    jid = journeys.touch_journey
    at_or_before = journeys.touch_time <= times[name][jid]  # touch times ascend within a journey: a prefix
    count = np.bincount(jid, at_or_before, minlength=journeys.n_journeys).astype(np.int64)
    sel = count > 0
    out[sel] = journeys.offsets[:-1][sel] + count[sel] - 1
    return out
