"""Choosing the Markov order by out-of-sample log-likelihood of journey outcomes (``markov:order=auto``).

The journeys are split at random (seeded) into a training and a test share: every path's conversions and nulls
are thinned binomially, so the same path can have journeys on both sides, and fractional counts split too (the
integer part binomially, the fractional part all on one side). For each candidate order k the training journeys
give, for every state, how many journeys ended there converting and not converting. A test journey ending in
state s (its last k channels) is scored by the chain's probability of its outcome given that it stopped there,
q_s = P(→CONVERSION | s) / (P(→CONVERSION | s) + P(→NULL | s)), smoothed towards the training conversion rate q₀
with one pseudo-journey so unseen states get q₀:

    q_s = (conv_s + q₀) / (conv_s + null_s + 1)

The score of k is the mean log-likelihood per test journey; the best k wins (ties go to the smaller k).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.kernels.encoding import take_segments

from attribution.models.markov.chain import EncodedPaths, window_states

CANDIDATE_ORDERS = (1, 2, 3, 4)
TEST_SHARE = 0.3


def thin(rng: np.random.Generator, counts: np.ndarray, share: float) -> np.ndarray:
    """The test part of ``counts``: Binomial(floor(n), share) + fractional part × Bernoulli(share)."""
    whole = np.floor(counts)
    frac = counts - whole
    return rng.binomial(whole.astype(np.int64), share).astype(float) + frac * (rng.random(len(counts)) < share)


def split(p: EncodedPaths, seed: int, share: float = TEST_SHARE) -> tuple[EncodedPaths, EncodedPaths]:
    """Seeded train / test split of the journeys of ``p`` (revenue follows conversions proportionally)."""
    rng = np.random.default_rng(seed)
    test_conv = thin(rng, p.conversions, share)
    test_null = thin(rng, p.nulls, share)
    ratio = np.divide(test_conv, p.conversions, out=np.zeros(len(test_conv)), where=p.conversions > 0)
    test_rev = p.revenue * ratio
    train = p.subset(p.conversions - test_conv, p.nulls - test_null, p.revenue - test_rev)
    test = p.subset(test_conv, test_null, test_rev)
    return train, test


def outcome_log_likelihood(p: EncodedPaths, train: EncodedPaths, test: EncodedPaths, order: int) -> float:
    """Mean log-likelihood per test journey of the outcomes under the order-``order`` chain of ``train``, and
    the number of states."""
    state, digits, n_windows = window_states(p, order)
    if len(state) == 0:
        return float("nan"), 0
    has = n_windows > 0
    end_state, end_path = state[np.cumsum(n_windows)[has] - 1], np.flatnonzero(has)
    n_s = len(digits)
    conv = np.bincount(end_state, train.conversions[end_path], minlength=n_s)
    null = np.bincount(end_state, train.nulls[end_path], minlength=n_s)
    q0 = (conv.sum() + 0.5) / (conv.sum() + null.sum() + 1.0)
    q = (conv + q0) / (conv + null + 1.0)
    tc, tn = test.conversions[end_path], test.nulls[end_path]
    total = tc.sum() + tn.sum()
    if total <= 0:
        return float("nan"), n_s
    qs = q[end_state]
    return float((tc * np.log(qs) + tn * np.log1p(-qs)).sum() / total), n_s


def canonical_paths(p: EncodedPaths) -> EncodedPaths:
    """Distinct non-empty paths with journeys, counts summed, sorted by channel-code sequence.

    The split is drawn on this table, so it depends only on the multiset of journeys, not on how they were
    partitioned, ordered or repeated (``fit``, ``fit_paths`` and merged statistics agree).
    """
    keep = (p.lengths > 0) & ((p.conversions + p.nulls) > 0)
    rows = np.flatnonzero(keep)
    flat, offsets = take_segments(p.offsets, rows)
    codes = p.codes[flat]
    width = 2 if p.n_channels < (1 << 16) else 4
    raw = codes.astype(">u2" if width == 2 else ">u4").tobytes()  # big-endian: bytewise order = code order
    keys = pa.Array.from_buffers(pa.large_binary(), len(rows), [None, pa.py_buffer((offsets * width).astype(np.int64)),
                                                                    pa.py_buffer(raw)])
    enc = pc.dictionary_encode(keys)
    order = pc.sort_indices(enc.dictionary).to_numpy()
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    group = rank[enc.indices.to_numpy(zero_copy_only=False)]
    n = len(order)
    first = np.full(n, len(group), np.int64)
    np.minimum.at(first, group, np.arange(len(group), dtype=np.int64))
    flat2, offsets2 = take_segments(offsets, first)
    total = lambda a: np.bincount(group, a[rows], minlength=n)  # noqa: E731
    return EncodedPaths(p.channel_names, codes[flat2], offsets2, total(p.conversions), total(p.nulls),
                        total(p.revenue))


def select_order(p: EncodedPaths, seed: int, orders=CANDIDATE_ORDERS) -> tuple[int, pd.DataFrame]:
    """The order with the best out-of-sample outcome log-likelihood, and the score of every candidate.

    Returns
    -------
    order : int
    scores : pandas.DataFrame
        ``order, log_likelihood, n_states`` (states of the order-k chain on all journeys), one row per candidate.
    """
    p = canonical_paths(p)
    train, test = split(p, seed)
    rows = []
    for k in orders:
        ll, n_states = outcome_log_likelihood(p, train, test, k)
        rows.append({"order": k, "log_likelihood": ll, "n_states": n_states})
    scores = pd.DataFrame(rows)
    ll = scores["log_likelihood"].to_numpy()
    if np.all(np.isnan(ll)):
        return int(orders[0]), scores
    best = np.nanmax(ll)
    chosen = int(scores["order"][np.flatnonzero(ll >= best - 1e-12 * max(1.0, abs(best)))[0]])
    return chosen, scores
