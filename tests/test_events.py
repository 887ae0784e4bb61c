"""Reading and validating event logs (SPEC 1.1 and 6): formats, column mapping, every broken rule at once."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from attribution.io.events import Events
from attribution.io.reader import read_events
from attribution.exceptions import InputError, ParameterError
from testkit import events_frame

ROWS = [("a", 0, "touch", "email"), ("a", 1, "touch", "search"), ("a", 2, "conversion", None, 10.0),
        ("b", 0, "touch", "social")]


def write_csv(tmp_path, text, name="events.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_parquet_csv_folder_and_glob_read_the_same(tmp_path):
    frame = events_frame(ROWS)
    frame.to_parquet(tmp_path / "one.parquet", index=False)
    frame.to_csv(tmp_path / "one.csv", index=False)
    (tmp_path / "parts").mkdir()
    frame.iloc[:2].to_parquet(tmp_path / "parts" / "p0.parquet", index=False)
    frame.iloc[2:].to_parquet(tmp_path / "parts" / "p1.parquet", index=False)
    tables = [read_events(str(tmp_path / "one.parquet")), read_events(str(tmp_path / "one.csv")),
              read_events(str(tmp_path / "parts")), read_events(str(tmp_path / "parts" / "*.parquet"))]
    for ev in tables:
        assert ev.table["timestamp"].to_pylist() == [t.value for t in frame["timestamp"]]
        assert ev.table["channel"].to_pylist() == ["email", "search", None, "social"]
        assert ev.table["revenue"].to_pylist() == [0.0, 0.0, 10.0, 0.0]
    assert tables[2].files == sorted(tables[2].files) and len(tables[2].files) == 2


@pytest.mark.parametrize("values, expected", [
    (["2024-01-01T00:00:00Z", "2024-01-01T02:00:00+02:00"], ["2024-01-01T00:00:00", "2024-01-01T00:00:00"]),
    (["2024-01-01", "2024-01-01 06:30:00"], ["2024-01-01T00:00:00", "2024-01-01T06:30:00"]),
    ([1704067200, 1704067201], ["2024-01-01T00:00:00", "2024-01-01T00:00:01"]),
    ([1704067200.5, 1704067201.1], ["2024-01-01T00:00:00.5", "2024-01-01T00:00:01.1"]),
    (["1704067200.000001", "1704067199.5"], ["2024-01-01T00:00:00.000001", "2023-12-31T23:59:59.5"]),
    (["1704067200", "1704067260"], ["2024-01-01T00:00:00", "2024-01-01T00:01:00"]),
])
def test_timestamp_forms(values, expected):
    frame = pd.DataFrame({"user_id": ["a", "a"], "timestamp": values, "event": ["touch", "touch"],
                          "channel": ["x", "y"]})
    got = Events.from_frame(frame).table["timestamp"].to_pylist()
    assert got == [pd.Timestamp(e).value for e in expected]


def test_timezone_aware_and_naive_timestamps_are_utc(tmp_path):
    aware = pa.array([pd.Timestamp("2024-01-01 01:00", tz="Europe/Berlin")], pa.timestamp("ms", tz="Europe/Berlin"))
    naive = pa.array([pd.Timestamp("2024-01-01 00:00")], pa.timestamp("us"))
    for arr in (aware, naive):
        table = pa.table({"user_id": ["a"], "timestamp": arr, "event": ["touch"], "channel": ["x"]})
        pq.write_table(table, tmp_path / "t.parquet")
        assert read_events(str(tmp_path / "t.parquet")).table["timestamp"].to_pylist() == [
            pd.Timestamp("2024-01-01").value]


def test_column_mapping_and_integer_users(tmp_path):
    path = write_csv(tmp_path, "visitor,ts,kind,medium_name,value\n1,1700000000,touch,email,\n1,1700000100,conversion,,12.5\n")
    ev = read_events(path, columns=["user_id=visitor", "timestamp=ts", "event=kind", "channel=medium_name",
                                    "revenue=value"])
    assert ev.table["user_id"].type == pa.int64()
    assert ev.table["revenue"].to_pylist() == [0.0, 12.5]


def test_every_broken_rule_is_reported_at_once_with_count_and_first_row(tmp_path):
    path = write_csv(tmp_path, (
        "user_id,timestamp,event,channel,revenue\n"
        "a,2024-01-01,touch,email,\n"
        "a,yesterday,touch,search,\n"
        "a,2024-01-03,conversion,,-5\n"
        "b,2024-01-01,touch,,\n"
        "c,2024-01-02,conversion,,abc\n"
        "c,,conversion,,3\n"
        ",2024-01-02,touch,email,\n"
    ))
    with pytest.raises(InputError) as info:
        read_events(path)
    err = info.value
    assert sorted(err.codes) == ["channel_missing_on_touch", "negative", "not_numeric",
                                 "timestamp_unparsable", "user_id_null"]
    by_code = {p.code: p for p in err.problems}
    assert (by_code["timestamp_unparsable"].count, by_code["timestamp_unparsable"].first_row) == (2, 1)
    assert (by_code["negative"].count, by_code["negative"].first_row) == (1, 2)
    assert by_code["negative"].column == by_code["not_numeric"].column == "revenue"
    assert by_code["channel_missing_on_touch"].first_row == 3
    assert by_code["user_id_null"].first_row == 6
    text = str(err)
    assert path in text and "column 'timestamp'" in text and "'yesterday'" in text and "Fix:" in text


def test_skip_drops_bad_rows_and_counts_them(tmp_path):
    path = write_csv(tmp_path, "user_id,timestamp,event,channel,revenue\na,2024-01-01,touch,email,\n"
                               "a,nope,touch,x,\na,2024-01-02,conversion,,-1\na,2024-01-03,conversion,,4\n")
    with pytest.warns(UserWarning, match="dropped bad rows"):
        ev = read_events(path, on_bad_rows="skip")
    assert ev.dropped == {"negative": 1, "timestamp_unparsable": 1}
    assert ev.table["event"].to_pylist() == ["touch", "conversion"]


def test_missing_file_column_and_unknown_format(tmp_path):
    with pytest.raises(InputError, match="does not exist") as info:
        read_events(str(tmp_path / "nope.parquet"))
    assert info.value.codes == ["file_missing"]
    path = write_csv(tmp_path, "user,timestamp,event,channel\na,2024-01-01,touch,x\n")
    with pytest.raises(InputError, match=r"required column 'user_id' is missing.*column='user_id=") as info:
        read_events(path)
    (tmp_path / "data.xlsx").write_text("x")
    with pytest.raises(InputError, match="neither Parquet"):
        read_events(str(tmp_path / "data.xlsx"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Parquet files"):
        read_events(str(tmp_path / "empty"))


def test_wrong_column_types_are_reported(tmp_path):
    table = pa.table({"user_id": [1.5], "timestamp": ["2024-01-01"], "event": [3], "channel": ["x"]})
    pq.write_table(table, tmp_path / "t.parquet")
    with pytest.raises(InputError) as info:
        read_events(str(tmp_path / "t.parquet"))
    assert info.value.codes == ["column_type", "column_type"]


def test_bad_column_mapping_is_a_parameter_error():
    with pytest.raises(ParameterError, match="CANONICAL=ACTUAL"):
        read_events("x.csv", columns=["user_id"])
    with pytest.raises(ParameterError, match="unknown canonical column"):
        read_events("x.csv", columns=["visitor=user_id"])


def test_event_counts_and_whitespace_in_channels():
    frame = events_frame([("a", 0, "touch", " email "), ("a", 1, "lead", None), ("a", 2, "touch", "email")])
    ev = Events.from_frame(frame)
    assert ev.event_counts() == {"lead": 1, "touch": 2}
    assert ev.table["channel"].to_pylist()[::2] == ["email", "email"]
    assert np.all(ev.table["_row"].to_numpy() == np.arange(3))
