"""The estimation side of the ``hazard`` model: maximum likelihood on merged statistics, credit, touch weights.

The log-likelihood of the additive intensity (see :mod:`attribution.models.hazard`) is::

    ℓ(β, γ) = Σ_e w_e log(exp(γ·z_e) + β·x_e) − Σ_p exp(γ·z_p) X0_p − β·Xk − ridge/2 · |γ₁..|²

over conversions ``e`` (weight ``w_e``, kernel covariates ``x_e``, intent features ``z_e``), intent patterns ``p``
(baseline exposure ``X0_p`` = Σ weight × time at risk) and the kernels' exposure ``Xk``. It is concave in
β for fixed γ and is maximised by L-BFGS-B with β ≥ 0 (β rescaled so that each coordinate is the fraction of
conversions its kernel explains, which keeps the problem well conditioned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from attribution.models.hazard_stats import SEP_CH, SEP_KEY, conversion_pairs, intent_features, parse_patterns, prepare


HESSIAN_ROWS = 40_000  # conversions the Newton Hessian is computed from (a deterministic every-k-th subset)


@dataclass
class HazardFit:
    channels: np.ndarray
    beta: np.ndarray  # (channels · kernels,)
    gamma: np.ndarray
    feature_names: list
    end_day: float
    none_conversions: float
    none_revenue: float

    @property
    def effect_per_touch(self) -> np.ndarray:
        k = len(self.beta) // max(len(self.channels), 1)
        return self.beta.reshape(len(self.channels), k).sum(axis=1) if len(self.channels) else np.zeros(0)


def _split(keys, sep: str) -> tuple[np.ndarray, np.ndarray]:
    """The parts of string keys before and after the first ``sep`` (vectorised in Arrow)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = keys if isinstance(keys, pa.Array) else pa.array(np.asarray(keys, dtype=object), pa.string())
    if not len(arr):
        return np.zeros(0, dtype=object), np.zeros(0, dtype=object)
    parts = pc.split_pattern(arr, sep, max_splits=1)
    two = pc.greater_equal(pc.list_value_length(parts), 2)
    first = pc.list_element(parts, 0).to_numpy(zero_copy_only=False)
    second = np.full(len(arr), "", dtype=object)
    idx = np.flatnonzero(two.to_numpy(zero_copy_only=False))
    if idx.size:
        second[idx] = pc.list_element(parts.take(pa.array(idx)), 1).to_numpy(zero_copy_only=False)
    return first.astype(object), second


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric column of the statistics, zeros when no partition had it."""
    return frame[name].to_numpy(float) if name in frame.columns else np.zeros(len(frame))


def _exposure(last: pd.DataFrame, users: pd.DataFrame, end_day: float, lookback: float) -> np.ndarray:
    """Baseline exposure per intent pattern: time within the lookback after a kept touch, up to E."""
    p_name, p_day = _split(last["key"], SEP_KEY)
    p_index = pd.Index(users["key"].astype(str)).get_indexer(p_name)
    w, f = _col(last, "w"), _col(last, "f")
    full = p_day.astype(np.int64) + 0.5 <= end_day - lookback
    tail = np.where(full, w * lookback if np.isfinite(lookback) else 0.0, w * end_day - f)
    return _col(users, "g") + np.bincount(p_index, tail, minlength=len(users))


def _channels(stats: pd.DataFrame) -> np.ndarray:
    names = {c[2:].partition(":")[2] for c in stats.columns if c.startswith("xf")}
    names |= set(_split(stats.loc[stats["kind"] == "touch", "key"], SEP_CH)[0])
    return np.array(sorted(names), dtype=object)


def _x(frame: pd.DataFrame, prefix: str, channels, k: int) -> np.ndarray:
    cols = [f"{prefix}{m}:{c}" for c in channels for m in range(k)]
    return np.column_stack([frame[c].to_numpy(float) if c in frame.columns else np.zeros(len(frame))
                            for c in cols]) if cols else np.zeros((len(frame), 0))


@dataclass
class FitInputs:
    """What the likelihood needs, from merged statistics (:func:`inputs_from_stats`) or straight from journeys
    (:func:`attribution.models.hazard_stats.fit_inputs`): both give the same numbers up to summation order."""

    channels: np.ndarray  # channel names, sorted
    z_p: np.ndarray  # (patterns, features) intent features of the at-risk patterns
    x0: np.ndarray  # (patterns,) baseline exposure
    xk: np.ndarray  # (channels · kernels,) kernel exposure
    w: np.ndarray  # (at-risk conversions,) weights
    x: np.ndarray  # (at-risk conversions, channels · kernels) kernel covariates
    p_index: np.ndarray  # (at-risk conversions,) pattern row of each
    end_day: float
    none_conversions: float
    none_revenue: float


def kernel_exposure(t_ch, t_day, tw, b, n_ch, taus, end_day, lookback) -> np.ndarray:
    """Each (channel, kernel)'s exposure Σ weight × ∫ φ_m from s to min(s + lookback, E), from rows of touches
    grouped by channel and day (``tw`` Σ weights, ``b[m]`` Σ weight × exp((s − day)/τ_m))."""
    k = len(taus)
    full = t_day + 0.5 <= end_day - lookback  # the whole lookback after the touch lies before E
    xk = np.zeros(n_ch * k)
    for m, tau in enumerate(taus):  # a loop per kernel: ∫ φ_m from s to min(s + lookback, E)
        cut = tw - np.exp(-(end_day - t_day) / tau) * b[m]
        left = np.where(full, tw * -np.expm1(-lookback / tau) if np.isfinite(lookback) else tw, cut)
        xk[m::k] = np.bincount(t_ch, left, minlength=n_ch)
    return xk


def inputs_from_stats(stats: pd.DataFrame, taus: np.ndarray) -> FitInputs:
    """The likelihood's inputs from merged :func:`~attribution.models.hazard_stats.partial_stats`."""
    k = len(taus)
    channels = _channels(stats)
    kind = stats["kind"].to_numpy()
    ends = stats.loc[kind == "end", "key"].astype(str)
    end_day = float(ends.astype(np.int64).max() + 1) if len(ends) else 0.0
    looks = stats.loc[kind == "lookback", "key"].astype(str)
    lookback = float(looks.iloc[0]) if len(looks) else np.inf
    users = stats[kind == "user"]
    pcounts, ptotal = parse_patterns(users["key"].to_numpy(), channels)
    z_p = intent_features(pcounts, ptotal)
    x0 = _exposure(stats[kind == "last"], users, end_day, lookback)
    touches = stats[kind == "touch"]
    t_name, t_day = _split(touches["key"], SEP_CH)
    t_ch = pd.Index(channels).get_indexer(t_name)
    xk = kernel_exposure(t_ch, t_day.astype(np.int64), _col(touches, "w"),
                         [_col(touches, f"b{m}") for m in range(k)], len(channels), taus, end_day, lookback)
    conv = stats[kind == "conv"]
    touched = _col(conv, "touched") > 0
    none_c = float(_col(conv, "w")[~touched].sum())
    none_r = float(_col(conv, "rev")[~touched].sum())
    ev = conv[_col(conv, "risk") > 0]
    p_index = pd.Index(users["key"].astype(str)).get_indexer(_split(ev["key"], SEP_KEY)[0])
    return FitInputs(channels, z_p, x0, xk, _col(ev, "w"), _x(ev, "xf", channels, k), p_index, end_day,
                     none_c, none_r)


def fit_hazard(stats: pd.DataFrame, taus: np.ndarray, ridge: float) -> HazardFit:
    """Maximum-likelihood β ≥ 0 and γ from merged :func:`~attribution.models.hazard_stats.partial_stats`."""
    return fit_inputs(inputs_from_stats(stats, taus), ridge)


def fit_inputs(inp: FitInputs, ridge: float) -> HazardFit:
    """Maximum-likelihood β ≥ 0 and γ from the likelihood's inputs."""
    channels, x, xk, w, z_p, x0 = inp.channels, inp.x, inp.xk, inp.w, inp.z_p, inp.x0
    names = ["(intercept)", "log1p(touches)"] + [f"log1p({c})" for c in channels]
    n_b, n_g = x.shape[1], z_p.shape[1]
    total = float(w.sum())
    if total <= 0 or x0.sum() <= 0:
        return HazardFit(channels, np.zeros(n_b), np.zeros(n_g), names, inp.end_day, inp.none_conversions,
                         inp.none_revenue)
    scale = np.where(xk > 0, total / np.maximum(xk, 1e-300), 0.0)  # β_j = u_j · scale_j
    theta = _newton(x * scale, xk * scale, w, z_p[inp.p_index], z_p, x0, inp.p_index, total, ridge)
    return HazardFit(channels, theta[:n_b] * scale, theta[n_b:], names, inp.end_day, inp.none_conversions,
                     inp.none_revenue)


def _newton(xs, xks, w, z_e, z_p, x0, p_index, total, ridge, max_iter=200, tol=1e-13):
    """Projected Newton (Bertsekas 1982) on −ℓ/total with u ≥ 0: Newton steps on the free coordinates,
    Levenberg damping when the Hessian is not positive definite, projection and Armijo backtracking. Beyond
    ``HESSIAN_ROWS`` conversions the Hessian comes from an every-k-th subset of them (the statistics are sorted
    by key, so the subset is the same in memory and partitioned); the gradient and the objective use them all.

    References
    ----------
    .. [1] Bertsekas, "Projected Newton methods for optimization problems with simple constraints", SIAM J.
       Control and Optimization 20(2), 1982.
    """
    from threadpoolctl import threadpool_limits

    n_b, n_g = xs.shape[1], z_p.shape[1]
    step = max(1, -(-len(w) // HESSIAN_ROWS))
    reweight = float(w.sum()) / max(float(w[::step].sum()), 1e-300)
    # a tiny ridge on the effects (1e-6 of the conversions, in units of "fraction of conversions explained") makes
    # the optimum unique where the data cannot tell two kernels apart, so that it does not depend on the order
    # of the channels; the intent coefficients (not the intercept) get ``ridge``
    pen = np.r_[np.full(n_b, 1e-6 * total), 0.0, np.full(n_g - 1, ridge)]

    cache = {}  # the intensities of the last point valued: the accepted step's are reused by derivatives

    def intensities(th):
        u, g = th[:n_b], th[n_b:]
        mu_p = np.exp(np.clip(z_p @ g, -700, 700))
        mu_e = mu_p[p_index]
        lam = np.maximum(mu_e + xs @ u, 1e-300)
        cache.update(th=th.copy(), values=(mu_p, mu_e, lam))
        return mu_p, mu_e, lam

    def value(th):
        mu_p, _, lam = intensities(th)
        return -(float(w @ np.log(lam)) - float(mu_p @ x0) - float(th[:n_b] @ xks)
                 - 0.5 * float(pen @ th**2)) / total

    xs_s, z_s, ws = xs[::step], z_e[::step], w[::step] * reweight  # the Hessian's rows (fixed)

    def derivatives(th):
        same = "th" in cache and np.array_equal(cache["th"], th)
        mu_p, mu_e, lam = cache["values"] if same else intensities(th)
        per_pattern = np.bincount(p_index, w * mu_e / lam, minlength=len(z_p))  # Σ over a pattern's conversions
        grad = np.r_[xs.T @ (w / lam), z_p.T @ per_pattern] - np.r_[xks, z_p.T @ (mu_p * x0)] - pen * th
        # the Hessian from every step-th conversion (reweighted): the gradient is exact, so the optimum is too
        ls, ms = lam[::step], mu_e[::step]
        a = np.column_stack([xs_s, ms[:, None] * z_s]) * (np.sqrt(ws) / ls)[:, None]
        hess = -(a.T @ a)  # a symmetric product (BLAS syrk): half the work of a general one
        hess[n_b:, n_b:] += (z_s * (ws * ms / ls)[:, None]).T @ z_s - (z_p * (mu_p * x0)[:, None]).T @ z_p
        hess -= np.diag(pen)
        return -grad / total, -hess / total

    g0 = np.zeros(n_g)
    g0[0] = np.log(0.5 * total / x0.sum())
    th = np.r_[np.full(n_b, 0.5 / max(n_b, 1)), g0]
    with threadpool_limits(1):  # small dense products: threads only contend
        f = value(th)
        for _ in range(max_iter):
            grad, hess = derivatives(th)
            lower = np.r_[th[:n_b] <= 1e-12, np.zeros(n_g, bool)]
            free = ~(lower & (grad > 0))
            d = np.zeros_like(th)
            h = hess[np.ix_(free, free)]
            damp = 0.0
            while True:
                try:
                    c = np.linalg.cholesky(h + damp * np.eye(len(h)))
                    break
                except np.linalg.LinAlgError:
                    damp = max(2 * damp, 1e-8 * max(1.0, float(np.abs(np.diag(h)).max())))
            d[free] = -np.linalg.solve(c.T, np.linalg.solve(c, grad[free]))
            t, improved = 1.0, False
            for _ in range(50):
                cand = th + t * d
                cand[:n_b] = np.maximum(cand[:n_b], 0.0)
                fc = value(cand)
                if fc <= f + 1e-4 * float(grad @ (cand - th)):
                    improved = True
                    break
                t *= 0.5
            if not improved:
                break
            moved = float(np.abs(cand - th).max())
            th, f = cand, fc
            if moved <= tol * max(1.0, float(np.abs(th).max())):  # Newton converges quadratically: to the last bits
                break
    return th


def _responsibilities(fit: HazardFit, xo: np.ndarray, z: np.ndarray):
    mu = np.exp(np.clip(z @ fit.gamma, -700, 700))
    caused = xo * fit.beta
    lam = mu + caused.sum(axis=1)
    return caused / lam[:, None], mu / lam


def credit_from_stats(fit: HazardFit, conv: pd.DataFrame):
    """Channel credit (conversions, revenue) and the baseline's, from the conversion rows of the statistics."""
    k = len(fit.beta) // max(len(fit.channels), 1)
    touched = _col(conv, "touched") > 0
    rows = conv[touched]
    xo = _x(rows, "xo", fit.channels, k)
    keys = _split(rows["key"], SEP_KEY)[0]
    uniq, inv = np.unique(keys, return_inverse=True) if len(keys) else (np.zeros(0), np.zeros(0, np.int64))
    counts, total = parse_patterns(uniq, fit.channels)
    z = intent_features(counts, total)[inv.reshape(-1)] if len(keys) else np.zeros((0, len(fit.gamma)))
    return credit(fit, xo, z, _col(rows, "w"), _col(rows, "rev"))


def credit(fit: HazardFit, xo: np.ndarray, z: np.ndarray, w: np.ndarray, rev: np.ndarray):
    """Channel credit (conversions, revenue) and the baseline's, from the touched conversions' kernel sums of
    their own journey's touches ``xo``, intent features ``z``, weights and revenue."""
    k = len(fit.beta) // max(len(fit.channels), 1)
    n_ch = len(fit.channels)
    resp, base = _responsibilities(fit, xo, z)
    per_ch = lambda a: a.reshape(len(a), n_ch, k).sum(axis=2) if n_ch else np.zeros((len(a), 0))  # noqa: E731
    r = per_ch(resp)
    return fit.channels, w @ r, rev @ r, float(w @ base), float(rev @ base)


def journey_weights(fit: HazardFit, journeys, taus, pre_window_days: float):
    """Per-touch weights of ``journeys`` (probability that the touch caused its journey's conversion) and each
    journey's baseline share."""
    prep = prepare(journeys, pre_window_days)
    k = len(taus)
    col = pd.Index(fit.channels).get_indexer(np.asarray(journeys.channel_names, dtype=object))
    counts = np.zeros((prep.n_users, len(fit.channels)))
    known = col >= 0
    counts[:, col[known]] = prep.counts[:, known]
    z = intent_features(counts, prep.total)
    mu_j = np.exp(np.clip(z @ fit.gamma, -700, 700))[prep.juser]
    conv, pair_conv, pair_touch, own = conversion_pairs(journeys, prep)
    pc_, pt = pair_conv[own], pair_touch[own]
    gap = prep.end[conv][pc_] - prep.t[pt]
    ch = col[journeys.touch_channel[pt]]
    beta = fit.beta.reshape(len(fit.channels), k) if len(fit.channels) else np.zeros((0, k))
    phi = np.zeros(len(pt))
    if len(pt):
        b = np.where(ch[:, None] >= 0, beta[np.maximum(ch, 0)], 0.0)
        phi = (b * np.exp(-gap[:, None] / taus) / taus).sum(axis=1)
    lam = mu_j[conv] + np.bincount(pc_, phi, minlength=conv.size)
    w = np.zeros(journeys.n_touches)
    w[pt] = phi / lam[pc_]
    base = np.zeros(journeys.n_journeys)
    base[conv] = mu_j[conv] / lam
    return w, base
