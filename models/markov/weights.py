"""Per-touch weights that reproduce Markov credit (for fact tables at conversion × touch grain).

The removal-effect model credits channels, not touches. To cut its credit by period, campaign or touch date, every
converting journey j needs weights over its distinct channels c summing to 1, such that summing
``weight × conversions`` and ``weight × revenue`` over journeys gives back the model's conversion and revenue
credit of every channel. Among all such weights we take the ones closest (in Kullback-Leibler divergence,
per conversion) to the removal effects themselves, w_jc ∝ RE(c): the maximum-entropy solution

    w_jc = RE(c) · exp(β_c · p_j + γ_c · v_j) / Z_j

with p_j = 1 for a converting journey and v_j its revenue per conversion — iterative proportional fitting
(raking) with two margins per channel, solved by Newton's method on the convex dual over the 2 × n_channels
multipliers (β, γ) (no loop per journey). A channel's weight in a journey is then split equally over its touches
there. With only one margin (no revenue) this is classic raking w_jc = a_j · b_c · RE(c).

When no weights can meet both margins exactly (e.g. a channel that often converts alone is credited less than
the conversions of the journeys where it is the only channel), the iterations stop at the closest point they
reach and :class:`TouchWeightsWarning` says how far the reproduced credit is from the model's.

References
----------
.. [1] Deming & Stephan, "On a least squares adjustment of a sampled frequency table when the expected marginal
   totals are known", Annals of Mathematical Statistics 11(4), 1940 (iterative proportional fitting).
.. [2] Darroch & Ratcliff, "Generalized iterative scaling for log-linear models", Annals of Mathematical
   Statistics 43(5), 1972.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp

from attribution.exceptions import TouchWeightsWarning  # noqa: F401 (defined with the other warnings; importable here too)

MAX_ITER = 100
TOL = 1e-10


def _segment_logsumexp(logits, starts, pair_j, n_j):
    mx = np.maximum.reduceat(logits, starts)
    full = np.zeros(n_j)
    full[pair_j[starts]] = mx
    e = np.exp(logits - full[pair_j])
    s = np.bincount(pair_j, e, minlength=n_j)
    lse = np.zeros(n_j)
    has = s > 0
    lse[has] = np.log(s[has]) + full[has]
    return lse, e / np.where(s[pair_j] > 0, s[pair_j], 1.0)


def rake(pair_j, pair_c, log_prior, mult, features, targets, n_journeys, n_channels):
    """Maximum-entropy weights per (journey, channel) pair meeting ``targets``.

    Parameters
    ----------
    pair_j, pair_c : int arrays, pairs sorted by journey
    log_prior : log of the prior weight of each pair
    mult : multiplicity m_j of each journey (its conversions, or 1)
    features : list of arrays f_j (per unit of multiplicity); the margin of channel c for feature f is
        Σ_j m_j f_j w_jc
    targets : list of arrays (n_channels,), one per feature

    Returns
    -------
    w : weights per pair (sum 1 per journey)
    max_error : the largest absolute margin error left, relative to the feature's total
    """
    n_f = len(features)
    theta = np.zeros(n_f * n_channels)
    starts = np.flatnonzero(np.r_[True, pair_j[1:] != pair_j[:-1]]) if len(pair_j) else np.zeros(0, np.int64)
    scale = [max(float(np.abs(t).sum()), 1e-300) for t in targets]

    def evaluate(th):
        logits = log_prior.copy()
        for f in range(n_f):
            logits += th[f * n_channels + pair_c] * features[f][pair_j]
        lse, w = _segment_logsumexp(logits, starts, pair_j, n_journeys)
        value = float((mult * lse).sum()) - sum(float(th[f * n_channels:(f + 1) * n_channels] @ targets[f])
                                                  for f in range(n_f))
        grad = np.concatenate([np.bincount(pair_c, (mult * features[f])[pair_j] * w, minlength=n_channels)
                               - targets[f] for f in range(n_f)])
        return value, grad, w

    if len(pair_j) == 0:
        return np.zeros(0), 0.0
    value, grad, w = evaluate(theta)
    for _ in range(MAX_ITER):
        err = max(np.abs(grad[f * n_channels:(f + 1) * n_channels]).max() / scale[f] for f in range(n_f))
        if err <= TOL:
            break
        wm = sp.csr_matrix((w, (pair_j, pair_c)), shape=(n_journeys, n_channels))
        hess = np.zeros((n_f * n_channels, n_f * n_channels))
        for a in range(n_f):
            for b in range(a, n_f):
                fg = mult * features[a] * features[b]
                block = -(wm.multiply(fg[:, None]).T @ wm).toarray()
                block[np.diag_indices(n_channels)] += np.bincount(pair_c, fg[pair_j] * w, minlength=n_channels)
                hess[a * n_channels:(a + 1) * n_channels, b * n_channels:(b + 1) * n_channels] = block
                hess[b * n_channels:(b + 1) * n_channels, a * n_channels:(a + 1) * n_channels] = block.T
        step = np.linalg.lstsq(hess + 1e-12 * np.trace(hess) / len(hess) * np.eye(len(hess)), -grad, rcond=None)[0]
        t = 1.0
        slope = float(grad @ step)
        for _ in range(40):  # backtracking line search on the convex dual
            v2, g2, w2 = evaluate(theta + t * step)
            if np.isfinite(v2) and v2 <= value + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            break
        theta, value, grad, w = theta + t * step, v2, g2, w2
    err = max(np.abs(grad[f * n_channels:(f + 1) * n_channels]).max() / scale[f] for f in range(n_f))
    return w, float(err)


def markov_touch_weights(journeys, removal_effect: np.ndarray, conv_credit: np.ndarray, rev_credit: np.ndarray,
                         model_name: str = "Markov") -> np.ndarray:
    """Per-touch weights of ``journeys`` (sum 1 per journey with touches) reproducing the channel credit.

    ``removal_effect``, ``conv_credit`` and ``rev_credit`` are indexed like ``journeys.channel_names``.
    """
    n_ch = journeys.n_channels
    n_j = journeys.n_journeys
    jid = journeys.touch_journey
    ch = journeys.touch_channel
    if journeys.n_touches == 0:
        return np.zeros(0)
    key = jid * n_ch + ch
    pairs, inv = np.unique(key, return_inverse=True)
    inv = inv.reshape(-1)
    pair_j, pair_c = pairs // n_ch, pairs % n_ch
    touches_in_pair = np.bincount(inv, minlength=len(pairs))
    re = np.asarray(removal_effect, float)
    floor = max(float(re.max()) if len(re) else 0.0, 1.0) * 1e-12
    log_prior = np.log(np.maximum(re, floor))[pair_c]
    conv = journeys.conversions
    rev = journeys.revenue
    mult = np.where(conv > 0, conv, 1.0)
    p = conv / mult
    v = rev / mult
    v_scale = float(v[v > 0].mean()) if (v > 0).any() else 1.0
    features = [p]
    targets = [np.asarray(conv_credit, float)]
    if rev.sum() > 0:
        features.append(v / v_scale)
        targets.append(np.asarray(rev_credit, float) / v_scale)
    # only journeys that carry conversions or revenue constrain the margins; the others get prior-shaped weights
    w, err = rake(pair_j, pair_c, log_prior, mult * ((conv > 0) | (rev > 0)), features, targets, n_j, n_ch)
    if err > 1e-6:
        warnings.warn(
            f"{model_name} touch weights reproduce the channel credit only approximately (largest error "
            f"{err:.2g} of the total): no per-journey weights meet both the conversion and the revenue credit "
            "exactly. Channel totals from attribution_ remain exact; fact tables built from these weights differ "
            "by that much.", TouchWeightsWarning, stacklevel=3)
    return w[inv] / touches_in_pair[inv]
