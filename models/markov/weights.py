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

Journeys with the same (set of distinct channels, p, v) get the same weights, so the problem is solved on those rows
(:func:`set_row_weights`, from :func:`attribution.models.set_rows.weight_rows`), each row weighing in with its
journeys' conversions: the same arrays for a whole log and for the merged rows of its partitions. Newton runs to the
floating-point floor (full steps while they still reduce the margin error), so where it stops does not depend on
rounding details of the machine's linear algebra.

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
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import TouchWeightsWarning  # noqa: F401 (defined with the other warnings; importable here too)
from attribution.kernels.constants import KEY_SEPARATOR

MAX_ITER = 100
#: below this margin error (relative to the total) Newton's quadratic phase has begun; it then runs on while its
#: steps still reduce the error, i.e. to the floating-point floor, so the stopping point does not hinge on where
#: this threshold falls among the last digits
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

    def error(g):
        return max(float(np.abs(g[f * n_channels:(f + 1) * n_channels]).max()) / scale[f] for f in range(n_f))

    value, grad, w = evaluate(theta)
    err = error(grad)
    for _ in range(MAX_ITER):
        if err == 0.0:
            break
        step = _newton_step(w, pair_j, pair_c, mult, features, grad, n_journeys, n_channels)
        if err <= TOL:
            # near the solution the dual value no longer resolves the decrease (it is below its rounding), so
            # full Newton steps are taken while they reduce the margin error: it stops at the floating-point floor
            v2, g2, w2 = evaluate(theta + step)
            err2 = error(g2)
            if not err2 < err:
                break
            theta, value, grad, w, err = theta + step, v2, g2, w2, err2
            continue
        t = 1.0
        slope = float(grad @ step)
        for _ in range(40):  # backtracking line search on the convex dual
            v2, g2, w2 = evaluate(theta + t * step)
            if np.isfinite(v2) and v2 <= value + 1e-4 * t * slope:
                break
            t *= 0.5
        else:
            break  # no descent left: the closest point reachable
        theta, value, grad, w, err = theta + t * step, v2, g2, w2, error(g2)
    return w, float(err)


def _newton_step(w, pair_j, pair_c, mult, features, grad, n_journeys, n_channels):
    """The Newton step of the raking's dual: its Hessian (2 × 2 blocks of n_channels), solved by least squares."""
    import scipy.sparse as sp  # with the chain's solvers, imported when first needed (see chain._scipy)

    n_f = len(features)
    wm = sp.csr_matrix((w, (pair_j, pair_c)), shape=(n_journeys, n_channels))
    hess = np.zeros((n_f * n_channels, n_f * n_channels))
    for a in range(n_f):
        for b in range(a, n_f):
            fg = mult * features[a] * features[b]
            block = -(wm.multiply(fg[:, None]).T @ wm).toarray()
            block[np.diag_indices(n_channels)] += np.bincount(pair_c, fg[pair_j] * w, minlength=n_channels)
            hess[a * n_channels:(a + 1) * n_channels, b * n_channels:(b + 1) * n_channels] = block
            hess[b * n_channels:(b + 1) * n_channels, a * n_channels:(a + 1) * n_channels] = block.T
    # minimum-norm least squares: the Hessian is singular along directions that change no weight (the same shift
    # of every channel's multiplier, channels only ever alone in a journey); cutting those singular values at the
    # rounding level keeps rounding noise of the gradient from being amplified into the step
    return np.linalg.lstsq(hess, -grad, rcond=None)[0]


def set_row_weights(rows, credit_names, removal_effect, conv_credit, rev_credit, model_name: str = "Markov"):
    """Weights per (row, channel) pair of (channel set, p, v) rows reproducing the channel credit.

    Parameters
    ----------
    rows : pandas.DataFrame
        :func:`attribution.models.set_rows.weight_rows` of the journeys (``channels, p, v, n, conversions``),
        sorted by key. Only the keys and the whole-number counts ``n`` and ``conversions`` are read, so rows
        counted in one piece or merged from partitions give the same arrays.
    credit_names : array of channel names that ``removal_effect``, ``conv_credit`` and ``rev_credit`` index
        (channels missing from it get 0).

    Returns
    -------
    names : the rows' channels (sorted); pair_row, pair_channel : each pair's row and code into ``names``,
        sorted by row then channel; weights : per pair (sum 1 per row with channels)
    """
    keys = pa.array(rows["channels"].astype(object).tolist(), pa.string())
    lists = pc.split_pattern(keys, KEY_SEPARATOR)
    sizes = np.where(pc.equal(keys, "").to_numpy(zero_copy_only=False), 0,
                     pc.list_value_length(lists).to_numpy(zero_copy_only=False)).astype(np.int64)
    flat = lists.flatten().to_numpy(zero_copy_only=False)
    flat = flat[np.repeat(sizes > 0, pc.list_value_length(lists).to_numpy(zero_copy_only=False))]
    names, codes = np.unique(np.asarray(flat, dtype=object).astype(str), return_inverse=True)
    pair_j = np.repeat(np.arange(len(rows), dtype=np.int64), sizes)
    order = np.lexsort((codes, pair_j))
    pair_j, pair_c = pair_j[order], codes.reshape(-1)[order].astype(np.int64)
    n_ch = len(names)
    at = pd.Index(np.asarray(credit_names, dtype=object).astype(str)).get_indexer(names)
    pick = lambda a: np.where(at >= 0, np.asarray(a, float)[np.maximum(at, 0)], 0.0)  # noqa: E731
    re, conv_t, rev_t = pick(removal_effect), pick(conv_credit), pick(rev_credit)
    if len(pair_j) == 0:
        return names, pair_j, pair_c, np.zeros(0)
    p = rows["p"].to_numpy(float)
    v = rows["v"].to_numpy(float)
    n = rows["n"].to_numpy(float)
    conv = rows["conversions"].to_numpy(float)
    touched = sizes > 0
    # a row stands for n journeys of m_j conversions each (p = 1), or n journeys without conversion (p = 0)
    mult = np.where(p > 0, conv, n)
    revenue = v * mult  # per row, from its key: the same whatever order the journeys were counted in
    conv_total = float(conv[touched].sum())
    rev_total = float(revenue[touched].sum())
    conv_t = conv_t * (conv_total / conv_t.sum()) if conv_t.sum() > 0 else conv_t
    rev_t = rev_t * (rev_total / rev_t.sum()) if rev_t.sum() > 0 else rev_t
    floor = max(float(re.max()), 1.0) * 1e-12
    log_prior = np.log(np.maximum(re, floor))[pair_c]
    positive = touched & (v > 0)
    v_scale = float((n * v)[positive].sum() / n[positive].sum()) if positive.any() else 1.0
    features = [p]
    targets = [conv_t]
    if rev_total > 0:
        features.append(v / v_scale)
        targets.append(rev_t / v_scale)
    # only rows that carry conversions or revenue constrain the margins; the others get prior-shaped weights
    w, err = rake(pair_j, pair_c, log_prior, mult * ((p > 0) | (v > 0)), features, targets, len(rows), n_ch)
    if err > 1e-6:
        warnings.warn(
            f"{model_name} touch weights reproduce the channel credit only approximately (largest error "
            f"{err:.2g} of the total): no per-journey weights meet both the conversion and the revenue credit "
            "exactly. Channel totals from attribution_ remain exact; fact tables built from these weights differ "
            "by that much.", TouchWeightsWarning, stacklevel=3)
    return names, pair_j, pair_c, w
