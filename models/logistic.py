"""Data-driven attribution with a logistic model of conversion probability (SPEC 3.3).

P(convert | channel set S) = σ(β₀ + Σ_{c ∈ S} β_c) is fitted by scikit-learn's ``LogisticRegression`` on the
distinct channel sets of all journeys, converting and not (each set enters twice, as a success weighted by its
conversions and a failure weighted by its non-conversions: the same likelihood as one row per journey, and exact
for fractional path-table counts). A converting journey with set S credits channel c ∈ S in proportion to its
counterfactual drop g_c = max(0, p(S) − p(S ∖ {c})), normalised over the journey's channels; when every drop is 0
(all fitted effects ≤ 0) the conversion is split equally over the journey's channels. A channel's share within a
journey is spread over its touches there.

References
----------
.. [1] Shao & Li, "Data-driven multi-touch attribution models", KDD 2011 (bagged logistic regression and the
   counterfactual reading of its coefficients).
.. [2] google/fractribution (Apache-2.0): the same max(0, drop) normalisation, per path.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from attribution.journeys.journeys import Journeys

from attribution.models.base import AttributionModel, credit_frame
from attribution.models.params import Number
from attribution.models.channel_sets import (
    channel_set_keys, distinct_channel_pairs, set_members, set_stats, set_touch_weights,
)


class Logistic(AttributionModel):
    """Counterfactual credit from a logistic model of conversion on the channels a journey touched.

    Parameters
    ----------
    C : float, default 1.0
        Inverse L2 regularisation strength of ``sklearn.linear_model.LogisticRegression`` (counts are sample
        weights, so with many journeys the penalty hardly matters).

    Attributes
    ----------
    coefficients_ : pandas.DataFrame
        ``channel, coefficient`` (log-odds effect of a channel's presence) plus the ``(intercept)`` row.
    attribution_ : pandas.DataFrame
    """

    name = "logistic"
    stats_keys = ("channels",)

    parameter_constraints = {"C": Number(0, strict=True)}

    def __init__(self, C=1.0):
        self._set_params(C=C)

    def _partial_stats(self, journeys: Journeys) -> pd.DataFrame:
        return set_stats(journeys)

    def _set_weights(self, stats: pd.DataFrame):
        """Fit on set statistics; each set's split of a conversion over channels (rows sum to 1 where touched)."""
        from sklearn.linear_model import LogisticRegression

        members, names, code = set_members(stats)
        n, k = len(members), len(names)
        sizes = np.array([len(m) for m in members], dtype=np.int64)
        rows = np.repeat(np.arange(n), sizes)
        cols = np.array([code[c] for m in members for c in m], dtype=np.int64)
        X = np.zeros((n, k))
        X[rows, cols] = 1.0
        conv = stats["conversions"].to_numpy(float)
        nulls = stats["nulls"].to_numpy(float)
        w = np.zeros((n, k))
        self.coefficients_ = pd.DataFrame({"channel": ["(intercept)"] + names.tolist(),
                                           "coefficient": np.zeros(k + 1)})
        if k == 0:
            return w, names
        if nulls[sizes > 0].sum() <= 0 or conv[sizes > 0].sum() <= 0:  # one class only: every probability is 1, every drop 0 → equal split
            w[rows, cols] = 1.0 / sizes[rows]
            return w, names
        y = np.r_[np.ones(n), np.zeros(n)]
        weight = np.r_[conv, nulls]
        keep = (weight > 0) & np.r_[sizes > 0, sizes > 0]  # touchless conversions are (none)'s, not evidence
        model = LogisticRegression(C=float(self.C), max_iter=1000, tol=1e-10)
        model.fit(np.vstack([X, X])[keep], y[keep], sample_weight=weight[keep])
        beta = model.coef_[0]
        self.coefficients_ = pd.DataFrame({"channel": ["(intercept)"] + names.tolist(),
                                           "coefficient": np.r_[model.intercept_[0], beta]})
        logit = model.intercept_[0] + X @ beta
        p = 1.0 / (1.0 + np.exp(-logit))
        p_without = 1.0 / (1.0 + np.exp(-(logit[rows] - beta[cols])))  # S ∖ {c} for every member
        drop = np.maximum(0.0, p[rows] - p_without)
        total = np.bincount(rows, drop, minlength=n)
        equal = 1.0 / sizes[rows]
        w[rows, cols] = np.where(total[rows] > 0, drop / np.where(total[rows] > 0, total[rows], 1.0), equal)
        return w, names

    def _fit_stats(self, stats: pd.DataFrame) -> None:
        w, names = self._set_weights(stats)
        conv = stats["conversions"].to_numpy(float)
        revenue = stats["revenue"].to_numpy(float)
        empty = stats["channels"].astype(str).to_numpy() == ""
        self.attribution_ = credit_frame(names.tolist(), (w * conv[:, None]).sum(axis=0),
                                         (w * revenue[:, None]).sum(axis=0), conv[empty].sum(), revenue[empty].sum())

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        """Per-touch weights (summing to 1 in every converting journey) from a fit on these journeys."""
        pair_of_touch, pair_journey, pair_channel = distinct_channel_pairs(journeys)
        keys = channel_set_keys(journeys, pair_journey, pair_channel)
        stats = set_stats(journeys, keys)
        w, names = self._set_weights(stats)
        return set_touch_weights(journeys, w, stats, keys, names, (pair_of_touch, pair_journey, pair_channel))
