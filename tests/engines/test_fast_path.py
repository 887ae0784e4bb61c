"""The columnar fast path builds exactly the journeys of the plain path.

Reading Parquet keeps event/channel/campaign as dictionary codes (``Events.codes``) and journeys are built from
int codes; an in-memory frame goes through plain string columns. Both must give identical arrays, also when
rows of other event names are interleaved (they are dropped before the sort) and when several files are read.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from enginekit import make_log  # noqa: E402

from attribution.events import Events, read_events  # noqa: E402
from attribution.journeys import Journeys  # noqa: E402

ARRAYS = ("touch_channel", "offsets", "conversions", "nulls", "revenue", "touch_time", "end_time", "user",
          "touch_campaign")


def same_journeys(a: Journeys, b: Journeys, rows=True):
    assert list(a.channel_names) == list(b.channel_names)
    assert list(a.campaign_names) == list(b.campaign_names)
    assert a.user_ids.to_pylist() == b.user_ids.to_pylist()
    for name in ARRAYS + (("touch_row", "conversion_row") if rows else ()):
        assert np.array_equal(getattr(a, name), getattr(b, name)), name


@pytest.mark.parametrize("files,lookback", [(1, 30.0), (3, 30.0), (2, None)])
def test_parquet_codes_equal_plain_strings(tmp_path, files, lookback):
    paths = make_log(tmp_path, n=4000, users=300, files=files, seed=files)
    ev = read_events(paths)
    assert {"event", "channel", "campaign"} <= set(ev.encodings)  # the fast path is taken
    frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    plain = Events.from_frame(frame)
    assert not {"event", "channel", "campaign"} & set(plain.encodings)
    for conv in (("conversion",), ("lead",), ("conversion", "lead")):
        same_journeys(Journeys.from_events(ev, conversion_events=conv, lookback_days=lookback),
                      Journeys.from_events(plain, conversion_events=conv, lookback_days=lookback))


def test_other_event_rows_change_nothing(tmp_path):
    """Dropping pageview and lead rows from the file gives the same journeys (row numbers aside)."""
    paths = make_log(tmp_path, n=3000, users=200, files=1, seed=9)
    frame = pd.read_parquet(paths[0])
    only = frame[frame["event"].isin(["touch", "conversion"])].reset_index(drop=True)
    only.to_parquet(tmp_path / "only.parquet", index=False)
    a = Journeys.from_events(read_events(paths))
    b = Journeys.from_events(read_events(str(tmp_path / "only.parquet")))
    same_journeys(a, b, rows=False)
    kept = np.flatnonzero(frame["event"].isin(["touch", "conversion"]).to_numpy())
    assert np.array_equal(a.touch_row, kept[b.touch_row])


@pytest.mark.parametrize("int_users", [False, True])
def test_overlapped_user_sort_equals_lexsort(tmp_path, int_users):
    """Sorting by first-appearance codes and then reordering whole user groups gives exactly
    ``np.lexsort((conv, ts, sorted-id code))``, also when other event rows are left out."""
    from attribution.encoding import compact_codes, encode_sorted
    from attribution.journeys import _user_time_order

    paths = make_log(tmp_path, n=5000, users=400, files=1, seed=4, int_users=int_users)
    ev = read_events(paths)
    events = ev.column("event").to_pylist()
    kept = np.flatnonzero([e in ("touch", "conversion") for e in events])
    pick = lambda a: a[kept]  # noqa: E731
    conv = np.array([e == "conversion" for e in events])[kept]
    ts = ev.column("timestamp").to_numpy()[kept]
    order, u, user_ids = _user_time_order(ev, pick, conv, ts)
    codes, vocab = compact_codes(*encode_sorted(ev.column("user_id")), mask=np.isin(np.arange(ev.num_rows), kept))
    expected = np.lexsort((conv, ts, codes[kept]))
    assert np.array_equal(order, expected)
    assert np.array_equal(u, codes[kept][expected])
    assert user_ids.to_pylist() == vocab.to_pylist() == sorted(set(ev.column("user_id").take(kept).to_pylist()))


def test_mixed_csv_and_parquet_files(tmp_path):
    """A CSV file (plain strings) next to a Parquet file (dictionary codes) reads like two CSV files."""
    paths = make_log(tmp_path, n=3000, users=200, files=2, seed=6)
    frames = [pd.read_parquet(p) for p in paths]
    frames[0].to_csv(tmp_path / "a.csv", index=False)
    frames[1].to_csv(tmp_path / "b.csv", index=False)
    mixed = read_events([str(tmp_path / "a.csv"), paths[1]])
    plain = read_events([str(tmp_path / "a.csv"), str(tmp_path / "b.csv")])
    for name in ("event", "channel", "campaign"):
        assert mixed.table[name].type == pa.string()
        assert mixed.table[name].to_pylist() == plain.table[name].to_pylist()
    same_journeys(Journeys.from_events(mixed), Journeys.from_events(plain))


@pytest.mark.parametrize("kind", ["string", "large_string", "sliced"])
def test_parallel_dictionary_encoding_round_trips(kind):
    """Two-thread encoding: every row decodes to its value, each distinct value has exactly one code."""
    from attribution.encoding import dictionary_encode_parallel

    rng = np.random.default_rng(1)
    values = [f"u{x}" for x in rng.integers(0, 3000, 20000)] + ["", "", "é", "ab", "ba", "a", "b"] * 7
    arr = pa.array(values)
    if kind == "large_string":
        arr = arr.cast(pa.large_string())
    if kind == "sliced":
        arr = arr.slice(11, 15000)
    enc = dictionary_encode_parallel(arr, min_rows=0)
    assert enc.dictionary.take(enc.indices).to_pylist() == arr.to_pylist()
    assert sorted(enc.dictionary.to_pylist()) == sorted(set(arr.to_pylist()))
