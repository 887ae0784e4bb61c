"""Bootstrap confidence intervals for any model's credit (SPEC 3.3: ``--ci 0.95 --bootstrap 200 --seed 0``).

A replicate resamples the journeys with replacement: journey j is drawn k_j times, k ~ Multinomial(J, 1/J),
which is the same as multiplying its conversions, non-conversions and revenue by k_j. Every model then credits
the replicate exactly as it credits real data, so the intervals cover whatever the model does (Markov's chain,
Shapley's coalition rates). Intervals are percentile intervals of the replicates' credit per model × channel
(× period). The same seed gives the same numbers.

Two paths, same numbers: a model whose weights within a journey depend on that journey alone (the rule-based
models, ``shapley``'s journey game: ``journey_local = True``) is weighted once and each replicate is one weighted
``bincount``; any other model is refitted on every replicate.

Partitioned runs (out of core, Dask) cannot draw one multinomial over all journeys: no partition sees them all.
They use the Poisson bootstrap instead [2]_: in replicate b journey j is weighted by k_jb ~ Poisson(1), drawn
from a counter-based hash of (the journey's user id, its rank among the user's journeys, seed, b)
(:func:`poisson_draws`), so a journey gets the same weight whatever partition processes it, and the replicates'
credit adds up over partitions (:func:`partition_replicates`, :func:`merge_replicates`; models that are not
journey-local merge each replicate's ``partial_stats`` and refit). The same seed gives the same intervals for any
number of partitions and either engine (to floating-point summation order); they are statistically equivalent to
the in-memory ones (same percentile method, resampling weights with mean 1 and variance 1; the multinomial's
weights have variance 1 - 1/J) but not equal to them: the draws differ.

References
----------
.. [1] Efron & Tibshirani, *An Introduction to the Bootstrap*, Chapman & Hall, 1993 (percentile intervals, ch. 13).
.. [2] Hanley & MacGibbon, "Creating non-parametric bootstrap samples using Poisson frequencies", Computer Methods
   and Programs in Biomedicine 83(1), 2006; Chamandy, Muralidharan, Najmi & Naidu, "Estimating uncertainty for
   massive data streams", Google technical report, 2012.
"""

from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import ParameterError, option
from attribution.kernels.userorder import hash_strings, mix64
from attribution.journeys.journeys import NONE_CHANNEL, Journeys
from attribution.io.periods import days_to_dates
from attribution.kpis.report import fresh_model, journey_periods, model_credit
from attribution.kpis.result import model_spec
from attribution.models.base import local_weights, merge_stats

CI_COLUMNS = ["conversions_lo", "conversions_hi", "revenue_lo", "revenue_hi"]


def check_ci(level, n_boot, seed) -> tuple[float, int, int]:
    """Validate ``--ci``, ``--bootstrap`` and ``--seed`` in the engine's one message shape."""
    try:
        lvl = float(level)
    except (TypeError, ValueError):
        lvl = float("nan")
    if not 0 < lvl < 1:
        raise ParameterError(f"The {option('ci', quoted=True)} option must be a confidence level between 0 and 1 (e.g. 0.95). Got {level!r} instead.")
    if isinstance(n_boot, bool) or not isinstance(n_boot, (int, np.integer)) or n_boot < 2:
        raise ParameterError(f"The {option('bootstrap', quoted=True)} option must be an integer >= 2. Got {n_boot!r} instead.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"The {option('seed', quoted=True)} option must be an integer >= 0. Got {seed!r} instead.")
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
    jp = journey_periods(journeys, period) if period else np.zeros(journeys.n_journeys, np.int64)
    uniq_p, p_code = np.unique(jp, return_inverse=True)
    n_ch = journeys.n_channels + 1  # code 0 is (none)
    touch_key = p_code[journeys.touch_journey] * n_ch + journeys.touch_channel + 1
    none_key = p_code * n_ch  # touchless journeys
    names = np.r_[np.array([NONE_CHANNEL], dtype=object), np.asarray(journeys.channel_names, dtype=object)]
    return touch_key, none_key, names, uniq_p, n_ch


def _fast_replicates(model, journeys: Journeys, counts,
                     period: str | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Credit of every replicate for a journey-local model: one weighting, one bincount per replicate.

    ``counts`` holds one weight per journey for every replicate (rows of an array, or a list of arrays).
    Returns the labels of the channel (× period) groups that occur and the (replicates × groups) credit.
    """
    weights = model.touch_weights(journeys)
    touch_key, none_key, names, uniq_p, n_ch = _group_keys(journeys, period)
    tj = journeys.touch_journey
    empty = journeys.touchless()
    size = len(uniq_p) * n_ch
    conv_t, rev_t = weights * journeys.touch_conversions, weights * journeys.touch_revenue
    conv_n, rev_n = journeys.conversions[empty], journeys.revenue[empty]
    keys = np.r_[touch_key, none_key[empty]]
    present = np.zeros(size, bool)
    present[keys] = True
    cols = np.flatnonzero(present)
    out_c = np.empty((len(counts), len(cols)))
    out_r = np.empty((len(counts), len(cols)))
    for b, k in enumerate(counts):  # one vectorised pass per replicate
        kt = k[tj]
        out_c[b] = np.bincount(keys, np.r_[conv_t * kt, conv_n * k[empty]], minlength=size)[cols]
        out_r[b] = np.bincount(keys, np.r_[rev_t * kt, rev_n * k[empty]], minlength=size)[cols]
    labels = pd.DataFrame({"channel": names[cols % n_ch], "period": uniq_p[cols // n_ch]})
    return labels, out_c, out_r


def _refit_replicates(model, journeys: Journeys, counts: np.ndarray, period: str | None):
    """Credit of every replicate by refitting a fresh copy of the model (any model)."""
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
                        period: str | None = None, specs=None, per_model=None) -> pd.DataFrame:
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
    per_model : sequence of Journeys, optional
        Each model's own journeys (a model with its own lookback), aligned with ``models``. Journeys differ only
        in the touches they hold (one journey per conversion, and per user after the last), so every model
        resamples the same journeys with the same draws.

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
        local = local_weights(model)
        mine = per_model[i] if per_model is not None else journeys
        draws = counts if mine.n_journeys == journeys.n_journeys else resample_counts(mine.n_journeys, n_boot, seed)
        labels, conv, rev = (_fast_replicates if local else _refit_replicates)(model, mine, draws, period)
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


# ------------------------------------------------------------------------------------------- partitioned runs
#: Poisson(1) cumulative probabilities P(K <= k), k = 0..24 (beyond: probability below 1e-25)
_POISSON_CDF = np.cumsum([np.exp(-1.0) / np.prod(np.arange(1, k + 1, dtype=float)) for k in range(25)])


def journey_hashes(journeys: Journeys) -> np.ndarray:
    """A 64-bit key of every journey that does not depend on how the log was partitioned: the hash of its user id
    (as text) mixed with the journey's rank among the user's journeys (in time order)."""
    if journeys.user is None or journeys.user_ids is None:
        raise ParameterError(f"{option('ci')} on a partitioned run needs user ids (an event log).")
    ids = journeys.user_ids
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    if pa.types.is_dictionary(ids.type):
        ids = ids.cast(ids.type.value_type)
    if not (pa.types.is_string(ids.type) or pa.types.is_large_string(ids.type)):
        ids = pc.cast(ids, pa.string())
    user = np.asarray(journeys.user, np.int64)
    order = np.argsort(user, kind="stable")  # a user's journeys keep their (time) order
    su = user[order]
    run_start = np.flatnonzero(np.r_[True, su[1:] != su[:-1]]) if len(su) else np.zeros(0, np.int64)
    rank = np.empty(len(user), np.int64)
    rank[order] = np.arange(len(su)) - np.repeat(run_start, np.diff(np.r_[run_start, len(su)]))
    with np.errstate(over="ignore"):
        return mix64(hash_strings(ids)[user] ^ mix64(rank.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)))


def poisson_draws(hashes: np.ndarray, seed: int, replicate: int) -> np.ndarray:
    """Poisson(1) resampling weight of every journey in one replicate: a counter-based draw from
    (journey key, seed, replicate), so a journey gets the same weight whatever partition it is processed in.

    The top 53 bits of a splitmix64 hash give a uniform u in [0, 1); the weight is the Poisson(1) quantile of u.
    """
    with np.errstate(over="ignore"):
        salt = mix64(np.array([np.uint64(seed) * np.uint64(0x100000001B3) + np.uint64(replicate)]))[0]
        u = (mix64(hashes ^ salt) >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)
    return np.searchsorted(_POISSON_CDF, u, side="right").astype(np.float64)


def partition_replicates(models, journeys: Journeys, *, n_boot: int, seed: int, period: str | None = None,
                         per_model=None) -> list:
    """Additive bootstrap replicates of one user partition, one entry per model.

    A journey-local model gives ``("sums", labels, conv, rev)``: its credit per channel (× period) in every
    replicate (shape ``(n_boot, len(labels))``), which sums over partitions. Any other model gives
    ``("stats", [partial_stats of every replicate])``, merged and refitted per replicate by :func:`merge_replicates`.
    Replicate b weighs journey j by :func:`poisson_draws` (journey key, seed, b); ``per_model`` gives each model
    its own journeys (aligned with ``models``; their journey keys are the same, only their touches differ).
    """
    per_model = per_model or [journeys] * len(models)
    draws_of: dict = {}
    out = []
    for model, mine in zip(models, per_model):
        if id(mine) not in draws_of:
            hashes = journey_hashes(mine)
            draws_of[id(mine)] = [poisson_draws(hashes, seed, b) for b in range(n_boot)] if mine.n_journeys else \
                [np.zeros(0)] * n_boot
        draws, journeys = draws_of[id(mine)], mine
        local = local_weights(model)
        if not local:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out.append(("stats", [model.partial_stats(reweighted(journeys, k)) for k in draws]))
            continue
        labels, conv, rev = _fast_replicates(model, journeys, draws, period)
        out.append(("sums", labels, conv, rev))
    return out


def merge_replicates(models, parts, *, level: float, n_boot: int, period: str | None = None,
                     specs=None) -> pd.DataFrame:
    """Percentile intervals from the :func:`partition_replicates` of user-disjoint partitions (same frame as
    :func:`bootstrap_intervals`). ``models`` are fresh or fitted models (refitted here per replicate)."""
    alpha = (1.0 - level) / 2.0
    frames = []
    for i, model in enumerate(models):
        mine = [p[i] for p in parts if p]
        if mine and mine[0][0] == "sums":
            labels = pd.concat([m[1] for m in mine], ignore_index=True)
            conv = np.concatenate([m[2] for m in mine], axis=1)
            rev = np.concatenate([m[3] for m in mine], axis=1)
            key = pd.MultiIndex.from_frame(labels)
            uniq, code = np.unique(key.to_flat_index().to_numpy(dtype=object), return_inverse=True) \
                if len(labels) else (np.zeros(0, object), np.zeros(0, np.int64))
            code = np.asarray(code).reshape(-1)
            m_conv = np.zeros((n_boot, len(uniq)))
            m_rev = np.zeros((n_boot, len(uniq)))
            np.add.at(m_conv.T, code, conv.T)  # sum the partitions' columns of each label (a loop-free scatter)
            np.add.at(m_rev.T, code, rev.T)
            labels = pd.DataFrame(list(uniq), columns=["channel", "period"])
            order = np.lexsort((labels["period"].to_numpy(), labels["channel"].astype(str).to_numpy()))
            labels, m_conv, m_rev = labels.iloc[order].reset_index(drop=True), m_conv[:, order], m_rev[:, order]
        else:
            rows = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the replicate's warnings repeat the real fit's
                for b in range(n_boot):
                    fit = fresh_model(model).fit_stats(merge_stats(model, [m[1][b] for m in mine]))
                    rows.append(fit.attribution_[["channel", "conversions", "revenue"]].assign(period=0, _b=b))
            both = pd.concat(rows, ignore_index=True)
            conv_p = both.pivot_table(index="_b", columns=["channel", "period"], values="conversions",
                                      aggfunc="sum", fill_value=0.0, sort=True)
            rev_p = both.pivot_table(index="_b", columns=["channel", "period"], values="revenue", aggfunc="sum",
                                     fill_value=0.0, sort=True).reindex(columns=conv_p.columns, fill_value=0.0)
            labels = pd.DataFrame(list(conv_p.columns), columns=["channel", "period"])
            m_conv, m_rev = conv_p.to_numpy(), rev_p.to_numpy()
        lo_c, hi_c = np.quantile(m_conv, [alpha, 1 - alpha], axis=0)
        lo_r, hi_r = np.quantile(m_rev, [alpha, 1 - alpha], axis=0)
        frame = labels.assign(conversions_lo=lo_c, conversions_hi=hi_c, revenue_lo=lo_r, revenue_hi=hi_r)
        frame.insert(0, "model", specs[i] if specs is not None else model_spec(model))
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    if period is None:
        out = out.drop(columns="period")
    return out
