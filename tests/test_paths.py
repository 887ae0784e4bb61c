"""The path-table input (SPEC 1.2): separators, fractional counts, validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.journeys import pathgroup
from attribution.exceptions import InputError
from attribution.journeys.journeys import Journeys
from attribution.journeys.paths import PathTable, read_paths
from attribution.journeys.pathsplit import split_paths


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
    found = sorted((p.code, p.column, p.count, p.first_row) for p in info.value.problems)
    assert found == [("negative", "conversions", 1, 0), ("negative", "nulls", 1, 2),
                     ("not_numeric", "conversions", 1, 1)]
    with pytest.raises(InputError, match="required column 'conversions'"):
        PathTable.from_frame(pd.DataFrame({"path": ["a"]}))


# ------------------------------------------------------------------------------------------ columnar build
def reference_table(paths, conversions, nulls, revenue, separator=" > ", sort=True):
    """A straightforward construction: ``str.split`` and ``str.strip`` per row, a dict keyed by the
    ``\\x1f``-joined channels (sums in row order), distinct paths sorted by that text (or, without ``sort``, in
    the order they are first met), channel codes into the sorted channel names."""
    sep = separator.strip() or separator
    sums, first_tokens = {}, {}
    for p, c, n, r in zip(paths, conversions, nulls, revenue):
        tokens = [t.strip() for t in (p or "").split(sep)]
        tokens = [t for t in tokens if t]
        key = "\x1f".join(tokens)
        s = sums.setdefault(key, [0.0, 0.0, 0.0])
        s[0] += c
        s[1] += n
        s[2] += r
        first_tokens.setdefault(key, tokens)
    names = sorted({t for tokens in first_tokens.values() for t in tokens})
    code = {c: i for i, c in enumerate(names)}
    keys = sorted(sums) if sort else list(sums)  # a dict keeps the order of first insertion
    touch = [code[t] for k in keys for t in first_tokens[k]]
    offsets = np.cumsum([0] + [len(first_tokens[k]) for k in keys])
    return names, touch, offsets, [sums[k] for k in keys]


def assert_same_journeys(table, want):
    """``table`` sorted by path equals the sorted reference ``want``."""
    assert_same_rows(table.sorted(), want)


def assert_same_rows(table, want):
    names, touch, offsets, sums = want
    j = table.journeys
    assert list(j.channel_names) == names
    assert j.touch_channel.dtype == np.int64 and j.touch_channel.tolist() == touch
    assert j.offsets.tolist() == list(offsets)
    # the same additions in the same (row) order: equal to the last bit
    assert j.conversions.tolist() == [s[0] for s in sums]
    assert j.nulls.tolist() == [s[1] for s in sums]
    assert j.revenue.tolist() == [s[2] for s in sums]


ODD = ["email > search", " email>search ", "email >  > search", "\temail\u00a0>\u3000search\n", "", None, " > ",
       "search", "search > email > email", "a", "a b", "ab", "a > b", "a b > a", "é > a", "  ", "email > search > "]


def test_duplicates_empty_paths_fractional_counts_and_odd_white_space_match_a_reference():
    rng = np.random.default_rng(7)
    paths = [ODD[i] for i in rng.integers(0, len(ODD), 400)]
    conv = rng.choice([0.0, 0.1, 0.2, 1.0, 2.5, 1 / 3], 400)
    nulls = rng.choice([0.0, 0.3, 1.0, 4.0], 400)
    rev = conv * rng.choice([1.0, 9.99, 0.01], 400)
    frame = pd.DataFrame({"path": paths, "conversions": conv, "nulls": nulls, "revenue": rev})
    table = PathTable.from_frame(frame)
    assert_same_journeys(table, reference_table(paths, conv, nulls, rev))
    assert_same_rows(table, reference_table(paths, conv, nulls, rev, sort=False))  # as first met, unsorted
    assert table.sorted().journeys.touchless()[0]  # the empty path sorts first


def test_distinct_paths_do_not_depend_on_row_order():
    rng = np.random.default_rng(3)
    paths = [ODD[i] for i in rng.integers(0, len(ODD), 300)]
    conv = rng.choice([0.0, 1.0, 2.0], 300)
    frame = pd.DataFrame({"path": paths, "conversions": conv})
    a = PathTable.from_frame(frame).to_frame()
    b = PathTable.from_frame(frame.iloc[rng.permutation(300)]).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_channel_names_with_control_characters_sort_as_text():
    """``"x\\ty"`` contains a character below ``\\x1f``, where the joined text and the code sequence order can
    differ: the text order is kept (the table falls back to sorting the joined texts)."""
    paths = ["x > y", "x\ty", "x", "x\ty > a", "x > a", "x"]
    conv = [1.0, 2.0, 0.5, 1.0, 1.0, 0.25]
    # a path table refuses such names (channel_control_character); journeys built directly still sort as text
    codes, offsets, names = split_paths(pa.array(paths), " > ")
    zeros = np.zeros(len(paths))
    table = PathTable.from_journeys(Journeys(names, codes.astype(np.int64), offsets, np.array(conv), zeros, zeros,
                                             lookback_days=None))
    assert_same_journeys(table, reference_table(paths, conv, [0.0] * 6, [0.0] * 6))
    assert table.to_frame()["path"].tolist() == ["x", "x\ty", "x\ty > a", "x > a", "x > y"]
    with pytest.raises(InputError, match="channel_control_character"):
        PathTable.from_frame(pd.DataFrame({"path": paths, "conversions": conv}))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.lists(st.sampled_from(["a", "b", "ab", " b", "c c", "", "é"]), max_size=6),
                               st.sampled_from([0.0, 0.5, 1.0, 3.0])), min_size=1, max_size=30),
       separator=st.sampled_from([" > ", ">", "|", "->"]))
def test_columnar_build_matches_the_reference(rows, separator):
    paths = [separator.join(tokens) for tokens, _ in rows]
    conv = [c for _, c in rows]
    frame = pd.DataFrame({"path": pd.Series(paths, dtype=object), "conversions": pd.Series(conv, dtype=float)})
    table = PathTable.from_frame(frame, separator=separator)
    zeros = [0.0] * len(rows)
    assert_same_journeys(table, reference_table(paths, conv, zeros, zeros, separator))
    assert_same_rows(table, reference_table(paths, conv, zeros, zeros, separator, sort=False))


@pytest.mark.parametrize("n_codes", [1, 2, 5, 300, 70_000])
def test_code_sequences_group_in_lexicographic_order(monkeypatch, n_codes):
    """Sequences longer than several 64-bit words, ties broken word by word, prefixes first."""
    monkeypatch.setattr(pathgroup, "WORDS_PER_ROUND", 2)
    rng = np.random.default_rng(n_codes)
    base = [tuple(rng.integers(0, n_codes, int(rng.integers(0, 40))).tolist()) for _ in range(30)]
    seqs = [base[i][:int(rng.integers(0, len(base[i]) + 1))] for i in rng.integers(0, 30, 500)] + [()]
    offsets = np.cumsum([0] + [len(s) for s in seqs])
    codes = np.array([c for s in seqs for c in s], np.int64)
    group, n = pathgroup.group_code_sequences(codes, offsets, n_codes)
    distinct = sorted(set(seqs))
    assert n == len(distinct)
    assert group.tolist() == [distinct.index(s) for s in seqs]


# ------------------------------------------------------------------------------------------ read once
def _odd_rows(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    conv = rng.choice([0.0, 0.1, 1.0, 2.5, 1 / 3], n)
    return pd.DataFrame({"path": [ODD[i] or "" for i in rng.integers(0, len(ODD), n)], "conversions": conv,
                         "nulls": rng.choice([0.0, 0.3, 1.0, 4.0], n), "revenue": conv * rng.choice([1.0, 9.99], n)})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_several_files_are_grouped_once_in_row_order(tmp_path, seed):
    """CSV and Parquet files of one run: the distinct paths of all rows, sums added in the files' row order (as
    one concatenated table would give, to the last bit)."""
    rng = np.random.default_rng(seed)
    frame = _odd_rows(seed, 300)
    cuts = np.sort(rng.choice(np.arange(1, 300), 2, replace=False))
    files = []
    for i, part in enumerate(np.split(np.arange(300), cuts)):
        f = tmp_path / (f"p{i}.parquet" if i % 2 else f"p{i}.csv")
        chunk = frame.iloc[part]
        chunk.to_parquet(f) if i % 2 else chunk.to_csv(f, index=False)
        files.append(str(f))
    table = read_paths(files)
    want = reference_table(frame["path"].tolist(), frame["conversions"].tolist(), frame["nulls"].tolist(),
                           frame["revenue"].tolist())
    assert_same_journeys(table, want)
    assert_same_rows(table, reference_table(*(frame[c].tolist() for c in ("path", "conversions", "nulls", "revenue")),
                                            sort=False))
    pd.testing.assert_frame_equal(table.to_frame(), PathTable.from_frame(frame).to_frame())


@pytest.mark.parametrize("seed", [3, 4])
def test_input_paths_run_gives_the_table_of_the_grouped_paths(tmp_path, seed):
    """``run(..., input="paths")`` on raw rows in two files equals the run on the already grouped table in one
    file (every model, the KPI columns)."""
    from attribution.runner import run

    frame = _odd_rows(seed, 400)
    (tmp_path / "a.csv").write_text(frame.iloc[:150].to_csv(index=False))
    frame.iloc[150:].to_parquet(tmp_path / "b.parquet")
    grouped = PathTable.from_frame(frame).to_frame()
    grouped.to_parquet(tmp_path / "grouped.parquet")
    models = ["linear", "first_touch", "last_touch", "position_based", "markov", "markov:order=2", "shapley"]
    raw = run([str(tmp_path / "a.csv"), str(tmp_path / "b.parquet")], input="paths", models=models).table
    ref = run(str(tmp_path / "grouped.parquet"), input="paths", models=models).table
    assert list(raw.columns) == list(ref.columns) and len(raw) == len(ref)
    # the grouped file holds the same sums (written with full float precision): the same fit, to the last bits
    # of sums of at most 400 terms of size <= 40 (1e-12 relative is ~4500 ulps)
    pd.testing.assert_frame_equal(raw, ref, check_exact=False, rtol=1e-12, atol=1e-12)
