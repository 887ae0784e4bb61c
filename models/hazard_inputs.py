"""The ``hazard`` model's likelihood inputs straight from journeys in memory (no statistics frame).

:func:`~attribution.models.hazard_stats.partial_stats` writes the additive statistics as keyed rows (pattern
strings, channel × day keys, one row per conversion) so that partitions merge by key; the fit then reads them
back. In memory there is one partition: the same quantities are computed here directly from the flat arrays,
with the same formulas (the kernel exposure from the same channel × day sums), so the fit, the credit and the
touch weights equal the statistics route's up to floating-point summation order.
"""

from __future__ import annotations

import numpy as np

from attribution.models.hazard_fit import FitInputs, kernel_exposure
from attribution.models.hazard_stats import conversion_pairs, intent_features, kernel_sums, pattern_codes, prepare


def journey_inputs(journeys, taus: np.ndarray, pre_window_days: float):
    """:class:`~attribution.models.hazard_fit.FitInputs` of ``journeys`` and the credit's inputs ``(xo, z, w,
    rev)`` of the touched conversions, channels in sorted order; None when no journey converts (the
    statistics route then decides which channels the table lists)."""
    prep = prepare(journeys, pre_window_days)
    conv, pair_conv, pair_touch, own = conversion_pairs(journeys, prep)
    if not conv.size:
        return None
    names = np.asarray(journeys.channel_names, dtype=object)
    order = np.argsort(names, kind="stable")
    channels = names[order]
    k = len(taus)
    cols = (order[:, None] * k + np.arange(k)).ravel()  # sorted channel-major columns of the kernel sums
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    code, uniq = pattern_codes(prep.counts, prep.total)
    end_day = float(np.floor(max(prep.end.max(), prep.t.max() if prep.t.size else -np.inf))) + 1.0
    # intent patterns of the users at risk (a fit touch), with their baseline exposure
    risk = np.isfinite(prep.first)
    seen_codes = np.flatnonzero(np.bincount(code[risk], minlength=len(uniq)))  # ascending, as the statistics'
    lookup = np.full(len(uniq), -1, np.int64)
    lookup[seen_codes] = np.arange(seen_codes.size)
    p_of_user = np.where(risk, lookup[code], -1)
    p_of_risk = p_of_user[risk]
    z_p = intent_features(uniq[seen_codes][:, :-1][:, order], uniq[seen_codes][:, -1])
    x0 = _baseline_exposure(prep, risk, p_of_risk, len(seen_codes), end_day)
    xk = _kernel_exposure(journeys, prep, taus, rank, end_day)
    # conversions: kernel sums of the touches the fit sees (at risk) and of their own journey's (credit)
    seen = prep.fit[pair_touch]
    w, rev = journeys.conversions[conv].astype(float), journeys.revenue[conv].astype(float)
    at_risk = np.bincount(pair_conv[seen], minlength=conv.size) > 0
    touched = journeys.lengths[conv] > 0
    xf = kernel_sums(journeys, prep, taus, conv, pair_conv, pair_touch, seen)[at_risk][:, cols]
    cu = prep.juser[conv]
    inputs = FitInputs(channels, z_p, x0, xk, w[at_risk], xf, p_of_user[cu[at_risk]], end_day,
                       float(w[~touched].sum()), float(rev[~touched].sum()))
    xo = kernel_sums(journeys, prep, taus, conv, pair_conv, pair_touch, own)[touched][:, cols]
    ct = cu[touched]
    z = intent_features(prep.counts[ct][:, order], prep.total[ct])
    return inputs, (xo, z, w[touched], rev[touched])


def _baseline_exposure(prep, risk, p_of_risk, n_patterns, end_day) -> np.ndarray:
    """Per pattern Σ weight × time at risk: the gaps between fit touches, then the lookback after the last one
    up to E (as :func:`attribution.models.hazard_fit._exposure` from the per pattern × day sums)."""
    w = prep.weight[risk]
    last = prep.last[risk]
    lookback = prep.lookback
    full = np.floor(last) + 0.5 <= end_day - lookback
    tail = np.where(full, w * lookback if np.isfinite(lookback) else 0.0, w * end_day - w * last)
    return np.bincount(p_of_risk, w * prep.gaps[risk], minlength=n_patterns) + np.bincount(
        p_of_risk, tail, minlength=n_patterns)


def _kernel_exposure(journeys, prep, taus, rank, end_day) -> np.ndarray:
    """Each (sorted channel, kernel)'s exposure, from the fit touches' sums per channel × day."""
    kept = np.flatnonzero(prep.fit)
    n_ch = len(rank)
    if not kept.size:
        return np.zeros(n_ch * len(taus))
    t = prep.t[kept]
    day = np.floor(t)
    frac = t - day
    w = prep.weight[prep.juser[journeys.touch_journey[kept]]]
    d0 = int(day.min())
    span = int(day.max()) - d0 + 1
    group = rank[journeys.touch_channel[kept]].astype(np.int64) * span + (day.astype(np.int64) - d0)
    size = n_ch * span  # channels × days of the log: small
    cd = np.flatnonzero(np.bincount(group, minlength=size))
    tw = np.bincount(group, w, minlength=size)[cd]
    b = [np.bincount(group, w * np.exp(frac / tau), minlength=size)[cd] for tau in taus]  # a loop per kernel
    return kernel_exposure(cd // span, cd % span + d0, tw, b, n_ch, taus, end_day, prep.lookback)
