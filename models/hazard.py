"""Incremental attribution with an additive conversion-hazard (time-to-event) model.

The model
---------
A user's conversions can be seen (in a journey with touches) only within the journeys' lookback after one of
their touches, and never after ``E`` (the end of the UTC day of the log's latest event): that is the time at risk.
The conversion intensity (conversions per day) is additive::

    λ_u(t) = μ_u  +  Σ_{touches k of u, s_k < t}  Σ_m β_{c_k, m} · φ_m(t − s_k)

with ``φ_m(x) = exp(−x / τ_m) / τ_m`` exponential kernels of several half-lives (``τ_m = half_life_m / ln 2``),
so that ``β_{c, m} ≥ 0`` is the expected number of extra conversions one touch of channel ``c`` brings through
kernel ``m`` (a mixture of half-lives is a learned decay per channel). Converting and non-converting users both
enter: the likelihood is the Poisson-process likelihood Σ_conversions log λ(t) − Σ_users ∫ λ.

Confounding by purchase intent is adjusted through the baseline: ``μ_u = exp(γ · z_u)`` with ``z_u`` what the
log shows of the user's activity and exposure pattern — the number of touches of each channel (capped at 3) and
in total. Channels that are targeted at likely buyers then raise the *baseline* of the users they reach; only
the extra conversions that follow their touches in time, as the kernels say, count as their effect. Touches in
the ``pre_window`` before a conversion of their journey (default 30 minutes: a typed URL, a brand search just
before buying) may have been caused by the decision to buy; they are left out of the model (no effect, no
credit, not counted in the pattern).

Credit
------
Under an additive intensity every conversion has exactly one cause (the superposition of Poisson processes): a
conversion at ``t`` was caused by touch ``k`` with probability ``β_{c_k}·φ(t − s_k) / λ(t)`` and by no channel
with probability ``μ / λ(t)``. A channel's credit is the sum of these probabilities over its touches: its expected
incremental conversions, i.e. the conversions lost when its touches are removed and everything else is kept;
revenue likewise (each conversion's revenue times the same probabilities). What no channel caused goes to the
``(baseline)`` row, so the credited total equals the input's. These probabilities are the per-touch weights
(they sum to 1 − μ/λ in a converting journey; the rest is ``(baseline)``'s).

Sufficient statistics
---------------------
Additive over user partitions: one row per conversion (its kernel covariates, weight and revenue), per intent
pattern (Σ weight × the time at risk between touches), per pattern × day of a user's last touch (Σ weight and
Σ weight × time, which give the time at risk after it once ``E`` is known), per channel × day of touch (Σ weights
and Σ exp((s − day)/τ_m), which give each kernel's exposure ∫_s^{min(s + lookback, E)} φ_m) and the last day
with an event (``E``). The fit on merged statistics is the fit in memory.

Lookback
--------
By default the model sees the whole history (``lookback_days="none"``), whatever the run's ``--lookback-days``:
the lookback is a rule of the rule-based models, and the kernels learn how long each channel acts. A touch weeks
before a conversion (a webinar, a trade show) can then be credited, and the journeys' touches do not depend on
the outcome. ``lookback_days`` set to a number of days, or to ``"run"`` (the run's lookback), brings the cut back.

A finite lookback keeps a touch only when a conversion (or the user's last touch) follows it within the lookback,
so which touches are seen depends on the outcome: fitted on every kept touch, the model would take the selection
for an effect. Under a finite lookback the fit therefore sees, per user, only the touches within the lookback
before the user's last kept touch — a window that is seen whatever the user's conversions — and its intent
pattern, time at risk, kernel exposure and conversions are restricted to it. Credit still goes to every kept
touch of a converting journey, with the fitted β and γ; touches older than the lookback before a conversion
belong to no journey and get no credit. See docs/hazard.md.

References
----------
.. [1] Zhang, Wei & Ren, "Multi-touch attribution in online advertising with survival theory", IEEE ICDM 2014
   (additive hazard with time-decaying channel effects; credit from the hazard decomposition).
.. [2] Ji & Wang, "Additional multi-touch attribution for online advertising", AAAI 2017 (survival-based
   attribution that accounts for user heterogeneity).
.. [3] Aalen, Borgan & Gjessing, *Survival and Event History Analysis*, Springer 2008, ch. 4 (additive hazards).
.. [4] Kingman, *Poisson Processes*, Oxford 1993, ch. 2 (superposition: each event has one cause).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.exceptions import ParameterError
from attribution.journeys.journeys import BASELINE_CHANNEL as BASELINE, NONE_CHANNEL, Journeys
from attribution.io.timeparse import parse_duration_seconds

from attribution.models.base import AttributionModel
from attribution.models.hazard_fit import credit, credit_from_stats, fit_hazard, fit_inputs, journey_weights
from attribution.models.hazard_inputs import journey_inputs
from attribution.models.hazard_stats import partial_stats
from attribution.models.params import AnyOf, Choice, Number



class Hazard(AttributionModel):
    """Incremental credit from an additive conversion-hazard model with decaying channel effects.

    Parameters
    ----------
    half_lives : str or sequence of float, default "0.5|2|8|32"
        Half-lives (days) of the exponential kernels each channel's effect is a non-negative mixture of (joined
        by ``|`` in a spec string).
    pre_window : str or float, default "30m"
        Touches this close before the conversion of their journey are treated as caused by the decision to buy
        (left out); ``0`` keeps them.
    ridge : float, default 10.0
        L2 penalty on the intent coefficients γ (log-likelihood units), for patterns seen in few users.
    seed : int, default 0
        Kept for the model contract (the fit is deterministic: no random draws).
    lookback_days : float, "none" or "run", default "none"
        The lookback of the journeys this model is fitted on and credits, whatever the run's ``--lookback-days``:
        ``"none"`` (the whole history: the model learns how each channel's effect decays, so it needs no cut),
        ``"run"`` (the run's lookback, as the rule-based models) or a number of days >= 0
        (``hazard:lookback_days=90``). The engines build journeys once per distinct lookback among the run's
        models (:meth:`~attribution.models.base.AttributionModel.journey_lookback`); ``fit(journeys)`` called
        directly fits on the journeys it is given.

    Attributes
    ----------
    attribution_ : pandas.DataFrame
        ``channel, conversions, revenue, effect_per_touch`` with a ``(baseline)`` row (and ``(none)`` for
        touchless conversions).
    effects_ : pandas.DataFrame
        ``channel, half_life_days, beta`` (extra conversions per touch through each kernel).
    intent_ : pandas.DataFrame
        ``feature, coefficient`` of the baseline log-intensity.
    hazard_fit_ : attribution.models.hazard_fit.HazardFit
        The fitted β, γ and end of the log (what :meth:`touch_weights` weighs journeys with).
    """

    name = "hazard"
    extra_columns = ("effect_per_touch",)
    stats_keys = ("kind", "key")
    needs_times = True
    journey_local = False  # the weights depend on the fit over every journey: bootstraps refit
    weights_from_fit = True  # given the fit, a journey's weights depend on that journey's user only
    has_baseline = True
    parameter_constraints = {"lookback_days": AnyOf((Number(0), Choice(("none", "run"))))}

    def __init__(self, half_lives="0.5|2|8|32", pre_window="30m", ridge=10.0, seed=0, lookback_days="none"):
        self.half_lives = half_lives
        self.pre_window = pre_window
        self.ridge = ridge
        self.seed = seed
        self._set_params(lookback_days=lookback_days)
        self._half_lives_days()  # a bad value fails when the model is made, not when it is fitted
        self._pre_window_days()
        self._check("ridge", ridge, isinstance(ridge, (int, float)) and not isinstance(ridge, bool)
                    and np.isfinite(ridge) and ridge >= 0, "a number >= 0")
        self._check("seed", seed, isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and seed >= 0,
                    "an integer >= 0")

    def _half_lives_days(self) -> np.ndarray:
        """The kernels' half-lives in days, sorted (checked: one or more, each > 0)."""
        hl = self.half_lives.split("|") if isinstance(self.half_lives, str) else list(np.atleast_1d(self.half_lives))
        try:
            values = np.array([parse_duration_seconds(float(h) if _is_number(h) else h, owner="Hazard",
                                                      name="half_lives") / 86400 for h in hl])
        except (TypeError, ValueError, ParameterError):
            values = np.array([np.nan])
        self._check("half_lives", self.half_lives,
                    len(values) > 0 and bool(np.all(np.isfinite(values) & (values > 0))),
                    "one or more half-lives in days > 0 joined by '|' (e.g. 0.5|2|8|32)")
        return np.sort(values)

    def _pre_window_days(self) -> float:
        pw = self.pre_window
        seconds = 0 if _is_zero(pw) else parse_duration_seconds(float(pw) if _is_number(pw) else pw, owner="Hazard",
                                                                name="pre_window")
        return float(seconds) / 86400

    def _taus(self) -> np.ndarray:
        """The kernels' time constants τ_m = half-life / ln 2 (days)."""
        return self._half_lives_days() / np.log(2.0)

    def journey_lookback(self, run_lookback: float | None) -> float | None:
        """``lookback_days``: None (``"none"``, the default: the whole history), the run's (``"run"``) or days."""
        if isinstance(self.lookback_days, str):
            return run_lookback if self.lookback_days == "run" else None
        return float(self.lookback_days)

    # ------------------------------------------------------------------ statistics
    def _partial_stats(self, journeys: Journeys) -> pd.DataFrame:
        return partial_stats(journeys, self._taus(), self._pre_window_days())

    def _fit(self, journeys: Journeys) -> None:
        """In memory: the likelihood's inputs straight from the journeys (the statistics route's numbers up to
        summation order, without writing and reading back the keyed statistics)."""
        built = journey_inputs(journeys, self._taus(), self._pre_window_days())
        if built is None:  # no conversion: the statistics route lists the channels
            return super()._fit(journeys)
        inputs, (xo, z, w, rev) = built
        self.hazard_fit_ = fit_inputs(inputs, float(self.ridge))
        self._set_attribution(self.hazard_fit_, credit(self.hazard_fit_, xo, z, w, rev))

    def _fit_stats(self, stats: pd.DataFrame) -> None:
        self.hazard_fit_ = fit_hazard(stats, self._taus(), float(self.ridge))
        conv = stats[stats["kind"] == "conv"]
        self._set_attribution(self.hazard_fit_, credit_from_stats(self.hazard_fit_, conv))

    def _set_attribution(self, fit, credit) -> None:
        names, credit_c, credit_r, base_c, base_r = credit
        frame = pd.DataFrame({"channel": pd.Series(list(names), dtype=object), "conversions": credit_c,
                              "revenue": credit_r, "effect_per_touch": fit.effect_per_touch})
        extra = [{"channel": BASELINE, "conversions": base_c, "revenue": base_r, "effect_per_touch": np.nan}]
        if fit.none_conversions > 0 or fit.none_revenue > 0:
            extra.append({"channel": NONE_CHANNEL, "conversions": fit.none_conversions,
                          "revenue": fit.none_revenue, "effect_per_touch": np.nan})
        frame = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
        frame["channel"] = frame["channel"].astype(object)
        self.attribution_ = frame.sort_values("channel", kind="stable", ignore_index=True)
        half_lives = self._half_lives_days()
        k = len(half_lives)
        self.effects_ = pd.DataFrame({
            "channel": pd.Series(np.repeat(np.asarray(names, dtype=object), k), dtype=object),
            "half_life_days": np.tile(half_lives, len(names)),
            "beta": fit.beta.reshape(len(names), k).ravel() if len(names) else np.zeros(0)})
        self.intent_ = pd.DataFrame({"feature": pd.Series(fit.feature_names, dtype=object),
                                     "coefficient": fit.gamma})

    # ------------------------------------------------------------------ touch weights
    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Per-touch probabilities of having caused their journey's conversion (Σ = 1 − baseline share).

        Computed from the fitted β and γ on ``journeys`` (a journey's weights depend on its own touches and its
        user's intent pattern). On the journeys of the fit, ``credit_table`` of these weights plus the
        ``(baseline)`` row reproduces ``attribution_``.
        """

        self.attribution_
        if not isinstance(journeys, Journeys):
            raise ParameterError(f"Hazard.touch_weights expects Journeys; got {type(journeys).__name__}.")
        self._check_journeys(journeys)
        w, _ = journey_weights(self.hazard_fit_, journeys, self._taus(), self._pre_window_days())
        return w


def _is_number(text) -> bool:
    try:
        float(text)
        return True
    except (TypeError, ValueError):
        return False


def _is_zero(value) -> bool:
    try:
        return float(value) == 0
    except (TypeError, ValueError):
        return False
