"""The wide model comparison, channel totals, and the channel-level view of Markov transitions."""

from __future__ import annotations

import pandas as pd
import pytest

from attribution.kpis.compare import channel_totals, compare_table
from attribution.exceptions import ParameterError
from attribution.models import parse_model_spec
from attribution.journeys.paths import PathTable
from attribution.kpis.transitions import channel_transitions, strongest_edges

# model a: x 3, y 1, (none) 4; model b: x 1, y 1, z 2, (none) 4 (hand-computable shares over real channels)
TABLE = pd.DataFrame({
    "model": ["a", "a", "a", "b", "b", "b", "b"],
    "channel": ["(none)", "x", "y", "(none)", "x", "y", "z"],
    "conversions": [4.0, 3.0, 1.0, 4.0, 1.0, 1.0, 2.0],
    "revenue": [40.0, 30.0, 10.0, 40.0, 10.0, 10.0, 20.0],
})


def test_shares_ranks_and_spread_over_real_channels():
    wide = compare_table(TABLE)
    assert list(wide.columns) == ["channel", "share_a", "share_b", "rank_a", "rank_b", "spread"]
    rows = wide.set_index("channel")
    assert rows.loc["x", "share_a"] == 0.75 and rows.loc["x", "share_b"] == 0.25
    assert rows.loc["z", "share_a"] == 0.0 and rows.loc["z", "share_b"] == 0.5
    assert rows["spread"].to_dict() == {"x": 0.5, "y": 0.0, "z": 0.5}
    assert rows["rank_a"].to_dict() == {"x": 1, "y": 2, "z": 3}
    assert rows["rank_b"].to_dict() == {"z": 1, "x": 2, "y": 2}  # equal shares share the smaller rank
    assert wide["share_a"].sum() == 1.0 and wide["share_b"].sum() == 1.0


def test_equal_mean_shares_are_ordered_by_channel():
    # mean shares: x (0.75 + 0.25) / 2 = 0.5, y (0.25 + 0.25) / 2 = 0.25, z (0 + 0.5) / 2 = 0.25
    assert compare_table(TABLE)["channel"].tolist() == ["x", "y", "z"]


def test_touchless_kept_on_request():
    rows = compare_table(TABLE, touchless=True).set_index("channel")
    assert rows.loc["(none)", "share_a"] == 0.5  # 4 of 8
    assert rows.loc["x", "share_a"] == 3 / 8


def test_periods_and_campaigns_are_summed_before_the_share():
    cut = pd.concat([TABLE.assign(period="2026-01-01", conversions=TABLE["conversions"] * 0.25),
                     TABLE.assign(period="2026-02-01", conversions=TABLE["conversions"] * 0.75)])
    pd.testing.assert_frame_equal(compare_table(cut), compare_table(TABLE))


def test_channel_totals_recompute_ratios_from_sums():
    cut = pd.DataFrame({"model": ["m", "m"], "channel": ["x", "x"], "period": ["2026-01-01", "2026-02-01"],
                        "conversions": [1.0, 3.0], "revenue": [10.0, 10.0], "spend": [10.0, 30.0],
                        "roas": [1.0, 1 / 3], "cpa": [10.0, 10.0]})
    row = channel_totals(cut).iloc[0]
    assert row["roas"] == 20 / 40 and row["cpa"] == 40 / 4 and row["roi"] == (20 - 40) / 40
    by_period = channel_totals(cut, by_period=True)
    assert by_period["roas"].tolist() == [1.0, 1 / 3]
    with pytest.raises(ParameterError, match="period"):
        channel_totals(TABLE, by_period=True)


PATHS = pd.DataFrame({"path": ["a > b > c", "a > b", "b > a > a", "c", "c > a"],
                      "conversions": [2.0, 1.0, 0.0, 1.0, 3.0], "nulls": [1.0, 2.0, 1.0, 0.0, 2.0]})


def test_channel_transitions_of_order_2_are_the_first_order_counts():
    journeys = PathTable.from_frame(PATHS).journeys
    first = parse_model_spec("markov").fit(journeys).transition_matrix()
    second = parse_model_spec("markov:order=2").fit(journeys).transition_matrix()
    assert second["from_state"].str.contains(" > ").any()  # window states
    expected = first.reset_index(drop=True)
    pd.testing.assert_frame_equal(channel_transitions(first), expected)
    pd.testing.assert_frame_equal(channel_transitions(second), expected)
    # hand count: a → b happens in "a > b > c" (3 journeys) and "a > b" (3 journeys)
    ab = expected[(expected["from_state"] == "a") & (expected["to_state"] == "b")]["count"].item()
    assert ab == 6.0


def test_strongest_edges_keep_every_move_into_conversion():
    matrix = pd.DataFrame({"from_state": ["a", "a", "a", "a", "b"],
                           "to_state": ["a", "b", "c", "(conversion)", "(null)"],
                           "count": [50.0, 30.0, 18.0, 2.0, 1.0], "probability": [0.5, 0.3, 0.18, 0.02, 1.0]})
    kept = strongest_edges(matrix, per_state=1, min_probability=0.05)
    assert list(zip(kept["from_state"], kept["to_state"])) == [("a", "b"), ("a", "(conversion)"), ("b", "(null)")]
    with pytest.raises(ParameterError):
        strongest_edges(matrix, per_state=0)
