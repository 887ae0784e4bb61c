"""Markov removal-effect model (SPEC 3.1): hand-computed chains, a plain dense reference, properties."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from attribution.exceptions import InputError, NoNullJourneysWarning, ParameterError
from attribution.journeys.paths import PathTable
from attribution.models import Markov, merge_stats, parse_model_spec
from attribution.models.markov import chain as markov_chain
from testkit import journeys_of


def paths_frame(rows):
    """Rows ``(path, conversions, nulls[, revenue])`` → a path table frame."""
    return pd.DataFrame([{"path": r[0], "conversions": r[1], "nulls": r[2], "revenue": r[3] if len(r) > 3 else 0.0}
                         for r in rows])


def fit_rows(rows, **params):
    journeys = PathTable.from_frame(paths_frame(rows)).journeys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNullJourneysWarning)
        return Markov(**params).fit(journeys)


def by_channel(model, column):
    a = model.attribution_
    return dict(zip(a["channel"], a[column]))


# ------------------------------------------------------------------------------------------ hand-computed chains
def test_order1_hand_computed():
    """Paths: ``a > b`` (1 conversion, revenue 10), ``a`` (1 null), ``b`` (1 conversion, revenue 30, 1 null).

    Order 1 counts: START→a 2, START→b 2; a→b 1, a→NULL 1; b→CONV 2, b→NULL 1.
    x_b = 2/3, x_a = ½·x_b = 1/3, P = ½·x_a + ½·x_b = ½ (= 2 conversions / 4 journeys).
    Without a: P = ½·x_b = 1/3, RE(a) = 1 − (1/3)/(1/2) = 1/3. Without b: a→b goes to NULL, P = 0, RE(b) = 1.
    Credit of 2 conversions: a = 2·(1/3)/(4/3) = ½, b = 2·1/(4/3) = 3/2.
    Value: r_v(b) = 40/3, V_b = 40/3, V_a = 20/3, V = 10 (= 40 revenue / 4 journeys); without a V = 20/3, so
    REv(a) = 1/3, REv(b) = 1, revenue credit a = 40·(1/3)/(4/3) = 10, b = 30.
    """
    # abs=1e-12 below: exact fractions of a hand-computed chain vs float LU solves (a few ulps)
    m = fit_rows([("a > b", 1, 0, 10.0), ("a", 0, 1), ("b", 1, 1, 30.0)])
    assert m.conversion_probability_ == pytest.approx(0.5, abs=1e-12)
    assert m.expected_revenue_ == pytest.approx(10.0, abs=1e-12)
    re = by_channel(m, "removal_effect")
    assert re == pytest.approx({"a": 1 / 3, "b": 1.0}, abs=1e-12)
    assert by_channel(m, "conversions") == pytest.approx({"a": 0.5, "b": 1.5}, abs=1e-12)
    assert by_channel(m, "revenue") == pytest.approx({"a": 10.0, "b": 30.0}, abs=1e-12)
    rr = m.removal_effects_.set_index("channel")
    assert rr.loc["a", "revenue_removal_effect"] == pytest.approx(1 / 3, abs=1e-12)
    assert rr.loc["a", "conversion_probability_without"] == pytest.approx(1 / 3, abs=1e-12)


def test_order2_hand_computed():
    """Paths: ``a > b > c`` (1 conversion), ``b > c`` (1 null), ``a > c`` (1 conversion).

    Order-2 states (a,b), (b,c), (a,c): START→each 1/3; (a,b)→(b,c) 1; (b,c)→CONV ½, →NULL ½; (a,c)→CONV 1.
    x(b,c) = ½, x(a,b) = ½, x(a,c) = 1, P = (½ + ½ + 1)/3 = 2/3 (= 2 of 3 journeys).
    Without a ((a,b), (a,c) gone): P = ⅓·½ = 1/6, RE(a) = 3/4. Without b: P = ⅓ (only (a,c)), RE(b) = ½.
    Without c: every walk dies, RE(c) = 1. ΣRE = 9/4, so of 2 conversions a gets 2/3, b 4/9, c 8/9.
    """
    # abs=1e-12 below: exact fractions of a hand-computed chain vs float LU solves (a few ulps)
    m = fit_rows([("a > b > c", 1, 0), ("b > c", 0, 1), ("a > c", 1, 0)], order=2)
    assert m.conversion_probability_ == pytest.approx(2 / 3, abs=1e-12)
    assert by_channel(m, "removal_effect") == pytest.approx({"a": 0.75, "b": 0.5, "c": 1.0}, abs=1e-12)
    assert by_channel(m, "conversions") == pytest.approx({"a": 2 / 3, "b": 4 / 9, "c": 8 / 9}, abs=1e-12)
    # the same data at order 1 gives different effects: a→b→c and a→c both reach c
    m1 = fit_rows([("a > b > c", 1, 0), ("b > c", 0, 1), ("a > c", 1, 0)], order=1)
    # abs=1e-6: order 1 differs from 0.5 by far more than rounding
    assert by_channel(m1, "removal_effect")["b"] != pytest.approx(0.5, abs=1e-6)


def test_order3_hand_computed_short_paths_are_one_state():
    """Paths: ``a > a > b > a`` (1 conversion), ``a > b > a`` (1 null), ``b`` (1 conversion).

    Order 3: the first path has states (a,a,b), (a,b,a); the second (3 channels ≤ k) is the one state (a,b,a);
    ``b`` is the state (b). START→each 1/3; (a,a,b)→(a,b,a) 1; (a,b,a)→CONV ½, →NULL ½; (b)→CONV 1.
    x(a,b,a) = x(a,a,b) = ½, x(b) = 1, P = 2/3. Without a only (b) is left: P = 1/3, RE(a) = ½.
    Every state contains b: RE(b) = 1. Credit of 2 conversions: a 2/3, b 4/3.
    """
    # abs=1e-12 below: exact fractions of a hand-computed chain vs float LU solves (a few ulps)
    m = fit_rows([("a > a > b > a", 1, 0), ("a > b > a", 0, 1), ("b", 1, 0)], order=3)
    assert m.conversion_probability_ == pytest.approx(2 / 3, abs=1e-12)
    assert by_channel(m, "removal_effect") == pytest.approx({"a": 0.5, "b": 1.0}, abs=1e-12)
    assert by_channel(m, "conversions") == pytest.approx({"a": 2 / 3, "b": 4 / 3}, abs=1e-12)
    states = set(m.transition_matrix()["from_state"])
    assert states == {"(start)", "a > a > b", "a > b > a", "b"}


def test_collapse_merges_repeats_before_windows():
    """``a > a > b`` at order 2 has states (a,a), (a,b); collapsed it is ``a > b``, the one state (a,b)."""
    rows = [("a > a > b", 1, 1), ("b > b", 1, 0), ("a", 0, 2)]
    plain = fit_rows(rows, order=2)
    collapsed = fit_rows(rows, order=2, collapse=True)
    assert "a > a" in set(plain.transition_matrix()["from_state"])
    assert "a > a" not in set(collapsed.transition_matrix()["from_state"])
    assert "b > b" not in set(collapsed.transition_matrix()["from_state"])
    # order 1: collapsing only removes self-loops, which change no absorption probability
    # 1e-12: the same chain up to state numbering, so LU rounding differs by a few ulps
    pd.testing.assert_frame_equal(fit_rows(rows).attribution_, fit_rows(rows, collapse=True).attribution_,
                                  check_exact=False, rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------------------------------ built-in checks
@pytest.mark.parametrize("order", [1, 2, 3])
def test_probability_equals_observed_conversion_rate_of_touched_journeys(order):
    """With maximum-likelihood counts x[START] is the share of converting journeys among those with a touch
    (flow conservation: every journey entering a state leaves it), fractional counts included."""
    rows = [("a > b > a > c", 1.5, 0.25, 3.0), ("c", 0.0, 2.0), ("b > b", 2.0, 1.0, 7.5), ("", 4.0, 0.0, 9.0),
            ("a > c > b > a > c", 0.5, 3.5)]
    m = fit_rows(rows, order=order)
    touched_conv = 1.5 + 2.0 + 0.5
    touched_all = touched_conv + 0.25 + 2.0 + 1.0 + 3.5
    # abs=1e-12: exact fractions of a hand-computed chain vs float LU solves (a few ulps)
    assert m.conversion_probability_ == pytest.approx(touched_conv / touched_all, abs=1e-12)
    assert m.expected_revenue_ == pytest.approx((3.0 + 7.5) / touched_all, abs=1e-12)
    a = m.attribution_.set_index("channel")
    assert a.loc["(none)", "conversions"] == 4.0 and a.loc["(none)", "revenue"] == 9.0
    assert np.isnan(a.loc["(none)", "removal_effect"])
    # abs=1e-12: a sum of credits shared out in floats (a few ulps)
    assert a["conversions"].sum() == pytest.approx(8.0, abs=1e-12)


def test_no_null_journeys_warns_and_effects_are_shares_of_converting_journeys():
    """Without nulls P = 1 and RE(c) = share of converting journeys containing c: a in 2 of 3, b in 2 of 3,
    c in 1 of 3."""
    rows = [("a > b", 1, 0), ("a > c", 1, 0), ("b", 1, 0)]
    with pytest.warns(NoNullJourneysWarning, match="no non-converting journeys"):
        m = Markov().fit(PathTable.from_frame(paths_frame(rows)).journeys)
    # approx and abs=1e-12 below: exact fractions of a hand-computed chain vs float LU solves (a few ulps)
    assert m.conversion_probability_ == pytest.approx(1.0)
    assert by_channel(m, "removal_effect") == pytest.approx({"a": 2 / 3, "b": 2 / 3, "c": 1 / 3}, abs=1e-12)


def test_event_log_input_and_touchless_conversions():
    rows = [("u", 0, "touch", "email"), ("u", 1, "touch", "search"), ("u", 2, "conversion", None, 50.0),
            ("v", 0, "touch", "search"), ("w", 0, "conversion", None, 5.0), ("x", 0, "touch", "email")]
    m = Markov().fit(journeys_of(rows))
    a = m.attribution_.set_index("channel")
    assert a.loc["(none)", "conversions"] == 1.0 and a.loc["(none)", "revenue"] == 5.0
    # 1 of 3 journeys with a touch converts
    # approx below: exact fractions of a hand-computed chain vs float LU solves (a few ulps)
    assert m.conversion_probability_ == pytest.approx(1 / 3, abs=1e-12)
    assert a["revenue"].sum() == pytest.approx(55.0)


@pytest.mark.parametrize("value, message", [
    (0, "The 'order' parameter of Markov must be an integer >= 1 or 'auto'. Got 0 instead."),
    ("two", "The 'order' parameter of Markov must be an integer >= 1 or 'auto'. Got 'two' instead."),
    (1.5, "Got 1.5 instead."),
    (True, "Got True instead."),
])
def test_bad_order(value, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        Markov(order=value)


def test_bad_spec_values():
    with pytest.raises(ParameterError, match="'collapse' parameter of Markov must be true or false"):
        parse_model_spec("markov:collapse=maybe")
    assert parse_model_spec("markov:order=auto,collapse=true").collapse is True
    assert parse_model_spec("markov:order=3").order == 3


# ------------------------------------------------------------------------------------------ dense reference
def test_fit_paths_refuses_what_read_paths_refuses():
    """In-memory path tables follow the rules of numbers of path-table files: every broken rule at once, with
    the column, the count and the first row; text numbers are read, booleans and infinities are not."""
    frame = pd.DataFrame({"p": ["a", "b > a", "b", "a"], "c": ["1", "x", "-2", "inf"],
                          "n": [0.0, 1.0, 2e15, None], "v": [True, False, None, True]})
    with pytest.raises(InputError) as info:
        Markov().fit_paths(frame, path="p", conversions="c", nulls="n", revenue="v")
    found = sorted((p.code, p.column, p.count, p.first_row) for p in info.value.problems)
    assert found == [("negative", "c", 1, 2), ("not_numeric", "c", 2, 1), ("not_numeric", "v", 3, 0),
                     ("too_large", "n", 1, 2)]
    good = pd.DataFrame({"path": ["a", "b > a", "b"], "conversions": ["1", " 2 ", ""], "nulls": [1, 0, 3]})
    expected = Markov().fit_paths(good.assign(conversions=[1.0, 2.0, 0.0]))
    pd.testing.assert_frame_equal(Markov().fit_paths(good).attribution_, expected.attribution_)


def dense_reference(rows, order, collapse):
    """A deliberately plain implementation: Python tuples and dicts for states, dense numpy matrices, and
    ``numpy.linalg.solve`` on (I − Q) with the removed states' columns zeroed."""
    trans, conv_to, null_to, val_to, states = {}, {}, {}, {}, {"START": 0}
    channels = sorted({c for r in rows for c in r[0]})
    conv_touch = rev_touch = 0.0
    for path, conv, null, rev in rows:
        if not path:
            continue
        conv_touch += conv
        rev_touch += rev
        if collapse:
            path = tuple(c for i, c in enumerate(path) if i == 0 or c != path[i - 1])
        windows = [tuple(path)] if len(path) <= order else [tuple(path[i:i + order]) for i in range(len(path) - order + 1)]
        seq = ["START"] + windows
        for s in windows:
            states.setdefault(s, len(states))
        for f, t in zip(seq[:-1], seq[1:]):
            trans[(f, t)] = trans.get((f, t), 0.0) + conv + null
        conv_to[seq[-1]] = conv_to.get(seq[-1], 0.0) + conv
        null_to[seq[-1]] = null_to.get(seq[-1], 0.0) + null
        val_to[seq[-1]] = val_to.get(seq[-1], 0.0) + rev
    n = len(states)
    count = np.zeros((n, n))
    for (f, t), c in trans.items():
        count[states[f], states[t]] += c
    out = count.sum(axis=1)
    r = np.zeros(n)
    rv = np.zeros(n)
    for s, i in states.items():
        out[i] += conv_to.get(s, 0.0) + null_to.get(s, 0.0)
        r[i] = conv_to.get(s, 0.0)
        rv[i] = val_to.get(s, 0.0)
    live = out > 0
    q = np.zeros((n, n))
    q[live] = count[live] / out[live, None]
    r[live] /= out[live]
    rv[live] /= out[live]

    def solve(removed):
        keep = np.array([i for s, i in sorted(states.items(), key=lambda kv: kv[1])
                         if live[i] and not (s != "START" and removed in s)])
        if len(keep) == 0 or 0 not in keep:
            return 0.0, 0.0
        sub = np.eye(len(keep)) - q[np.ix_(keep, keep)]
        x = np.linalg.solve(sub, np.column_stack([r[keep], rv[keep]]))
        return x[0, 0], x[0, 1]

    p, v = solve(None)
    re = {}
    rev_re = {}
    for c in channels:
        pc_, vc_ = solve(c)
        re[c] = 1 - pc_ / p if p > 0 else 0.0
        rev_re[c] = 1 - vc_ / v if v > 0 else 0.0
    s, sv = sum(re.values()), sum(rev_re.values())
    conv = {c: conv_touch * re[c] / s if s > 0 else 0.0 for c in channels}
    revenue = {c: rev_touch * rev_re[c] / sv if sv > 0 else 0.0 for c in channels}
    return p, re, conv, revenue


CH = "abcd"


@st.composite
def path_tables(draw):
    n = draw(st.integers(1, 12))
    rows = []
    for _ in range(n):
        path = tuple(draw(st.lists(st.sampled_from(CH), min_size=0, max_size=7)))
        conv = draw(st.sampled_from([0.0, 1.0, 2.0, 0.5, 3.25]))
        null = draw(st.sampled_from([0.0, 1.0, 4.0, 0.75]))
        rev = draw(st.sampled_from([0.0, 10.0, 99.5])) if conv > 0 else 0.0
        rows.append((path, conv, null, rev))
    if not any(r[0] and r[1] + r[2] > 0 for r in rows):
        rows.append((("a", "b"), 1.0, 1.0, 5.0))
    return rows


def _frame(rows):
    return paths_frame([(" > ".join(p), c, n, v) for p, c, n, v in rows])


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("collapse", [False, True])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=path_tables())
def test_agrees_with_dense_reference(order, collapse, rows):
    p, re, conv, revenue = dense_reference(rows, order, collapse)
    frame = _frame(rows)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NoNullJourneysWarning)
        via_journeys = Markov(order=order, collapse=collapse).fit(PathTable.from_frame(frame).journeys)
        via_frame = Markov(order=order, collapse=collapse).fit_paths(frame)
    for m in (via_journeys, via_frame):
        # 1e-9: dense numpy inverse (reference) vs sparse solves on random chains with counts up to ~1e3
        assert m.conversion_probability_ == pytest.approx(p, abs=1e-9)
        a = m.attribution_.set_index("channel")
        for c in re:
            assert a.loc[c, "removal_effect"] == pytest.approx(re[c], abs=1e-9)
            assert a.loc[c, "conversions"] == pytest.approx(conv[c], abs=1e-9)
            assert a.loc[c, "revenue"] == pytest.approx(revenue[c], abs=1e-9 * max(1.0, sum(revenue.values())))


@pytest.mark.parametrize("fixed_point_first", [False, True])
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=path_tables())
def test_iterative_solver_agrees_with_dense_reference(fixed_point_first, rows):
    """Large chains are solved iteratively (GMRES, or the fixed point first for very large ones); force both
    routes on small chains and compare."""
    p, re, conv, _ = dense_reference(rows, 2, False)
    old = markov_chain.DIRECT_MAX_STATES, markov_chain.FIXED_POINT_FIRST_STATES
    markov_chain.DIRECT_MAX_STATES = 0
    markov_chain.FIXED_POINT_FIRST_STATES = 0 if fixed_point_first else 10**9
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NoNullJourneysWarning)
            m = Markov(order=2).fit_paths(_frame(rows))
    finally:
        markov_chain.DIRECT_MAX_STATES, markov_chain.FIXED_POINT_FIRST_STATES = old
    # 1e-9: dense numpy inverse (reference) vs sparse solves on random chains with counts up to ~1e3
    assert m.conversion_probability_ == pytest.approx(p, abs=1e-9)
    a = m.attribution_.set_index("channel")
    for c in re:
        assert a.loc[c, "removal_effect"] == pytest.approx(re[c], abs=1e-9)


# ------------------------------------------------------------------------------------------ statistics merge
@pytest.mark.parametrize("spec", ["markov", "markov:order=2", "markov:order=3,collapse=true", "markov:order=auto"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=path_tables(), cut=st.integers(0, 12))
def test_partition_statistics_merge_exactly(spec, rows, cut):
    """fit_stats(merge_stats([partial_stats(A), partial_stats(B)])) equals fit(A ∪ B) to 1e-9."""
    left, right = rows[:cut], rows[cut:]
    whole = PathTable.from_frame(_frame(rows)).journeys
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = parse_model_spec(spec)
        parts = [model.partial_stats(PathTable.from_frame(_frame(p)).journeys) for p in (left, right) if p]
        merged = parse_model_spec(spec).fit_stats(merge_stats(model, parts))
        direct = parse_model_spec(spec).fit(whole)
        via_stats = parse_model_spec(spec).fit_stats(model.partial_stats(whole))
    for other in (direct, via_stats):
        # 1e-9: the same chain; fractional counts are added in another order, and the solve amplifies that
        pd.testing.assert_frame_equal(merged.attribution_, other.attribution_, check_exact=False, rtol=1e-9,
                                      atol=1e-9)
        assert merged.order_ == other.order_


# ------------------------------------------------------------------------------------------ order=auto
def second_order_paths(n, seed):
    """Journeys whose outcome depends on the last two channels (a then b converts, b then b does not)."""
    rng = np.random.default_rng(seed)
    rows = []
    for first in "abc":
        for second in "abc":
            for third in "abc":
                rate = 0.8 if (second, third) == ("a", "b") else (0.05 if (second, third) == ("b", "b") else 0.3)
                total = n
                conv = rng.binomial(total, rate)
                rows.append((f"{first} > {second} > {third}", float(conv), float(total - conv)))
    return rows


def test_order_auto_picks_a_higher_order_when_the_outcome_needs_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = parse_model_spec("markov:order=auto").fit_paths(paths_frame(second_order_paths(400, 1)))
    scores = m.order_scores_
    assert list(scores["order"]) == [1, 2, 3, 4]
    assert m.order_ >= 2
    assert scores.set_index("order").loc[2, "log_likelihood"] > scores.set_index("order").loc[1, "log_likelihood"]
    again = Markov(order="auto").fit_paths(paths_frame(second_order_paths(400, 1)))
    pd.testing.assert_frame_equal(scores, again.order_scores_)


def test_order_auto_prefers_order_1_when_outcomes_depend_on_the_last_channel_only():
    rng = np.random.default_rng(3)
    rows = []
    for first in "abcd":
        for second in "abcd":
            rate = {"a": 0.6, "b": 0.1, "c": 0.3, "d": 0.2}[second]
            conv = rng.binomial(300, rate)
            rows.append((f"{first} > {second}", float(conv), float(300 - conv)))
    m = Markov(order="auto").fit_paths(paths_frame(rows))
    assert m.order_ == 1


# ------------------------------------------------------------------------------------------ inspection
def test_transition_matrix_and_graph():
    m = fit_rows([("a > b", 1, 0, 10.0), ("a", 0, 1), ("b > b", 1, 1, 30.0)])
    t = m.transition_matrix()
    assert list(t.columns) == ["from_state", "to_state", "count", "probability"]
    sums = t.groupby("from_state")["probability"].sum()
    # allclose default: probabilities count / total, summed per state (a few ulps)
    assert np.allclose(sums.to_numpy(), 1.0)
    row = t[(t["from_state"] == "(start)") & (t["to_state"] == "a")]
    # approx: 2 / 4 in floats
    assert float(row["count"].iloc[0]) == 2.0 and float(row["probability"].iloc[0]) == pytest.approx(0.5)
    assert float(t[(t["from_state"] == "b") & (t["to_state"] == "b")]["count"].iloc[0]) == 2.0  # self-loop kept
    g = m.transition_graph()
    # approx: a ratio of counts in floats
    assert g["a"]["b"]["probability"] == pytest.approx(0.5)
    assert set(g.successors("b")) == {"b", "(conversion)", "(null)"}


# ------------------------------------------------------------------------------------------ touch weights
def _credit_of(journeys, weights):
    from attribution.models import credit_table

    return credit_table(journeys, weights).set_index("channel")


def test_touch_weights_reproduce_the_credit_on_an_event_log():
    rows = [("u", 0, "touch", "email"), ("u", 1, "touch", "search"), ("u", 1.5, "touch", "email"),
            ("u", 2, "conversion", None, 50.0),
            ("v", 0, "touch", "search"), ("v", 0.5, "touch", "display"), ("v", 1, "conversion", None, 80.0),
            ("w", 0, "touch", "display"), ("w", 1, "touch", "email"), ("w", 2, "conversion", None, 20.0),
            ("y", 0, "touch", "email"), ("y", 0.5, "touch", "search"), ("y", 0.7, "touch", "display"),
            ("y", 1, "conversion", None, 35.0),
            ("x", 0, "touch", "email"), ("z", 0, "touch", "display"), ("z", 1, "touch", "search")]
    journeys = journeys_of(rows)
    m = Markov().fit(journeys)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        w = m.touch_weights(journeys)
    sums = np.bincount(journeys.touch_journey, w, minlength=journeys.n_journeys)
    # atol=1e-12: weights normalised per journey, then split over touches (a few ulps)
    assert np.allclose(sums[journeys.lengths > 0], 1.0, atol=1e-12)
    assert (w >= 0).all()
    got = _credit_of(journeys, w)
    a = m.attribution_.set_index("channel")
    for c in ("email", "search", "display"):
        # abs 1e-8 / 1e-6 (totals 4 / 185): raking runs to the float floor, well inside these
        assert got.loc[c, "conversions"] == pytest.approx(a.loc[c, "conversions"], abs=1e-8)
        assert got.loc[c, "revenue"] == pytest.approx(a.loc[c, "revenue"], abs=1e-6)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=path_tables())
def test_touch_weights_sum_to_one_and_reproduce_conversions_when_feasible(rows):
    journeys = PathTable.from_frame(_frame(rows)).journeys
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = Markov().fit(journeys)
        w = m.touch_weights(journeys)
    sums = np.bincount(journeys.touch_journey, w, minlength=journeys.n_journeys)
    # atol=1e-9: softmax weights per journey summed over random journeys (rounding only)
    assert np.allclose(sums[journeys.lengths > 0], 1.0, atol=1e-9)
    assert (w >= -1e-15).all()
    infeasible = any("touch weights reproduce" in str(x.message) for x in caught)
    if not infeasible:
        got = _credit_of(journeys, w)
        a = m.attribution_.set_index("channel")
        for c in journeys.channel_names:
            # abs 1e-6 of the totals: the raking meets the margins to the float floor when feasible
            assert got.loc[c, "conversions"] == pytest.approx(a.loc[c, "conversions"], abs=1e-6)
            assert got.loc[c, "revenue"] == pytest.approx(a.loc[c, "revenue"], abs=1e-6 * max(1, a["revenue"].sum()))


def test_touch_weights_warn_when_infeasible():
    """``a`` converts alone 10 times, ``a > b`` 10 times, ``b`` alone never converts: the model gives a less than the
    10 conversions where it is the only channel, which no per-journey weights can do."""
    rows = [("a", 10, 0), ("a > b", 10, 0), ("b", 0, 30), ("b > a", 0, 30)]
    journeys = PathTable.from_frame(paths_frame(rows)).journeys
    m = Markov().fit(journeys)
    a = m.attribution_.set_index("channel")
    if a.loc["a", "conversions"] >= 10 - 1e-9:
        pytest.skip("this example is feasible after all")
    with pytest.warns(UserWarning, match="only approximately"):
        w = m.touch_weights(journeys)
    sums = np.bincount(journeys.touch_journey, w, minlength=journeys.n_journeys)
    # allclose default: weights normalised per journey (rounding only)
    assert np.allclose(sums[journeys.lengths > 0], 1.0)


# ------------------------------------------------------------------------------------------ committed generator
def test_path_generator_is_seeded_and_distinct():
    import os
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "benchmarks"))
    import gen_paths

    a = gen_paths.generate(3000, 6, seed=4)
    b = gen_paths.generate(3000, 6, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 3000 and a["path"].nunique() == 3000
    assert (a["conversions"] >= 0).all() and (a["nulls"] >= 0).all() and a["nulls"].sum() > 0
    assert not a.equals(gen_paths.generate(3000, 6, seed=5))


def test_many_channels_use_the_row_unique_fallback_with_the_same_result():
    """With n_channels^order beyond int64 keys, states are made distinct by unique rows instead; padding the
    vocabulary with unused channels must change nothing."""
    rows = [("a > b > a > c > b > a", 2.0, 1.0, 5.0), ("b > b > c", 1.0, 2.0, 3.0), ("c > a", 0.0, 3.0),
            ("a > b > c > a > b > c > a", 1.5, 0.5, 2.0), ("a", 1.0, 1.0, 1.0)]
    small = markov_chain.parse_paths([p.replace(" > ", markov_chain.KEY_SEPARATOR) for p, *_ in rows],
                                     [r[1] for r in rows], [r[2] for r in rows], [r[3] if len(r) > 3 else 0.0
                                                                                  for r in rows])
    extra = np.array([f"zz{i:05d}" for i in range(9000)], dtype=object)
    big = markov_chain.EncodedPaths(np.r_[small.channel_names, extra], small.codes, small.offsets,
                                    small.conversions, small.nulls, small.revenue)
    assert float(big.n_channels + 1) ** 5 >= 2.0 ** 62
    a = markov_chain.removal_effects(markov_chain.build_chain(small, 5))
    b = markov_chain.removal_effects(markov_chain.build_chain(big, 5))
    # 1e-12: the same chain with other state keys (unique rows); LU rounding only
    assert a.probability == pytest.approx(b.probability, abs=1e-12)
    assert np.allclose(a.conversion, b.conversion[:3], atol=1e-12)
    assert np.allclose(a.revenue, b.revenue[:3], atol=1e-12)
    assert np.all(b.conversion[3:] == 0)
