"""The path-table input (SPEC 1.2): separators, fractional counts, validation."""

from __future__ import annotations

import pandas as pd
import pytest

from attribution.exceptions import InputError
from attribution.paths import PathTable, read_paths


def test_fractional_counts_are_kept_exactly_and_duplicate_paths_merge(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("path,conversions,nulls,revenue\na > b,0.1,0.2,1.5\nb,1,0,2\na>b,0.2,0.1,0.25\n")
    table = read_paths(str(f)).to_frame()
    assert table["path"].tolist() == ["a > b", "b"]
    assert table["conversions"].tolist() == [0.1 + 0.2, 1.0]
    assert table["nulls"].tolist() == [0.2 + 0.1, 0.0]
    assert table["revenue"].tolist() == [1.75, 2.0]


def test_custom_separator_and_column_mapping(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("journey,conv\nemail|search|email,3\n")
    table = read_paths(str(f), separator="|", columns=["path=journey", "conversions=conv"]).to_frame()
    assert table.to_dict("list") == {"path": ["email > search > email"], "conversions": [3.0], "nulls": [0.0],
                                     "revenue": [0.0]}


def test_empty_path_is_a_touchless_conversion():
    t = PathTable.from_frame(pd.DataFrame({"path": ["", "x"], "conversions": [2, 1]}))
    assert t.journeys.touchless().tolist() == [True, False]


def test_bad_counts_are_reported(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("path,conversions,nulls\na,-1,0\nb,x,2\nc,1,-2\n")
    with pytest.raises(InputError) as info:
        read_paths(str(f))
    assert sorted(info.value.codes) == ["conversions_negative", "conversions_not_numeric", "nulls_negative"]
    with pytest.raises(InputError, match="required column 'conversions'"):
        PathTable.from_frame(pd.DataFrame({"path": ["a"]}))
