"""Identity maps, self-stitching and journey keys (attribution/io/identity.py): hand-built logs whose journeys
change as docs/input-formats.md ("Identities and accounts") says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.exceptions import InputError, ParameterError
from attribution.io.identity import IdentityMap, self_stitch
from attribution.runner import load_journeys
from testkit import events_frame

runner = CliRunner()


def journeys_by_user(journeys):
    names, users = journeys.channel_names, journeys.user_ids.to_pylist()
    return sorted((str(users[journeys.user[j]]),
                   tuple(str(names[c]) for c in journeys.touch_channel[journeys.offsets[j]:journeys.offsets[j + 1]]),
                   float(journeys.conversions[j]))
                  for j in range(journeys.n_journeys))


# anonymous id "anon" browses before and after the person "bob" buys; "carol" is not mapped
LOG = [
    ("anon", 0, "touch", "Email"),
    ("bob", 1, "touch", "Paid Search"),
    ("bob", 2, "conversion", None, 10.0),
    ("anon", 3, "touch", "Display"),
    ("carol", 1, "touch", "Direct"),
]


@pytest.fixture()
def log_csv(tmp_path):
    path = tmp_path / "log.csv"
    events_frame(LOG).to_csv(path, index=False)
    return str(path)


def write_map(tmp_path, rows, name="map.csv"):
    path = tmp_path / name
    pd.DataFrame(rows, columns=["id", "person_id"]).to_csv(path, index=False)
    return str(path)


def test_without_a_map_each_id_is_its_own_journey(log_csv):
    journeys, _, summary = load_journeys(log_csv)
    assert journeys_by_user(journeys) == [("anon", ("Email", "Display"), 0.0), ("bob", ("Paid Search",), 1.0),
                                          ("carol", ("Direct",), 0.0)]
    assert "ids_merged" not in summary


def test_a_mapped_id_joins_its_person_retroactively(log_csv, tmp_path):
    journeys, _, summary = load_journeys(log_csv, identity_map=write_map(tmp_path, [("anon", "bob")]))
    # the day-0 Email touch (before any link) joins bob's converting journey; the day-3 one starts bob's next
    assert journeys_by_user(journeys) == [("bob", ("Display",), 0.0), ("bob", ("Email", "Paid Search"), 1.0),
                                          ("carol", ("Direct",), 0.0)]
    assert summary["ids_merged"] == 1


def test_ids_mapped_to_themselves_or_absent_are_not_merges(log_csv, tmp_path):
    path = write_map(tmp_path, [("bob", "bob"), ("zed", "bob")])
    journeys, _, summary = load_journeys(log_csv, identity_map=path)
    assert journeys_by_user(journeys) == journeys_by_user(load_journeys(log_csv)[0])
    assert summary["ids_merged"] == 0


def test_an_id_mapped_to_two_persons_is_bad_input(log_csv, tmp_path):
    path = write_map(tmp_path, [("anon", "bob"), ("anon", "carol"), ("x", "y")])
    with pytest.raises(InputError, match="identity_ambiguous"):
        load_journeys(log_csv, identity_map=path)
    result = runner.invoke(app, ["run", log_csv, "--identity-map", path, "-o", str(tmp_path / "out.csv")])
    assert result.exit_code == 2
    assert "must map to one person_id" in result.output and "'anon'" in result.output
    assert not (tmp_path / "out.csv").exists()


def test_a_map_without_its_columns_names_them(log_csv, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("anonymous,user\na,b\n")
    with pytest.raises(InputError) as err:
        load_journeys(log_csv, identity_map=str(path))
    assert "'id' is missing" in str(err.value) and "'person_id' is missing" in str(err.value)


def test_integer_user_ids_are_mapped_as_text(tmp_path):
    frame = events_frame([(1, 0, "touch", "Email"), (2, 1, "touch", "Paid Search"), (2, 2, "conversion", None)])
    frame.to_parquet(tmp_path / "log.parquet")
    journeys, _, summary = load_journeys(str(tmp_path / "log.parquet"),
                                         identity_map=pd.DataFrame({"id": [1], "person_id": [2]}))
    assert journeys_by_user(journeys) == [("2", ("Email", "Paid Search"), 1.0)]
    assert summary["ids_merged"] == 1


def test_map_applies_with_a_channel_grouping(tmp_path):
    frame = pd.DataFrame({"user_id": ["a", "b", "b"], "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02",
                                                                                   "2026-01-03"]),
                          "event": ["touch", "touch", "conversion"], "source": ["google", "newsletter", None],
                          "medium": ["cpc", "email", None]})
    frame.to_csv(tmp_path / "log.csv", index=False)
    journeys, _, summary = load_journeys(str(tmp_path / "log.csv"), channel_grouping="ga4",
                                         identity_map=pd.DataFrame({"id": ["a"], "person_id": ["b"]}))
    assert journeys_by_user(journeys) == [("b", ("Paid Search", "Email"), 1.0)]


ACCOUNTS = pd.DataFrame({
    "user_id": ["c1", "c2", "c2", "c3", "c4", "c4"],
    "account_id": ["acme", "acme", "acme", "globex", None, None],
    "timestamp": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-02", "2026-01-01", "2026-01-04"]),
    "event": ["touch", "touch", "closed_won", "touch", "touch", "closed_won"],
    "channel": ["Email", "Paid Search", None, "Display", "Referral", None],
})


def test_journey_key_makes_one_journey_per_account(tmp_path):
    ACCOUNTS.to_csv(tmp_path / "crm.csv", index=False)
    journeys, _, _ = load_journeys(str(tmp_path / "crm.csv"), journey_key="account_id",
                                   conversion_events=("closed_won",))
    # acme: c1's Email and c2's Paid Search close acme's won deal; c4 has no account and keeps its own journey
    assert journeys_by_user(journeys) == [("acme", ("Email", "Paid Search"), 1.0), ("c4", ("Referral",), 1.0),
                                          ("globex", ("Display",), 0.0)]
    per_user, _, _ = load_journeys(str(tmp_path / "crm.csv"), conversion_events=("closed_won",))
    assert ("c2", ("Paid Search",), 1.0) in journeys_by_user(per_user)


def test_journey_key_missing_is_named(tmp_path):
    ACCOUNTS.drop(columns="account_id").to_csv(tmp_path / "crm.csv", index=False)
    with pytest.raises(InputError, match="journey_key column 'account_id' is missing"):
        load_journeys(str(tmp_path / "crm.csv"), journey_key="account_id")
    result = runner.invoke(app, ["funnel", str(tmp_path / "crm.csv"), "--journey-key", "account_id"])
    assert result.exit_code == 2 and "columns found: user_id" in result.output
    with pytest.raises(ParameterError):
        load_journeys(str(tmp_path / "crm.csv"), journey_key=" ")


def test_self_stitch_takes_the_earliest_user_of_a_shared_device():
    anon = pa.array(["d", "d", "d", "e", None])
    user = pa.array([None, "late", "early", None, "solo"])
    ts = np.array([0, 5, 3, 1, 2], np.int64)
    persons, merged = self_stitch(anon, user, ts)
    # an event with a user id keeps it; the device's other events go to the earliest user seen on it
    assert persons.to_pylist() == ["early", "late", "early", "e", "solo"]
    assert merged == 1


def test_identity_map_apply_counts_distinct_merged_ids():
    mapping = IdentityMap.of(pd.DataFrame({"id": ["a", "b", "c"], "person_id": ["p", "p", "c"]}))
    persons, merged = mapping.apply(pa.array(["a", "a", "b", "c", "z"]))
    assert persons.to_pylist() == ["p", "p", "p", "c", "z"]
    assert merged == 2
