"""The one number coercion and the one text coercion of input columns (attribution.io.columns): every type a
reader can hand over, one reason code per rule, and text numbers read exactly as the numbers they spell."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from attribution.exceptions import ParameterError
from attribution.io.columns import MAX_VALUE, check_column_map, number_column, parse_column_map, text_column


def rules(col, **kwargs):
    values, broken = number_column(col, fix="fix", **kwargs)
    return values.tolist(), {b.code: np.flatnonzero(b.mask).tolist() for b in broken}


@pytest.mark.parametrize("col, values, codes", [
    (pa.array([1, None, 3], pa.int64()), [1.0, 0.0, 3.0], {}),
    (pa.array([1.5, float("nan"), -2.0, 2e15, float("inf")]), [1.5, 0.0, 0.0, 0.0, 0.0],
     {"negative": [2], "too_large": [3], "not_numeric": [4]}),
    (pa.array(["1", " 2.5 ", "", None, "abc", "NaN", "inf", "-1", "1e400", "1e3"]),
     [1.0, 2.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1000.0],
     {"not_numeric": [4, 5, 6, 8], "negative": [7]}),
    (pa.array(["4", "x", "4"]).dictionary_encode(), [4.0, 0.0, 4.0], {"not_numeric": [1]}),
    (pa.array([True, None, False]), [0.0, 0.0, 0.0], {"not_numeric": [0, 2]}),
    (pa.array([2**64 - 1], pa.uint64()), [0.0], {"too_large": [0]}),
    (pa.nulls(2), [0.0, 0.0], {}),
    (pa.chunked_array([pa.array([1.0]), pa.array([None, 2.0])]), [1.0, 0.0, 2.0], {}),
])
def test_every_type_by_the_same_rules(col, values, codes):
    assert rules(col) == (values, codes)


def test_required_values_refuse_empty_cells():
    assert rules(pa.array(["1", "", None, "2"]), required=True) == ([1.0, 0.0, 0.0, 2.0], {"not_numeric": [1, 2]})
    _, broken = number_column(pa.array([None]), fix="fix", required=True)
    assert broken[0].rule == "must be a finite number"
    _, broken = number_column(pa.array(["x"]), fix="fix", empty_means="unknown")
    assert broken[0].rule == "must be a finite number (empty means unknown)"


def test_problem_names_the_first_row_of_the_file():
    col = pa.array(["1", "x", "y"])
    _, (broken,) = number_column(col, fix="fix")
    p = broken.problem(file="f.csv", column="spend", rows=np.array([10, 11, 12]),
                       example=lambda i: {"spend": col[i].as_py()})
    assert (p.code, p.column, p.count, p.first_row, p.example) == ("not_numeric", "spend", 2, 11, {"spend": "x"})


@given(st.lists(st.floats(min_value=0, max_value=MAX_VALUE, allow_nan=False), max_size=30))
def test_text_numbers_read_as_the_numbers_they_spell(xs):
    as_float, broken_float = number_column(pa.array(xs, pa.float64()), fix="fix")
    as_text, broken_text = number_column(pa.array([repr(x) for x in xs], pa.string()), fix="fix")
    assert broken_float == broken_text == []
    assert as_float.tolist() == as_text.tolist() == xs  # repr round-trips a float64 exactly


def test_text_columns():
    assert text_column(pa.array(["a", None])).to_pylist() == ["a", None]
    assert text_column(pa.array(["a", "a"]).dictionary_encode()).type == pa.string()
    assert text_column(pa.nulls(1)).type == pa.string()
    assert text_column(pa.array([1])) is None and text_column(pa.array([{"a": 1}])) is None


def test_column_map():
    assert parse_column_map(["user_id = visitor", "timestamp=ts"]) == {"user_id": "visitor", "timestamp": "ts"}
    assert parse_column_map({"a": "b"}) == {"a": "b"} and parse_column_map(None) == {}
    with pytest.raises(ParameterError, match="CANONICAL=ACTUAL"):
        parse_column_map(["user_id"])
    with pytest.raises(ParameterError, match="unknown canonical column\\(s\\) 'usr'; canonical columns are a, b"):
        check_column_map({"usr": "x"}, ("a", "b"))


@pytest.mark.parametrize("as_file", [False, True])
def test_a_mapped_column_no_input_has_is_refused(tmp_path, as_file):
    """``revenue=amonut`` (a typo) must not read as a log without revenue: the run stops and names the mapping."""
    import attribution
    from attribution.exceptions import InputError, ParameterError

    frame = pd.DataFrame({"user_id": ["a", "a"], "timestamp": ["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"],
                          "event": ["touch", "conversion"], "channel": ["email", None], "amount": [None, 5.0]})
    source = frame
    if as_file:
        source = str(tmp_path / "log.csv")
        frame.to_csv(source, index=False)
    assert attribution.run(source, model="linear", column=["revenue=amount"]).table["revenue"].sum() == 5.0
    with pytest.raises(InputError) as info:
        attribution.run(source, model="linear", column=["revenue=amonut"])
    assert info.value.codes == ["column_missing"] and info.value.problems[0].column == "amonut"
    with pytest.raises(ParameterError, match="unknown canonical column"):
        attribution.run(source, model="linear", column=["revnue=amount"])
    paths = pd.DataFrame({"path": ["email > seo"], "conv": [1]})
    with pytest.raises(InputError, match="revenue=value"):
        attribution.run(paths, input="paths", model="linear", column=["conversions=conv", "revenue=value"])
