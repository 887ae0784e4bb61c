"""``attribution run --channel-grouping``: channels derived from source / medium while reading, every engine.

The grouping is the one of ``attribution channels`` (attribution/channel_groups.py), applied to each file's
table before validation, so a log needs no ``channel`` column and ``channel_missing_on_touch`` is checked on the
derived channels.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from attribution.cli.app import app
from attribution.exceptions import InputError, ParameterError
from attribution.runner import run

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "engines"))
from enginekit import assert_same_table  # noqa: E402

runner = CliRunner()
T0 = pd.Timestamp("2024-03-01 12:00:00")

# (user, day, event, source, medium, revenue)
HAND = [
    ("a", 0, "touch", "google", "cpc", None),           # Paid Search
    ("a", 1, "touch", "(direct)", "(none)", None),      # Direct
    ("a", 2, "conversion", None, None, 100.0),
    ("b", 0, "touch", "m.facebook.com", "referral", None),  # Organic Social (a social site before Referral)
    ("b", 1, "touch", "Newsletter", "EMAIL", None),     # Email (case-insensitive)
    ("b", 2, "conversion", None, None, 40.0),
    ("c", 0, "touch", "foo", "bar", None),              # no rule matches: Unassigned
    ("c", 1, "conversion", None, None, 10.0),
    ("d", 0, "touch", "bing", "organic", None),         # Organic Search, never converts
]


def frame_of(rows, channel=None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["user_id", "day", "event", "source", "medium", "revenue"])
    frame.insert(1, "timestamp", T0 + pd.to_timedelta(frame.pop("day"), unit="D"))
    frame["revenue"] = frame["revenue"].astype(float)
    if channel is not None:
        frame["channel"] = channel
    return frame


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def hand_log(tmp_path):
    path = tmp_path / "hand.parquet"
    frame_of(HAND).to_parquet(path, index=False)
    return path


def credit(table: pd.DataFrame, model: str) -> dict:
    rows = table[table["model"] == model]
    return dict(zip(rows["channel"], zip(rows["conversions"], rows["revenue"])))


def test_hand_computed_ga4_last_touch_and_last_non_direct(hand_log):
    """GA4 rules give a: Paid Search > Direct, b: Organic Social > Email, c: Unassigned, d: Organic Search.

    last_touch credits each conversion to its journey's last touch: Direct (1, 100), Email (1, 40),
    Unassigned (1, 10); Paid Search, Organic Social and Organic Search get rows with 0 (they were touched).
    last_non_direct (direct=Direct) moves a's conversion from Direct to Paid Search (1, 100).
    The log has no channel column at all: the channel is derived before validation.
    """
    result = run(str(hand_log), models=["last_touch", "last_non_direct:direct=Direct"], channel_grouping="ga4")
    assert credit(result.table, "last_touch") == {
        "Direct": (1.0, 100.0), "Email": (1.0, 40.0), "Organic Search": (0.0, 0.0), "Organic Social": (0.0, 0.0),
        "Paid Search": (0.0, 0.0), "Unassigned": (1.0, 10.0)}
    lnd = credit(result.table, "last_non_direct:direct=Direct")
    assert lnd["Paid Search"] == (1.0, 100.0) and lnd["Direct"] == (0.0, 0.0)
    events = result.events.table.to_pandas()
    touches = events.loc[events["event"] == "touch", "channel"].tolist()
    assert touches == ["Paid Search", "Direct", "Organic Social", "Email", "Unassigned", "Organic Search"]
    assert events.loc[events["event"] == "conversion", "channel"].isna().all()


def test_existing_channels_replaced_unless_fill_only(tmp_path):
    """As ``attribution channels``: by default every touch's channel is derived (a's 'brand' touch becomes Paid
    Search); with fill_only a non-empty channel is kept (a: brand > Direct, so last_non_direct gives brand 1)
    and only empty ones are derived (b's blank '  ' channel → Email)."""
    channel = ["brand", None, None, None, "  ", None, None, None, None]
    path = tmp_path / "with_channel.parquet"
    frame_of(HAND, channel).to_parquet(path, index=False)
    spec = "last_non_direct:direct=Direct"
    replaced = credit(run(str(path), models=[spec], channel_grouping="ga4").table, spec)
    assert "brand" not in replaced and replaced["Paid Search"] == (1.0, 100.0)
    kept = credit(run(str(path), models=[spec], channel_grouping="ga4", fill_only=True).table, spec)
    assert kept["brand"] == (1.0, 100.0) and "Paid Search" not in kept
    assert kept["Email"] == (1.0, 40.0) and kept["Organic Social"] == (0.0, 0.0)


def test_rules_csv_column_mapping_and_default(tmp_path, hand_log):
    """Own rules: search = source google|bing, email = medium email; everything else Unassigned.

    a: search > Unassigned ((direct) matches no own rule), b: Unassigned > email, c: Unassigned, d: search.
    last_touch: Unassigned gets a's and c's conversions (2, 100 + 10 = 110), email b's (1, 40), search 0.
    Mapped column names (CSV with utm_source / utm_medium) and a rules frame give the same table."""
    rules = tmp_path / "rules.csv"
    rules.write_text("channel,source,medium\nsearch,google|bing,\nemail,,email\n")
    result = run(str(hand_log), models=["last_touch"], channel_grouping=str(rules))
    assert credit(result.table, "last_touch") == {"Unassigned": (2.0, 110.0), "email": (1.0, 40.0),
                                                  "search": (0.0, 0.0)}
    mapped = tmp_path / "mapped.csv"
    frame_of(HAND).rename(columns={"source": "utm_source", "medium": "utm_medium"}).to_csv(mapped, index=False)
    again = run(str(mapped), models=["last_touch"], channel_grouping=rules,
                columns=["source=utm_source", "medium=utm_medium"])
    pd.testing.assert_frame_equal(again.table, result.table)
    frame_rules = pd.read_csv(rules, dtype=str, keep_default_na=False)
    from_frame = run(str(hand_log), models=["last_touch"], channel_grouping=frame_rules)
    pd.testing.assert_frame_equal(from_frame.table, result.table)


def random_log(folder, *, n=3000, users=300, seed=3, files=2, channel=False):
    """A seeded log with source / medium / campaign (some null, some odd case), split into Parquet files."""
    rng = np.random.default_rng(seed)
    pairs = np.array([("google", "cpc"), ("google", "organic"), ("(direct)", "(none)"), ("facebook.com", "referral"),
                      ("Newsletter", "email"), ("criteo", "display"), ("partner", "affiliate"), ("foo", "bar"),
                      ("bing", "ppc"), ("example.com", "referral"), (None, None), ("youtube", "video")], dtype=object)
    event = rng.choice(["touch", "conversion", "lead"], n, p=[0.8, 0.12, 0.08])
    pick = pairs[rng.integers(0, len(pairs), n)]
    is_touch = event == "touch"
    frame = pd.DataFrame({
        "user_id": [f"u{u:04d}" for u in rng.integers(0, users, n)],
        "timestamp": T0 + pd.to_timedelta(np.sort(rng.integers(0, 60 * 24, n)), unit="h"),
        "event": event,
        "source": np.where(is_touch, pick[:, 0], None),
        "medium": np.where(is_touch, pick[:, 1], None),
        "campaign": np.where(is_touch, rng.choice(["spring", "summer shop", None], n), None),
        "revenue": np.where(event == "conversion", np.round(rng.gamma(2.0, 30.0, n), 2), np.nan),
    })
    if channel:
        frame["channel"] = np.where(is_touch & (rng.random(n) < 0.3), "own", None)
    paths = []
    for i, part in enumerate(np.array_split(np.arange(n), files)):
        path = folder / f"part-{i}.parquet"
        frame.iloc[part].to_parquet(path, index=False, row_group_size=500)
        paths.append(str(path))
    return paths


@pytest.mark.parametrize("rules,fill_only", [("ga4", False), ("ga4", True), ("own", False)])
def test_run_with_grouping_equals_channels_then_run_byte_for_byte(tmp_path, rules, fill_only):
    log = random_log(tmp_path, channel=fill_only)
    if rules == "own":
        rules = str(tmp_path / "rules.csv")
        (tmp_path / "rules.csv").write_text("channel,source,medium,campaign\nsearch,google|bing,,\n"
                                            "shop,,,.*shop.*\nsocial,.*facebook.*,,\n")
    extra = ["--fill-only"] if fill_only else []
    grouped = tmp_path / "grouped.parquet"
    res = invoke("channels", *log, "-o", grouped, "--rules", rules, "-q", *extra)
    assert res.exit_code == 0, res.output
    two_steps, one_step = tmp_path / "two.csv", tmp_path / "one.csv"
    res = invoke("run", grouped, "-o", two_steps, "-q", "--milestone-event", "lead")
    assert res.exit_code == 0, res.output
    res = invoke("run", *log, "--channel-grouping", rules, "-o", one_step, "-q", "--milestone-event", "lead", *extra)
    assert res.exit_code == 0, res.output
    assert one_step.read_bytes() == two_steps.read_bytes()
    table = pd.read_csv(one_step)
    assert table["conversions"].sum() > 0 and len(set(table["channel"])) >= 3
    if fill_only:
        assert "own" in set(table["channel"])


def test_missing_source_and_medium_is_one_clear_error(tmp_path):
    path = tmp_path / "no_source.csv"
    frame_of(HAND).drop(columns=["source", "medium"]).to_csv(path, index=False)
    out = tmp_path / "out.csv"
    for engine in ([], ["--engine", "dask"], ["--memory-limit", "1KB"]):
        res = invoke("run", path, "--channel-grouping", "ga4", "-o", out, *engine)
        assert res.exit_code == 2, res.output
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: invalid input: file "), res.stderr
        for part in (str(path), "column 'source'", "'source' or 'medium'", "[column_missing]",
                     "Fix: map your columns with --column source="):
            assert part in lines[0]
        assert "Traceback" not in res.output and not out.exists()


def test_bad_grouping_options_exit_2_without_output(tmp_path, hand_log):
    out = tmp_path / "out.csv"
    cases = [
        (["--channel-grouping", "ga4", "--column", "source=utm_source"], "column 'utm_source': given with --column "
         "source=utm_source, and the file has no such column"),
        (["--fill-only"], "needs '--channel-grouping"),
        (["--channel-grouping", str(tmp_path / "missing_rules.csv")], "must be 'ga4' or a CSV file of rules"),
        (["--channel-grouping", "ga4", "--input", "paths"], "a path table has channels already"),
    ]
    for args, message in cases:
        res = invoke("run", hand_log, "-o", out, *args)
        assert res.exit_code == 2, (args, res.output)
        assert res.stderr.count("error:") == 1 and message in res.stderr, res.stderr
        assert "Traceback" not in res.output and not out.exists()
    with pytest.raises(ParameterError, match="sequence of Rule"):
        run(str(hand_log), channel_grouping=[1, 2])


def test_validation_still_applies_after_grouping(tmp_path):
    """Grouping runs before validation, not instead of it: a bad timestamp is still reported with its row."""
    frame = frame_of(HAND)
    frame["timestamp"] = frame["timestamp"].astype(str)
    frame.loc[4, "timestamp"] = "yesterday"
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    with pytest.raises(InputError, match="first at row 4") as info:
        run(str(path), models=["last_touch"], channel_grouping="ga4")
    assert info.value.codes == ["timestamp_unparsable"]


@pytest.mark.parametrize("buckets", [1, 3])
def test_out_of_core_groups_each_bucket_like_in_memory(tmp_path, buckets, monkeypatch):
    log = random_log(tmp_path, seed=8, files=3)
    models = ["last_touch", "linear", "markov"]
    memory = run(log, models=models, channel_grouping="ga4", milestone_events=("lead",))
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: buckets)
    ooc = run(log, models=models, channel_grouping="ga4", milestone_events=("lead",), memory_limit="1MB")
    if buckets == 1:  # the budget fits: the in-memory path
        assert ooc.journeys is not None
        pd.testing.assert_frame_equal(ooc.table, memory.table)
        return
    assert ooc.journeys is None and ooc.summary["partitions"] == buckets
    assert_same_table(memory.table, ooc.table)
    assert "Unassigned" in set(ooc.table["channel"])


def test_dask_engine_groups_on_the_workers(tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="the dask extra is not installed")
    import attribution.engines.dask_engine as de

    log = random_log(tmp_path, seed=9, files=2)
    local = run(log, models=["last_touch", "linear"], channel_grouping="ga4")
    client, cluster = de.connect(None, n_workers=1)
    try:
        real = de.run_dask
        monkeypatch.setattr(de, "run_dask", lambda plan, spec, **kw: real(plan, spec, client=client, **kw))
        dask = run(log, models=["last_touch", "linear"], channel_grouping="ga4", engine="dask")
    finally:
        client.close()
        cluster.close()
    assert dask.summary["engine"] == "dask"
    assert_same_table(local.table, dask.table)


@pytest.mark.parametrize("layout", ["plain", "dictionary", "chunked"])
def test_rules_per_distinct_combination_equal_rules_per_row(layout):
    """The grouping runs the rules once per distinct (source, medium, campaign); every row must get what
    ``assign_channels`` gives that row alone (nulls, case, white space, mixed chunk layouts included)."""
    import pyarrow as pa

    from attribution.io.channel_groups import assign_channels, group_table

    rng = np.random.default_rng(4)
    n = 4000
    src = np.array(["google", "Google ", "(direct)", "m.facebook.com", "newsletter", None, "bing", "x"], dtype=object)
    med = np.array(["cpc", "(none)", "referral", "EMAIL", None, "organic", "display", "paid_social"], dtype=object)
    cam = np.array(["spring", "summer shop", None, "q3 cross-network"], dtype=object)
    event = np.array(["touch", "touch", "conversion", None], dtype=object)[rng.integers(0, 4, n)]
    cols = {"event": pa.array(event, pa.string()),
            "source": pa.array(src[rng.integers(0, len(src), n)], pa.string()),
            "medium": pa.array(med[rng.integers(0, len(med), n)], pa.string()),
            "campaign": pa.array(cam[rng.integers(0, len(cam), n)], pa.string()),
            "channel": pa.array(np.where(rng.random(n) < 0.5, "old", None), pa.string())}
    table = pa.table(cols)
    if layout == "dictionary":
        table = pa.table({k: v.dictionary_encode() for k, v in cols.items()})
    elif layout == "chunked":
        table = pa.concat_tables([table.slice(0, 7), table.slice(7, 1000), table.slice(1007)])
    out, _ = group_table(table)
    per_row = assign_channels(cols["source"], cols["medium"], cols["campaign"]).to_numpy(zero_copy_only=False)
    expected = np.where(event == "touch", per_row, cols["channel"].to_numpy(zero_copy_only=False))
    assert out["channel"].to_pylist() == list(expected)


def test_files_that_lack_a_grouping_column(tmp_path):
    """A mapped column some files lack reads as empty there (GA4: foo / cpc with campaign 'summer shop' is Paid
    Shopping, without a campaign Paid Other); a file with neither source nor medium is named in the one error."""
    one, two, three = tmp_path / "1.csv", tmp_path / "2.csv", tmp_path / "3.csv"
    rows = [("a", 0, "touch", "foo", "cpc", None), ("a", 1, "conversion", None, None, 5.0)]
    frame_of(rows).assign(utm_campaign=["summer shop", None]).to_csv(one, index=False)
    frame_of([("b", 0, "touch", "foo", "cpc", None), ("b", 1, "conversion", None, None, 0.0)]).to_csv(two, index=False)
    result = run([str(one), str(two)], models=["last_touch"], channel_grouping="ga4",
                 columns=["campaign=utm_campaign"])
    assert credit(result.table, "last_touch") == {"Paid Other": (1.0, 0.0), "Paid Shopping": (1.0, 5.0)}
    frame_of(rows).drop(columns=["source", "medium"]).to_csv(three, index=False)
    with pytest.raises(InputError) as info:
        run([str(one), str(three)], models=["last_touch"], channel_grouping="ga4")
    assert len(info.value.problems) == 1 and info.value.problems[0].file == str(three)
    with pytest.raises(InputError, match=r"'utm_campaing': given with column='campaign=utm_campaing', and no file has it"):
        run([str(one), str(two)], channel_grouping="ga4", columns=["campaign=utm_campaing"])
