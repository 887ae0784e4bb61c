"""Channel sets: every journey's set of distinct channels, and statistics per distinct set.

Shared by the models whose credit depends on which channels a journey touched, not on their order or count
(Shapley games, the logistic model). A set is keyed as text: its channel names, sorted, joined by
``KEY_SEPARATOR`` (a character that does not occur in channel names); the empty key is a touchless journey.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.journeys.journeys import Journeys
from attribution.kernels.constants import KEY_SEPARATOR


def distinct_channel_pairs(journeys: Journeys):
    """Distinct (journey, channel) pairs, sorted by journey then channel.

    Returns ``(pair_of_touch, pair_journey, pair_channel)``: the pair index of every touch and each pair's
    journey and channel code.
    """
    n = max(journeys.n_channels, 1)
    key = journeys.touch_journey * n + journeys.touch_channel
    uniq, pair_of_touch = np.unique(key, return_inverse=True)
    return pair_of_touch, uniq // n, uniq % n


def channel_set_keys(journeys: Journeys, pair_journey: np.ndarray, pair_channel: np.ndarray) -> np.ndarray:
    """Every journey's set of distinct channels as text (sorted names joined by ``KEY_SEPARATOR``), vectorised."""
    names = pa.array([str(c) for c in journeys.channel_names], pa.string())
    counts = np.bincount(pair_journey, minlength=journeys.n_journeys)
    offsets = np.zeros(journeys.n_journeys + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    values = names.take(pa.array(pair_channel)) if len(pair_channel) else pa.array([], pa.string())
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    return np.asarray(pc.binary_join(lists, KEY_SEPARATOR).to_numpy(zero_copy_only=False), dtype=object)


def set_stats(journeys: Journeys, keys: np.ndarray | None = None) -> pd.DataFrame:
    """Per distinct channel set: ``channels`` (key), ``conversions``, ``nulls``, ``revenue`` (additive)."""
    if keys is None:
        _, pair_journey, pair_channel = distinct_channel_pairs(journeys)
        keys = channel_set_keys(journeys, pair_journey, pair_channel)
    frame = pd.DataFrame({"channels": keys, "conversions": journeys.conversions, "nulls": journeys.nulls,
                          "revenue": journeys.revenue})
    return frame.groupby("channels", sort=True, as_index=False).sum()


def set_members(stats: pd.DataFrame):
    """Parse set keys: ``(members, names, code)`` — each set's channel list, the sorted channel names and a
    name → column index map (a loop per distinct set, never per journey)."""
    members = [k.split(KEY_SEPARATOR) if k else [] for k in stats["channels"].astype(str)]
    names = np.array(sorted({c for m in members for c in m}), dtype=object)
    code = {c: i for i, c in enumerate(names)}
    return members, names, code


def set_touch_weights(journeys: Journeys, set_weights: np.ndarray, stats: pd.DataFrame, keys: np.ndarray,
                      names, pairs) -> np.ndarray:
    """Per-touch weights from per-set weights: the weight of the touch's channel in its journey's set row
    (``set_weights[set, channel]``; rows follow ``stats``, columns ``names``), split equally over that channel's
    touches in the journey. ``keys`` are the journeys' set keys and ``pairs`` :func:`distinct_channel_pairs`."""
    pair_of_touch, pair_journey, pair_channel = pairs
    set_of_journey = pd.Index(stats["channels"]).get_indexer(keys)
    col = pd.Index(names).get_indexer(np.asarray(journeys.channel_names, dtype=object))
    touches_per_pair = np.bincount(pair_of_touch, minlength=len(pair_journey))
    pair_weight = set_weights[set_of_journey[pair_journey], col[pair_channel]] if len(pair_journey) else np.zeros(0)
    return (pair_weight / touches_per_pair)[pair_of_touch]
