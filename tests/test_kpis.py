"""SPEC 4 KPI layer on hand-computed data (the log and spend of ``kpikit``; the algebra is in each docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.io.events import Events
from attribution.exceptions import ParameterError
from attribution.journeys.journeys import Journeys
from attribution.kpis.report import (
    channel_report,
    finalise_journey_stats,
    journey_stats,
    merge_journey_stats,
    period_credit,
)
from attribution.models import parse_model_spec
from attribution.io.periods import period_of_ns
from attribution.runner import run
from attribution.io.spend import read_spend
from kpikit import EVENTS, SPEND, row, write_inputs

# kpikit's spend has a channel (tv) absent from the log on purpose; its warning is tested once
pytestmark = pytest.mark.filterwarnings("ignore:spend channel")

RATIOS = ["roas", "roi", "cpa", "cpl", "win_rate", "avg_days_to_convert", "revenue_per_conversion", "share"]


@pytest.fixture
def journeys():
    return Journeys.from_events(Events.from_frame(EVENTS))


def fitted(journeys, *specs):
    return [parse_model_spec(s).fit(journeys) for s in specs]


def report(tmp_path, **kw):
    events, spend = write_inputs(tmp_path)
    return run([str(events)], models=["linear", "last_touch"], spend=str(spend), milestone_events=["lead"], **kw).table


def test_columns_in_documented_order(tmp_path):
    table = report(tmp_path)
    assert list(table.columns) == [
        "model", "channel", "conversions", "revenue", "share", "spend", "roas", "roi", "cpa", "leads", "cpl",
        "journeys", "converting_journeys", "win_rate", "avg_days_to_convert", "revenue_per_conversion"]
    # sorted by model in the order given, then channel; spend-only tv is there for every model
    assert list(table["model"]) == ["linear"] * 5 + ["last_touch"] * 5
    assert list(table["channel"]) == ["(none)", "display", "email", "search", "tv"] * 2


def test_kpi_definitions_linear(tmp_path):
    """Linear: a's journey (email, search) splits 1 conversion / 100 revenue in halves; b's (search) gives search
    1 / 50. email: spend 10, conversions 0.5, revenue 50 → roas 50/10 = 5, roi (50−10)/10 = 4, cpa 10/0.5 = 20,
    revenue_per_conversion 100; journeys with email: a and c → 2, converting 1, win_rate 0.5; days from a's first
    touch (01-30 00:00) to its conversion (02-01 12:00) = 2.5. search: spend 20 + 30 = 50, conversions 1.5,
    revenue 100 → roas 2, roi 1, cpa 33.33; journeys a, b both convert → win_rate 1; days (2.5 + 2) / 2 = 2.25.
    Leads (linear on lead journeys): a's lead journey (email, search) → 0.5 each, b's (search) → 1, so email 0.5
    (cpl 20), search 1.5 (cpl 33.33)."""
    t = report(tmp_path)
    # approx (rel 1e-6) below: hand-computed KPIs (ratios such as 100 / 30) in floats
    email = row(t, "linear", "email")
    assert email[["conversions", "revenue", "spend", "roas", "roi", "cpa"]].tolist() == pytest.approx(
        [0.5, 50.0, 10.0, 5.0, 4.0, 20.0])
    assert email[["leads", "cpl", "journeys", "converting_journeys", "win_rate", "avg_days_to_convert",
                  "revenue_per_conversion"]].tolist() == pytest.approx([0.5, 20.0, 2.0, 1.0, 0.5, 2.5, 100.0])
    search = row(t, "linear", "search")
    assert search[["conversions", "revenue", "spend", "roas", "roi", "cpa", "leads", "cpl"]].tolist() == pytest.approx(
        [1.5, 100.0, 50.0, 2.0, 1.0, 50 / 1.5, 1.5, 50 / 1.5])
    assert search[["journeys", "converting_journeys", "win_rate", "avg_days_to_convert"]].tolist() == pytest.approx(
        [2.0, 2.0, 1.0, 2.25])
    # share = conversions / all conversions of the model (3: a, b, d)
    assert search["share"] == pytest.approx(0.5)


def test_last_touch_differs_only_in_credit(tmp_path):
    """last_touch: search gets a's and b's conversions (2, revenue 150) → roas 3, roi 2, cpa 25; email 0 → cpa null,
    revenue_per_conversion null; the journey columns are the same as linear's (they do not depend on the model)."""
    t = report(tmp_path)
    s = row(t, "last_touch", "search")
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert s[["conversions", "revenue", "roas", "roi", "cpa"]].tolist() == pytest.approx([2.0, 150.0, 3.0, 2.0, 25.0])
    e = row(t, "last_touch", "email")
    assert e["conversions"] == 0 and np.isnan(e["cpa"]) and np.isnan(e["revenue_per_conversion"])
    assert e["roas"] == 0 and e["roi"] == -1
    cols = ["journeys", "converting_journeys", "win_rate", "avg_days_to_convert"]
    lin = t[t["model"] == "linear"][cols].reset_index(drop=True)
    last = t[t["model"] == "last_touch"][cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(lin, last)


def test_zero_denominators_are_null_never_inf(tmp_path):
    """display: no spend, no conversion → roas, roi, cpa, cpl, revenue_per_conversion null; tv: spend 5, no journey
    → win_rate null, roas 0, roi −1, cpa null; (none): no spend at all (null), so its ratios are null."""
    t = report(tmp_path)
    values = t[RATIOS].to_numpy(float)
    assert not np.isinf(values).any()
    d = row(t, "linear", "display")
    assert d["spend"] == 0 and d[["roas", "roi", "cpa", "cpl", "revenue_per_conversion"]].isna().all()
    assert d["journeys"] == 1 and d["win_rate"] == 0 and np.isnan(d["avg_days_to_convert"])
    tv = row(t, "linear", "tv")
    assert tv[["conversions", "revenue", "spend", "roas", "roi", "journeys"]].tolist() == [0, 0, 5, 0, -1, 0]
    assert np.isnan(tv["cpa"]) and np.isnan(tv["win_rate"])
    none = row(t, "linear", "(none)")
    assert none[["spend", "roas", "roi", "cpa", "cpl"]].isna().all()
    assert none[["conversions", "revenue", "journeys", "converting_journeys", "win_rate"]].tolist() == [1, 10, 1, 1, 1]


def test_spend_summed_once_across_models(tmp_path):
    t = report(tmp_path)
    per_model = t.groupby("model", sort=False)["spend"].sum()
    # approx: the same spend rows summed in another grouping (a few ulps)
    assert per_model.tolist() == pytest.approx([SPEND["spend"].sum()] * 2)


def test_without_spend_journey_columns_still_there(tmp_path):
    events, _ = write_inputs(tmp_path)
    t = run([str(events)], models=["linear"]).table
    assert list(t.columns) == ["model", "channel", "conversions", "revenue", "share", "journeys",
                               "converting_journeys", "win_rate", "avg_days_to_convert", "revenue_per_conversion"]


def test_month_periods(tmp_path):
    """--period month, linear: January holds b's conversion (search 1, revenue 50) and d's (none); February a's
    (email 0.5 / 50, search 0.5 / 50). Spend: email 10 in January, search 20 in January and 30 in February, tv 5 in
    February. So search January: roas 50/20 = 2.5, cpa 20; search February: roas 50/30, cpa 60; email January:
    spend but no credit (roas 0, roi −1, cpa null) and c's non-converting journey; email February: credit without
    spend (roas null, cpa 0). Shares are within the period: January search 1 of 2 conversions."""
    t = report(tmp_path, period="month")
    assert list(t.columns[:3]) == ["model", "channel", "period"]
    lin = t[t["model"] == "linear"]
    assert [(c, str(p)) for c, p in zip(lin["channel"], lin["period"])] == [
        ("(none)", "2026-01-01"), ("display", "2026-01-01"), ("email", "2026-01-01"), ("email", "2026-02-01"),
        ("search", "2026-01-01"), ("search", "2026-02-01"), ("tv", "2026-02-01")]
    sj = row(t, "linear", "search", "2026-01-01")
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert sj[["conversions", "revenue", "spend", "roas", "cpa", "share", "leads", "cpl"]].tolist() == pytest.approx(
        [1.0, 50.0, 20.0, 2.5, 20.0, 0.5, 1.5, 20 / 1.5])
    sf = row(t, "linear", "search", "2026-02-01")
    assert sf[["conversions", "revenue", "spend", "roas", "cpa", "share"]].tolist() == pytest.approx(
        [0.5, 50.0, 30.0, 50 / 30, 60.0, 0.5])
    ej = row(t, "linear", "email", "2026-01-01")
    assert ej[["conversions", "spend", "roas", "roi", "journeys", "converting_journeys"]].tolist() == [0, 10, 0, -1, 1, 0]
    assert np.isnan(ej["cpa"])
    ef = row(t, "linear", "email", "2026-02-01")
    assert ef["spend"] == 0 and np.isnan(ef["roas"]) and ef["cpa"] == 0


def test_period_ratios_are_recomputed_from_sums(tmp_path):
    """Summing a channel's period rows gives the total table's sums, and its ratios are ratios of those sums
    (search: (50 + 50) / (20 + 30) = 2, not the mean of 2.5 and 1.67)."""
    total = report(tmp_path)
    by_period = report(tmp_path, period="month")
    sums = by_period.groupby(["model", "channel"], sort=False)[["conversions", "revenue", "spend", "leads",
                                                                 "journeys", "converting_journeys"]].sum()
    # approx below: per-period rows summed back in floats vs the whole-log row (a few ulps)
    for (model, channel), s in sums.iterrows():
        r = row(total, model, channel)
        assert s["conversions"] == pytest.approx(r["conversions"])
        assert s["revenue"] == pytest.approx(r["revenue"])
        assert s["leads"] == pytest.approx(r["leads"])
        assert s["journeys"] == pytest.approx(r["journeys"])
        if channel != "(none)":
            assert s["spend"] == pytest.approx(r["spend"])
            if s["spend"] > 0:
                assert s["revenue"] / s["spend"] == pytest.approx(r["roas"])
    search = by_period[(by_period["model"] == "linear") & (by_period["channel"] == "search")]
    # approx: the two differ by about 20%, far beyond rounding
    assert search["roas"].mean() != pytest.approx(row(total, "linear", "search")["roas"])


def test_month_boundaries(tmp_path):
    """A conversion at 23:59:59 on 31 January is January's; one at 00:00:00 on 1 February is February's; spend dated
    31 January and 1 February likewise."""
    ev = pd.DataFrame({
        "user_id": ["u", "u", "v", "v"],
        "timestamp": ["2026-01-31T20:00:00Z", "2026-01-31T23:59:59Z", "2026-01-31T22:00:00Z", "2026-02-01T00:00:00Z"],
        "event": ["touch", "conversion", "touch", "conversion"],
        "channel": ["x", None, "x", None], "revenue": [1.0, 1.0, 2.0, 2.0]})
    sp = pd.DataFrame({"channel": ["x", "x"], "spend": [4.0, 8.0], "date": ["2026-01-31", "2026-02-01"]})
    j = Journeys.from_events(Events.from_frame(ev))
    t = channel_report(fitted(j, "linear"), j, spend=read_spend(sp), period="month")
    assert [str(p) for p in t["period"]] == ["2026-01-01", "2026-02-01"]
    assert t["revenue"].tolist() == [1.0, 2.0] and t["spend"].tolist() == [4.0, 8.0]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert t["roas"].tolist() == pytest.approx([0.25, 0.25])


def test_week_and_day_buckets():
    """ISO weeks start on Monday: Sunday 2026-02-01 is in the week of Monday 2026-01-26, Monday 2026-02-02 starts
    its own; 1969-12-31 (before the epoch) floors correctly."""
    ns = pd.to_datetime(["2026-02-01T23:00:00Z", "2026-02-02T00:00:00Z", "1969-12-31T12:00:00Z"]).as_unit("ns").asi8
    as_dates = lambda days: [str(np.datetime64(int(d), "D")) for d in days]  # noqa: E731
    assert as_dates(period_of_ns(ns, "week")) == ["2026-01-26", "2026-02-02", "1969-12-29"]
    assert as_dates(period_of_ns(ns, "day")) == ["2026-02-01", "2026-02-02", "1969-12-31"]
    assert as_dates(period_of_ns(ns, "month")) == ["2026-02-01", "2026-02-01", "1969-12-01"]


def test_period_credit_sums_to_model_credit(journeys):
    for m in fitted(journeys, "linear", "time_decay", "position_based", "first_touch", "last_non_direct"):
        pc_ = period_credit(m, journeys, "week").groupby("channel")[["conversions", "revenue"]].sum()
        a = m.attribution_.set_index("channel")
        a = a[(a["conversions"] != 0) | (a["revenue"] != 0)]
        got = pc_.loc[list(a.index), ["conversions", "revenue"]].to_numpy()
        # rtol=1e-12: per-touch credit summed by week and channel vs summed by channel (order only)
        np.testing.assert_allclose(got, a[["conversions", "revenue"]].to_numpy(), rtol=1e-12)


def test_journey_stats_are_additive_over_user_partitions(journeys):
    """Statistics of two user-disjoint halves merge (by summing) into those of the whole log."""
    users = journeys.user
    parts = [journeys.select(np.flatnonzero(users % 2 == k)) for k in (0, 1)]
    for period in (None, "month"):
        whole = finalise_journey_stats(journey_stats(journeys, period))
        merged = finalise_journey_stats(merge_journey_stats([journey_stats(p, period) for p in parts]))
        pd.testing.assert_frame_equal(whole.reset_index(drop=True), merged.reset_index(drop=True))


def test_period_needs_dated_spend(tmp_path):
    events, _ = write_inputs(tmp_path)
    undated = tmp_path / "undated.csv"
    SPEND.drop(columns="date").to_csv(undated, index=False)
    with pytest.raises(ParameterError, match="no 'date' column"):
        run([str(events)], models=["linear"], spend=str(undated), period="month")
    # without --period undated spend is fine
    t = run([str(events)], models=["linear"], spend=str(undated)).table
    assert row(t, "linear", "search")["spend"] == 50


def test_bad_period_is_a_parameter_error(tmp_path):
    events, _ = write_inputs(tmp_path)
    with pytest.raises(ParameterError, match="'period' option must be one of day, week, month"):
        run([str(events)], models=["linear"], period="fortnight")


def test_cost_types_give_media_spend_and_media_roas(journeys):
    """search media 20 + staff 30: spend (fully loaded) 50, media_spend 20; revenue 100 → roas 2, media_roas 5."""
    sp = pd.DataFrame({"channel": ["search", "search"], "spend": [20.0, 30.0], "cost_type": ["Media", "staff"]})
    t = channel_report(fitted(journeys, "linear"), journeys, spend=read_spend(sp))
    assert list(t.columns[5:11]) == ["spend", "media_spend", "roas", "media_roas", "roi", "cpa"]
    s = row(t, "linear", "search")
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert s[["spend", "media_spend", "roas", "media_roas", "roi"]].tolist() == pytest.approx([50, 20, 2, 5, 1])


def test_path_table_input_has_journey_columns(tmp_path):
    """From a path table: journeys = conversions + nulls of the paths with the channel; no dates → avg days null."""
    paths = tmp_path / "paths.csv"
    pd.DataFrame({"path": ["a > b", "b"], "conversions": [2.0, 1.0], "nulls": [2.0, 3.0],
                  "revenue": [20.0, 5.0]}).to_csv(paths, index=False)
    t = run([str(paths)], models=["linear"], input="paths").table
    b = row(t, "linear", "b")
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert b[["journeys", "converting_journeys", "win_rate"]].tolist() == pytest.approx([8.0, 3.0, 3 / 8])
    assert np.isnan(b["avg_days_to_convert"])
    with pytest.raises(ParameterError, match="path table"):
        run([str(paths)], models=["linear"], input="paths", period="month")


def test_markov_removal_effect_sits_next_to_the_credit(tmp_path):
    """Every default model gets KPI columns; removal_effect (Markov) stays next to the credit."""
    t = report(tmp_path).columns  # linear + last_touch: no removal_effect
    assert "removal_effect" not in t
    events, spend = write_inputs(tmp_path)
    table = run([str(events)], models=["markov"], spend=str(spend)).table
    assert list(table.columns[:7]) == ["model", "channel", "conversions", "revenue", "share", "removal_effect", "spend"]


def test_spend_on_channels_absent_from_the_log_warns(tmp_path):
    """tv has spend but never appears in the log: it keeps its row, and the user is told (a typo is likely)."""
    events, spend = write_inputs(tmp_path)
    with pytest.warns(UserWarning, match=r"spend channel\(s\) 'tv' never appear"):
        t = run([str(events)], models=["linear"], spend=str(spend)).table
    assert row(t, "linear", "tv")["spend"] == 5


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 120), st.sampled_from(["t", "t", "c"]),
                       st.sampled_from(["x", "y", "z"]), st.floats(0, 100)), min_size=1, max_size=50),
    st.lists(st.tuples(st.sampled_from(["x", "y", "w"]), st.floats(0, 50), st.integers(0, 120)), max_size=10),
    st.sampled_from(["day", "week", "month"]),
)
def test_property_periods_add_up_to_the_totals(rows, spend_rows, period):
    """On random logs and spend: the period rows of every model × channel sum to the whole-log row, no ratio is
    infinite, and each period ratio is its own row's quotient."""
    start = pd.Timestamp("2026-01-25", tz="UTC")
    frame = pd.DataFrame({
        "user_id": [f"u{r[0]}" for r in rows],
        "timestamp": [start + pd.Timedelta(hours=r[1] * 9) for r in rows],
        "event": ["touch" if r[2] == "t" else "conversion" for r in rows],
        "channel": [r[3] if r[2] == "t" else None for r in rows],
        "revenue": [r[4] if r[2] == "c" else None for r in rows],
    })
    spend = None
    if spend_rows:
        spend = read_spend(pd.DataFrame({"channel": [s[0] for s in spend_rows], "spend": [s[1] for s in spend_rows],
                                         "date": [str((start + pd.Timedelta(days=s[2] // 3)).date())
                                                  for s in spend_rows]}))
    j = Journeys.from_events(Events.from_frame(frame))
    models = fitted(j, "linear", "time_decay")
    total = channel_report(models, j, spend=spend)
    cut = channel_report(models, j, spend=spend, period=period)
    cols = [c for c in ("conversions", "revenue", "spend", "journeys", "converting_journeys") if c in total.columns]
    sums = cut.groupby(["model", "channel"])[cols].sum()
    ref = total.set_index(["model", "channel"])[cols].fillna(0.0)
    ref = ref[(ref != 0).any(axis=1)]
    # 1e-9: per-period rows summed back vs the whole-log rows; raked Markov weights reproduce credit to the float floor
    np.testing.assert_allclose(sums.reindex(ref.index).fillna(0.0).to_numpy(), ref.to_numpy(), rtol=1e-9, atol=1e-9)
    ratios = cut[[c for c in RATIOS if c in cut.columns]].to_numpy(float)
    assert not np.isinf(ratios).any()
    if spend is not None:
        ok = cut["spend"] > 0
        # allclose default (rtol 1e-7): the same division, columns round-tripped through the table
        with np.errstate(over="ignore"):  # a denormal spend overflows the quotient: the table has null there
            expected = (cut.loc[ok, "revenue"] / cut.loc[ok, "spend"]).replace([np.inf, -np.inf], np.nan)
        np.testing.assert_allclose(cut.loc[ok, "roas"], expected)


def test_report_frame_mixes_models_with_and_without_extras():
    """A model with removal_effect next to one without: the column is there, null for the other; spend-only and
    removal effects stay on their channel's rows."""
    from attribution.kpis.report import report_frame

    markov_like = pd.DataFrame({"channel": ["a", "b"], "conversions": [1.0, 2.0], "revenue": [10.0, 0.0],
                                "removal_effect": [0.4, 0.6]})
    plain = pd.DataFrame({"channel": ["a", "b"], "conversions": [3.0, 0.0], "revenue": [10.0, 0.0]})
    spend = pd.DataFrame({"channel": ["a", "c"], "spend": [5.0, 1.0]})
    t = report_frame([("m", markov_like), ("p", plain)], spend=spend)
    assert list(t.columns[:7]) == ["model", "channel", "conversions", "revenue", "share", "removal_effect", "spend"]
    assert t["channel"].tolist() == ["a", "b", "c"] * 2
    assert t["removal_effect"].tolist()[:2] == [0.4, 0.6] and t["removal_effect"].iloc[2:].isna().all()
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert t["roas"].tolist()[0] == 2.0 and t["cpa"].tolist()[3] == pytest.approx(5 / 3)


def test_row_order_of_the_log_changes_nothing(tmp_path):
    """SPEC 6 (same input, same output) and SPEC 2 (events ordered per user by time): shuffling the log's rows,
    milestone rows included, gives the same ROI table."""
    events, spend = write_inputs(tmp_path)
    shuffled = tmp_path / "shuffled.parquet"
    EVENTS.iloc[[9, 3, 7, 0, 5, 2, 8, 1, 6, 4]].to_parquet(shuffled, index=False)
    a = run([str(events)], models=["linear", "last_touch"], spend=str(spend), milestone_events=["lead"],
            period="month").table
    b = run([str(shuffled)], models=["linear", "last_touch"], spend=str(spend), milestone_events=["lead"],
            period="month").table
    pd.testing.assert_frame_equal(a, b)


def test_every_registered_model_with_touch_weights_dates_its_credit_exactly(journeys):
    """For each model of the registry (Markov, Shapley, ... as they land) that gives per-touch weights, the
    period-cut credit sums back to the model's own ``attribution_``."""
    from attribution.models import available_models

    import warnings

    checked = 0
    for name in available_models():
        m = parse_model_spec(name).fit(journeys)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cut = period_credit(m, journeys, "month")
            except ParameterError:
                continue  # no per-touch weights: --period and --detail say so
        if any("weight" in type(w.message).__name__.lower() for w in caught):
            continue  # the model warned that its weights cannot reproduce its credit exactly on this log
        sums = cut.groupby("channel")[["conversions", "revenue"]].sum()
        a = m.attribution_.set_index("channel")[["conversions", "revenue"]]
        # 1e-9: per-month credit summed back vs the fitted credit; iterative weights meet it to the float floor
        np.testing.assert_allclose(sums.reindex(a.index).fillna(0.0).to_numpy(), a.to_numpy(), rtol=1e-9,
                                   atol=1e-9, err_msg=name)
        checked += 1
    assert checked >= 6


def test_by_campaign(journeys):
    """--by campaign, linear: a's touches are email/spring and search/brand (0.5 each of 1 conversion, 100
    revenue), b's search has no campaign (1, 50), c's email/spring and display/(none) do not convert, d is touchless.
    Spend email/spring 10, search/brand 20, search without campaign 30 → search/brand roas 50/20 = 2.5,
    search/(none) roas 50/30; journeys with email/spring: a and c → 2, win rate 0.5. Campaign rows add up to the
    channel rows."""
    sp = read_spend(SPEND.assign(campaign=["spring", "brand", "x", None]))
    models = fitted(journeys, "linear")
    t = channel_report(models, journeys, spend=sp, by="campaign")
    assert list(t.columns[:4]) == ["model", "channel", "campaign", "conversions"]
    assert list(zip(t["channel"], t["campaign"])) == [
        ("(none)", "(none)"), ("display", "(none)"), ("email", "spring"), ("search", "(none)"), ("search", "brand"),
        ("tv", "x")]
    key = t.set_index(["channel", "campaign"])
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert key.loc[("search", "brand"), ["conversions", "revenue", "spend", "roas", "journeys"]].tolist() == \
        pytest.approx([0.5, 50.0, 20.0, 2.5, 1.0])
    assert key.loc[("search", "(none)"), ["conversions", "revenue", "spend", "roas", "avg_days_to_convert"]].tolist() \
        == pytest.approx([1.0, 50.0, 30.0, 50 / 30, 2.0])
    assert key.loc[("email", "spring"), ["journeys", "converting_journeys", "win_rate"]].tolist() == [2, 1, 0.5]
    whole = channel_report(models, journeys, spend=sp).set_index("channel")
    sums = t.groupby("channel")[["conversions", "revenue", "spend"]].sum()
    # allclose default (rtol 1e-7): per-key rows summed back in floats vs the whole-log rows
    np.testing.assert_allclose(sums.to_numpy(), whole.loc[sums.index, ["conversions", "revenue", "spend"]].fillna(0.0))
    by_month = channel_report(models, journeys, spend=sp, by="campaign", period="month")
    assert list(by_month.columns[:4]) == ["model", "channel", "campaign", "period"]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert by_month["revenue"].sum() == pytest.approx(160.0)


def test_by_campaign_needs_campaigns(tmp_path, journeys):
    with pytest.raises(ParameterError, match="no 'campaign' column"):
        channel_report(fitted(journeys, "linear"), journeys, spend=read_spend(SPEND), by="campaign")
    bare = Journeys.from_events(Events.from_frame(EVENTS.drop(columns="campaign")))
    with pytest.raises(ParameterError, match="needs a 'campaign' column in the event log"):
        channel_report(fitted(bare, "linear"), bare, by="campaign")
    with pytest.raises(ParameterError, match="'by' option must be one of campaign"):
        channel_report(fitted(journeys, "linear"), journeys, by="source")
