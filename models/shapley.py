"""Shapley-value attribution (SPEC 3.2): the ``journey`` game (closed form) and the ``rate`` game (exact transform).

``shapley`` (``game=journey``, the default)
    v(S) = conversions of the journeys whose channels all lie in S. Its Shapley value is, exactly, each
    converting journey's conversion split equally over its *distinct* channels (Zhao et al. 2018, Theorem 1), so
    no coalition is ever enumerated. A channel's equal share within a journey is spread over its touches there.

``shapley:game=rate``
    v(S) = conversion rate of the journeys whose channel set is exactly S (0 for a set no journey has).
    Harsanyi dividends d(T) = Σ_{S ⊆ T} (−1)^{|T∖S|} v(S) come from one fast Möbius transform over all 2ⁿ
    coalitions, O(n·2ⁿ). The conversions of the journeys with channel set S are then split by the Shapley values
    of the game *restricted to S*, φ^S_j = Σ_{T ⊆ S, j ∈ T} d(T)/|T|, which sum to v(S); with
    Z(S) = Σ_{T ⊆ S} d(T)/|T| (a zeta transform) this is φ^S_j = Z(S) − Z(S ∖ {j}). Credits therefore sum to
    the conversions exactly, which the textbook scaling by φ(N)/v(N) cannot promise: v(all channels) is usually 0
    because no journey touches every channel.

Known pitfalls of the rate game, reported rather than hidden: the values rest on the conversion rates of
small, rarely seen channel sets (noisy); a channel whose presence lowers the observed rate gets *negative*
credit; unobserved sets count as rate 0. With more than ``max_exact`` channels the transform is done per
observed channel set (exact, 2^|S| each) instead of once over all channels.

References
----------
.. [1] Zhao, Mahboobi & Bagheri, "Shapley value methods for attribution modeling in online advertising",
   arXiv:1804.05327, 2018.
.. [2] Shapley, "A value for n-person games", Contributions to the Theory of Games II, 1953.
.. [3] Harsanyi, "A simplified bargaining model for the n-person cooperative game", Int. Econ. Review 4, 1963.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from attribution.exceptions import AttributionWarning
from attribution.journeys.journeys import Journeys

from attribution.models.base import AttributionModel, credit_frame, credit_table
from attribution.models.params import Choice, Integer
from attribution.models.channel_sets import (
    channel_set_keys, distinct_channel_pairs, set_members, set_stats, set_touch_weights,
)



class NegativeCreditWarning(AttributionWarning):
    """A Shapley rate game gave a channel negative credit."""


def moebius(values: np.ndarray, n: int) -> np.ndarray:
    """Harsanyi dividends: in-place fast Möbius transform over subsets (bit masks) of n players."""
    d = values.astype(np.float64, copy=True)
    for i in range(n):
        view = d.reshape(-1, 2, 1 << i)
        view[:, 1, :] -= view[:, 0, :]
    return d


def zeta(values: np.ndarray, n: int) -> np.ndarray:
    """Subset sums Z(S) = Σ_{T ⊆ S} values(T) (the inverse of :func:`moebius`)."""
    z = values.astype(np.float64, copy=True)
    for i in range(n):
        view = z.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return z


def popcount(masks: np.ndarray) -> np.ndarray:
    masks = masks.astype(np.int64)
    count = np.zeros(masks.shape, np.int64)
    while masks.any():
        count += masks & 1
        masks = masks >> 1
    return count


def restricted_shapley(rate: np.ndarray, masks: np.ndarray, n: int) -> np.ndarray:
    """φ^S_j for every mask S in ``masks`` and player j < n, given v over all 2ⁿ coalitions (``rate``).

    Returns an array of shape (len(masks), n); row s sums to ``rate[masks[s]]``.
    """
    d = moebius(rate, n)
    size = popcount(np.arange(1 << n, dtype=np.int64))
    e = np.divide(d, size, out=np.zeros_like(d), where=size > 0)
    z = zeta(e, n)
    bits = (masks[:, None] >> np.arange(n)[None, :]) & 1
    without = masks[:, None] & ~(np.int64(1) << np.arange(n, dtype=np.int64))[None, :]
    return np.where(bits == 1, z[masks][:, None] - z[without], 0.0)


class Shapley(AttributionModel):
    """Shapley-value attribution over channel coalitions.

    Parameters
    ----------
    game : {"journey", "rate"}, default "journey"
        ``journey``: each converting journey's conversion shared equally by its distinct channels (exact Shapley
        value of the covered-conversions game). ``rate``: the conversion-rate game on exact channel sets, solved
        exactly (see the module notes for its pitfalls; negative credit is possible and warned about).
    max_exact : int, default 20
        With at most this many channels the rate game is transformed once over all 2ⁿ coalitions; beyond, once
        per observed channel set.

    Attributes
    ----------
    attribution_ : pandas.DataFrame
    coalitions_ : pandas.DataFrame
        (rate game) per observed channel set: ``channels, journeys, conversions, rate``.

    References
    ----------
    .. [1] Zhao, Mahboobi & Bagheri (2018), arXiv:1804.05327.
    """

    name = "shapley"
    stats_keys = ("channels",)

    @property
    def journey_local(self) -> bool:
        """The journey game's weights depend on each journey alone; the rate game's on all of them."""
        return self.game == "journey"

    parameter_constraints = {"game": Choice(("journey", "rate")), "max_exact": Integer(1, 24)}

    def __init__(self, game="journey", max_exact=20):
        self._set_params(game=game, max_exact=max_exact)

    # -------------------------------------------------------------------------------------- statistics
    def _partial_stats(self, journeys: Journeys) -> pd.DataFrame:
        """Per distinct channel set: conversions, non-conversions and revenue (additive across partitions)."""
        return set_stats(journeys)

    def fit(self, journeys: Journeys) -> "Shapley":
        if self.game == "journey":
            self._check_journeys(journeys)
            weights = self.touch_weights(journeys)
            self.attribution_ = credit_table(journeys, weights)
            return self
        return super().fit(journeys)

    def _fit_stats(self, stats: pd.DataFrame) -> None:
        members, names, code = set_members(stats)
        conv = stats["conversions"].to_numpy(float)
        nulls = stats["nulls"].to_numpy(float)
        revenue = stats["revenue"].to_numpy(float)
        empty = np.array([len(m) == 0 for m in members], dtype=bool)  # bool also when there are no sets
        weights = self._set_weights(members, code, len(names), conv, nulls)  # (sets, channels), rows sum to 1
        credit_conv = (weights * conv[:, None]).sum(axis=0)
        credit_rev = (weights * revenue[:, None]).sum(axis=0)
        if self.game == "rate" and (credit_conv < -1e-12).any():
            bad = ", ".join(str(c) for c in names[credit_conv < -1e-12])
            warnings.warn(f"shapley:game=rate gives negative credit to {bad}: journeys with it convert less often "
                          "than without it (the rate game's known pitfall)", NegativeCreditWarning, stacklevel=3)
        self.attribution_ = credit_frame(names.tolist(), credit_conv, credit_rev, float(conv[empty].sum()),
                                         float(revenue[empty].sum()))

    def _set_weights(self, members, code, n, conv, nulls) -> np.ndarray:
        """Each channel set's split of its conversions over channels (rows sum to 1 for non-empty sets)."""
        w = np.zeros((len(members), n))
        sizes = np.array([len(m) for m in members], dtype=np.int64)
        rows = np.repeat(np.arange(len(members)), sizes)
        cols = np.array([code[c] for m in members for c in m], dtype=np.int64)
        if self.game == "journey":
            w[rows, cols] = 1.0 / sizes[rows]
            return w
        total = conv + nulls
        rate_of_set = np.divide(conv, total, out=np.zeros_like(conv), where=total > 0)
        coalitions = pd.DataFrame({"channels": [" + ".join(m) for m in members], "journeys": total,
                                   "conversions": conv, "rate": rate_of_set})
        self.coalitions_ = coalitions[sizes > 0].reset_index(drop=True)
        converting = (conv > 0) & (sizes > 0)
        if n <= self.max_exact:
            masks = np.zeros(len(members), np.int64)
            np.add.at(masks, rows, np.int64(1) << cols)
            v = np.zeros(1 << n)
            v[masks[sizes > 0]] = rate_of_set[sizes > 0]
            phi = restricted_shapley(v, masks[converting], n)
            w[converting] = phi / rate_of_set[converting][:, None]
            return w
        # many channels: one exact transform per observed converting set, over its own channels only
        # (a loop per distinct channel set; v of a subset looked up by its sorted channel codes)
        rate_by_set = {tuple(sorted(code[c] for c in m)): r for m, r, k in zip(members, rate_of_set, sizes) if k}
        for s in np.flatnonzero(converting):
            players = sorted(code[c] for c in members[s])
            k = len(players)
            self._check("max_exact", self.max_exact, k <= 24,
                        f"at least the size of the largest channel set ({k}) for an exact rate game")
            v = np.array([rate_by_set.get(tuple(p for i, p in enumerate(players) if sub >> i & 1), 0.0)
                          for sub in range(1 << k)])
            phi = restricted_shapley(v, np.array([(1 << k) - 1], np.int64), k)[0]
            w[s, players] = phi / rate_of_set[s]
        return w

    # -------------------------------------------------------------------------------------- weights
    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Per-touch weights summing to 1 in every journey with touches (a channel's share split over its touches).

        For the rate game they come from the coalition values of these same journeys, so crediting them
        reproduces :meth:`fit`'s result; a channel's weight can be negative there.
        """
        pair_of_touch, pair_journey, pair_channel = pairs = distinct_channel_pairs(journeys)
        if self.game == "journey":
            touches_per_pair = np.bincount(pair_of_touch, minlength=len(pair_journey))
            distinct = np.bincount(pair_journey, minlength=journeys.n_journeys)
            return (1.0 / distinct[pair_journey] / touches_per_pair)[pair_of_touch]
        journey_keys = channel_set_keys(journeys, pair_journey, pair_channel)
        stats = set_stats(journeys, journey_keys)
        members, names, code = set_members(stats)
        set_w = self._set_weights(members, code, len(names), stats["conversions"].to_numpy(float),
                                  stats["nulls"].to_numpy(float))
        return set_touch_weights(journeys, set_w, stats, journey_keys, names, pairs)
