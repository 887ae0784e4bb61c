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

from .markov_chain import EncodedPaths, window_states

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
    """Mean log-likelihood per test journey of the outcomes, under the order-``order`` chain of ``train``."""
    state, digits, path_of = window_states(p, order)
    if len(state) == 0:
        return float("nan")
    last = np.ones(len(state), bool)
    last[:-1] = path_of[1:] != path_of[:-1]
    end_state, end_path = state[last], path_of[last]
    n_s = len(digits)
    conv = np.bincount(end_state, train.conversions[end_path], minlength=n_s)
    null = np.bincount(end_state, train.nulls[end_path], minlength=n_s)
    q0 = (conv.sum() + 0.5) / (conv.sum() + null.sum() + 1.0)
    q = (conv + q0) / (conv + null + 1.0)
    tc, tn = test.conversions[end_path], test.nulls[end_path]
    total = tc.sum() + tn.sum()
    if total <= 0:
        return float("nan")
    qs = q[end_state]
    return float((tc * np.log(qs) + tn * np.log1p(-qs)).sum() / total)


def select_order(p: EncodedPaths, seed: int, orders=CANDIDATE_ORDERS) -> tuple[int, pd.DataFrame]:
    """The order with the best out-of-sample outcome log-likelihood, and the score of every candidate.

    Returns
    -------
    order : int
    scores : pandas.DataFrame
        ``order, log_likelihood, n_states`` (states of the order-k chain on all journeys), one row per candidate.
    """
    train, test = split(p, seed)
    rows = []
    for k in orders:
        _, digits, _ = window_states(p, k)
        rows.append({"order": k, "log_likelihood": outcome_log_likelihood(p, train, test, k), "n_states": len(digits)})
    scores = pd.DataFrame(rows)
    ll = scores["log_likelihood"].to_numpy()
    if np.all(np.isnan(ll)):
        return int(orders[0]), scores
    best = np.nanmax(ll)
    chosen = int(scores["order"][np.flatnonzero(ll >= best - 1e-12 * max(1.0, abs(best)))[0]])
    return chosen, scores
