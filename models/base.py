"""The model contract (scikit-learn estimators, lifelines fitters) and the shared crediting step."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from attribution.exceptions import NotFittedError, ParameterError
from attribution.journeys.journeys import NONE_CHANNEL, Journeys


class AttributionModel:
    """Base class of every model.

    Subclasses declare their parameters as constructor keywords, validate them in ``__init__`` through
    :meth:`_check` (one message shape for every model), and implement :meth:`_fit`.

    Attributes
    ----------
    attribution_ : pandas.DataFrame
        After ``fit``: ``channel, conversions, revenue`` (and ``extra_columns``), sorted by channel.
    """

    name: ClassVar[str] = ""
    extra_columns: ClassVar[tuple[str, ...]] = ()
    needs_times: ClassVar[bool] = False

    def get_params(self) -> dict[str, Any]:
        """The constructor parameters and their values."""
        import inspect

        sig = inspect.signature(type(self).__init__)
        return {k: getattr(self, k) for k in sig.parameters if k != "self"}

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    #: key columns of :meth:`partial_stats` frames; every other column adds up across partitions
    stats_keys: ClassVar[tuple[str, ...]] = ("channel",)

    def fit(self, journeys: Journeys) -> "AttributionModel":
        """Attribute the conversions and revenue of ``journeys``; returns ``self``."""
        return self.fit_stats(self.partial_stats(journeys))

    def partial_stats(self, journeys: Journeys) -> pd.DataFrame:
        """Additive sufficient statistics of ``journeys`` (DESIGN: partition-local statistics + finalise).

        The frame's :attr:`stats_keys` columns identify a row; every other column is a sum, so the statistics of
        a log split into partitions *by user* merge by :func:`merge_stats` into those of the whole log. The
        in-memory, out-of-core and Dask engines all call this and :meth:`fit_stats`, so they agree.
        """
        self._check_journeys(journeys)
        return self._partial_stats(journeys)

    def fit_stats(self, stats: pd.DataFrame) -> "AttributionModel":
        """Finalise from (merged) :meth:`partial_stats`; sets ``attribution_`` and returns ``self``."""
        self._fit_stats(stats)
        return self

    def _check_journeys(self, journeys) -> None:
        if not isinstance(journeys, Journeys):
            raise ParameterError(f"{type(self).__name__}.fit expects Journeys; got {type(journeys).__name__}.")
        if self.needs_times and not journeys.has_times:
            raise ParameterError(
                f"The {self.name} model needs touch timestamps, which a path table does not have; "
                "run it on an event log."
            )

    def _partial_stats(self, journeys: Journeys) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError

    def _fit_stats(self, stats: pd.DataFrame) -> None:
        """Default finalise: the statistics are already channel credits (sum duplicates, sort by channel)."""
        self.attribution_ = merge_stats(self, [stats])

    @property
    def attribution_(self) -> pd.DataFrame:
        try:
            return self._attribution
        except AttributeError:
            raise NotFittedError(f"This {type(self).__name__} is not fitted yet; call fit(journeys) first.") from None

    @attribution_.setter
    def attribution_(self, frame: pd.DataFrame) -> None:
        self._attribution = frame

    @classmethod
    def _check(cls, name: str, value, ok: bool, rule: str) -> None:
        """Raise the one parameter message shape unless ``ok``."""
        if not ok:
            raise ParameterError(f"The '{name}' parameter of {cls.__name__} must be {rule}. Got {value!r} instead.")


class TouchWeightModel(AttributionModel):
    """A model that gives every converting journey weights over its touches summing to 1.

    Attributes
    ----------
    touch_weights_ : numpy.ndarray, shape (n_touches,)
        After ``fit``: the weight of every touch within its journey (computed again from the fitted journeys on
        first access rather than held by every model of a run: on 10M events that is 46 MB a model).
    """

    #: a journey's weights depend on that journey alone (not on counts elsewhere): bootstrap replicates can reuse them
    journey_local: ClassVar[bool] = True

    def touch_weights(self, journeys: Journeys) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _partial_stats(self, journeys: Journeys) -> pd.DataFrame:
        self._weights_of = journeys
        self.__dict__.pop("_touch_weights", None)
        return credit_table(journeys, self.touch_weights(journeys))

    @property
    def touch_weights_(self) -> np.ndarray:
        if "_weights_of" not in self.__dict__:
            raise AttributeError("touch_weights_ is set by fit(); this model is not fitted yet")
        if "_touch_weights" not in self.__dict__:
            self._touch_weights = self.touch_weights(self._weights_of)
        return self._touch_weights


def merge_stats(model: AttributionModel, frames) -> pd.DataFrame:
    """Merge partition statistics of ``model``: concatenate and sum every non-key column per key.

    Rows come out sorted by the key columns, so the result does not depend on how the log was partitioned.
    """
    frames = [f for f in frames if f is not None]
    keys = list(model.stats_keys)
    both = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    merged = both.groupby(keys, sort=True, as_index=False).sum(min_count=0)
    for k in keys:
        merged[k] = merged[k].astype(object)
    return merged.reset_index(drop=True)


def credit_table(journeys: Journeys, weights: np.ndarray) -> pd.DataFrame:
    """Channel credit from per-touch weights: Σ weight × conversions and Σ weight × revenue.

    Touchless conversions (journeys with no touch) are credited to ``(none)`` so that totals always equal the
    input's conversions and revenue. Every channel of the vocabulary gets a row, with 0 where it earned nothing.
    """
    ch = journeys.touch_channel
    n = journeys.n_channels
    product = np.multiply(weights, journeys.touch_conversions)
    conv = np.bincount(ch, product, minlength=n)
    np.multiply(weights, journeys.touch_revenue, out=product)
    rev = np.bincount(ch, product, minlength=n)
    return channel_frame(journeys, conv, rev)


def channel_frame(journeys: Journeys, conversions: np.ndarray, revenue: np.ndarray, **extra) -> pd.DataFrame:
    """Assemble the fitted frame, adding the ``(none)`` row for touchless conversions."""
    names = list(journeys.channel_names)
    empty = journeys.touchless()
    none_conv = float(journeys.conversions[empty].sum())
    none_rev = float(journeys.revenue[empty].sum())
    conversions = np.asarray(conversions, float)
    revenue = np.asarray(revenue, float)
    cols = {k: np.asarray(v, float) for k, v in extra.items()}
    if none_conv > 0 or none_rev > 0:
        names = [NONE_CHANNEL] + names
        conversions = np.r_[none_conv, conversions]
        revenue = np.r_[none_rev, revenue]
        cols = {k: np.r_[np.nan, v] for k, v in cols.items()}
    frame = pd.DataFrame({"channel": pd.Series(names, dtype=object), "conversions": conversions, "revenue": revenue,
                          **cols})
    return frame.sort_values("channel", kind="stable", ignore_index=True)
