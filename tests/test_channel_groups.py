"""Channel grouping by ordered rules: GA4's default channel group and user rule tables."""

from __future__ import annotations

import pandas as pd
import pytest

from attribution.io.channel_groups import assign_channels, load_rules, rules_from_frame
from attribution.exceptions import InputError, ParameterError

# (source, medium, campaign) → GA4 default channel group, following the order and definitions of the GA4 help page
CASES = [
    ("(direct)", "(none)", None, "Direct"),
    ("(direct)", "(not set)", None, "Direct"),
    ("google", "cpc", None, "Paid Search"),
    ("Google", "CPC", None, "Paid Search"),          # case-insensitive
    ("www.bing.com", "ppc", None, "Paid Search"),
    ("google", "organic", None, "Organic Search"),
    ("duckduckgo.com", "referral", None, "Organic Search"),  # a search site before the referral rule
    ("m.facebook.com", "referral", None, "Organic Social"),
    ("instagram", "paid_social", None, "Paid Social"),
    ("youtube.com", "cpv", None, "Paid Video"),
    ("youtube", "video", None, "Organic Video"),
    ("criteo", "display", None, "Display"),
    ("criteo", "cpm", None, "Display"),              # cpm is also 'paid', but Display comes first
    ("adnetwork", "cpc", None, "Paid Other"),
    ("foo", "cpc", "summer_shopping", "Paid Shopping"),
    ("amazon.com", "referral", None, "Organic Shopping"),
    ("example.com", "referral", None, "Referral"),
    ("newsletter", "email", None, "Email"),
    ("e-mail", "(none)", None, "Email"),
    ("partner", "affiliate", None, "Affiliates"),
    ("spotify", "audio", None, "Audio"),
    ("sms", "(none)", None, "SMS"),
    ("firebase", "(none)", None, "Mobile Push Notifications"),
    ("app", "web-push", None, "Mobile Push Notifications"),
    ("foo", "bar", "Q3 cross-network", "Cross-network"),
    ("foo", "bar", None, "Unassigned"),
    (None, None, None, "Unassigned"),
]


def test_ga4_default_channel_group():
    source, medium, campaign, expected = zip(*CASES)
    got = assign_channels(list(source), list(medium), list(campaign)).to_pylist()
    assert got == list(expected)


def test_user_rules_first_match_wins_and_alternatives(tmp_path):
    rules = pd.DataFrame({"channel": ["brand_search", "search", "social", "social"],
                          "source": ["google", "google|bing", "", "facebook"],
                          "medium": ["cpc", "", "social", ""],
                          "campaign": ["brand.*", "", "", ""]})
    got = assign_channels(["google", "google", "bing", "x", "facebook", "y"],
                          ["cpc", "cpc", "organic", "social", "referral", "z"],
                          ["brand_2026", "generic", None, None, None, None], rules=rules, default="other")
    assert got.to_pylist() == ["brand_search", "search", "search", "social", "social", "other"]
    path = tmp_path / "rules.csv"
    rules.to_csv(path, index=False)
    assert [r.channel for r in load_rules(str(path))] == ["brand_search", "search", "social"]


def test_bad_rules():
    with pytest.raises(InputError, match="not a valid regular expression"):
        rules_from_frame(pd.DataFrame({"channel": ["x"], "source": ["(unclosed"]}))
    with pytest.raises(InputError, match="needs 'channel'"):
        rules_from_frame(pd.DataFrame({"name": ["x"]}))
    with pytest.raises(ParameterError, match="'channel_grouping' option must be 'ga4' or a CSV file"):
        load_rules("/no/such/rules.csv")


def test_group_table_sets_touch_channels_only_and_fill_only():
    import pyarrow as pa

    from attribution.io.channel_groups import group_table

    table = pa.table({"user": ["a", "a", "b"], "event": ["touch", "conversion", "touch"],
                      "utm_source": ["google", None, "newsletter"], "utm_medium": ["cpc", None, "email"],
                      "channel": ["kept", None, None]})
    out, summary = group_table(table, columns={"source": "utm_source", "medium": "utm_medium"})
    assert out["channel"].to_pylist() == ["Paid Search", None, "Email"]
    assert summary["touches"].sum() == 2
    filled, _ = group_table(table, columns={"source": "utm_source", "medium": "utm_medium"}, fill_only=True)
    assert filled["channel"].to_pylist() == ["kept", None, "Email"]
    with pytest.raises(InputError, match="needs the 'event' column"):
        group_table(pa.table({"event": ["touch"]}))


def test_channels_command_then_run(tmp_path):
    from typer.testing import CliRunner

    from attribution.cli.app import app

    log = tmp_path / "ga4.csv"
    log.write_text("user_id,timestamp,event,source,medium\n"
                   "a,2024-01-01,touch,google,organic\n"
                   "a,2024-01-02,touch,(direct),(none)\n"
                   "a,2024-01-03,conversion,,\n"
                   "b,2024-01-01,touch,facebook.com,referral\n")
    runner = CliRunner()
    grouped = tmp_path / "grouped.parquet"
    res = runner.invoke(app, ["channels", str(log), "-o", str(grouped)])
    assert res.exit_code == 0, res.output
    assert "Organic Search" in res.stdout and "Organic Social" in res.stdout
    out = tmp_path / "credit.csv"
    res = runner.invoke(app, ["run", str(grouped), "-m", "last_non_direct:direct=Direct", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    credit = pd.read_csv(out).set_index("channel")["conversions"]
    assert credit["Organic Search"] == 1.0 and credit["Direct"] == 0.0
    bad = runner.invoke(app, ["channels", str(log), "-o", str(tmp_path / "x.json")])
    assert bad.exit_code == 2 and ".parquet or .csv" in bad.stderr
