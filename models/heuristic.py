"""Rule-based models: first/last touch, last non-direct, linear, time decay, position based (SPEC 3).

All are vectorised over the flat touch arrays of :class:`~attribution.journeys.journeys.Journeys`: weights are computed
for every touch at once from its position, its journey's length and (time decay) its age at conversion.

References
----------
.. [1] Google Analytics 4 help, "Get started with attribution" (paid and organic last click; formerly
   time decay with a 7-day half-life and position based 40/20/40).
.. [2] Adobe Analytics, "Attribution models and lookback windows" (U-shaped, J-shaped, inverse J, time decay).
.. [3] HubSpot, "Understand attribution reporting" (first/last interaction, linear, U-shaped, time decay).
"""

from __future__ import annotations

import numpy as np

from attribution.journeys.journeys import Journeys
from attribution.io.timeparse import NS_PER_SECOND, parse_duration_seconds
from attribution.exceptions import ParameterError

from attribution.models.base import TouchWeightModel
from attribution.models.params import Duration, Names, Number, split_names


class FirstTouch(TouchWeightModel):
    """All credit to the first touch of each converting journey."""

    name = "first_touch"
    journey_local = True

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        return (journeys.touch_position == 0).astype(float)


class LastTouch(TouchWeightModel):
    """All credit to the last touch of each converting journey."""

    name = "last_touch"
    journey_local = True

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        last = journeys.offsets[1:][journeys.lengths > 0] - 1
        w = np.zeros(journeys.n_touches)
        w[last] = 1.0
        return w


class LastNonDirect(TouchWeightModel):
    """All credit to the last touch that is not direct; the last touch when every touch is direct.

    Parameters
    ----------
    direct : str or sequence of str, default "direct"
        The channel(s) counted as direct (case-sensitive). In a spec string several are joined by ``|``:
        ``last_non_direct:direct=direct|(direct)``.

    References
    ----------
    .. [1] Google Analytics 4 help, "Paid and organic last click" attribution.
    """

    name = "last_non_direct"
    journey_local = True
    parameter_constraints = {"direct": Names()}

    def __init__(self, direct="direct"):
        self._set_params(direct=direct)

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        is_direct_channel = np.isin(journeys.channel_names.astype(str), list(split_names(self.direct)))
        non_direct = ~is_direct_channel[journeys.touch_channel]
        idx = np.arange(journeys.n_touches, dtype=np.int64)
        nonempty = journeys.lengths > 0
        starts = journeys.offsets[:-1][nonempty]
        w = np.zeros(journeys.n_touches)
        if len(starts) == 0:
            return w
        best = np.maximum.reduceat(np.where(non_direct, idx, -1), starts)
        last = journeys.offsets[1:][nonempty] - 1
        w[np.where(best >= 0, best, last)] = 1.0
        return w


class Linear(TouchWeightModel):
    """Equal credit 1/n to each of a journey's n touches (a channel touched twice gets 2/n).

    A touch standing for several (``Journeys.touch_multiplicity``, the ``frequency`` path transform) counts as
    that many touches.
    """

    name = "linear"
    journey_local = True

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        m = journeys.touch_multiplicity
        if m is None:
            return 1.0 / journeys.lengths[journeys.touch_journey]
        jid = journeys.touch_journey
        return m / np.bincount(jid, m, minlength=journeys.n_journeys)[jid]


class TimeDecay(TouchWeightModel):
    """Weight ∝ 2^(−Δt / H) with Δt the time from the touch to the conversion and H the half-life.

    Parameters
    ----------
    half_life : str, float or timedelta, default "7d"
        ``14d``, ``12h``, a number of days, or a ``datetime.timedelta``.

    Notes
    -----
    Weights are computed relative to the journey's most recent touch, so they never underflow to 0/0 however
    long the lookback. For a non-converting journey Δt is counted from its last touch (it earns no credit).

    References
    ----------
    .. [1] Adobe Analytics, "Time decay" attribution (half-life, default 7 days).
    """

    name = "time_decay"
    needs_times = True
    journey_local = True
    parameter_constraints = {"half_life": Duration()}

    def __init__(self, half_life="7d"):
        self._set_params(half_life=half_life)

    @property
    def _half_life_seconds(self) -> float:
        return parse_duration_seconds(self.half_life, owner="TimeDecay", name="half_life")

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        jid = journeys.touch_journey
        age = (journeys.end_time[jid] - journeys.touch_time).astype(np.float64) / NS_PER_SECOND
        nonempty = journeys.lengths > 0
        if not nonempty.any():
            return np.zeros(0)
        youngest = np.minimum.reduceat(age, journeys.offsets[:-1][nonempty])
        full = np.zeros(journeys.n_journeys)
        full[nonempty] = youngest
        w = np.exp2(-(age - full[jid]) / self._half_life_seconds)
        total = np.bincount(jid, w, minlength=journeys.n_journeys)
        return w / total[jid]


class PositionBased(TouchWeightModel):
    """Position-based (U-shaped by default) weights.

    Parameters
    ----------
    first, middle, last : float, default 0.4, 0.2, 0.4
        Shares of the first touch, the inner touches together, and the last touch. They are normalised to sum
        to 1 (so ``first=40,middle=20,last=40`` works too). n = 1: all to the one touch; n = 2: first/(first+last)
        and last/(first+last) (half each if both are 0); n ≥ 3: middle split equally over the n − 2 inner touches.
    shape : {"U", "J", "inverse_J"}, optional
        A preset instead of the three shares: U = 40/20/40, J = 20/20/60, inverse J = 60/20/20 (case-insensitive;
        not together with ``first``, ``middle`` or ``last``).

    References
    ----------
    .. [1] Adobe Analytics: U-shaped (40/20/40), J-shaped (20/20/60), inverse J (60/20/20).
    """

    name = "position_based"
    journey_local = True
    SHAPES = {"u": (0.4, 0.2, 0.4), "j": (0.2, 0.2, 0.6), "inverse_j": (0.6, 0.2, 0.2)}

    def __init__(self, first=None, middle=None, last=None, shape=None):
        if shape is not None:
            key = str(shape).strip().lower()
            self._check("shape", shape, key in self.SHAPES, "one of U, J, inverse_J")
            if first is not None or middle is not None or last is not None:
                raise ParameterError(
                    f"PositionBased takes either 'shape' or 'first', 'middle' and 'last', not both. Got shape={shape!r}, "
                    f"first={first!r}, middle={middle!r}, last={last!r}.")
        for key, value in (("first", first), ("middle", middle), ("last", last)):
            if value is not None:
                self._check(key, value, Number(0).ok(value), "a number >= 0")
        self.first, self.middle, self.last, self.shape = first, middle, last, shape
        if sum(self._given) <= 0:
            raise ParameterError(
                f"The 'first', 'middle' and 'last' parameters of PositionBased must not all be 0. "
                f"Got first={first!r}, middle={middle!r}, last={last!r} instead."
            )

    @property
    def _given(self) -> tuple[float, float, float]:
        """(first, middle, last) as given: a shape's, else the parameters with U's for the ones left out."""
        if self.shape is not None:
            return self.SHAPES[str(self.shape).strip().lower()]
        return tuple(float(d if v is None else v) for v, d in zip((self.first, self.middle, self.last),
                                                                  self.SHAPES["u"]))

    @property
    def _shares(self) -> tuple[float, float, float]:
        given = self._given
        return tuple(v / sum(given) for v in given)

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        f, m, l = self._shares
        n = journeys.lengths[journeys.touch_journey]
        pos = journeys.touch_position
        ends = f + l
        w = np.empty(journeys.n_touches)
        one = n == 1
        two = n == 2
        many = n >= 3
        w[one] = 1.0
        if ends > 0:
            w[two] = np.where(pos[two] == 0, f / ends, l / ends)
        else:
            w[two] = 0.5
        pm = pos[many]
        nm = n[many]
        w[many] = np.where(pm == 0, f, np.where(pm == nm - 1, l, m / np.maximum(nm - 2, 1)))
        return w
