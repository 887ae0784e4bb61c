"""Path options (attribution.journeys.pathoptions): transforms as google/fractribution defines them, channel exclusion,
touch limit, and the conversion window of a daily job."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.exceptions import ParameterError
from attribution.journeys.pathoptions import PathOptions
from attribution.runner import run
from attribution.kpis.result import attribute
from testkit import credit, events_frame, journeys_of, paths_of

# fractribution's README example path (D, A, B, B, C, D, C, C), one touch a day, converting on day 9
EXAMPLE = [("u", i, "touch", c) for i, c in enumerate("DABBCDCC")] + [("u", 9, "conversion", None, 80.0)]


def transformed(rows, **kw):
    j = journeys_of(rows, path_options=PathOptions.of(**kw))
    return j, [p[0] for p in paths_of(j)]


def test_fractribution_example_transforms():
    assert transformed(EXAMPLE, path_transform="unique")[1] == [tuple("DABBCDCC")]
    assert transformed(EXAMPLE, path_transform="exposure")[1] == [tuple("DABCDC")]
    assert transformed(EXAMPLE, path_transform="first")[1] == [tuple("DABC")]
    j, paths = transformed(EXAMPLE, path_transform="frequency")
    # (D(2), A(1), B(2), C(3)): distinct channels in first-occurrence order with their counts
    assert paths == [tuple("DABC")]
    assert j.touch_multiplicity.tolist() == [2, 1, 2, 3]


def test_transforms_keep_the_first_touch_of_what_they_collapse():
    j, _ = transformed(EXAMPLE, path_transform="exposure")
    # kept touches: days 0, 1, 2 (the first B of the B run), 4, 5, 6 (the first C of the C run)
    days = (j.touch_time - j.touch_time[0]) // (86_400 * 10**9)
    assert days.tolist() == [0, 1, 2, 4, 5, 6]
    j, _ = transformed(EXAMPLE, path_transform="first")
    assert ((j.touch_time - j.touch_time[0]) // (86_400 * 10**9)).tolist() == [0, 1, 2, 4]


def test_frequency_linear_credit_follows_counts_and_positional_models_see_distinct_channels():
    j, _ = transformed(EXAMPLE, path_transform="frequency")
    table = attribute(j, ["linear", "first_touch", "last_touch"])
    # linear weighs by the counts 2, 1, 2, 3 of 8 touches: the credit of the untransformed path
    assert credit(table, "linear") == pytest.approx({"D": 2 / 8, "A": 1 / 8, "B": 2 / 8, "C": 3 / 8})
    # last touch is the last distinct channel (C), first touch D
    assert credit(table, "last_touch") == {"C": 1.0}
    assert credit(table, "first_touch") == {"D": 1.0}


def test_exclude_channel_and_touchless_journeys():
    rows = EXAMPLE + [("v", 0, "touch", "D"), ("v", 1, "conversion", None, 5.0),  # only D: touchless
                      ("w", 0, "touch", "D")]  # non-converting with only D: dropped
    j, paths = transformed(rows, exclude_channels=["D"])
    assert "D" not in list(j.channel_names)
    assert sorted(paths) == [(), tuple("ABBCCC")]
    table = attribute(j, ["linear"])
    # v's conversion (5.0) goes to (none); u's 80 over A, B, B, C, C, C
    assert credit(table, "linear", "revenue") == pytest.approx({"(none)": 5.0, "A": 80 / 6, "B": 160 / 6,
                                                               "C": 240 / 6})


def test_max_touches_keeps_the_last_n_after_the_transform():
    assert transformed(EXAMPLE, max_touches=3)[1] == [tuple("DCC")]
    assert transformed(EXAMPLE, max_touches=3, path_transform="exposure")[1] == [tuple("CDC")]
    assert transformed(EXAMPLE, max_touches=20)[1] == [tuple("DABBCDCC")]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 30), st.sampled_from(["touch"] * 4 + ["conversion"]),
                          st.sampled_from("abcd")), max_size=50),
       st.sampled_from(["unique", "exposure", "first", "frequency"]), st.one_of(st.none(), st.integers(1, 4)),
       st.lists(st.sampled_from("abcd"), max_size=2))
def test_vectorised_options_equal_a_per_journey_reference(rows, transform, limit, excluded):
    rows = [(f"u{u}", d, e, c if e == "touch" else None, 1.0 if e == "conversion" else None) for u, d, e, c in rows]
    plain = journeys_of(rows)
    j = journeys_of(rows, path_options=PathOptions.of(transform, excluded, limit))
    expected = []
    for path, conv, _ in paths_of(plain):  # the reference, one journey at a time
        had = len(path) > 0
        path = [c for c in path if c not in excluded]
        if not path and had and conv == 0:
            continue
        if transform == "exposure":
            path = [c for i, c in enumerate(path) if i == 0 or c != path[i - 1]]
        elif transform in ("first", "frequency"):
            path = list(dict.fromkeys(path))
        if limit is not None:
            path = path[-limit:]
        expected.append(tuple(path))
    assert [p[0] for p in paths_of(j)] == expected
    assert j.total_conversions == plain.total_conversions


def test_options_are_checked():
    with pytest.raises(ParameterError, match="path_transform"):
        PathOptions.of(path_transform="sorted")
    with pytest.raises(ParameterError, match="max_touches"):
        PathOptions.of(max_touches=0)
    with pytest.raises(ParameterError, match="conversions_from"):
        PathOptions.of(conversions_from="yesterday")
    with pytest.raises(ParameterError, match="before"):
        PathOptions.of(conversions_from="2024-03-02", conversions_to="2024-03-01")
    assert PathOptions.of() is None


def test_run_applies_options_to_the_lead_journeys_too(tmp_path):
    rows = EXAMPLE[:-1] + [("u", 8.5, "lead", None), ("u", 9, "conversion", None, 80.0)]
    path = tmp_path / "log.parquet"
    events_frame(rows).to_parquet(path)
    res = run([str(path)], models=["linear"], milestone_events=["lead"], path_transform="first",
              exclude_channels=["A"])
    lin = res.table.set_index("channel")
    # journeys (D, B, C) after excluding A and keeping first touches: a third each, for the sale and the lead
    assert lin["conversions"].tolist() == pytest.approx([1 / 3] * 3)
    assert lin["leads"].tolist() == pytest.approx([1 / 3] * 3)
    assert list(map(str, res.lead_journeys.channel_names)) == ["B", "C", "D"]


def test_conversion_window_keeps_converting_journeys_of_those_days():
    rows = [("a", 0, "touch", "x"), ("a", 0.25, "conversion", None, 1.0),  # 2024-03-01 18:00 (T0 is noon)
            ("a", 1, "touch", "y"), ("a", 1.2, "conversion", None, 2.0),  # 2024-03-02 16:48
            ("a", 1.3, "touch", "z"),  # non-converting: left out
            ("b", 1.5, "touch", "x"), ("b", 1.6, "conversion", None, 4.0)]  # 2024-03-03 02:24
    j, paths = transformed(rows, conversions_from="2024-03-02", conversions_to="2024-03-02")
    assert [p for p in paths_of(j)] == [(("y",), 1.0, 2.0)]
    j, _ = transformed(rows, conversions_from="2024-03-02")
    assert sorted(j.revenue.tolist()) == [2.0, 4.0]
    assert np.all(j.conversions == 1)


def test_path_tables_take_the_same_options(tmp_path):
    path = tmp_path / "paths.csv"
    path.write_text("path,conversions,nulls\nD > A > B > B > C > D > C > C,2,1\nA > A,1,0\n")
    res = run([str(path)], input="paths", models=["linear"], path_transform="exposure", exclude_channels=["D"])
    # exposure after removing D: (A, B, C, C) → (A, B, C) twice; (A, A) → (A) once
    assert credit(res.table, "linear") == pytest.approx({"A": 2 / 3 + 1, "B": 2 / 3, "C": 2 / 3})
    with pytest.raises(ParameterError, match="path table"):
        run([str(path)], input="paths", models=["linear"], conversions_from="2024-01-01")
