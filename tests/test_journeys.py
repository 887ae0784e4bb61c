"""SPEC 2 journey rules, each on a hand-made log whose journeys can be read off by eye."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.io.events import Events
from attribution.journeys.journeys import Journeys
from attribution.journeys.paths import PathTable
from testkit import T0, events_frame, journeys_of, paths_of


def test_each_conversion_closes_a_journey_and_the_tail_is_non_converting():
    # a: email, search, BUY(100), social, BUY(50), display  → [email search]→1, [social]→1, [display]→null
    j = journeys_of([
        ("a", 0, "touch", "email"), ("a", 1, "touch", "search"), ("a", 2, "conversion", None, 100.0),
        ("a", 3, "touch", "social"), ("a", 4, "conversion", None, 50.0), ("a", 5, "touch", "display"),
    ])
    assert paths_of(j) == [(("email", "search"), 1.0, 100.0), (("social",), 1.0, 50.0), (("display",), 0.0, 0.0)]
    assert j.nulls.tolist() == [0.0, 0.0, 1.0]


def test_user_who_never_converts_has_one_null_journey_and_users_do_not_mix():
    rows = [("b", 0, "touch", "email"), ("a", 0, "touch", "search"), ("b", 1, "touch", "social"),
            ("a", 1, "conversion", None, 10.0)]
    j = journeys_of(rows)
    assert sorted(paths_of(j)) == [(("email", "social"), 0.0, 0.0), (("search",), 1.0, 10.0)]


def test_touch_and_conversion_at_the_same_time_touch_comes_first():
    # the conversion row is listed first, at the same timestamp as the touch: the touch still belongs to it
    j = journeys_of([("a", 0, "touch", "email"), ("a", 1, "conversion", None, 5.0), ("a", 1, "touch", "search")])
    assert paths_of(j) == [(("email", "search"), 1.0, 5.0)]


def test_touches_at_equal_timestamps_keep_input_order():
    j1 = journeys_of([("a", 0, "touch", "x"), ("a", 0, "touch", "y"), ("a", 1, "conversion", None)])
    j2 = journeys_of([("a", 0, "touch", "y"), ("a", 0, "touch", "x"), ("a", 1, "conversion", None)])
    assert paths_of(j1)[0][0] == ("x", "y")
    assert paths_of(j2)[0][0] == ("y", "x")


def test_lookback_boundary_is_inclusive():
    # 30 days exactly before the conversion is inside; one second more is outside
    sec = 1 / 86400
    rows = [("a", 0, "touch", "old"), ("a", sec, "touch", "edge"), ("a", 10, "touch", "mid"),
            ("a", 30 + sec, "conversion", None, 1.0)]
    assert paths_of(journeys_of(rows))[0][0] == ("edge", "mid")
    assert paths_of(journeys_of(rows, lookback_days=None))[0][0] == ("old", "edge", "mid")
    assert paths_of(journeys_of(rows, lookback_days=5))[0][0] == ()


def test_non_converting_tail_is_limited_by_the_lookback_from_the_last_touch():
    rows = [("a", 0, "touch", "first"), ("a", 20, "touch", "second"), ("a", 45, "touch", "third")]
    # window counted back from the last touch (day 45): day 20 is inside 30 days, day 0 is not
    assert paths_of(journeys_of(rows)) == [(("second", "third"), 0.0, 0.0)]


def test_touches_older_than_the_window_belong_to_no_journey():
    rows = [("a", 0, "touch", "stale"), ("a", 40, "conversion", None, 9.0), ("a", 41, "touch", "new")]
    j = journeys_of(rows)
    assert paths_of(j) == [((), 1.0, 9.0), (("new",), 0.0, 0.0)]
    assert j.touchless().tolist() == [True, False]


def test_touchless_conversions_and_back_to_back_conversions():
    rows = [("a", 0, "conversion", None, 7.0), ("b", 0, "touch", "email"), ("b", 1, "conversion", None, 1.0),
            ("b", 2, "conversion", None, 2.0)]
    got = sorted(paths_of(journeys_of(rows)))
    assert got == [((), 1.0, 2.0), ((), 1.0, 7.0), (("email",), 1.0, 1.0)]


def test_other_events_are_ignored_and_custom_conversion_events():
    rows = [("a", 0, "touch", "email"), ("a", 1, "lead", None), ("a", 2, "touch", "search"),
            ("a", 3, "purchase", None, 30.0), ("a", 4, "signup", None)]
    j = journeys_of(rows, conversion_events=("purchase", "signup"))
    assert paths_of(j) == [(("email", "search"), 1.0, 30.0), ((), 1.0, 0.0)]
    # with the default conversion event there is none: one non-converting journey
    assert paths_of(journeys_of(rows)) == [(("email", "search"), 0.0, 0.0)]
    # a milestone as the conversion (leads are attributed this way)
    assert paths_of(journeys_of(rows, conversion_events=("lead",))) == [(("email",), 1.0, 0.0), (("search",), 0.0, 0.0)]


def test_integer_user_ids_and_times_and_rows_are_carried():
    frame = events_frame([(1, 0, "touch", "a"), (2, 0, "touch", "b"), (1, 2, "conversion", None, 3.0)])
    frame["user_id"] = frame["user_id"].astype("int64")
    j = Journeys.from_events(Events.from_frame(frame))
    assert sorted(j.user_ids.to_pylist()) == [1, 2]  # users come in the order of their id's hash
    conv = int(np.flatnonzero(j.conversions)[0])
    assert j.user_ids[j.user[conv]].as_py() == 1
    assert j.end_time[conv] == pd.Timestamp(T0 + pd.Timedelta(days=2)).value
    assert j.conversion_row[conv] == 2
    assert j.touch_row[j.offsets[conv]] == 0


def test_journeys_do_not_depend_on_row_order_without_ties():
    rows = [("u%d" % (i % 7), i * 0.37, "touch" if i % 5 else "conversion", "c%d" % (i % 4), 1.0)
            for i in range(60)]
    frame = events_frame(rows)
    a = Journeys.from_events(Events.from_frame(frame))
    b = Journeys.from_events(Events.from_frame(frame.sample(frac=1.0, random_state=3)))
    assert paths_of(a) == paths_of(b)


def test_path_table_aggregates_journeys():
    rows = [("a", 0, "touch", "x"), ("a", 1, "conversion", None, 5.0), ("b", 0, "touch", "x"),
            ("b", 1, "conversion", None, 7.0), ("c", 0, "touch", "x"), ("c", 1, "touch", "y")]
    table = PathTable.from_journeys(journeys_of(rows)).to_frame()
    assert table.to_dict("list") == {"path": ["x", "x > y"], "conversions": [2.0, 0.0], "nulls": [0.0, 1.0],
                                     "revenue": [12.0, 0.0]}


@pytest.mark.parametrize("lookback", [0, 0.5])
def test_zero_and_fractional_lookback(lookback):
    rows = [("a", 0, "touch", "x"), ("a", 0.25, "touch", "y"), ("a", 0.25, "conversion", None)]
    expected = ("y",) if lookback == 0 else ("x", "y")
    assert paths_of(journeys_of(rows, lookback_days=lookback))[0][0] == expected
