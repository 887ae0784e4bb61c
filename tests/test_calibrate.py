"""Calibration to lift tests (attribution.kpis.calibrate): pooling formulas by hand, the KPI table, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.kpis.calibrate import (
    BASELINE, CalibrationWarning, Experiments, calibrate, channel_factors, check_experiments, pool_factors,
    read_experiments, window_credit,
)
from attribution.exceptions import InputError, ParameterError
from attribution.runner import run
from kpikit import row, write_inputs

pytestmark = pytest.mark.filterwarnings("ignore:spend channel")


def lift_tests(channels, credited, measured, se):
    return pd.DataFrame({"channel": channels, "credited": credited, "measured": measured, "se": se})


def factor(frame, channel, col="calibration_factor"):
    return float(frame.set_index("channel").loc[channel, col])


# ------------------------------------------------------------------------------------------------ pooling by hand
def test_inverse_variance_pooling_of_one_channels_tests():
    # f = 50/100 = 0.5 and 30/50 = 0.6; v = (10/100)² = (5/50)² = 0.01 each: mean 0.55, variance 0.005
    f, v = channel_factors([100, 50], [50, 30], [10, 5])
    assert f == pytest.approx(0.55) and v == pytest.approx(0.005)
    # unequal variances: v = 0.01 and (10/50)² = 0.04 → weights 100 and 25: (50 + 15) / 125 = 0.52, v = 1/125
    f, v = channel_factors([100, 50], [50, 30], [10, 10])
    assert f == pytest.approx(0.52) and v == pytest.approx(0.008)
    # exact tests (se 0): the ratio of sums, 80 / 150; a noisy test next to them is ignored
    f, v = channel_factors([100, 50, 10], [50, 30, 100], [0, 0, 5])
    assert f == pytest.approx(80 / 150) and v == 0


def test_two_channels_empirical_bayes_by_hand():
    # A: f̂ = 0.5, B: f̂ = 1.0, both v = 0.01. τ² = var(0.5, 1.0; ddof 1) − mean v = 0.125 − 0.01 = 0.115;
    # equal weights 1/(0.01 + 0.115): μ̂ = 0.75, V = 0.125 / 2 = 0.0625; w = 0.115 / 0.125 = 0.92;
    # f_A = 0.92·0.5 + 0.08·0.75 = 0.52, f_B = 0.92 + 0.06 = 0.98;
    # untested: λ = 0.25² / (0.25² + 0.0625) = 0.5, f = 1 − 0.5·0.25 = 0.875
    t = lift_tests(["a", "b"], [100, 100], [50, 100], [10, 10])
    out = pool_factors(t, ["a", "b", "c"])
    assert out["channel"].tolist() == ["a", "b", "c"]
    assert factor(out, "a", "weight") == pytest.approx(0.92)
    assert factor(out, "a") == pytest.approx(0.52)
    assert factor(out, "b") == pytest.approx(0.98)
    assert factor(out, "c", "weight") == pytest.approx(0.5)
    assert factor(out, "c") == pytest.approx(0.875)
    assert factor(out, "a", "raw_factor") == pytest.approx(0.5) and factor(out, "a", "se_factor") == pytest.approx(0.1)
    assert out.set_index("channel").loc["c", "tests"] == 0
    # keep: untested channels unchanged, tested ones as before
    kept = pool_factors(t, ["a", "b", "c"], untested="keep")
    assert factor(kept, "c") == 1.0 and factor(kept, "a") == pytest.approx(0.52)
    # shrink toward 1: τ² = mean((−0.5)², 0²) − 0.01 = 0.115, w = 0.92: f_A = 0.46 + 0.08 = 0.54, f_B = 1
    one = pool_factors(t, ["a", "b", "c"], shrink_to="one")
    assert factor(one, "a") == pytest.approx(0.54) and factor(one, "b") == pytest.approx(1.0)


def test_one_tested_channel_shrinks_toward_one():
    # f̂ = 0.5, v = 0.01: τ² = 0.25 − 0.01 = 0.24, w = 0.96, f = 0.96·0.5 + 0.04 = 0.52;
    # untested: μ̂ = 0.5, V = 0.25, λ = 0.25 / 0.5 = 0.5 → 0.75
    out = pool_factors(lift_tests(["a"], [100], [50], [10]), ["a", "b"])
    assert factor(out, "a") == pytest.approx(0.52)
    assert factor(out, "b") == pytest.approx(0.75)


def test_agreeing_channels_pool_completely():
    # f̂ 0.5 and 0.6 with v = 0.04: sample variance 0.005 < 0.04, so τ² = 0 and both take μ̂ = 0.55;
    # untested: V = 0.04 / 2 = 0.02, λ = 0.2025 / 0.2225, f = 1 − λ·0.45
    out = pool_factors(lift_tests(["a", "b"], [100, 100], [50, 60], [20, 20]), ["a", "b", "c"])
    assert factor(out, "a") == pytest.approx(0.55) and factor(out, "b") == pytest.approx(0.55)
    assert factor(out, "c") == pytest.approx(1 - 0.2025 / 0.2225 * 0.45)


def test_tests_without_credit_are_left_out_and_no_tests_change_nothing():
    out = pool_factors(lift_tests(["a", "b"], [0.0, 100], [5, 50], [1, 0]), ["a", "b", "c"])
    assert out.set_index("channel").loc["a", "tests"] == 0
    assert factor(out, "b") == pytest.approx(0.5)
    nothing = pool_factors(lift_tests([], [], [], []), ["a"])
    assert factor(nothing, "a") == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(1, 1e4), st.floats(0, 3), st.floats(0.001, 2)), min_size=1, max_size=6))
def test_shrunk_factors_lie_between_their_estimate_and_the_prior(raw):
    # channel i: credited C, f̂ = r, se_f = s (se = s·C)
    credited = np.array([c for c, _, _ in raw])
    f = np.array([r for _, r, _ in raw])
    s = np.array([q for _, _, q in raw])
    names = [f"c{i}" for i in range(len(raw))]
    t = lift_tests(names, credited, f * credited, s * credited)
    out = pool_factors(t, names + ["untested"]).set_index("channel")
    prior = 1.0 if len(raw) == 1 else None
    mu_lo, mu_hi = min(f.min(), 1.0), max(f.max(), 1.0)
    for i, name in enumerate(names):
        got = out.loc[name, "calibration_factor"]
        assert 0 <= out.loc[name, "weight"] <= 1
        lo = min(f[i], prior if prior is not None else f.min())
        hi = max(f[i], prior if prior is not None else f.max())
        assert lo - 1e-9 <= got <= hi + 1e-9
    # the untested factor lies between 1 and the pooled mean (itself within the range of the f̂)
    assert mu_lo - 1e-9 <= out.loc["untested", "calibration_factor"] <= mu_hi + 1e-9


# ------------------------------------------------------------------------------------------------ kpikit by hand
LIFT = pd.DataFrame({"channel": ["search"], "start": ["2026-01-05"], "end": ["2026-01-31"],
                     "incremental_conversions": [0.5]})


def test_window_credit_is_dated_by_the_conversion(tmp_path):
    events, _ = write_inputs(tmp_path)
    result = run(str(events), models=["linear"])
    # linear: a (converts 2026-02-01) email 0.5, search 0.5; b (2026-01-12) search 1
    exps = read_experiments(pd.DataFrame({
        "channel": ["search", "search", "email", "search"],
        "start": ["2026-01-05", "2026-01-05", "2026-01-05", "2026-02-01T12:00:00"],
        "end": ["2026-01-31", "2026-02-01", "2026-01-31", "2026-02-01T12:00:00"],
        "incremental_conversions": [1, 1, 1, 1]}))
    got = window_credit(result.models[0], result.journeys, exps)
    # a date as end covers its day; a timestamp end is inclusive
    assert got.tolist() == [1.0, 1.5, 0.0, 0.5]


def test_calibrated_table_by_hand(tmp_path):
    events, spend = write_inputs(tmp_path)
    result = run(str(events), models=["linear"], spend=str(spend), experiments=LIFT)
    t = result.table
    # search: credited 1 in January (journey b), measured 0.5 exact → f = 0.5: 1.5 → 0.75, revenue 100 → 50.
    # email (untested): k = 1, τ² = 0.25, V = 0.25, λ = 0.5 → f = 0.75: 0.5 → 0.375, revenue 50 → 37.5.
    search, email, base = row(t, "linear", "search"), row(t, "linear", "email"), row(t, "linear", BASELINE)
    assert search["conversions"] == pytest.approx(0.75) and search["revenue"] == pytest.approx(50)
    assert search["uncalibrated_conversions"] == pytest.approx(1.5) and search["calibration_factor"] == 0.5
    assert email["conversions"] == pytest.approx(0.375) and email["calibration_factor"] == pytest.approx(0.75)
    assert base["conversions"] == pytest.approx(0.125 + 0.75) and base["revenue"] == pytest.approx(12.5 + 50)
    assert np.isnan(base["calibration_factor"]) and np.isnan(row(t, "linear", "(none)")["calibration_factor"])
    assert row(t, "linear", "(none)")["conversions"] == 1.0  # touchless conversions are not scaled
    # totals still equal the input's: 3 conversions, 160 revenue
    assert t["conversions"].sum() == pytest.approx(3) and t["revenue"].sum() == pytest.approx(160)
    assert t["share"].sum() == pytest.approx(1)
    # ratios from the calibrated sums: search spend 50 → ROAS 50/50, CPA 50/0.75, ROI 0
    assert search["roas"] == pytest.approx(1.0) and search["cpa"] == pytest.approx(50 / 0.75)
    assert search["roi"] == pytest.approx(0.0) and search["revenue_per_conversion"] == pytest.approx(50 / 0.75)
    assert np.isnan(base["spend"]) and np.isnan(base["roas"])
    cols = list(t.columns)
    assert cols[cols.index("share") + 1: cols.index("share") + 3] == ["uncalibrated_conversions", "calibration_factor"]
    factors = result.calibration.set_index("channel")
    assert factors.loc["search", "tests"] == 1 and factors.loc["search", "credited"] == 1.0
    keep = run(str(events), models=["linear"], experiments=LIFT, calibrate_untested="keep").table
    assert row(keep, "linear", "email")["conversions"] == 0.5 and row(keep, "linear", BASELINE)["conversions"] == 0.75


def test_period_and_campaign_rows_take_their_channels_factor(tmp_path):
    events, spend = write_inputs(tmp_path)
    monthly = run(str(events), models=["linear"], spend=str(spend), period="month", experiments=LIFT).table
    # search: January 1 → 0.5, February 0.5 → 0.25; email (February) 0.5 → 0.375
    assert row(monthly, "linear", "search", "2026-01-01")["conversions"] == pytest.approx(0.5)
    assert row(monthly, "linear", "search", "2026-02-01")["conversions"] == pytest.approx(0.25)
    # one baseline row per period holding that period's difference; each period's total is unchanged
    assert row(monthly, "linear", BASELINE, "2026-01-01")["conversions"] == pytest.approx(0.5)
    assert row(monthly, "linear", BASELINE, "2026-02-01")["conversions"] == pytest.approx(0.25 + 0.125)
    per = monthly.groupby(monthly["period"].astype(str))["conversions"].sum()
    assert per.to_dict() == pytest.approx({"2026-01-01": 2.0, "2026-02-01": 1.0})
    assert row(monthly, "linear", "search", "2026-02-01")["cpa"] == pytest.approx(30 / 0.25)  # February spend 30
    by = run(str(events), models=["linear"], by="campaign", experiments=LIFT).table
    plain = run(str(events), models=["linear"], experiments=LIFT).table
    summed = by.groupby("channel")["conversions"].sum()
    assert summed.to_dict() == pytest.approx(plain.set_index("channel")["conversions"].to_dict())
    assert by.loc[by["channel"] == BASELINE, "campaign"].tolist() == ["(none)"]


def test_python_api_on_a_run_result_and_with_intervals(tmp_path):
    events, _ = write_inputs(tmp_path)
    plain = run(str(events), models=["linear", "first_touch"])
    table, factors = calibrate(plain, LIFT, untested="keep")
    direct = run(str(events), models=["linear", "first_touch"], experiments=LIFT, calibrate_untested="keep")
    pd.testing.assert_frame_equal(table, direct.table)
    pd.testing.assert_frame_equal(factors, direct.calibration)
    with pytest.raises(ParameterError, match="journeys"):
        calibrate(plain.table, LIFT)
    # bootstrap bounds scale with their channel's factor (search: 0.5)
    ci = run(str(events), models=["linear"], ci=0.9, n_boot=20, seed=1)
    cal = run(str(events), models=["linear"], ci=0.9, n_boot=20, seed=1, experiments=LIFT).table
    for c in ("conversions_lo", "conversions_hi", "revenue_lo", "revenue_hi"):
        assert row(cal, "linear", "search")[c] == pytest.approx(0.5 * row(ci.table, "linear", "search")[c])


def test_a_model_baseline_row_absorbs_the_difference():
    table = pd.DataFrame({"model": ["m"] * 3, "channel": [BASELINE, "a", "b"], "conversions": [4.0, 10.0, 6.0],
                          "revenue": [40.0, 100.0, 60.0], "share": [0.2, 0.5, 0.3]})
    from attribution.kpis.calibrate import apply_factors

    out = apply_factors(table, pd.DataFrame({"model": ["m", "m"], "channel": ["a", "b"],
                                             "calibration_factor": [0.5, 2.0]}))
    assert out["channel"].tolist() == [BASELINE, "a", "b"]  # no second baseline row
    assert out["conversions"].tolist() == pytest.approx([4 + 5 - 6, 5, 12])  # negative differences allowed
    assert out["revenue"].sum() == pytest.approx(200) and out["share"].tolist() == pytest.approx([0.15, 0.25, 0.6])


def test_zero_credit_test_warns_and_is_left_out(tmp_path):
    events, _ = write_inputs(tmp_path)
    lift = pd.DataFrame({"channel": ["display", "search"], "start": ["2026-01-05"] * 2, "end": ["2026-01-31"] * 2,
                         "incremental_conversions": [1.0, 0.5]})
    with pytest.warns(CalibrationWarning, match="'display' with no conversion"):
        result = run(str(events), models=["linear"], experiments=lift)
    assert result.calibration.set_index("channel").loc["display", "tests"] == 0


# ------------------------------------------------------------------------------------------------ bad input
def codes_of(frame, **check):
    with pytest.raises(InputError) as info:
        exps = read_experiments(frame)
        if check:
            check_experiments(exps, **check)
    return info.value


GOOD = dict(channel="search", start="2026-01-05", end="2026-01-31", incremental_conversions=1.0, se=0.1)


def test_every_broken_rule_at_once_with_count_and_first_row():
    bad = pd.DataFrame([GOOD, {**GOOD, "channel": None}, {**GOOD, "start": "soon"},
                        {**GOOD, "end": "2026-01-01"}, {**GOOD, "incremental_conversions": "lots"},
                        {**GOOD, "incremental_conversions": -2.0}, {**GOOD, "se": -1.0}, {**GOOD, "se": "x"},
                        {**GOOD, "channel": "(none)"}, {**GOOD, "incremental_conversions": None}])
    err = codes_of(bad)
    assert [(x.code, x.column) for x in err.problems] == [
        ("channel_missing", "channel"), ("channel_reserved", "channel"), ("start_unparsable", "start"),
        ("end_before_start", "end"), ("not_numeric", "incremental_conversions"),
        ("negative", "incremental_conversions"), ("not_numeric", "se"), ("negative", "se")]
    p = {(x.code, x.column): x for x in err.problems}
    assert p["not_numeric", "incremental_conversions"].count == 2
    assert p["not_numeric", "incremental_conversions"].first_row == 4
    assert p["end_before_start", "end"].first_row == 3 and p["end_before_start", "end"].example["end"] == "2026-01-01"
    missing = codes_of(pd.DataFrame({"channel": ["a"], "start": ["2026-01-01"]}))
    assert missing.codes == ["column_missing", "column_missing"]


def test_unknown_channels_and_windows_outside_the_log():
    exps = read_experiments(pd.DataFrame([GOOD, {**GOOD, "channel": "tv"}, {**GOOD, "start": "2025-12-31"},
                                          {**GOOD, "end": "2026-02-02"}, {**GOOD, "end": "2026-02-01"}]))
    first, last = pd.Timestamp("2026-01-05").value, pd.Timestamp("2026-02-01T12:00").value
    with pytest.raises(InputError) as info:
        check_experiments(exps, ["email", "search"], first, last)
    p = {x.code: x for x in info.value.problems}
    assert list(p) == ["channel_unknown", "window_outside_log"]
    assert p["channel_unknown"].first_row == 1 and "email, search" in p["channel_unknown"].fix
    # 2025-12-31 starts before the log's first day; 2026-02-02 ends after its last; 2026-02-01 is inside
    assert p["window_outside_log"].count == 2 and p["window_outside_log"].first_row == 2
    assert "2026-01-05 to 2026-02-01" in p["window_outside_log"].fix


def test_cli_errors_exit_2_and_write_nothing(tmp_path, capsys):
    from attribution.cli.app import main

    events, _ = write_inputs(tmp_path)
    lift = tmp_path / "lift.csv"
    out = tmp_path / "out.csv"
    pd.DataFrame([GOOD, {**GOOD, "channel": "tv"}]).to_csv(lift, index=False)
    with pytest.raises(SystemExit) as info:
        main(["run", str(events), "--experiments", str(lift), "-o", str(out), "-q"])
    assert info.value.code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "channel_unknown" in err and "first at row 1" in err and str(lift) in err and "Traceback" not in err
    pd.DataFrame([GOOD]).to_csv(lift, index=False)
    with pytest.raises(SystemExit) as info:
        main(["run", str(events), "--experiments", str(lift), "--calibrate-untested", "all", "-q"])
    assert info.value.code == 2 and "--calibrate-untested" in capsys.readouterr().err


def test_cli_output_is_reproducible_and_parquet_reads_the_same(tmp_path):
    from attribution.cli.app import main

    events, spend = write_inputs(tmp_path)
    lift_csv, lift_pq = tmp_path / "lift.csv", tmp_path / "lift.parquet"
    pd.DataFrame([GOOD]).to_csv(lift_csv, index=False)
    pd.DataFrame([GOOD]).to_parquet(lift_pq, index=False)
    outs = []
    for i, lift in enumerate((lift_csv, lift_csv, lift_pq)):
        out = tmp_path / f"out{i}.csv"
        try:
            main(["run", str(events), "-m", "linear", "-m", "markov", "--spend", str(spend), "--experiments", str(lift),
                  "-o", str(out), "-q"])
        except SystemExit as exc:
            assert not exc.code
        outs.append(out.read_bytes())
    assert outs[0] == outs[1] == outs[2]
    table = pd.read_csv(tmp_path / "out0.csv")
    assert {"uncalibrated_conversions", "calibration_factor"} <= set(table.columns)
    assert (table["channel"] == BASELINE).sum() == 2  # one per model


def test_path_tables_cannot_be_calibrated(tmp_path):
    paths = tmp_path / "paths.csv"
    pd.DataFrame({"path": ["a > b"], "conversions": [1], "null": [0]}).to_csv(paths, index=False)
    with pytest.raises(ParameterError, match="conversion dates"):
        run(str(paths), input="paths", experiments=pd.DataFrame([GOOD]))


def test_experiments_object_passes_through():
    exps = read_experiments(pd.DataFrame([GOOD]))
    assert read_experiments(exps) is exps and isinstance(exps, Experiments)
    assert exps.frame["stop"].iloc[0] - exps.frame["start"].iloc[0] == 27 * 86_400 * 10**9  # 5–31 Jan, inclusive


def test_out_of_core_runs_stop_with_a_message(tmp_path, monkeypatch):
    events, _ = write_inputs(tmp_path)
    monkeypatch.setattr("attribution.engines.plan_buckets", lambda rows, limit: 2)  # force two user buckets
    with pytest.raises(ParameterError, match="in-memory run"):
        run(str(events), models=["linear"], memory_limit="1MB", experiments=LIFT)
