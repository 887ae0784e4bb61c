"""The user/time sort (attribution.kernels.userorder): exact grouping by user, SPEC 2 order within a user.

The reference is plain Python: sort the rows by (user id, timestamp, conversion flag, position) and compare
group by group. Users may come out in any order (it is the order of their hash), so the checks are: each user's
rows are contiguous and in the reference order, the user codes count up, and the ids behind the codes are right.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.kernels import userorder
from attribution.io.events import Events
from attribution.journeys.journeys import Journeys
from attribution.kernels.userorder import _sort_by_key, code_time_order, time_order, user_time_order


def check_order(ids: list, conv: np.ndarray, ts: np.ndarray, rows, result):
    order, first, user_rows, exact = result
    assert exact
    user = np.cumsum(first) - 1
    kept = list(range(len(ids))) if rows is None else list(rows)
    seq = [ids[kept[i]] for i in order]
    assert sorted(order.tolist()) == list(range(len(kept)))
    firsts = [i for i in range(len(seq)) if i == 0 or seq[i] != seq[i - 1]]
    groups = [seq[i] for i in firsts]
    assert len(set(groups)) == len(groups), "a user's rows are split"
    assert [ids[r] for r in user_rows] == groups
    assert user.tolist() == [groups.index(x) for x in seq]
    for i in range(1, len(order)):
        if seq[i] == seq[i - 1]:
            a, b = order[i - 1], order[i]
            assert (ts[a], conv[a], a) < (ts[b], conv[b], b)


id_lists = st.one_of(
    st.lists(st.text(max_size=12), min_size=1, max_size=60),
    st.lists(st.sampled_from(["", "a", "a\x00", "\x00", "ab", "b", "é", "aaaaaaaa", "aaaaaaaa\x00", "aaaaaaaab"]),
             min_size=1, max_size=60),
    st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=60),
    st.lists(st.integers(0, 3).map(lambda x: f"{x:020d}"), min_size=1, max_size=60),  # fixed width, 3 words
    st.lists(st.sampled_from(["a" * 30, "a" * 31, "a" * 30 + "b", "b" * 30, "a" * 24 + "\x00"]), min_size=1,
             max_size=60),  # more words than the record holds
)


@settings(max_examples=150, deadline=None)
@given(ids=id_lists, data=st.data())
def test_grouping_and_time_order(ids, data):
    n = len(ids)
    ts = np.array(data.draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), np.int64) * 1_000_000_000
    conv = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    arr = pa.array(ids)
    if data.draw(st.booleans()) and n > 2:  # several chunks, one of them a slice
        arr = pa.chunked_array([arr.slice(0, n // 2), arr.slice(n // 2)])
    elif data.draw(st.booleans()) and pa.types.is_string(arr.type):
        arr = arr.cast(pa.large_string())
    rows = None
    if data.draw(st.booleans()):
        rows = np.array(sorted(data.draw(st.sets(st.integers(0, n - 1), min_size=1))), np.int64)
        check_order(ids, conv[rows], ts[rows], rows, user_time_order(arr, conv[rows], ts[rows], rows))
    else:
        check_order(ids, conv, ts, None, user_time_order(arr, conv, ts))


def test_ids_differing_only_in_trailing_zero_bytes_or_length_stay_apart():
    ids = ["a", "a\x00", "a\x00\x00", "", "\x00", "abcdefgh", "abcdefgh\x00", "abcdefghi"] * 3
    n = len(ids)
    result = user_time_order(pa.array(ids), np.zeros(n, bool), np.arange(n, dtype=np.int64))
    check_order(ids, np.zeros(n, bool), np.arange(n), None, result)
    assert result[1].sum() == 8


def test_keys_sharing_high_bits_are_resorted_by_the_whole_key():
    """Distinct keys equal in their high bits land in one packed group; they must come out key by key, each
    key's rows in time-rank order."""
    key = np.array([5, 3, 5, 3, 7, 3], np.uint64)  # all below 2**61: they share every high bit
    order, sorted_key = _sort_by_key(key, None, len(key))
    assert sorted_key.tolist() == [3, 3, 3, 5, 5, 7]
    assert order.tolist() == [1, 3, 5, 0, 2, 4]
    t_order = np.array([5, 4, 3, 2, 1, 0])  # time ranks reversed
    order, _ = _sort_by_key(key, t_order, len(key))
    assert order.tolist() == [5, 3, 1, 2, 0, 4]


def test_time_order():
    ts = np.array([1, 2, 2, 3], np.int64)
    assert time_order(ts, np.array([0, 0, 1, 0])) is None  # already in order: no sort
    assert time_order(ts, np.array([0, 1, 0, 0])).tolist() == [0, 2, 1, 3]  # touch before conversion
    wide = np.array([2**62, -(2**62), 0, 0], np.int64)  # over 73 years apart: the two-key sort
    assert time_order(wide, np.array([0, 0, 1, 0])).tolist() == [1, 3, 2, 0]


def test_code_order():
    codes = np.array([2, 0, 2, 1, 0], np.int64)
    ts = np.array([5, 5, 1, 0, 1], np.int64)
    order, sorted_codes = code_time_order(codes, np.zeros(5, bool), ts)
    assert order.tolist() == np.lexsort((ts, codes)).tolist() == [4, 1, 3, 2, 0]
    assert sorted_codes.tolist() == [0, 0, 1, 2, 2]


def log_frame(seed: int, n: int = 3000):
    import pandas as pd

    rng = np.random.default_rng(seed)
    conv = rng.random(n) < 0.15
    return pd.DataFrame({
        "user_id": [f"user-{x}" for x in rng.integers(0, 300, n)],
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 40 * 86_400, n), unit="s"),
        "event": np.where(conv, "conversion", "touch"),
        "channel": np.where(conv, None, rng.choice(["email", "search", "social"], n)),
        "revenue": np.where(conv, 10.0, np.nan),
    })


@pytest.mark.parametrize("shape", ["shared_last_word", "trailing_nul", "long"])
def test_a_hash_collision_falls_back_to_exact_codes(monkeypatch, shape):
    """A hash that keeps only every id's last word (invertible in the last word given the length and the earlier
    words, as the real one is) makes distinct ids collide: ids sharing their last word ("user-001-end" and
    "user-002-end"), ids equal but for their length ("7" and "7\0"), long ids whose last word is empty. The exactness check catches it and
    journeys are grouped by sorted codes, giving the same journeys (as a multiset of user, path, conversions)."""
    frame = log_frame(3)
    number = frame["user_id"].str.slice(5).astype(int)
    if shape == "shared_last_word":
        frame["user_id"] = [f"user-{x:03d}-end" for x in number]
    elif shape == "trailing_nul":
        frame["user_id"] = [f"{x // 2}" + ("\x00" if x % 2 else "") for x in number]
    else:  # 25 to 37 bytes: more words than the side-by-side record holds, compared one word at a time
        frame["user_id"] = [f"user-{x:03d}" + "-" * (17 + x % 13) for x in number]
    normal = Journeys.from_events(Events.from_frame(frame))
    real = userorder._hash_block

    def last_word(word, n_words, m, lengths, sink=None):
        real(word, n_words, m, lengths, sink)
        return word(n_words - 1).copy()

    monkeypatch.setattr(userorder, "_hash_block", last_word)
    collided = Journeys.from_events(Events.from_frame(frame))
    assert collided.user_ids.to_pylist() == sorted(set(frame["user_id"]))  # the fallback's sorted ids

    def content(j):
        ids = j.user_ids.to_pylist()
        return sorted((ids[j.user[k]], tuple(j.touch_channel[j.offsets[k]:j.offsets[k + 1]]), j.conversions[k],
                       j.end_time[k]) for k in range(j.n_journeys))

    assert content(normal) == content(collided)


@pytest.mark.parametrize("seed", [1, 2])
def test_row_order_does_not_change_journeys(seed):
    frame = log_frame(seed)
    a = Journeys.from_events(Events.from_frame(frame))
    b = Journeys.from_events(Events.from_frame(frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)))
    assert a.user_ids.to_pylist() == b.user_ids.to_pylist()
    for name in ("touch_channel", "offsets", "conversions", "revenue", "touch_time", "end_time", "user"):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


def test_long_ids_are_grouped_by_codes_instead():
    """Ids over 64 bytes are not hashed (Arrow's hash table is cheaper for them): journeys come from the
    sorted-code path, with the same content as for short ids."""
    frame = log_frame(5)
    short = Journeys.from_events(Events.from_frame(frame))
    long = frame.assign(user_id="x" * 70 + frame["user_id"])
    assert user_time_order(pa.array(long["user_id"]), np.zeros(len(long), bool), np.zeros(len(long), np.int64))[3] is False
    j = Journeys.from_events(Events.from_frame(long))
    assert j.user_ids.to_pylist() == sorted(set(long["user_id"]))
    content = lambda jj, strip: sorted(  # noqa: E731
        (jj.user_ids[jj.user[k]].as_py()[strip:], tuple(jj.touch_channel[jj.offsets[k]:jj.offsets[k + 1]]),
         jj.conversions[k]) for k in range(jj.n_journeys))
    assert content(j, 70) == content(short, 0)
