"""The model contract (scikit-learn estimators, lifelines fitters) and the shared crediting step."""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from attribution.exceptions import NotFittedError, ParameterError
from attribution.journeys.journeys import NONE_CHANNEL, Journeys

from attribution.models.params import Constraint, format_value


#: every model class with a ``name``, registered when its class statement runs (see ``__init_subclass__``)
MODELS: dict[str, type["AttributionModel"]] = {}


class AttributionModel:
    """Base class of every model: the one contract (scikit-learn's estimator contract is the model).

    A model declares, as class attributes:

    - ``name``: its spec name (``markov``); a subclass with a name registers itself, so ``--model NAME`` and
      ``attribution.run(models=["NAME"])`` find it with no other file edited (``register=False`` in the class
      statement opts out);
    - ``parameter_constraints``: what each constructor keyword accepts (:mod:`attribution.models.params`),
      checked by :meth:`_set_params` with one message shape;
    - ``stats_keys``: the key columns of its additive :meth:`partial_stats` frames;
    - ``journey_local``: True when a journey's touch weights depend on that journey alone (then partitioned
      ``--period``/``--by``/``--detail`` and bootstrap replicates reuse them). The safe default is False: a model
      whose weights depend on the whole log is then re-weighted from the merged fit in a second pass;
    - ``extra_columns``: model-specific output columns of ``attribution_`` (``removal_effect``), carried into the
      tidy table and the KPI table;
    - ``needs_times``: True when it needs touch timestamps (no path-table input);
    - ``imports``: modules its fit imports when first needed (scipy's solvers for Markov); a run starts importing
      them on another thread while it reads its input (:func:`attribution.kernels.preload.preload`).

    A model may also declare the lookback its journeys need with :meth:`journey_lookback` (default: the run's
    ``--lookback-days``): the engines then build journeys once per distinct lookback among the run's models and
    give each model those of its own lookback (``hazard`` sees the whole history by default).

    It implements :meth:`_partial_stats` and :meth:`_fit_stats` (or, for a model whose credit is a sum of
    per-touch weights, only :meth:`touch_weights` on a :class:`TouchWeightModel`). ``fit(journeys)`` is
    ``fit_stats(partial_stats(journeys))``; the in-memory, out-of-core and Dask engines all go through these.

    Attributes
    ----------
    attribution_ : pandas.DataFrame
        After ``fit``: ``channel, conversions, revenue`` (and ``extra_columns``), sorted by channel.
    touch_weights_ : numpy.ndarray
        After ``fit(journeys)`` for a model with touch weights: the weight of every touch of those journeys.
    """

    name: ClassVar[str] = ""
    parameter_constraints: ClassVar[dict[str, Constraint]] = {}
    extra_columns: ClassVar[tuple[str, ...]] = ()
    needs_times: ClassVar[bool] = False
    journey_local: ClassVar[bool] = False
    imports: ClassVar[tuple[str, ...]] = ()
    #: key columns of :meth:`partial_stats` frames; every other column adds up across partitions
    stats_keys: ClassVar[tuple[str, ...]] = ("channel",)

    def __init_subclass__(cls, register: bool = True, **kwargs):
        super().__init_subclass__(**kwargs)
        if register and cls.__dict__.get("name"):
            MODELS[cls.name] = cls

    # ------------------------------------------------------------------ parameters (scikit-learn's contract)
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [k for k, p in sig.parameters.items()
                if k != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]

    @classmethod
    def _param_defaults(cls) -> dict[str, Any]:
        sig = inspect.signature(cls.__init__)
        return {k: sig.parameters[k].default for k in cls._param_names()}

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor parameters and their values (never fails: a missing attribute gives its default)."""
        defaults = self._param_defaults()
        return {k: getattr(self, k, defaults[k]) for k in defaults}

    def set_params(self, **params) -> "AttributionModel":
        """Change parameters (checked as in the constructor); returns ``self``, unfitted, labelled anew."""
        unknown = sorted(set(params) - set(self._param_names()))
        if unknown:
            accepted = ", ".join(self._param_names()) or "none"
            raise ParameterError(f"{type(self).__name__} has no parameter {unknown[0]!r}; accepted: {accepted}.")
        merged = {**self.get_params(), **params}
        self.__dict__.clear()
        type(self).__init__(self, **merged)
        return self

    def clone(self) -> "AttributionModel":
        """An unfitted copy with the same parameters and the same label."""
        new = type(self)(**self.get_params())
        if getattr(self, "spec", None):
            new.spec = self.spec
        return new

    def _set_params(self, **values) -> None:
        """Check every value against ``parameter_constraints`` (one message shape) and store it."""
        for key, value in values.items():
            constraint = self.parameter_constraints.get(key)
            if constraint is not None and not constraint.ok(value):
                self._check(key, value, False, str(constraint))
            setattr(self, key, value)

    @classmethod
    def _check(cls, name: str, value, ok: bool, rule: str) -> None:
        """Raise the one parameter message shape unless ``ok``."""
        if not ok:
            raise ParameterError(f"The '{name}' parameter of {cls.__name__} must be {rule}. Got {value!r} instead.")

    @property
    def label(self) -> str:
        """The ``model`` column of the outputs: the spec as written, else ``name`` plus the non-default
        parameters (``markov:order=2``), so two models of a run never share a label by accident."""
        spec = getattr(self, "spec", None)
        if spec:
            return spec
        defaults = self._param_defaults()
        changed = [f"{k}={format_value(v)}" for k, v in self.get_params().items() if not _same(v, defaults[k])]
        return self.name + (":" + ",".join(changed) if changed else "") if self.name else type(self).__name__

    def __repr__(self) -> str:
        defaults = self._param_defaults()
        try:
            params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults[k]))
        except Exception:  # noqa: BLE001 - a repr never fails
            params = "..."
        fitted = " (fitted)" if "_attribution" in self.__dict__ else ""
        return f"{type(self).__name__}({params}){fitted}"

    # ------------------------------------------------------------------ journeys
    def journey_lookback(self, run_lookback: float | None) -> float | None:
        """The lookback (days; None = unlimited) of the journeys this model is fitted on, given the run's.

        The lookback is a rule of the rule-based models (which touches a conversion's journey holds), so by
        default a model follows the run's ``--lookback-days``. A model that learns how its channels' effects decay
        with time may ask for a longer one (``hazard``). A path table has no timestamps: there no lookback applies
        and every model gets the table's journeys.
        """
        return run_lookback

    # ------------------------------------------------------------------ fitting
    def fit(self, journeys: Journeys) -> "AttributionModel":
        """Attribute the conversions and revenue of ``journeys``; returns ``self``."""
        self._check_journeys(journeys)
        self._fit(journeys)
        self._journeys = journeys  # touch_weights_ are computed from them on first access
        self.__dict__.pop("_touch_weights", None)
        return self

    def _fit(self, journeys: Journeys) -> None:
        """Fit on journeys: by default the statistics route (a model may take a faster one, same numbers)."""
        self._fit_stats(self._partial_stats(journeys))

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
        self.__dict__.pop("_journeys", None)
        self.__dict__.pop("_touch_weights", None)
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

    # ------------------------------------------------------------------ touch weights
    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Per-touch weights of the fitted model on ``journeys`` (each converting journey's sum to 1).

        Models whose credit is not a sum of touch weights do not override this; their credit cannot be dated
        (``--period``) or broken down by touch (``--detail``).
        """
        raise NotImplementedError(f"The {self.label!r} model gives no per-touch weights.")

    @classmethod
    def has_touch_weights(cls) -> bool:
        """Whether the model overrides :meth:`touch_weights`."""
        return cls.touch_weights is not AttributionModel.touch_weights

    @property
    def touch_weights_(self) -> np.ndarray:
        if not self.has_touch_weights():
            raise AttributeError(f"{type(self).__name__} gives no per-touch weights")
        if "_journeys" not in self.__dict__:
            raise NotFittedError(f"touch_weights_ is set by {type(self).__name__}.fit(journeys); this model is not "
                                 "fitted on journeys (call touch_weights(journeys) after fit_stats).")
        if "_touch_weights" not in self.__dict__:
            self._touch_weights = self.touch_weights(self._journeys)
        return self._touch_weights


class TouchWeightModel(AttributionModel, register=False):
    """A model whose credit is a sum of per-touch weights (each converting journey's sum to 1).

    Subclasses implement :meth:`touch_weights` only; the statistics are the channel credit of those weights.
    A subclass whose weights depend on one journey alone says so with ``journey_local = True``.
    """

    def _partial_stats(self, journeys: Journeys) -> pd.DataFrame:
        if self.journey_local:  # the same sums from the journeys with conversions or revenue alone
            journeys = journeys.crediting
        return credit_table(journeys, self.touch_weights(journeys))


def local_weights(model) -> bool:
    """True when ``model``'s touch weights depend on each journey alone (partition-local, bootstrap-reusable)."""
    return bool(model.journey_local) and model.has_touch_weights()


def declared_extra_columns() -> list[str]:
    """Every registered model's ``extra_columns``, in registration order (the order of the output columns)."""
    out: list[str] = []
    for cls in MODELS.values():
        out += [c for c in cls.extra_columns if c not in out]
    return out


def _same(a, b) -> bool:
    """Whether a parameter value equals its default (``1`` and ``1.0`` alike; ``True`` is not ``1``)."""
    numbers = (int, float, np.integer, np.floating)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool) and not isinstance(b, bool):
        return float(a) == float(b)
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - arrays and odd values compare as different
        return False


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
    empty = journeys.touchless()
    return credit_frame(journeys.channel_names, conversions, revenue, float(journeys.conversions[empty].sum()),
                        float(journeys.revenue[empty].sum()), **extra)


def credit_frame(names, conversions, revenue, none_conversions: float, none_revenue: float,
                 **extra) -> pd.DataFrame:
    """A model's ``attribution_``: one row per channel (``extra`` columns per channel too), plus the touchless
    ``(none)`` row when touchless conversions or revenue exist (its extras NaN), sorted by channel."""
    names = list(names)
    conversions = np.asarray(conversions, float)
    revenue = np.asarray(revenue, float)
    cols = {k: np.asarray(v, float) for k, v in extra.items()}
    if none_conversions > 0 or none_revenue > 0:
        names = [NONE_CHANNEL] + names
        conversions = np.r_[float(none_conversions), conversions]
        revenue = np.r_[float(none_revenue), revenue]
        cols = {k: np.r_[np.nan, v] for k, v in cols.items()}
    frame = pd.DataFrame({"channel": pd.Series(names, dtype=object), "conversions": conversions, "revenue": revenue,
                          **cols})
    return frame.sort_values("channel", kind="stable", ignore_index=True)
