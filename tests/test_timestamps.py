"""Timestamps are never silently wrong: epoch units told apart by magnitude (or forced), a plausible window of
years, no wrap-around of the int64 nanosecond range, and the same errors from the partitioned engines."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.io.events import Events
from attribution.io.reader import read_events
from attribution.exceptions import DroppedRowsWarning, InputError, ParameterError
from attribution.io.timeparse import TimeRule, convert_timestamps

INSTANT = pd.Timestamp("2026-01-01T00:00:00.123Z")  # exact in every unit from ms down
NS = INSTANT.value
PER_UNIT = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}


def frame_with(timestamps, n=None):
    n = len(timestamps) if n is None else n
    return pd.DataFrame({"user_id": ["u"] * n, "timestamp": timestamps, "event": ["touch"] * n, "channel": ["x"] * n})


def problem(info, code):
    return next(p for p in info.value.problems if p.code == code)


@pytest.mark.parametrize("unit", ["ms", "us", "ns"])
@pytest.mark.parametrize("form", ["int", "text", "float"])
def test_epoch_units_are_detected_by_magnitude(unit, form):
    count = NS // PER_UNIT[unit]
    values = {"int": [count, count + 1], "text": [str(count), str(count + 1)],
              "float": [float(count), float(count + 1)]}[form]
    got = Events.from_frame(frame_with(values)).table["timestamp"].to_pylist()
    if form == "float" and unit == "ns":
        # float64 holds 1.77e18 to 256 ns (2**61 <= x < 2**62 has a spacing of 2**9 = 512, half of it rounding)
        assert abs(got[0] - NS) <= 256 and got[1] - got[0] in (0, 512)
    else:
        assert got == [NS, NS + PER_UNIT[unit]]


def test_epoch_seconds_keep_their_fraction():
    got = Events.from_frame(frame_with([NS / 1e9])).table["timestamp"].to_pylist()
    assert got == [NS]  # .123 s to the microsecond


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_parquet_int64_and_float_epochs_in_every_unit(tmp_path, unit):
    count = NS // PER_UNIT[unit]
    for typ, values in ((pa.int64(), [count]), (pa.float64(), [float(count)])):
        table = pa.table({"user_id": ["u"], "timestamp": pa.array(values, typ), "event": ["touch"], "channel": ["x"]})
        pq.write_table(table, tmp_path / "e.parquet")
        got = read_events(str(tmp_path / "e.parquet")).table["timestamp"].to_pylist()[0]
        step = {"s": 10**9, "ms": 10**6}.get(unit, 1)
        # float64 ns epochs are exact to 512 ns (the spacing of doubles near 1.8e18); the others to the unit
        assert abs(got - (NS // step) * step) <= (256 if (unit == "ns" and typ == pa.float64()) else 0)


@given(ns=st.integers(pd.Timestamp("1990-01-01").value, pd.Timestamp("2100-12-31").value),
       unit=st.sampled_from(["s", "ms", "us", "ns"]))
@settings(max_examples=200, deadline=None)
def test_property_every_in_window_epoch_integer_reads_back(ns, unit):
    """With the default window, an epoch integer in any unit has exactly one plausible reading: its own."""
    count = ns // PER_UNIT[unit]
    col = convert_timestamps(pa.array([count], pa.int64()))
    assert not col.unparsable[0] and not col.out_of_range[0]
    assert col.ns[0] == count * PER_UNIT[unit] and list(col.units) == [unit]


def test_a_column_mixing_seconds_and_milliseconds_is_refused_even_when_skipping():
    sec, ms = NS // 10**9, NS // 10**6
    for on_bad_rows in ("error", "skip"):
        with pytest.raises(InputError) as info:
            Events.from_frame(frame_with([ms, ms, sec, ms]), on_bad_rows=on_bad_rows)
        p = problem(info, "timestamp_mixed_units")
        assert p.count == 1 and p.first_row == 2 and "mixes s, ms (s: 1 rows from row 2; ms: 3 rows" in p.rule
        assert "epoch_unit" in p.fix


def test_epoch_unit_forces_the_unit_and_reports_the_others():
    sec, ms = NS // 10**9, NS // 10**6
    got = Events.from_frame(frame_with([ms]), epoch_unit="ms").table["timestamp"].to_pylist()
    assert got == [NS]
    with pytest.raises(InputError) as info:
        Events.from_frame(frame_with([ms, sec, ms]), epoch_unit="ms")
    p = problem(info, "timestamp_out_of_range")
    assert p.count == 1 and p.first_row == 1
    with pytest.raises(InputError) as info:  # milliseconds read as seconds land in year 57,970: refused
        Events.from_frame(frame_with([ms]), epoch_unit="s")
    assert info.value.codes == ["timestamp_out_of_range"]


@pytest.mark.parametrize("text", ["2300-01-01T00:00:00Z", "1600-06-01", "9999-12-31T23:59:59+02:00", "1989-12-31"])
def test_iso_years_outside_the_window_are_refused_not_wrapped(text):
    with pytest.raises(InputError) as info:
        Events.from_frame(frame_with(["2026-01-01", text]))
    p = problem(info, "timestamp_out_of_range")
    assert (p.count, p.first_row) == (1, 1) and "1990..2100" in p.rule
    assert p.example["timestamp"] == text


@pytest.mark.parametrize("unit", ["s", "ms", "us"])
def test_parquet_timestamps_in_year_9999_are_refused_without_overflow(tmp_path, unit):
    far = np.array(["9999-12-31T00:00:00", "2026-01-01T00:00:00"], f"datetime64[{unit}]")
    table = pa.table({"user_id": ["u", "u"], "timestamp": pa.array(far), "event": ["touch"] * 2, "channel": ["x"] * 2})
    pq.write_table(table, tmp_path / "e.parquet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        with pytest.raises(InputError) as info:
            read_events(str(tmp_path / "e.parquet"))
    p = problem(info, "timestamp_out_of_range")
    assert (p.count, p.first_row) == (1, 0)
    with pytest.warns(DroppedRowsWarning, match="timestamp_out_of_range: 1"):
        ok = read_events(str(tmp_path / "e.parquet"), on_bad_rows="skip")
    assert ok.table["timestamp"].to_pylist() == [pd.Timestamp("2026-01-01").value]


def test_huge_and_unsigned_epochs_are_out_of_range():
    ms = NS // 10**6
    for arr, unit in ((pa.array([2**64 - 1, NS], pa.uint64()), "ns"), (pa.array([1e300, float(ms)]), "ms"),
                      (pa.array(["9" * 30, str(ms)]), "ms"), (pa.array([-(2**63), NS]), "ns")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            col = convert_timestamps(arr)
        assert col.out_of_range.tolist() == [True, False] and col.ns[1] == NS and col.units == {unit: (1, 1)}


def test_valid_years_are_configurable_and_checked():
    old = frame_with(["1985-05-01"])
    with pytest.raises(InputError):
        Events.from_frame(old)
    assert Events.from_frame(old, valid_years="1970:2100").table["timestamp"].to_pylist() == [
        pd.Timestamp("1985-05-01").value]
    with pytest.raises(InputError):  # the last year is inclusive, the next one is not
        Events.from_frame(frame_with(["2031-01-01"]), valid_years="2000:2030")
    assert Events.from_frame(frame_with(["2030-12-31T23:59:59.999Z"]), valid_years="2000:2030").num_rows == 1
    for bad in ("1990-2100x", "1600:2100", "1990:2300", "2100:1990"):
        with pytest.raises(ParameterError, match="'valid_years'"):
            TimeRule.of(None, bad)
    with pytest.raises(ParameterError, match="'epoch_unit'"):
        TimeRule.of("minutes")


def test_out_of_core_reports_mixed_units_and_window_as_in_memory(tmp_path, monkeypatch):
    from attribution.runner import run

    rng = np.random.default_rng(5)
    n = 400
    sec = NS // 10**9 + rng.integers(0, 86_400 * 30, n)
    ts = np.where(np.arange(n) % 7 == 3, sec * 1000, sec)  # every 7th row in milliseconds
    ts[250] = 4_200_000_000  # 2103 in seconds: outside the window
    frame = pd.DataFrame({"user_id": [f"u{u}" for u in rng.integers(0, 60, n)], "timestamp": ts,
                          "event": np.where(np.arange(n) % 5 == 0, "conversion", "touch"),
                          "channel": rng.choice(["a", "b", "c"], n)})
    frame.to_parquet(tmp_path / "e.parquet", index=False)
    with pytest.raises(InputError) as memory:
        run(str(tmp_path / "e.parquet"), models=["linear"])
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 5)
    with pytest.raises(InputError) as ooc:
        run(str(tmp_path / "e.parquet"), models=["linear"], memory_limit="1MB")
    assert sorted(memory.value.codes) == sorted(ooc.value.codes) == ["timestamp_mixed_units", "timestamp_out_of_range"]
    for code in memory.value.codes:
        a, b = problem(memory, code), problem(ooc, code)
        assert (a.count, a.first_row, a.rule) == (b.count, b.first_row, b.rule)
    assert problem(memory, "timestamp_mixed_units").count == len(range(3, n, 7))


def test_chunked_timestamps_take_the_fast_path_only_inside_the_window():
    good = pa.array(np.array(["2026-01-01", "2027-01-01"], "datetime64[ms]"))
    far = pa.array(np.array(["9999-01-01", "2026-06-01"], "datetime64[ms]"))
    col = convert_timestamps(pa.chunked_array([good, far]))
    assert col.out_of_range.tolist() == [False, False, True, False]
    assert col.ns.tolist() == [pd.Timestamp("2026-01-01").value, pd.Timestamp("2027-01-01").value, 0,
                               pd.Timestamp("2026-06-01").value]
    sliced = convert_timestamps(pa.chunked_array([good, far]).slice(1, 1))  # chunk offsets are honoured
    assert sliced.ns.tolist() == [pd.Timestamp("2027-01-01").value] and not sliced.out_of_range.any()
