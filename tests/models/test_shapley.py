"""Shapley attribution (SPEC 3.2): hand-computed games and a brute-force permutation check."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.journeys.paths import PathTable
from attribution.models import Shapley, parse_model_spec
from attribution.models.shapley import NegativeCreditWarning, moebius, zeta
from testkit import journeys_of


def paths(rows):
    return PathTable.from_frame(pd.DataFrame(rows, columns=["path", "conversions", "nulls", "revenue"])).journeys


def credits(model, journeys):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = model.fit(journeys).attribution_
    return dict(zip(a["channel"], a["conversions"])), dict(zip(a["channel"], a["revenue"]))


def test_journey_game_splits_each_conversion_equally_over_distinct_channels():
    # a > b > a converts once: a and b get 1/2 each (a's half spread over its two touches)
    # b > c converts twice: 1 each; c alone never converts
    j = paths([("a > b > a", 1, 0, 10.0), ("b > c", 2, 1, 40.0), ("c", 0, 5, 0.0)])
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    conv, rev = credits(Shapley(), j)
    assert conv == pytest.approx({"a": 0.5, "b": 1.5, "c": 1.0})
    assert rev == pytest.approx({"a": 5.0, "b": 25.0, "c": 20.0})
    w = Shapley().touch_weights(j)
    assert w[:3] == pytest.approx([0.25, 0.5, 0.25])


def test_rate_game_hand_computed():
    """v(a) = 1/2, v(b) = 1/4, v(ab) = 3/4 (conversion rates of journeys with exactly that channel set).

    Restricted to {a, b}: φ_a = ½[v(a) + v(ab) − v(b)] = ½[½ + ½] = ½, φ_b = ½[v(b) + v(ab) − v(a)] = ¼,
    summing to v(ab) = ¾. The 3 conversions of a > b split 2/3 : 1/3 → a 2, b 1; the single-channel sets keep
    theirs: a = 1 + 2 = 3, b = 1 + 1 = 2. Revenue of a > b (30) splits the same way: a 20, b 10.
    """
    j = paths([("a", 1, 1, 5.0), ("b", 1, 3, 7.0), ("a > b", 3, 1, 30.0)])
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    conv, rev = credits(parse_model_spec("shapley:game=rate"), j)
    assert conv == pytest.approx({"a": 3.0, "b": 2.0})
    assert rev == pytest.approx({"a": 25.0, "b": 17.0})


def test_rate_game_negative_credit_is_warned():
    """v(a) = 0.1, v(b) = 0.8, v(ab) = 0.2: φ_a = ½[0.1 + 0.2 − 0.8] = −0.25, φ_b = ½[0.8 + 0.2 − 0.1] = 0.45."""
    j = paths([("a", 1, 9, 0.0), ("b", 8, 2, 0.0), ("a > b", 2, 8, 0.0)])
    with pytest.warns(NegativeCreditWarning, match="negative credit to a"):
        a = Shapley(game="rate").fit(j).attribution_
    got = dict(zip(a["channel"], a["conversions"]))
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert got == pytest.approx({"a": 1 + 2 * (-0.25 / 0.2), "b": 8 + 2 * (0.45 / 0.2)})
    assert sum(got.values()) == pytest.approx(11.0)


def test_moebius_and_zeta_are_inverse():
    rng = np.random.default_rng(0)
    v = rng.random(1 << 6)
    # rel=1e-12: 64 additions and subtractions each way of values in [0, 1)
    assert zeta(moebius(v, 6), 6) == pytest.approx(v, rel=1e-12)


def brute_force_rate_credit(table: pd.DataFrame) -> dict[str, float]:
    """Plain definition: per converting channel set S, Shapley of v restricted to S by enumerating permutations."""
    rate = {}
    for path, c, n in zip(table["path"], table["conversions"], table["nulls"]):
        key = frozenset(x.strip() for x in path.split(">") if x.strip())
        tot = rate.setdefault(key, [0.0, 0.0])
        tot[0] += c
        tot[1] += n
    v = {k: (c / (c + n) if c + n > 0 else 0.0) for k, (c, n) in rate.items()}
    credit: dict[str, float] = {}
    for s, (c, _) in rate.items():
        if c <= 0 or not s:
            continue
        players = sorted(s)
        phi = dict.fromkeys(players, 0.0)
        for perm in itertools.permutations(players):
            before: frozenset = frozenset()
            for p in perm:
                phi[p] += v.get(before | {p}, 0.0) - v.get(before, 0.0)
                before = before | {p}
        for p in players:
            credit[p] = credit.get(p, 0.0) + c * phi[p] / math.factorial(len(players)) / v[s]
    return credit


@st.composite
def path_tables(draw):
    channels = ["a", "b", "c", "d", "e"][: draw(st.integers(1, 5))]
    rows = []
    for _ in range(draw(st.integers(1, 12))):
        path = " > ".join(draw(st.lists(st.sampled_from(channels), min_size=1, max_size=5)))
        rows.append((path, draw(st.integers(0, 6)) + draw(st.sampled_from([0.0, 0.5])), draw(st.integers(0, 6)), 0.0))
    return pd.DataFrame(rows, columns=["path", "conversions", "nulls", "revenue"])


@settings(max_examples=60, deadline=None)
@given(table=path_tables())
def test_rate_game_equals_brute_force_permutations_both_algorithms(table):
    j = PathTable.from_frame(table).journeys
    expected = brute_force_rate_credit(table)
    for model in (Shapley(game="rate"), Shapley(game="rate", max_exact=1)):  # global transform; per-set transform
        got, _ = credits(model, j)
        for ch, value in expected.items():
            # 1e-9: brute force over permutations vs the transform: sums of up to 5! terms in another order
            assert got.get(ch, 0.0) == pytest.approx(value, rel=1e-9, abs=1e-9)
        assert sum(got.values()) == pytest.approx(table["conversions"].sum(), rel=1e-9, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(table=path_tables())
def test_touch_weights_reproduce_the_credit_and_sum_to_one(table):
    j = PathTable.from_frame(table).journeys
    for model in (Shapley(), Shapley(game="rate")):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fitted = model.fit(j).attribution_
        w = model.touch_weights(j)
        per_journey = np.bincount(j.touch_journey, w, minlength=j.n_journeys)
        converting = (j.conversions > 0) & (j.lengths > 0)
        # rel=1e-9: per-journey weights normalised in floats (rounding only)
        assert per_journey[converting] == pytest.approx(np.ones(converting.sum()), rel=1e-9)
        conv = np.bincount(j.touch_channel, w * j.conversions[j.touch_journey], minlength=j.n_channels)
        expected = fitted.set_index("channel")["conversions"]
        for name, value in zip(j.channel_names, conv):
            # 1e-9: brute force over permutations vs the model: the same sums in another order
            assert value == pytest.approx(expected.get(name, 0.0), rel=1e-9, abs=1e-9)


def test_shapley_on_an_event_log_with_touchless_conversions():
    rows = [("a", 0, "touch", "x"), ("a", 1, "touch", "y"), ("a", 2, "conversion", None, 8.0),
            ("b", 0, "conversion", None, 2.0)]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    conv, rev = credits(Shapley(), journeys_of(rows))
    assert conv == pytest.approx({"(none)": 1.0, "x": 0.5, "y": 0.5})
    assert rev == pytest.approx({"(none)": 2.0, "x": 4.0, "y": 4.0})


def test_bad_parameters():
    with pytest.raises(ValueError, match="The 'game' parameter of Shapley must be 'journey' or 'rate'. Got 'x'"):
        Shapley(game="x")
    with pytest.raises(ValueError, match="max_exact"):
        Shapley(max_exact=0)
