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

from attribution.io.events import Events  # noqa: E402
from attribution.io.reader import read_events  # noqa: E402
from attribution.journeys.journeys import Journeys  # noqa: E402

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
def test_user_order_is_the_spec_order(tmp_path, int_users):
    """Rows come out grouped by user, each user's rows by (timestamp, touch before conversion, input position),
    and ``user_ids[user]`` is every row's own id, the sorted times unpacked from the time keys are the times in that
    order; also when other event rows are left out."""
    from attribution.journeys.journeys import _user_time_order

    paths = make_log(tmp_path, n=5000, users=400, files=1, seed=4, int_users=int_users)
    ev = read_events(paths)
    events = ev.column("event").to_pylist()
    kept = np.flatnonzero([e in ("touch", "conversion") for e in events])
    conv = np.array([e == "conversion" for e in events])[kept]
    ts = ev.column("timestamp").to_numpy()[kept]
    order, first, user_ids, (sorted_ts, sorted_conv) = _user_time_order(ev, kept, conv, ts)
    assert np.array_equal(sorted_ts, ts[order]) and np.array_equal(sorted_conv, conv[order])
    u = np.cumsum(first) - 1
    ids = np.array(ev.column("user_id").to_pylist(), dtype=object)[kept]
    assert np.array_equal(np.asarray(user_ids.take(pa.array(u)).to_pylist(), dtype=object), ids[order])
    assert np.all(np.diff(u) >= 0) and len(set(user_ids.to_pylist())) == len(user_ids) == u[-1] + 1
    assert np.array_equal(order, np.lexsort((conv, ts, u[np.argsort(order)])))


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
