"""Bootstrap confidence intervals for any model's credit (SPEC 3.3: ``--ci 0.95 --bootstrap 200 --seed 0``).

A replicate resamples the journeys with replacement: journey j is drawn k_j times, k ~ Multinomial(J, 1/J),
which is the same as multiplying its conversions, non-conversions and revenue by k_j. Every model then credits
the replicate exactly as it credits real data, so the intervals cover whatever the model does (Markov's chain,
Shapley's coalition rates). Intervals are percentile intervals of the replicates' credit per model × channel
(× period). The same seed gives the same numbers.

Two paths, same numbers: a model whose weights within a journey depend on that journey alone (the rule-based
models, ``shapley``'s journey game: ``journey_local = True``) is weighted once (:class:`_LocalCredits`), and a
block of replicates is one gather and a few small dense products for all of them; any other model is refitted on
every replicate. Replicates are drawn a block at a time (:func:`resample_counts`) and every model sees the same ones.

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


#: replicates drawn per block (a fixed number, so the draws do not depend on anything but the seed): a block's
#: draw counts are ``REPLICATE_BLOCK × journeys`` values, a few hundred MB at most for ten million journeys
REPLICATE_BLOCK = 8


def resample_counts(n_journeys: int, n_boot: int, seed: int):
    """Multinomial journey draw counts, blocks of shape (≤ ``REPLICATE_BLOCK``, n_journeys), float64 (one array,
    overwritten by the next block).

    Replicate b draws ``n_journeys`` journeys uniformly with replacement (``integers`` of
    ``numpy.random.default_rng(seed)``, replicate after replicate) and counts them: a Multinomial(J, 1/J) draw,
    the bootstrap's resampling [1]_, at the cost of J integers and one ``bincount`` (``Generator.multinomial``
    draws one binomial per journey, several times slower on millions of categories).
    """
    rng = np.random.default_rng(seed)
    dtype = np.int32 if n_journeys < 2**31 else np.int64
    buffer = np.zeros((min(REPLICATE_BLOCK, n_boot), n_journeys))  # reused block after block (fresh pages cost)
    for a in range(0, n_boot, REPLICATE_BLOCK):
        out = buffer[:min(REPLICATE_BLOCK, n_boot - a)]
        for r in range(len(out) if n_journeys else 0):
            out[r] = np.bincount(rng.integers(0, n_journeys, size=n_journeys, dtype=dtype), minlength=n_journeys)
        yield out


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


class _LocalCredits:
    """The credit of journey-local models, weighted once: one entry per touch (and per touchless journey) of the
    journeys with conversions or revenue, sorted by group (channel [× period]), with every model's conversion
    and revenue credit as the columns of one matrix ``D``. A block of replicates' credit of group g is then
    ``counts[:, journey of g's entries] @ D[g's entries]``: one gather per block shared by all models, and one
    small dense product per group (work ∝ replicates × entries, in BLAS)."""

    def __init__(self, models, journeys: Journeys, period: str | None):
        touch_key, none_key, names, uniq_p, n_ch = _group_keys(journeys, period)
        lengths = journeys.lengths
        present = np.zeros(len(uniq_p) * n_ch, bool)
        present[touch_key] = True
        present[none_key[lengths == 0]] = True
        cols = np.flatnonzero(present)
        col_of = np.cumsum(present) - 1
        live = (journeys.conversions != 0) | (journeys.revenue != 0)
        t = np.flatnonzero(np.repeat(live, lengths))  # touches of journeys with something to credit
        none = np.flatnonzero(live & (lengths == 0))
        group = np.r_[col_of[touch_key[t]], col_of[none_key[none]]]
        order = np.argsort(group.astype(np.int16) if len(cols) < 2**15 else group, kind="stable")  # radix sort
        self.journey = np.r_[journeys.touch_journey[t], none][order]
        self.bounds = np.searchsorted(group[order], np.arange(len(cols) + 1))
        m = len(models)
        self.data = np.empty((len(order), 2 * m))
        for i, model in enumerate(models):
            w = model.touch_weights(journeys)[t]
            self.data[:, i] = np.r_[w * journeys.touch_conversions[t], journeys.conversions[none]][order]
            self.data[:, m + i] = np.r_[w * journeys.touch_revenue[t], journeys.revenue[none]][order]
        self.n_models = m
        self.labels = pd.DataFrame({"channel": names[cols % n_ch], "period": uniq_p[cols // n_ch]})
        self.blocks = []
        self._taken = None

    def add(self, counts: np.ndarray) -> None:
        """Credit of a block of replicates (``counts``: replicates × journeys)."""
        counts = np.asarray(counts, float)
        if self._taken is None or len(self._taken) < len(counts):
            self._taken = np.empty((len(counts), len(self.journey)))
        taken = self._taken[:len(counts)]  # reused block after block
        for r in range(len(counts)):  # row by row: numpy's fast one-dimensional gather
            np.take(counts[r], self.journey, out=taken[r])
        out = np.zeros((len(counts), len(self.bounds) - 1, self.data.shape[1]))
        for g, (a, b) in enumerate(zip(self.bounds[:-1].tolist(), self.bounds[1:].tolist())):
            if b > a:
                out[:, g, :] = taken[:, a:b] @ self.data[a:b]
        self.blocks.append(out)

    def result(self, i: int):
        """Labels and the (replicates × groups) conversion and revenue credit of model ``i``."""
        g = len(self.labels)
        both = np.concatenate(self.blocks) if self.blocks else np.zeros((0, g, 2 * self.n_models))
        return self.labels, both[:, :, i], both[:, :, self.n_models + i]


def _fast_replicates(model, journeys: Journeys, counts,
                     period: str | None) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Credit of every replicate for a journey-local model (:class:`_LocalCredit`).

    ``counts`` holds one weight per journey for every replicate (rows of an array, or a list of arrays).
    Returns the labels of the channel (× period) groups that occur and the (replicates × groups) credit.
    """
    credit = _LocalCredits([model], journeys, period)
    if len(counts):
        credit.add(np.vstack(counts) if isinstance(counts, list) else counts)
    return credit.result(0)


class _Refit:
    """Credit of every replicate by refitting a fresh copy of the model (any model)."""

    def __init__(self, model, journeys: Journeys, period: str | None):
        self.model, self.journeys, self.period = model, journeys, period
        self.frames = []
        # a model that can refit on weights with what it derived from the journeys' channels kept (Markov's
        # chain windows) gives the same numbers faster; only the channel totals are needed then
        fitter = getattr(model, "replicate_fitter", None) if period is None else None
        self.fitter = fitter(journeys) if fitter is not None else None

    def add(self, counts: np.ndarray) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the replicate's warnings repeat the real fit's
            for k in counts:
                if self.fitter is not None:
                    credit = self.fitter(k).attribution_.copy()
                else:
                    jb = reweighted(self.journeys, k)
                    credit = model_credit(fresh_model(self.model).fit(jb), jb, self.period)
                if self.period is None:
                    credit = credit.assign(period=0)
                self.frames.append(credit[["channel", "period", "conversions", "revenue"]].assign(_b=len(self.frames)))

    def result(self):
        both = pd.concat(self.frames, ignore_index=True)
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
    own = list(per_model) if per_model is not None else [journeys] * len(models)
    results = {}
    for mine in {id(j): j for j in own}.values():  # the models fitted on each distinct set of journeys
        idx = [i for i, j in enumerate(own) if j is mine]
        local = [i for i in idx if local_weights(models[i])]
        credits = _LocalCredits([models[i] for i in local], mine, period) if local else None
        refits = {i: _Refit(models[i], mine, period) for i in idx if i not in local}
        # the same seed and number of journeys give the same draws: every model sees the same replicates
        for counts in resample_counts(mine.n_journeys, n_boot, seed):
            for part in ([credits] if credits else []) + list(refits.values()):
                part.add(counts)
        for i in idx:
            results[i] = refits[i].result() if i in refits else credits.result(local.index(i))
    alpha = (1.0 - level) / 2.0
    frames = []
    for i, model in enumerate(models):
        labels, conv, rev = results[i]
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
