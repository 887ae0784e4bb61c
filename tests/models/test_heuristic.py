"""Rule-based models on hand-computed journeys (SPEC 3). Every expected number is worked out in the comments."""

from __future__ import annotations

import numpy as np
import pytest

from attribution.exceptions import ParameterError
from attribution.kpis.result import attribute
from attribution.models import LastNonDirect, PositionBased, TimeDecay, parse_model_spec
from testkit import credit, journeys_of

HEURISTICS = ["first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"]

# one journey per length: n = 1 (email, 10), n = 2 (social > search, 20), n = 4 (display > email > display > direct, 40)
ROWS = [
    ("u1", 0, "touch", "email"), ("u1", 1, "conversion", None, 10.0),
    ("u2", 0, "touch", "social"), ("u2", 2, "touch", "search"), ("u2", 3, "conversion", None, 20.0),
    ("u3", 0, "touch", "display"), ("u3", 1, "touch", "email"), ("u3", 2, "touch", "display"),
    ("u3", 3, "touch", "direct"), ("u3", 3, "conversion", None, 40.0),
    ("u4", 0, "touch", "affiliate"),  # never converts: earns nothing in any heuristic
]


@pytest.fixture(scope="module")
def table():
    return attribute(journeys_of(ROWS), HEURISTICS + ["position_based:first=0.2,middle=0.2,last=0.6",
                                                       "last_non_direct:direct=direct|display"])


def test_first_touch(table):
    assert credit(table, "first_touch") == {"email": 1.0, "social": 1.0, "display": 1.0}
    assert credit(table, "first_touch", "revenue") == {"email": 10.0, "social": 20.0, "display": 40.0}


def test_last_touch(table):
    assert credit(table, "last_touch") == {"email": 1.0, "search": 1.0, "direct": 1.0}


def test_last_non_direct_skips_direct(table):
    # u3's last touch is direct: the credit goes to the last non-direct touch before it (display)
    assert credit(table, "last_non_direct") == {"email": 1.0, "search": 1.0, "display": 1.0}
    # with display counted as direct too, u3's last non-direct touch is email (position 1)
    assert credit(table, "last_non_direct:direct=direct|display") == {"email": 2.0, "search": 1.0}


def test_last_non_direct_all_direct_journey_credits_last_touch():
    j = journeys_of([("a", 0, "touch", "direct"), ("a", 1, "touch", "direct"), ("a", 2, "conversion", None, 5.0)])
    w = LastNonDirect().fit(j).touch_weights_
    assert w.tolist() == [0.0, 1.0]


def test_linear_counts_repeated_channels(table):
    # n=1: email 1; n=2: social 1/2, search 1/2; n=4: display 2/4, email 1/4, direct 1/4
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    got = credit(table, "linear")
    assert got == pytest.approx({"email": 1.25, "social": 0.5, "search": 0.5, "display": 0.5, "direct": 0.25})
    rev = credit(table, "linear", "revenue")
    # revenue: email 10 + 40/4 = 20; social 10; search 10; display 20; direct 10
    assert rev == pytest.approx({"email": 20.0, "social": 10.0, "search": 10.0, "display": 20.0, "direct": 10.0})


def test_position_based_default_u_shape(table):
    # n=1 → 1; n=2 → 0.4/0.8 = 1/2 each; n=4 → first 0.4, last 0.4, inner 0.2/2 = 0.1 each
    # display = 0.4 (first) + 0.1 (third touch) = 0.5; email = 1 + 0.1; direct = 0.4
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    got = credit(table, "position_based")
    assert got == pytest.approx({"email": 1.1, "social": 0.5, "search": 0.5, "display": 0.5, "direct": 0.4})


def test_position_based_j_shape_at_n_2_and_n_4(table):
    # n=2: first/(first+last) = 0.2/0.8 = 0.25, last 0.75; n=4: 0.2, 0.1, 0.1, 0.6
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    got = credit(table, "position_based:first=0.2,middle=0.2,last=0.6")
    assert got == pytest.approx({"email": 1.1, "social": 0.25, "search": 0.75, "display": 0.3, "direct": 0.6})


def test_position_based_weights_sum_to_one_at_every_length():
    for n in range(1, 7):
        rows = [("a", i, "touch", f"c{i}") for i in range(n)] + [("a", n, "conversion", None)]
        # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
        w = PositionBased(first=0.3, middle=0.5, last=0.2).fit(journeys_of(rows)).touch_weights_
        assert w.sum() == pytest.approx(1.0)
        if n >= 3:
            assert w[1:-1] == pytest.approx([0.5 / (n - 2)] * (n - 2))


def test_time_decay_half_life_weights():
    # touches 14, 7 and 0 days before the conversion with a 7-day half-life: raw weights 1/4, 1/2, 1
    # → normalised 1/7, 2/7, 4/7
    rows = [("a", 0, "touch", "x"), ("a", 7, "touch", "y"), ("a", 14, "touch", "z"), ("a", 14, "conversion", None, 7.0)]
    # rel=1e-12 / approx: powers of 2 normalised in floats (a few ulps)
    w = TimeDecay().fit(journeys_of(rows)).touch_weights_
    assert w == pytest.approx([1 / 7, 2 / 7, 4 / 7], rel=1e-12)
    # the same with half_life=14d: 1/2, 1/sqrt2, 1
    w14 = parse_model_spec("time_decay:half_life=14d").fit(journeys_of(rows)).touch_weights_
    raw = np.array([0.5, 2 ** -0.5, 1.0])
    # rel=1e-12: exp2 of the same exponents, normalised (a few ulps)
    assert w14 == pytest.approx(raw / raw.sum(), rel=1e-12)
    # units: 168h is 7 days
    assert parse_model_spec("time_decay:half_life=168h").fit(journeys_of(rows)).touch_weights_ == pytest.approx(w)


def test_time_decay_is_relative_to_the_conversion_not_the_last_touch():
    # one touch 7 days before the conversion, one 14 days before: 2/3 and 1/3 whatever the gap to the conversion
    rows = [("a", 0, "touch", "x"), ("a", 7, "touch", "y"), ("a", 14, "conversion", None)]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert TimeDecay().fit(journeys_of(rows)).touch_weights_ == pytest.approx([1 / 3, 2 / 3])


def test_time_decay_long_lookback_does_not_underflow():
    rows = [("a", 0, "touch", "x"), ("a", 3000, "touch", "y"), ("a", 6000, "conversion", None, 1.0)]
    # approx: weights normalised to sum 1 in floats
    w = TimeDecay(half_life="1h").fit(journeys_of(rows, lookback_days=None)).touch_weights_
    assert np.isfinite(w).all() and w.sum() == pytest.approx(1.0)


def test_touchless_conversions_go_to_none_in_every_model():
    rows = [("a", 0, "conversion", None, 3.0), ("b", 0, "touch", "email"), ("b", 1, "conversion", None, 5.0)]
    table = attribute(journeys_of(rows), HEURISTICS)
    for model in HEURISTICS:
        assert credit(table, model) == {"(none)": 1.0, "email": 1.0}
        assert credit(table, model, "revenue") == {"(none)": 3.0, "email": 5.0}
        shares = table[table["model"] == model].set_index("channel")["share"]
        # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
        assert shares["(none)"] == pytest.approx(0.5)


def test_model_column_holds_the_spec_as_written_and_rows_are_sorted(table):
    specs = list(dict.fromkeys(table["model"]))
    assert specs == HEURISTICS + ["position_based:first=0.2,middle=0.2,last=0.6", "last_non_direct:direct=direct|display"]
    for _, rows in table.groupby("model", sort=False):
        assert list(rows["channel"]) == sorted(rows["channel"])


@pytest.mark.parametrize("spec, fragment", [
    ("time_decay:half_life=-3", "The 'half_life' parameter of TimeDecay must be a duration > 0"),
    ("time_decay:half_life=soon", "Got 'soon' instead"),
    ("position_based:first=-1", "The 'first' parameter of PositionBased must be a number >= 0. Got -1 instead."),
    ("position_based:first=0,middle=0,last=0", "must not all be 0"),
    ("linear:foo=1", "Unknown parameter 'foo' of model 'linear'"),
    ("nosuch", "Unknown model 'nosuch'"),
    ("time_decay:half_life", "key=value"),
    ("last_non_direct:direct=", "The 'direct' parameter of LastNonDirect"),
])
def test_bad_parameters_have_one_message_shape(spec, fragment):
    with pytest.raises(ParameterError, match=None) as info:
        parse_model_spec(spec)
    assert fragment in str(info.value)


@pytest.mark.parametrize("spec", HEURISTICS)
def test_credit_from_the_crediting_journeys_equals_credit_from_all(spec):
    """A journey-local model credits from the journeys with conversions or revenue only
    (``Journeys.crediting``); the other journeys' touches add exactly 0, so the channel sums are the same bits as
    the weights of every journey summed per channel."""
    from attribution.models.base import credit_table

    rng = np.random.default_rng(7)
    rows = []
    for u in range(400):
        t = 0
        for _ in range(rng.integers(0, 5)):
            t += int(rng.integers(1, 3))
            rows.append((f"u{u}", t, "touch", str(rng.choice(["email", "search", "direct", "social"]))))
        if rng.random() < 0.15:
            rows.append((f"u{u}", t + 1, "conversion", None, float(rng.integers(1, 90)) / 7))
    journeys = journeys_of(rows)
    assert 0 < journeys.crediting.n_journeys < journeys.n_journeys
    model = parse_model_spec(spec).fit(journeys)
    expected = credit_table(journeys, model.touch_weights(journeys))
    got = model.attribution_
    assert got["channel"].tolist() == expected["channel"].tolist()
    for col in ("conversions", "revenue"):
        assert np.array_equal(got[col].to_numpy(), expected[col].to_numpy()), col
    assert len(model.touch_weights_) == journeys.n_touches  # the weights of every journey, as before


def test_crediting_journeys_are_the_journeys_themselves_when_all_convert():
    journeys = journeys_of(ROWS[:-1])  # without u4, every journey converts
    assert journeys.crediting is journeys
