"""Milestone models (u_shaped, w_shaped, full_path) and position-based presets on hand-computed journeys.

Every expected weight is worked out in the comment next to it from the shares of models/milestone.py:
u_shaped 0.4/0.4 + rest 0.2, w_shaped 0.3 x 3 + rest 0.1, full_path 0.225 x 4 + rest 0.1.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.exceptions import ParameterError
from attribution.journeys.journeys import NO_MILESTONE
from attribution.journeys.milestones import milestone_touch
from attribution.models import parse_model_spec
from testkit import journeys_of

MILES = ("lead", "opportunity")


def weights(spec, rows, milestones=MILES, **kw):
    j = journeys_of(rows, milestone_events=milestones, **kw)
    return parse_model_spec(spec).fit(j).touch_weights_.tolist()


def five(lead=None, opp=None, won=None):
    """One journey of five touches t0..t4 at days 0..4, converting at day 5, with milestones at the given days."""
    rows = [("a", d, "touch", f"c{d}") for d in range(5)] + [("a", 5, "conversion", None, 100.0)]
    for name, day in (("lead", lead), ("opportunity", opp), ("won", won)):
        if day is not None:
            rows.append(("a", day, name, None))
    return rows


def test_u_shaped_first_and_lead_touch():
    # lead at day 1.5: its touch is t1 (the last at or before it): t0 0.4, t1 0.4, t2..t4 0.2/3 each
    assert weights("u_shaped", five(lead=1.5)) == pytest.approx([0.4, 0.4, 0.2 / 3, 0.2 / 3, 0.2 / 3])


def test_u_shaped_coinciding_first_and_lead_touch_gets_both_shares():
    # lead at day 0.5: its touch is t0, the first touch: 0.8; t1..t4 0.2/4 each
    assert weights("u_shaped", five(lead=0.5)) == pytest.approx([0.8, 0.05, 0.05, 0.05, 0.05])


def test_u_shaped_missing_lead_renormalises():
    # no lead: first 0.4 and rest 0.2 renormalised by 0.6: t0 2/3, t1..t4 (1/3)/4 each
    expected = [2 / 3] + [1 / 12] * 4
    assert weights("u_shaped", five()) == pytest.approx(expected)
    # a lead before the first touch has no touch at or before it: missing too
    assert weights("u_shaped", five(lead=-0.5)) == pytest.approx(expected)
    # no --milestone-event configured (and no lead= parameter): missing
    assert weights("u_shaped", five(lead=1.5), milestones=()) == pytest.approx(expected)


def test_no_rest_touches_redistributes_the_rest_share():
    rows = [("a", 0, "touch", "x"), ("a", 1, "touch", "y"), ("a", 1.5, "lead", None), ("a", 2, "conversion", None)]
    # t0 first 0.4, t1 lead 0.4, no other touch: 0.4/0.8 each
    assert weights("u_shaped", rows) == pytest.approx([0.5, 0.5])
    one = [("a", 0, "touch", "x"), ("a", 1, "lead", None), ("a", 2, "conversion", None)]
    # a single touch that is first and lead: everything
    assert weights("u_shaped", one) == pytest.approx([1.0])
    assert weights("full_path", one) == pytest.approx([1.0])


def test_w_shaped():
    # lead touch t1, opportunity touch t3: 0.3 each with t0; t2 and t4 share 0.1
    assert weights("w_shaped", five(lead=1.2, opp=3.0)) == pytest.approx([0.3, 0.3, 0.05, 0.3, 0.05])
    # no opportunity: 0.3, 0.3 and rest 0.1 renormalised by 0.7; t2..t4 (0.1/0.7)/3 each
    assert weights("w_shaped", five(lead=1.2)) == pytest.approx([3 / 7, 3 / 7, 1 / 21, 1 / 21, 1 / 21])
    # lead and opportunity on the same touch t2: 0.6 there; t1, t3, t4 share 0.1
    assert weights("w_shaped", five(lead=2.1, opp=2.9)) == pytest.approx([0.3, 0.1 / 3, 0.6, 0.1 / 3, 0.1 / 3])


def test_full_path_closed_won_defaults_to_the_conversion():
    # first t0, lead t1, opportunity t2, closed won = the conversion: last touch t4; t3 gets the rest 0.1
    assert weights("full_path", five(lead=1, opp=2)) == pytest.approx([0.225, 0.225, 0.225, 0.1, 0.225])
    # a third milestone is the closed-won event: won at day 3.5 → t3; t4 now gets the rest
    w = weights("full_path", five(lead=1, opp=2, won=3.5), milestones=("lead", "opportunity", "won"))
    assert w == pytest.approx([0.225, 0.225, 0.225, 0.225, 0.1])


def test_full_path_coinciding_and_no_rest():
    rows = [("a", 0, "touch", "x"), ("a", 1, "touch", "y"), ("a", 1.2, "lead", None), ("a", 1.4, "opportunity", None),
            ("a", 2, "touch", "z"), ("a", 3, "conversion", None)]
    # t0 0.225, t1 lead + opportunity 0.45, t2 (won) 0.225; no other touch: divide by 0.9
    assert weights("full_path", rows) == pytest.approx([0.25, 0.5, 0.25])


def test_parameters_name_the_events_and_defaults_follow_the_configured_order():
    rows = [("a", d, "touch", f"c{d}") for d in range(5)] + [("a", 1.2, "mql", None), ("a", 3, "sql", None),
                                                            ("a", 5, "conversion", None)]
    by_order = weights("w_shaped", rows, milestones=("mql", "sql"))
    named = weights("w_shaped:lead=mql,opportunity=sql", rows, milestones=("mql", "sql"))
    assert by_order == named == pytest.approx([0.3, 0.3, 0.05, 0.3, 0.05])
    # swapped names: lead touch t3, opportunity touch t1: the same touches get the same (equal) shares
    assert weights("w_shaped:lead=sql,opportunity=mql", rows, milestones=("mql", "sql")) == pytest.approx(by_order)
    # a conversion event's name names the conversion (its touch: the last one): t0 0.4, t4 0.4, t1..t3 0.2/3
    assert weights("u_shaped:lead=conversion", rows, milestones=()) == pytest.approx([0.4] + [0.2 / 3] * 3 + [0.4])


def test_milestone_touch_at_equal_timestamp_counts_and_first_occurrence_wins():
    rows = [("a", 0, "touch", "x"), ("a", 2, "lead", None), ("a", 2, "touch", "y"), ("a", 3, "touch", "z"),
            ("a", 3.5, "lead", None), ("a", 4, "conversion", None)]
    j = journeys_of(rows, milestone_events=("lead",))
    # the first lead (day 2) has the touch of the same timestamp (t1) at or before it, though listed after it
    assert milestone_touch(j, "lead").tolist() == [1]


def test_milestones_belong_to_the_journey_around_them():
    rows = [("a", 0, "touch", "x"), ("a", 0.5, "lead", None), ("a", 1, "conversion", None),
            ("a", 2, "touch", "y"), ("a", 3, "touch", "z"), ("a", 4, "conversion", None),
            ("a", 5, "touch", "w"), ("a", 6, "lead", None),
            ("b", 1, "lead", None)]  # a user with a milestone only: no journey
    j = journeys_of(rows, milestone_events=("lead",))
    assert j.n_journeys == 3 and len(j.user_ids) == 1
    t = j.milestone_times["lead"]
    # journey 1 has the first lead; journey 2 none; the trailing non-converting journey the day-6 lead
    assert t[0] != NO_MILESTONE and t[1] == NO_MILESTONE and t[2] > t[0]
    assert milestone_touch(j, "lead").tolist() == [0, -1, 3]
    # milestones change no journey: touches, ends and conversions equal those built without them
    plain = journeys_of(rows)
    assert list(j.channel_names[j.touch_channel]) == list(plain.channel_names[plain.touch_channel])
    np.testing.assert_array_equal(j.offsets, plain.offsets)
    np.testing.assert_array_equal(j.end_time, plain.end_time)
    np.testing.assert_array_equal(j.conversions, plain.conversions)


def test_lookback_drops_the_milestone_touch_outside_the_window():
    rows = [("a", 0, "touch", "x"), ("a", 1, "lead", None), ("a", 40, "touch", "y"), ("a", 41, "touch", "z"),
            ("a", 42, "conversion", None)]
    # the lead touch (x, day 0) is outside the 30-day lookback: missing; y first 2/3, z 1/3
    assert weights("u_shaped", rows, lookback_days=30) == pytest.approx([2 / 3, 1 / 3])


def test_position_based_presets():
    rows = [("a", d, "touch", f"c{d}") for d in range(5)] + [("a", 5, "conversion", None)]
    assert weights("position_based:shape=J", rows) == pytest.approx([0.2, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.6])
    assert weights("position_based:shape=inverse_J", rows) == pytest.approx([0.6, 0.2 / 3, 0.2 / 3, 0.2 / 3, 0.2])
    assert weights("position_based:shape=u", rows) == weights("position_based", rows)
    with pytest.raises(ParameterError, match="shape"):
        parse_model_spec("position_based:shape=V")
    with pytest.raises(ParameterError, match="not both"):
        parse_model_spec("position_based:shape=J,first=0.5")
    with pytest.raises(ParameterError, match="lead"):
        parse_model_spec("u_shaped:lead=")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 20, allow_nan=False), st.sampled_from(
    ["touch", "touch", "touch", "conversion", "lead", "opportunity"]), st.sampled_from("abc")), max_size=40),
    st.sampled_from(["u_shaped", "w_shaped", "full_path"]))
def test_weights_of_every_converting_journey_sum_to_one(rows, spec):
    rows = [(f"u{u}", d, e, ch if e == "touch" else None, 1.0 if e == "conversion" else None)
            for u, d, e, ch in rows]
    j = journeys_of(rows, milestone_events=MILES)
    w = parse_model_spec(spec).fit(j).touch_weights_
    sums = np.bincount(j.touch_journey, w, minlength=j.n_journeys)
    nonempty = j.lengths > 0
    np.testing.assert_allclose(sums[nonempty], 1.0, rtol=0, atol=1e-12)  # a few float additions of shares ≤ 1
    assert (w >= 0).all()
