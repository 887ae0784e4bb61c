"""Journeys summarised per (channel set, p, v), and per-touch weights looked up from weights per such row.

A model whose weight of a touch depends on its journey only through the journey's set of distinct channels, p
(converts or not) and v (revenue per conversion) gives every journey of a row the same weights. Its weights are
therefore solved once on the rows (:func:`weight_rows`: additive counts per row, sorted by key) and looked up per
touch (:class:`WeightTable`). The rows of a whole log are the same table whether they were counted in one piece
or merged from partitions (:func:`merge_weight_rows`): keys are exact, counts of journeys and conversions are
whole numbers (exact sums in float64), and both are sorted by key. A solve that reads only these keys and counts
(as :meth:`attribution.models.markov.model.Markov.set_row_weights` does) so gets the same input arrays in the same order,
in memory and partitioned.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attribution.models.channel_sets import channel_set_keys, distinct_channel_pairs

ROW_KEYS = ["channels", "p", "v"]
ROW_SUMS = ["n", "conversions", "nulls", "revenue"]


def journey_keys(journeys) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    """Per journey: ``channels`` (set key), ``p``, ``v`` as a frame; plus each touch's pair index and each pair's
    journey and channel code (:func:`attribution.models.channel_sets.distinct_channel_pairs`)."""
    pair_of_touch, pair_journey, pair_channel = distinct_channel_pairs(journeys)
    keys = channel_set_keys(journeys, pair_journey, pair_channel)
    conv, rev = journeys.conversions, journeys.revenue
    mult = np.where(conv > 0, conv, 1.0)
    frame = pd.DataFrame({"channels": keys, "p": conv / mult, "v": rev / mult})
    return frame, pair_of_touch, pair_journey, pair_channel


def weight_rows(journeys, keys=None) -> pd.DataFrame:
    """Additive counts per (channel set, p, v): journeys ``n``, ``conversions``, ``nulls``, ``revenue``
    (``keys``: :func:`journey_keys` of ``journeys`` when already at hand)."""
    frame = (journey_keys(journeys) if keys is None else keys)[0]
    frame = frame.assign(n=1.0, conversions=journeys.conversions, nulls=journeys.nulls, revenue=journeys.revenue)
    return frame.groupby(ROW_KEYS, sort=True, as_index=False)[ROW_SUMS].sum()


def merge_weight_rows(frames) -> pd.DataFrame:
    """Rows of user-disjoint partitions added up per key, sorted by key (as :func:`weight_rows` sorts them)."""
    frames = [f for f in frames if f is not None]
    both = pd.concat(frames, ignore_index=True)
    return both.groupby(ROW_KEYS, sort=True, as_index=False)[ROW_SUMS].sum()


@dataclass
class WeightTable:
    """A fitted model's weight of every channel in every (set, p, v) row of the whole log (small, picklable)."""

    rows: pd.MultiIndex  # (channels, p, v) of each row
    channel_names: np.ndarray  # vocabulary the pair keys use
    pair_keys: np.ndarray  # sorted row × n_channels + channel
    pair_weights: np.ndarray
    attribution: pd.DataFrame | None = None  # the fitted model's attribution_ (extras joined back by finalise)

    @classmethod
    def from_pairs(cls, rows: pd.DataFrame, channel_names, pair_row, pair_channel, weights, attribution=None):
        """The table of weights given per (row of ``rows``, channel code into ``channel_names``) pair."""
        n = np.int64(max(len(channel_names), 1))
        keys = np.asarray(pair_row, np.int64) * n + np.asarray(pair_channel, np.int64)
        order = np.argsort(keys, kind="stable")
        index = pd.MultiIndex.from_frame(rows[ROW_KEYS].reset_index(drop=True))
        return cls(index, np.asarray(channel_names, dtype=object), keys[order], np.asarray(weights, float)[order],
                   attribution)

    def touch_weights(self, journeys, keys=None) -> np.ndarray:
        """Per-touch weights of ``journeys``: its (set, p, v) row's weight of the touch's channel, split equally
        over the channel's touches in the journey (``keys``: :func:`journey_keys` of ``journeys`` if at hand)."""
        frame, pair_of_touch, pair_journey, pair_channel = journey_keys(journeys) if keys is None else keys
        row = self.rows.get_indexer(pd.MultiIndex.from_frame(frame[ROW_KEYS]))
        if (row[pair_journey] < 0).any():  # cannot happen when the table was merged from the same partitions
            raise RuntimeError("a journey's channel set is missing from the merged weight rows")
        code = pd.Index(self.channel_names).get_indexer(np.asarray(journeys.channel_names, dtype=object))
        n = np.int64(max(len(self.channel_names), 1))
        keys = row[pair_journey].astype(np.int64) * n + code[pair_channel]
        at = np.searchsorted(self.pair_keys, keys)
        at = np.minimum(at, max(len(self.pair_keys) - 1, 0))
        found = len(self.pair_keys) > 0
        pair_w = np.where(found & (self.pair_keys[at] == keys), self.pair_weights[at] if found else 0.0, 0.0)
        touches_in_pair = np.bincount(pair_of_touch, minlength=len(pair_journey))
        return (pair_w / np.maximum(touches_in_pair, 1))[pair_of_touch]
