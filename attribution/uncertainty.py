"""Bootstrap confidence intervals for any model's credit (SPEC 3.3: ``--ci 0.95 --bootstrap 200 --seed 0``).

A replicate resamples the journeys with replacement: journey j is drawn k_j times, k ~ Multinomial(J, 1/J),
which is the same as multiplying its conversions, non-conversions and revenue by k_j. Every model then credits
the replicate exactly as it credits real data, so the intervals cover whatever the model does (Markov's chain,
Shapley's coalition rates). Intervals are percentile intervals of the replicates' credit per model × channel
(× period). The same seed gives the same numbers.

Two paths, same numbers: a model whose weights within a journey depend on that journey alone (the rule-based
models, ``shapley``'s journey game: ``journey_local = True``) is weighted once and each replicate is one weighted
``bincount``; any other model is refitted on every replicate.

References
----------
.. [1] Efron & Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall, 1993 (percentile intervals, ch. 13).
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd

from .exceptions import ParameterError
from .journeys import NONE_CHANNEL, Journeys
from .result import model_spec

CI_COLUMNS = ["conversions_lo", "conversions_hi", "revenue_lo", "revenue_hi"]


def check_ci(level, n_boot, seed) -> tuple[float, int, int]:
    """Validate ``--ci``, ``--bootstrap`` and ``--seed`` in the engine's one message shape."""
    try:
        lvl = float(level)
    except (TypeError, ValueError):
        lvl = float("nan")
    if not 0 < lvl < 1:
        raise ParameterError(f"The '--ci' option must be a confidence level between 0 and 1 (e.g. 0.95). Got {level!r} instead.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ParameterError(f"The '--bootstrap' option must be an integer >= 2. Got {n_boot!r} instead.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"The '--seed' option must be an integer >= 0. Got {seed!r} instead.")
    return lvl, int(n_boot), int(seed)


def resample_counts(n_journeys: int, n_boot: int, seed: int) -> np.ndarray:
    """Multinomial journey draw counts, shape (n_boot, n_journeys), from ``numpy.random.default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    if n_journeys == 0:
        return np.zeros((n_boot, 0))
    return rng.multinomial(n_journeys, np.full(n_journeys, 1.0 / n_journeys), size=n_boot).astype(np.float64)


def reweighted(journeys: Journeys, counts: np.ndarray) -> Journeys:
    """The journeys of one replicate: conversions, non-conversions and revenue times the draw counts."""
    return replace(journeys, conversions=journeys.conversions * counts, nulls=journeys.nulls * counts,
                   revenue=journeys.revenue * counts)


def _group_keys(journeys: Journeys, period: str | None):
    """Per touch and per journey a group code (channel [× period]) and the group labels."""
    from .kpis import journey_periods

    jp = journey_periods(journeys, period) if period else np.zeros(journeys.n_journeys, np.int64)
    uniq_p, p_code = np.unique(jp, return_inverse=True)
    n_ch = journeys.n_channels + 1  # code 0 is (none)
    touch_key = p_code[journeys.touch_journey] * n_ch + journeys.touch_channel + 1
    none_key = p_code * n_ch  # touchless journeys
    names = np.r_[np.array([NONE_CHANNEL], dtype=object), np.asarray(journeys.channel_names, dtype=object)]
    return touch_key, none_key, names, uniq_p, n_ch


def _fast_replicates(model, journeys: Journeys, counts: np.ndarray, period: str | None) -> pd.DataFrame:
    """Credit of every replicate for a journey-local model: one weighting, one bincount per replicate."""
    weights = model.touch_weights(journeys)
    touch_key, none_key, names, uniq_p, n_ch = _group_keys(journeys, period)
    tj = journeys.touch_journey
    empty = journeys.touchless()
    size = len(uniq_p) * n_ch
    conv_t, rev_t = weights * journeys.conversions[tj], weights * journeys.revenue[tj]
    conv_n, rev_n = journeys.conversions[empty], journeys.revenue[empty]
    keys = np.r_[touch_key, none_key[empty]]
    out_c = np.empty((len(counts), size))
    out_r = np.empty((len(counts), size))
    for b, k in enumerate(counts):  # one vectorised pass per replicate
        kt = k[tj]
        out_c[b] = np.bincount(keys, np.r_[conv_t * kt, conv_n * k[empty]], minlength=size)
        out_r[b] = np.bincount(keys, np.r_[rev_t * kt, rev_n * k[empty]], minlength=size)
    present = np.zeros(size, bool)
    present[keys] = True
    cols = np.flatnonzero(present)
    labels = pd.DataFrame({"channel": names[cols % n_ch], "period": uniq_p[cols // n_ch]})
    return labels, out_c[:, cols], out_r[:, cols]


def _refit_replicates(model, journeys: Journeys, counts: np.ndarray, period: str | None):
    """Credit of every replicate by refitting a fresh copy of the model (any model)."""
    from .kpis import fresh_model, model_credit

    frames = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the replicate's warnings repeat the real fit's
        for b, k in enumerate(counts):
            jb = reweighted(journeys, k)
            credit = model_credit(fresh_model(model).fit(jb), jb, period)
            if period is None:
                credit = credit.assign(period=0)
            frames.append(credit[["channel", "period", "conversions", "revenue"]].assign(_b=b))
    both = pd.concat(frames, ignore_index=True)
    conv = both.pivot_table(index="_b", columns=["channel", "period"], values="conversions", aggfunc="sum",
                            fill_value=0.0, sort=True)
    rev = both.pivot_table(index="_b", columns=["channel", "period"], values="revenue", aggfunc="sum",
                           fill_value=0.0, sort=True).reindex(columns=conv.columns, fill_value=0.0)
    labels = pd.DataFrame(list(conv.columns), columns=["channel", "period"])
    return labels, conv.to_numpy(), rev.to_numpy()


def bootstrap_intervals(models, journeys: Journeys, *, level: float = 0.95, n_boot: int = 200, seed: int = 0,
                        period: str | None = None, specs=None) -> pd.DataFrame:
    """Percentile bootstrap intervals of fitted models' credit.

    Parameters
    ----------
    models : sequence of fitted models
    journeys : Journeys
        The journeys the models were fitted on.
    level : float
        Confidence level, e.g. 0.95.
    n_boot : int
        Replicates.
    seed : int
        Seed of :func:`numpy.random.default_rng`; every model sees the same replicates.
    period : {"day", "week", "month"}, optional
        Intervals per channel and period (the conversion's period).
    specs : sequence of str, optional
        The ``model`` labels (default: each model's spec string).

    Returns
    -------
    pandas.DataFrame
        ``model, channel[, period], conversions_lo, conversions_hi, revenue_lo, revenue_hi``.
    """
    level, n_boot, seed = check_ci(level, n_boot, seed)
    counts = resample_counts(journeys.n_journeys, n_boot, seed)
    alpha = (1.0 - level) / 2.0
    frames = []
    for i, model in enumerate(models):
        local = getattr(model, "journey_local", False) and hasattr(model, "touch_weights")
        labels, conv, rev = (_fast_replicates if local else _refit_replicates)(model, journeys, counts, period)
        lo_c, hi_c = np.quantile(conv, [alpha, 1 - alpha], axis=0)
        lo_r, hi_r = np.quantile(rev, [alpha, 1 - alpha], axis=0)
        spec = specs[i] if specs is not None else model_spec(model)
        frame = labels.assign(conversions_lo=lo_c, conversions_hi=hi_c, revenue_lo=lo_r, revenue_hi=hi_r)
        frame.insert(0, "model", spec)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if period is None:
        out = out.drop(columns="period")
    return out


def add_intervals(table: pd.DataFrame, intervals: pd.DataFrame, period: str | None = None) -> pd.DataFrame:
    """Join interval columns onto the report table (after ``share``), keeping its rows and order."""
    from .periods import days_to_dates  # period labels in the report are dates

    keys = ["model", "channel"]
    iv = intervals.copy()
    if period is not None and "period" in table.columns:
        iv["period"] = days_to_dates(iv["period"].to_numpy())
        if len(table) and len(iv):
            iv["period"] = iv["period"].astype(table["period"].dtype)
        keys.append("period")
    merged = table.merge(iv, on=keys, how="left", sort=False)
    for c in CI_COLUMNS:  # rows no replicate credited (spend-only channels): interval [0, 0]
        merged[c] = merged[c].fillna(0.0).astype(float)
    cols = list(table.columns)
    at = cols.index("share") + 1 if "share" in cols else len(cols)
    return merged[cols[:at] + CI_COLUMNS + cols[at:]]
