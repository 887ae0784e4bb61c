"""``--schema ga4|segment|snowplow``: the native exports of tests/fixtures/schema_exports.py mapped to journeys.

The expected journeys are the ones written next to each fixture builder (hand-derived from the rules of
docs/input-formats.md); each is checked on every file format of the fixture.
"""

from __future__ import annotations

import json
import os
import sys

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.exceptions import InputError, ParameterError
from attribution.io.reader import read_events
from attribution.journeys.journeys import Journeys
from attribution.runner import load_journeys, run

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fixtures"))
import schema_exports  # noqa: E402

runner = CliRunner()
DAY_NS = 86_400 * 10**9


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    return schema_exports.write_all(tmp_path_factory.mktemp("exports"))


def journeys_by_user(journeys: Journeys) -> list[tuple[str, tuple[str, ...], float, float]]:
    """Every journey as (user id, channels, conversions, revenue), sorted."""
    names, users = journeys.channel_names, journeys.user_ids.to_pylist()
    out = []
    for j in range(journeys.n_journeys):
        chans = tuple(str(names[c]) for c in journeys.touch_channel[journeys.offsets[j]:journeys.offsets[j + 1]])
        out.append((users[journeys.user[j]], chans, float(journeys.conversions[j]), float(journeys.revenue[j])))
    return sorted(out)


GA4_EXPECTED = [
    ("p2", ("Organic Social", "Direct"), 1.0, 20.0),
    ("p4", ("Direct",), 0.0, 0.0),
    ("u1", ("Direct",), 0.0, 0.0),  # p3's session after the purchase (logged in as u1)
    ("u1", ("Paid Search", "Paid Search", "Email"), 1.0, 50.0),
]


@pytest.mark.parametrize("key", ["ga4_json", "ga4_parquet"])
def test_ga4_export_gives_the_documented_journeys(exports, key):
    journeys, events, summary = load_journeys(str(exports[key]), schema="ga4")
    assert journeys_by_user(journeys) == GA4_EXPECTED
    assert summary["ids_merged"] == 2  # p1 and p3 both stitched into u1
    assert events.schema == "ga4"
    touches = events.table.filter(pa.compute.equal(events.table["event"], "touch"))
    # the gclid-only session is google / cpc; the page_view repeating p1's source in its session is no touch
    assert touches["source"].to_pylist()[:2] == ["google", "google"]
    assert touches["medium"].to_pylist()[:2] == ["cpc", "cpc"]
    assert touches.num_rows == 7


def test_ga4_key_events_given_replace_purchase(exports):
    journeys, _, _ = load_journeys(str(exports["ga4_json"]), schema="ga4", conversion_events=("generate_lead",))
    got = journeys_by_user(journeys)
    assert ("p4", ("Direct",), 1.0, 5.0) in got  # revenue from event_params value (int_value 5)
    assert sum(j[2] for j in got) == 1.0


def test_ga4_json_with_int64_as_strings_as_bigquery_writes_them(tmp_path):
    rows = schema_exports.ga4_rows()
    for row in rows:
        row["event_timestamp"] = str(row["event_timestamp"])
        for p in row["event_params"]:
            if p["value"]["int_value"] is not None:
                p["value"]["int_value"] = str(p["value"]["int_value"])
    path = tmp_path / "bq.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    journeys, _, _ = load_journeys(str(path), schema="ga4")
    assert journeys_by_user(journeys) == GA4_EXPECTED


def test_revenue_that_is_not_a_number_is_refused_naming_field_file_and_row(tmp_path):
    """An export's revenue written as text is read when it is a number and refused (never read as empty)
    when it is not."""
    rows = schema_exports.segment_rows()
    paid = [i for i, r in enumerate(rows) if r["properties"]["revenue"] is not None]
    for i in paid:
        rows[i]["properties"]["revenue"] = str(rows[i]["properties"]["revenue"])
    path = tmp_path / "text.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    as_text = read_events(str(path), schema="segment")
    assert sorted(as_text.table["revenue"].to_pylist()) == sorted(read_events(
        str(schema_exports.write_all(tmp_path / "e")["segment_json"]), schema="segment").table["revenue"].to_pylist())
    rows[paid[0]]["properties"]["revenue"] = "thirty"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputError) as err:
        read_events(str(path), schema="segment")
    (problem,) = err.value.problems
    assert (problem.code, problem.column, problem.file, problem.first_row, problem.count) == (
        "not_numeric", "properties.revenue", str(path), paid[0], 1)


def test_ga4_timestamps_are_microseconds(exports):
    events = read_events(str(exports["ga4_parquet"]), schema="ga4")
    first = schema_exports.ga4_rows()[0]["event_timestamp"]
    assert events.table["timestamp"][0].as_py() == first * 1000


SEGMENT_EXPECTED = [
    ("a2", ("Organic Social",), 0.0, 0.0),
    ("a3", (), 1.0, 12.0),  # touchless: revenue falls back to properties.total
    ("u9", ("Paid Search", "Email"), 1.0, 30.5),
]


@pytest.mark.parametrize("key", ["segment_json", "segment_parquet"])
def test_segment_export_gives_the_documented_journeys(exports, key):
    journeys, _, summary = load_journeys(str(exports[key]), schema="segment")
    assert journeys_by_user(journeys) == SEGMENT_EXPECTED
    assert summary["ids_merged"] == 1


def test_snowplow_export_gives_the_documented_journeys(exports, tmp_path):
    expected = [
        ("d3", ("Organic Social", "Email"), 0.0, 0.0),
        ("d4", ("Referral",), 0.0, 0.0),
        ("u5", ("Paid Search", "Organic Search"), 1.0, 99.9),
    ]
    journeys, _, summary = load_journeys(str(exports["snowplow_csv"]), schema="snowplow")
    assert journeys_by_user(journeys) == expected
    assert summary["ids_merged"] == 2  # d1 and d2 into u5
    # the same atomic events as Parquet (derived_tstamp a real timestamp) and as JSON lines
    frame = pd.read_csv(exports["snowplow_csv"], dtype=str, keep_default_na=False)
    frame["derived_tstamp"] = pd.to_datetime(frame["derived_tstamp"], utc=True)
    frame["tr_total"] = pd.to_numeric(frame["tr_total"].replace("", None))
    frame = frame.replace("", None)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "atomic.parquet")
    assert journeys_by_user(load_journeys(str(tmp_path / "atomic.parquet"), schema="snowplow")[0]) == expected
    lines = frame.assign(derived_tstamp=frame["derived_tstamp"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")).astype(object)
    lines = lines.where(lines.notna(), None)
    (tmp_path / "atomic.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines.to_dict("records")))
    assert journeys_by_user(load_journeys(str(tmp_path / "atomic.jsonl"), schema="snowplow")[0]) == expected


def test_a_flat_csv_read_as_ga4_names_what_was_expected(tmp_path):
    path = tmp_path / "flat.csv"
    path.write_text("user_id,timestamp,event,channel\nu,2026-01-01,touch,Email\n")
    with pytest.raises(InputError) as err:
        read_events(str(path), schema="ga4")
    text = str(err.value)
    assert "event_timestamp" in text and "event_name" in text and "columns found: user_id, timestamp" in text
    result = runner.invoke(app, ["run", str(path), "--schema", "ga4"])
    assert result.exit_code == 2
    assert "schema_mismatch" in result.output and "Traceback" not in result.output


def test_unknown_schema_and_schema_with_grouping_are_option_errors(exports):
    with pytest.raises(ParameterError, match="ga4, segment, snowplow"):
        read_events(str(exports["ga4_json"]), schema="adobe")
    with pytest.raises(ParameterError, match="no column mapping"):
        read_events(str(exports["ga4_json"]), schema="ga4", columns={"user_id": "user_pseudo_id"})
    with pytest.raises(ParameterError, match="leave out channel_grouping"):
        load_journeys(str(exports["ga4_json"]), schema="ga4", channel_grouping="ga4")


def test_cli_run_funnel_channels_with_schema(exports, tmp_path):
    out = tmp_path / "ga4.csv"
    result = runner.invoke(app, ["run", str(exports["ga4_json"]), "--schema", "ga4", "-m", "linear", "-o", str(out)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    linear = dict(zip(table["channel"], table["conversions"]))
    # u1: 2/3 Paid Search + 1/3 Email; p2: 1/2 Organic Social + 1/2 Direct (linear, hand-computed)
    assert linear == pytest.approx({"Paid Search": 2 / 3, "Email": 1 / 3, "Organic Social": 0.5, "Direct": 0.5})
    assert "2 ids merged" in result.output
    result = runner.invoke(app, ["funnel", str(exports["segment_json"]), "--schema", "segment", "-o",
                                 str(tmp_path / "f.csv")])
    assert result.exit_code == 0, result.output
    funnel = pd.read_csv(tmp_path / "f.csv")
    overall = funnel[funnel["by"] == "all"].iloc[0]
    assert (overall["users"], overall["customers"], overall["revenue"]) == (3, 2, 42.5)
    result = runner.invoke(app, ["channels", str(exports["snowplow_csv"]), "--schema", "snowplow", "-o",
                                 str(tmp_path / "c.parquet"), "-q"])
    assert result.exit_code == 0, result.output
    log = pq.read_table(tmp_path / "c.parquet").to_pandas()
    assert list(log.columns[:5]) == ["user_id", "timestamp", "event", "channel", "revenue"]
    assert sorted(log.loc[log["event"] == "touch", "channel"]) == sorted(
        ["Paid Search", "Organic Search", "Organic Social", "Email", "Referral"])


def test_schema_runs_in_memory_with_a_note_on_other_engines(exports):
    with pytest.warns(UserWarning, match="read in memory"):
        result = run(str(exports["ga4_json"]), schema="ga4", models=["linear"], memory_limit="1MB")
    assert result.journeys is not None
    assert result.summary["ids_merged"] == 2


def test_same_export_same_output_bytes(exports, tmp_path):
    paths = []
    for i in range(2):
        paths.append(tmp_path / f"out{i}.csv")
        result = runner.invoke(app, ["run", str(exports["ga4_parquet"]), "--schema", "ga4", "-q", "-o",
                                     str(paths[-1])])
        assert result.exit_code == 0, result.output
    assert paths[0].read_bytes() == paths[1].read_bytes()
