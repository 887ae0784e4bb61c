"""The data side of the ``hazard`` model: per-user intent patterns, kernel covariates and additive statistics.

Everything is vectorised over the flat arrays of :class:`~attribution.journeys.journeys.Journeys`. The journeys of a user
are consecutive and in time order (as :meth:`Journeys.from_events` builds them), so the touches that precede a
conversion are the user's touches up to the end of the conversion's journey.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.io.timeparse import NS_PER_DAY

COUNT_CAP = 3  # touches of a channel in the intent pattern: 0, 1, 2, 3+
TOTAL_CAP = 30
SEP_KEY, SEP_CH = "\x1e", "\x1f"


@dataclass
class Prepared:
    """Per-touch, per-journey and per-user arrays shared by the statistics and the touch weights."""

    t: np.ndarray  # touch time, days since the epoch
    keep: np.ndarray  # touch not in the pre-conversion window
    end: np.ndarray  # journey end (conversion or last touch), days
    juser: np.ndarray  # compact user index of every journey
    ustart: np.ndarray  # first touch index of every compact user (touches of a user are consecutive)
    counts: np.ndarray  # (users, channels) fit touches, capped at COUNT_CAP
    total: np.ndarray  # fit touches per user, capped at TOTAL_CAP
    first: np.ndarray  # first fit touch time per user (nan: none)
    weight: np.ndarray  # user weight: mean of its journeys' conversions + nulls
    n_users: int
    lookback: float  # days (inf: unlimited): a conversion is seen with a touch only this long after it
    gaps: np.ndarray  # per user: Σ min(next fit touch − touch, lookback) over all but the last fit touch
    last: np.ndarray  # per user: last fit touch time (nan: none)
    fit: np.ndarray  # kept touches the fit sees: within the lookback before the user's last kept touch
    # (a finite lookback keeps a touch when a conversion follows it within the lookback, so touches are seen
    # depending on the outcome; the lookback before the user's last touch is seen whatever the outcome, and the
    # fit's intent pattern, time at risk, kernel exposure and conversions are restricted to it. Credit still
    # goes to every kept touch of a converting journey.)


def prepare(journeys, pre_window_days: float) -> Prepared:
    """The arrays of :class:`Prepared` for ``journeys``."""
    tj = journeys.touch_journey
    t = journeys.touch_time.astype(np.float64) / NS_PER_DAY
    end = journeys.end_time.astype(np.float64) / NS_PER_DAY
    conv = journeys.conversions > 0
    keep = ~(conv[tj] & (end[tj] - t <= pre_window_days)) if pre_window_days > 0 else np.ones(t.size, bool)
    user = journeys.user if journeys.user is not None else np.arange(journeys.n_journeys)
    jstart = np.r_[True, user[1:] != user[:-1]] if len(user) else np.zeros(0, bool)
    juser = np.cumsum(jstart) - 1
    n_users = int(juser[-1]) + 1 if len(juser) else 0
    ustart = journeys.offsets[:-1][jstart]
    tu = juser[tj]
    n_ch = journeys.n_channels
    lookback = np.inf if journeys.lookback_days is None else float(journeys.lookback_days)
    keep_all = keep
    if np.isfinite(lookback):  # the fit sees the lookback before each user's last touch (see Prepared.fit)
        final = np.full(n_users, -np.inf)
        final[tu[keep]] = t[keep]  # the last assignment per user wins: its latest touch
        keep = keep & (final[tu] - t <= lookback)
    counts = np.bincount(tu[keep] * n_ch + journeys.touch_channel[keep], minlength=n_users * n_ch)
    counts = np.minimum(counts, COUNT_CAP, out=counts).reshape(n_users, n_ch)
    total = np.minimum(np.bincount(tu[keep], minlength=n_users), TOTAL_CAP)
    kt, ku = t[keep], tu[keep]  # kept touches, in (user, time) order
    first = np.full(n_users, np.nan)
    starts = np.flatnonzero(np.r_[True, ku[1:] != ku[:-1]]) if ku.size else np.zeros(0, np.int64)
    first[ku[starts]] = kt[starts]  # a user's touches are in time order: the first is the earliest
    jw = journeys.conversions + journeys.nulls
    weight = np.bincount(juser, jw, minlength=n_users) / np.maximum(np.bincount(juser, minlength=n_users), 1)
    same = ku[1:] == ku[:-1]
    gaps = np.bincount(ku[:-1][same], np.minimum(np.diff(kt)[same], lookback), minlength=n_users)
    last = np.full(n_users, np.nan)
    last[ku] = kt  # the last assignment per user wins: its latest touch
    return Prepared(t, keep_all, end, juser, ustart, counts, total, first, weight, n_users, lookback, gaps, last,
                    keep)


def intent_features(counts: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Baseline covariates of users: 1, log(1 + total touches), log(1 + touches of each channel)."""
    return np.column_stack([np.ones(len(total)), np.log1p(total), np.log1p(counts)])


def pattern_codes(counts: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each user's pattern code (the patterns in ascending order of their packed counts) and the distinct
    patterns' ``counts | total`` rows."""
    n_ch = counts.shape[1]
    if len(counts) == 0:
        return np.zeros(0, np.int64), np.zeros((0, n_ch + 1), np.int64)
    if 2 * n_ch + 5 <= 62:  # one int64 per user: 2 bits per channel count (0..3), 5 for the total (0..30)
        packed = np.asarray(total, np.int64).copy()
        for c in range(n_ch):  # a loop per channel, vectorised over the users
            packed += np.left_shift(counts[:, c].astype(np.int64), 2 * c + 5)
        found, seen = pd.factorize(packed)  # hashed (no sort of the users), then the few patterns sorted
        order = np.argsort(seen, kind="stable")
        rank = np.empty(order.size, np.int64)
        rank[order] = np.arange(order.size)
        values, code = seen[order], rank[found]
        uniq = np.empty((values.size, n_ch + 1), np.int64)
        for c in range(n_ch):
            uniq[:, c] = np.right_shift(values, 2 * c + 5) & 3
        uniq[:, -1] = values & 31
    else:
        uniq, code = np.unique(np.column_stack([counts, total]).astype(np.int64), axis=0, return_inverse=True)
    return code.reshape(-1), uniq


def pattern_keys(counts: np.ndarray, total: np.ndarray, names) -> tuple[np.ndarray, np.ndarray]:
    """Each user's pattern code and the pattern strings ``channel=n;...|T=total`` (channel names, so that they
    mean the same in every partition). A loop per distinct pattern, not per user."""
    if len(counts) == 0:
        return np.zeros(0, np.int64), np.array([], dtype=object)
    code, uniq = pattern_codes(counts, total)
    parts = []
    for c, name in enumerate(names):  # a loop per channel, vectorised over the distinct patterns
        n = pa.array(uniq[:, c])
        item = pc.binary_join_element_wise(pa.scalar(f"{name}="), pc.cast(n, pa.string()), pa.scalar(";"), "")
        parts.append(pc.if_else(pc.greater(n, 0), item, pa.scalar("")))
    parts.append(pc.binary_join_element_wise(pa.scalar("|T="), pc.cast(pa.array(uniq[:, -1]), pa.string()), ""))
    text = pc.binary_join_element_wise(*parts, "") if len(uniq) else pa.array([], pa.string())
    return code, np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)


def parse_patterns(keys, channels) -> tuple[np.ndarray, np.ndarray]:
    """Counts (patterns × channels) and totals back from :func:`pattern_keys` strings (a loop per channel,
    vectorised over the patterns)."""
    import re

    arr = pa.array(np.asarray(keys, dtype=object).astype(str).tolist(), pa.string())
    counts = np.zeros((len(arr), len(channels)))

    def number(pattern):
        found = pc.if_else(pc.match_substring_regex(arr, pattern), pc.extract_regex(arr, pattern).field(0), "0")
        return pc.cast(found, pa.float64()).to_numpy(zero_copy_only=False)

    for c, name in enumerate(channels):
        counts[:, c] = number(f"(?:^|;){re.escape(str(name))}=(?P<n>[0-9]+);")
    return counts, number(r"\|T=(?P<n>[0-9]+)$") if len(arr) else np.zeros(0)


def conversion_pairs(journeys, prep: Prepared):
    """Converting journeys of at-risk users and their (conversion, earlier kept touch) pairs.

    Returns ``conv`` (journey indices), ``pair_conv`` (position in ``conv``), ``pair_touch``, ``own`` (the
    touch belongs to the conversion's own journey).
    """
    conv = np.flatnonzero(journeys.conversions > 0)
    lo = prep.ustart[prep.juser[conv]]
    hi = journeys.offsets[conv + 1]
    n = hi - lo
    pair_conv = np.repeat(np.arange(conv.size), n)
    pair_touch = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
    gap = prep.end[conv][pair_conv] - prep.t[pair_touch]
    ok = prep.keep[pair_touch] & (gap >= 0) & (gap <= prep.lookback)
    pair_conv, pair_touch = pair_conv[ok], pair_touch[ok]
    own = pair_touch >= journeys.offsets[conv][pair_conv]
    return conv, pair_conv, pair_touch, own


def kernel_sums(journeys, prep, taus, conv, pair_conv, pair_touch, mask=None) -> np.ndarray:
    """Σ φ_m(t − s) per conversion × (channel, kernel): shape (len(conv), n_channels · n_kernels)."""
    if mask is not None:
        pair_conv, pair_touch = pair_conv[mask], pair_touch[mask]
    k = len(taus)
    n_ch = journeys.n_channels
    gap = prep.end[conv][pair_conv] - prep.t[pair_touch]
    col = journeys.touch_channel[pair_touch] * k
    out = np.zeros(conv.size * n_ch * k)
    for m, tau in enumerate(taus):  # a loop per kernel
        out += np.bincount(pair_conv * (n_ch * k) + col + m, np.exp(-gap / tau) / tau, minlength=out.size)
    return out.reshape(conv.size, n_ch * k)


def partial_stats(journeys, taus, pre_window_days: float) -> pd.DataFrame:
    """The additive statistics of the ``hazard`` model (see :mod:`attribution.models.hazard`)."""
    prep = prepare(journeys, pre_window_days)
    names = np.asarray(journeys.channel_names, dtype=object)
    k = len(taus)
    xcols = [f"{m}:{c}" for c in names for m in range(k)]
    frames = []
    code, text = pattern_keys(prep.counts, prep.total, names)
    # time at risk and seen (within the lookback after a kept touch): per pattern Σ weight × the gaps between
    # touches, and per pattern × day of the last touch Σ weight and Σ weight × last touch (E is known at the fit)
    risk = np.isfinite(prep.first)
    if risk.any():
        w = prep.weight[risk]
        users = pd.DataFrame({"p": code[risk], "w": w, "g": w * prep.gaps[risk]})
        users = users.groupby("p", sort=True, as_index=False).sum()
        frames.append(pd.DataFrame({"kind": "user", "key": text[users["p"].to_numpy()], "w": users["w"],
                                    "g": users["g"]}))
        day = np.floor(prep.last[risk]).astype(np.int64)
        last = pd.DataFrame({"p": code[risk], "d": day, "w": w, "f": w * prep.last[risk]})
        last = last.groupby(["p", "d"], sort=True, as_index=False).sum()
        key = pc.binary_join_element_wise(pa.array(text[last["p"].to_numpy()].tolist(), pa.string()),
                                          pc.cast(pa.array(last["d"].to_numpy()), pa.string()), SEP_KEY)
        frames.append(pd.DataFrame({"kind": "last", "key": key.to_numpy(zero_copy_only=False), "w": last["w"],
                                    "f": last["f"]}))
    frames.append(pd.DataFrame({"kind": ["lookback"], "key": [repr(prep.lookback)], "w": [1.0]}))
    # kernel exposure: per channel × day of touch
    kept = np.flatnonzero(prep.fit)
    if kept.size:
        day = np.floor(prep.t[kept])
        frac = prep.t[kept] - day
        w = prep.weight[prep.juser[journeys.touch_journey[kept]]]
        tf = pd.DataFrame({"c": journeys.touch_channel[kept], "d": day.astype(np.int64), "w": w,
                           **{f"b{m}": w * np.exp(frac / tau) for m, tau in enumerate(taus)}})
        tf = tf.groupby(["c", "d"], sort=True, as_index=False).sum()
        key = pc.binary_join_element_wise(pa.array(names[tf["c"].to_numpy()].tolist(), pa.string()),
                                          pc.cast(pa.array(tf["d"].to_numpy()), pa.string()), SEP_CH)
        frames.append(pd.DataFrame({"kind": "touch", "key": key.to_numpy(zero_copy_only=False),
                                    "w": tf["w"], **{f"b{m}": tf[f"b{m}"] for m in range(k)}}))
    # the last day with an event
    if journeys.n_journeys:
        last = int(np.floor(max(prep.end.max(), prep.t.max() if prep.t.size else -np.inf)))
        frames.append(pd.DataFrame({"kind": ["end"], "key": [f"{last:012d}"], "w": [1.0]}))
    frames.append(_conversion_rows(journeys, prep, taus, names, xcols, code, text))
    return _stack([f for f in frames if f is not None and len(f)])


def _stack(frames: list) -> pd.DataFrame:
    """The statistics frames one under another, numeric columns absent from a frame as 0 (``concat`` +
    ``fillna`` without the wide intermediate of missing values)."""
    if not frames:
        return pd.DataFrame({"kind": pd.Series([], dtype=object), "key": pd.Series([], dtype=object), "w": []})
    sizes = np.array([len(f) for f in frames])
    cuts = np.r_[0, np.cumsum(sizes)]
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    out = {}
    for c in columns:
        if c in ("kind", "key"):
            out[c] = np.concatenate([f[c].to_numpy(dtype=object) for f in frames])
            continue
        col = np.zeros(int(cuts[-1]))
        for i, f in enumerate(frames):  # a loop per statistics kind
            if c in f.columns:
                col[cuts[i]:cuts[i + 1]] = f[c].to_numpy(float)
        out[c] = col
    return pd.DataFrame(out)


def _conversion_rows(journeys, prep, taus, names, xcols, code, text):
    conv, pair_conv, pair_touch, own = conversion_pairs(journeys, prep)
    if not conv.size:
        return None
    seen = prep.fit[pair_touch]
    xf = kernel_sums(journeys, prep, taus, conv, pair_conv, pair_touch, seen)
    xo = kernel_sums(journeys, prep, taus, conv, pair_conv, pair_touch, own)
    cu = prep.juser[conv]
    at_risk = np.bincount(pair_conv[seen], minlength=conv.size) > 0  # a kept touch within the lookback before it
    touched = journeys.lengths[conv] > 0
    ids = journeys.user_ids
    uid = (ids.value if hasattr(ids, "value") else pa.array(ids)).take(pa.array(journeys.user[conv]))
    ordinal = conv - np.flatnonzero(np.r_[True, prep.juser[1:] != prep.juser[:-1]])[cu]
    key = pc.binary_join_element_wise(
        pa.array(text[code[cu]].tolist(), pa.string()), pc.cast(uid, pa.string()),
        pc.cast(pa.array(ordinal), pa.string()), SEP_KEY)
    frame = pd.DataFrame({
        "kind": "conv", "key": key.to_numpy(zero_copy_only=False),
        "w": journeys.conversions[conv], "rev": journeys.revenue[conv],
        "risk": at_risk.astype(float), "touched": touched.astype(float),
    })
    xf_frame = pd.DataFrame(xf, columns=["xf" + c for c in xcols])
    xo_frame = pd.DataFrame(xo, columns=["xo" + c for c in xcols])
    return pd.concat([frame, xf_frame, xo_frame], axis=1)


