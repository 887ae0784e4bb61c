"""The ground-truth simulator (attribution.sim.simulate): determinism, schema, and the truth's exactness."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.io.events import Events
from attribution.exceptions import ParameterError
from attribution.sim.simulate import BASELINE, CHANNELS, DEFAULT_COSTS, Simulation, make_spend, simulate

SMALL = dict(n_users=1500)


@pytest.fixture(scope="module")
def world():
    return Simulation(**SMALL, targeting=1.0, navigational=0.3, source_medium=True).run(seed=11)


# ---------------------------------------------------------------------------------------------- determinism
def test_same_seed_same_log_and_truth():
    a = simulate(seed=3, **SMALL)
    b = simulate(seed=3, **SMALL)
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.truth.table, b.truth.table)
    pd.testing.assert_frame_equal(a.truth.causes, b.truth.causes)


def test_different_seed_different_log():
    a = simulate(seed=3, **SMALL)
    b = simulate(seed=4, **SMALL)
    assert not a.events.equals(b.events)


def test_generator_is_used_and_advanced():
    """Randomness comes only from the argument: equal generators give equal logs; a generator moves on."""
    a = simulate(seed=np.random.default_rng(8), **SMALL).events
    b = simulate(seed=np.random.default_rng(8), **SMALL).events
    pd.testing.assert_frame_equal(a, b)
    rng = np.random.default_rng(8)
    first, second = simulate(seed=rng, **SMALL).events, simulate(seed=rng, **SMALL).events
    assert not first.equals(second)


def test_unpacks_into_events_and_truth():
    events, truth = Simulation(n_users=50).run(seed=0)
    assert isinstance(events, pd.DataFrame)
    assert truth.total_conversions == (events["event"] == "conversion").sum()


# ---------------------------------------------------------------------------------------------- schema
def test_schema_and_canonical_values(world):
    ev = world.events
    assert list(ev.columns) == ["user_id", "timestamp", "event", "channel", "campaign", "revenue", "source", "medium"]
    assert ev["timestamp"].dtype == np.dtype("datetime64[ns]")
    assert set(ev["event"]) == {"touch", "lead", "qualified", "conversion"}
    touch = (ev["event"] == "touch").to_numpy()
    conv = (ev["event"] == "conversion").to_numpy()
    assert ev["channel"].notna().to_numpy()[touch].all()
    assert ev["channel"].isna().to_numpy()[~touch].all()
    assert set(ev.loc[touch, "channel"]) == set(CHANNELS)
    assert ev["revenue"].notna().to_numpy()[conv].all() and (ev.loc[conv, "revenue"] > 0).all()
    assert ev["revenue"].isna().to_numpy()[~conv].all()
    assert ev["campaign"].isna().to_numpy()[~touch].all()
    assert ev.loc[touch & ev["channel"].isin(["direct", "organic_search"]).to_numpy(), "campaign"].isna().all()
    assert ev.loc[ev["channel"].eq("paid_search").to_numpy(), "campaign"].isin(["brand", "generic"]).all()
    assert ev.loc[touch & ev["channel"].eq("paid_search").to_numpy(), "medium"].eq("cpc").all()
    assert ev["source"].isna().to_numpy()[~touch].all()
    # whole seconds inside the date range
    ns = ev["timestamp"].to_numpy().astype(np.int64)
    assert (ns % 1_000_000_000 == 0).all()
    assert ev["timestamp"].min() >= pd.Timestamp("2026-01-01")
    assert ev["timestamp"].max() < pd.Timestamp("2026-01-01") + pd.Timedelta(days=90)
    # sorted by user then time
    key = pd.MultiIndex.from_arrays([ev["user_id"], ev["timestamp"]])
    assert key.is_monotonic_increasing


def test_passes_engine_validation(world):
    events = Events.from_frame(world.events)
    assert events.num_rows == len(world.events)
    assert events.event_counts()["conversion"] == world.truth.total_conversions


# ---------------------------------------------------------------------------------------------- the truth
def test_truth_adds_up_exactly(world):
    """Every conversion has exactly one cause: channel credits + baseline = all conversions (and revenue)."""
    t = world.truth
    ev = world.events
    conv = ev[ev["event"] == "conversion"]
    assert t.table["conversions"].sum() + t.baseline_conversions == len(conv) == t.total_conversions
    # abs=0.1: revenue per channel and baseline are each rounded to cents (about 10 roundings)
    assert t.table["revenue"].sum() + t.baseline_revenue == pytest.approx(conv["revenue"].sum(), abs=0.01 * 10)
    assert t.table["share"].sum() == pytest.approx(1.0)
    counts = t.causes["cause"].value_counts()
    for row in t.table.itertuples():
        assert counts.get(row.channel, 0) == row.conversions
    assert counts.get(BASELINE, 0) == t.baseline_conversions
    full = t.to_frame()
    assert list(full["channel"]) == list(CHANNELS) + [BASELINE]


def test_causes_point_at_earlier_touches_of_the_same_user(world):
    ev, causes = world.events, world.truth.causes
    assert (ev["event"].to_numpy()[causes["row"]] == "conversion").all()
    caused = causes[causes["cause_row"] >= 0]
    conv_rows, touch_rows = caused["row"].to_numpy(), caused["cause_row"].to_numpy()
    assert (ev["event"].to_numpy()[touch_rows] == "touch").all()
    assert (ev["channel"].to_numpy()[touch_rows] == caused["cause"].to_numpy()).all()
    assert (ev["user_id"].to_numpy()[touch_rows] == ev["user_id"].to_numpy()[conv_rows]).all()
    assert (ev["timestamp"].to_numpy()[touch_rows] <= ev["timestamp"].to_numpy()[conv_rows]).all()


def test_zero_effect_channel_gets_exactly_zero():
    sim = Simulation(**SMALL, effect={"social": 0.0}, navigational=0.5)  # direct defaults to 0 too
    truth = sim.run(seed=5).truth.table.set_index("channel")
    for c in ("social", "direct"):
        assert truth.loc[c, "conversions"] == 0 and truth.loc[c, "expected_conversions"] == 0
        assert truth.loc[c, "revenue"] == 0
        assert truth.loc[c, "touches"] > 0


@pytest.mark.parametrize("channel", ["paid_search", "display"])
def test_truth_is_the_removal_effect_with_common_random_numbers(channel):
    """Rerun with the channel's effect switched off and the same seed: exactly its caused conversions vanish.

    This is the definition of the truth (module docstring): conversions that would not have happened without
    the channel's touches, every other random draw equal.
    """
    base = dict(SMALL, targeting=1.0, navigational=0.3)
    world = Simulation(**base).run(seed=21)
    effects = dict(Simulation(**base).effect, **{channel: 0.0})
    without = Simulation(**base, effect=effects).run(seed=21)
    t = world.truth.table.set_index("channel")
    assert t.loc[channel, "conversions"] > 0
    assert world.truth.total_conversions - without.truth.total_conversions == t.loc[channel, "conversions"]
    # abs=0.05: totals and the channel's revenue are each rounded to cents
    assert world.truth.total_revenue - without.truth.total_revenue == pytest.approx(t.loc[channel, "revenue"], abs=0.05)
    # the other conversions are the very same events
    ev, causes = world.events, world.truth.causes
    kept = causes.loc[causes["cause"] != channel, "row"].to_numpy()
    a = ev.iloc[kept][["user_id", "timestamp", "revenue"]].sort_values(["user_id", "timestamp", "revenue"])
    w = without.events
    b = w[w["event"] == "conversion"][["user_id", "timestamp", "revenue"]].sort_values(["user_id", "timestamp", "revenue"])
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True))
    # and the other channels' truth is unchanged
    u = without.truth.table.set_index("channel")
    others = [c for c in CHANNELS if c != channel]
    pd.testing.assert_series_equal(t.loc[others, "conversions"], u.loc[others, "conversions"])


def test_realised_truth_is_close_to_its_expectation():
    """Caused conversions are Poisson given the touches: within 4 standard deviations of the expectation."""
    t = Simulation(n_users=3000).run(seed=2).truth.table
    exp, got = t["expected_conversions"].to_numpy(), t["conversions"].to_numpy()
    assert (np.abs(got - exp) <= 4 * np.sqrt(np.maximum(exp, 1.0))).all()
    assert abs(got.sum() - exp.sum()) <= 4 * np.sqrt(exp.sum())


def test_expected_truth_scales_with_effect():
    """The expectation is linear in the effect per touch (touches do not depend on effects)."""
    a = Simulation(**SMALL).run(seed=9).truth.table.set_index("channel")
    b = Simulation(**SMALL, effect={"email": 2 * Simulation().effect["email"]}).run(seed=9).truth.table.set_index("channel")
    # approx (rel 1e-6): expectations computed in floats from the same draws
    assert b.loc["email", "expected_conversions"] == pytest.approx(2 * a.loc["email", "expected_conversions"])
    assert b.loc["paid_search", "expected_conversions"] == pytest.approx(a.loc["paid_search", "expected_conversions"])


# ---------------------------------------------------------------------------------------------- traps
def test_targeting_puts_targeted_touches_on_buyers():
    """With targeting, a larger share of paid-search touches lands on users who convert."""

    def buyer_share(targeting):
        ev = Simulation(n_users=3000, targeting=targeting).run(seed=4).events
        buyers = set(ev.loc[ev["event"] == "conversion", "user_id"])
        ps = ev[(ev["event"] == "touch") & (ev["channel"] == "paid_search")]
        return ps["user_id"].isin(buyers).mean()

    assert buyer_share(2.0) > buyer_share(0.0) + 0.05


def test_navigational_touches_are_extra_and_causeless():
    """Navigational touches add one touch per conversion, just before it, and change no truth."""
    off = Simulation(**SMALL, navigational=0.0).run(seed=6)
    on = Simulation(**SMALL, navigational=1.0).run(seed=6)
    n_touch = lambda ev: int((ev["event"] == "touch").sum())  # noqa: E731
    assert n_touch(on.events) - n_touch(off.events) == on.truth.total_conversions
    pd.testing.assert_frame_equal(on.truth.table.drop(columns="touches"), off.truth.table.drop(columns="touches"))
    # every conversion is preceded within a day by a direct or paid-search touch
    ev = on.events
    conv = ev[ev["event"] == "conversion"]
    nav = ev[(ev["event"] == "touch") & ev["channel"].isin(["direct", "paid_search"])]
    m = pd.merge_asof(conv.sort_values("timestamp"), nav.sort_values("timestamp")[["user_id", "timestamp", "channel"]]
                      .rename(columns={"timestamp": "nav_time"}), left_on="timestamp", right_on="nav_time",
                      by="user_id", direction="backward")
    assert ((m["timestamp"] - m["nav_time"]) < pd.Timedelta(days=1)).all()


# ---------------------------------------------------------------------------------------------- funnel
def test_milestones_precede_first_conversion(world):
    ev = world.events
    first_conv = ev[ev["event"] == "conversion"].groupby("user_id")["timestamp"].min()
    lead = ev[ev["event"] == "lead"].groupby("user_id")["timestamp"].agg(["min", "size"])
    qual = ev[ev["event"] == "qualified"].groupby("user_id")["timestamp"].agg(["min", "size"])
    assert (lead["size"] == 1).all() and (qual["size"] == 1).all()
    assert qual.index.isin(lead.index).all()  # qualified only after being a lead
    assert (qual["min"] >= lead.loc[qual.index, "min"]).all()
    converting_leads = lead.index.intersection(first_conv.index)
    assert (lead.loc[converting_leads, "min"] <= first_conv[converting_leads]).all()
    converting_qual = qual.index.intersection(first_conv.index)
    assert (qual.loc[converting_qual, "min"] <= first_conv[converting_qual]).all()
    # most converters were leads first (lead_rate 0.85, about 400 converters: 4 sd ≈ 0.07), some leads never buy
    assert abs(first_conv.index.isin(lead.index).mean() - 0.85) < 0.07
    assert (~lead.index.isin(first_conv.index)).sum() > 0


def test_repeat_conversions_and_revenue(world):
    conv = world.events[world.events["event"] == "conversion"]
    per_user = conv.groupby("user_id").size()
    assert (per_user >= 2).sum() > 0
    assert (per_user == 1).sum() > (per_user >= 2).sum()
    # lognormal revenue with mean 120: the sample mean is within 5 standard errors
    se = conv["revenue"].std() / np.sqrt(len(conv))
    assert abs(conv["revenue"].mean() - 120.0) < 5 * se
    assert (conv["revenue"] == conv["revenue"].round(2)).all()


# ---------------------------------------------------------------------------------------------- spend
def test_spend_is_touches_times_cost(world):
    ev = world.events
    spend = make_spend(ev, start="2026-01-01", days=90)
    assert list(spend.columns) == ["date", "channel", "campaign", "cost_type", "spend"]
    assert spend["date"].nunique() == 90
    media = spend[spend["cost_type"] == "media"].groupby("channel")["spend"].sum()
    touches = ev[ev["event"] == "touch"].groupby("channel").size()
    assert set(media.index) == set(DEFAULT_COSTS)
    for channel, cost in DEFAULT_COSTS.items():
        # abs: spend is rounded to cents per day and campaign (90 days x 3 campaigns)
        assert media[channel] == pytest.approx(touches[channel] * cost, abs=0.01 * 90 * 3)
    assert not spend["channel"].isin(["direct", "organic_search"]).any()
    tools = spend[spend["cost_type"] == "tools"]
    assert (tools["channel"] == "email").all() and len(tools) == 90
    # per day and campaign too
    day = ev["timestamp"].dt.floor("D")
    brand = ev[(ev["channel"] == "paid_search") & (ev["campaign"] == "brand")].groupby(day).size()
    sb = spend[(spend["channel"] == "paid_search") & (spend["campaign"] == "brand")].set_index("date")["spend"]
    # allclose default (rtol 1e-7): spend rounded to cents vs counts x cost
    np.testing.assert_allclose(sb.loc[brand.index].to_numpy(), brand.to_numpy() * DEFAULT_COSTS["paid_search"])


# ---------------------------------------------------------------------------------------------- parameters
@pytest.mark.parametrize("params, name", [
    (dict(n_users=0), "n_users"),
    (dict(effect={"email": -0.1}), "effect"),
    (dict(decay_days={"social": 0}), "decay_days"),
    (dict(navigational=1.5), "navigational"),
    (dict(targeted_channels=("tv",)), "targeted_channels"),
    (dict(channels=("email", "tv")), "touch_rate"),
    (dict(start="not a date"), "start"),
    (dict(timing={"display": (0, 3)}), "timing"),
])
def test_bad_parameters_raise_one_clear_message(params, name):
    with pytest.raises(ParameterError, match=f"The '{name}' parameter of Simulation must be"):
        Simulation(**params)


def test_custom_channels():
    sim = Simulation(n_users=300, channels=("tv", "radio"), touch_rate={"tv": 2, "radio": 1},
                     timing={"tv": (1, 5), "radio": (2, 5)}, effect={"tv": 0.1, "radio": 0.0},
                     decay_days={"tv": 3, "radio": 3}, campaigns={"tv": {"spot": 1}, "radio": {None: 1}},
                     targeted_channels=(), navigational_channels={"tv": 1})
    events, truth = sim.run(seed=1)
    assert set(events.loc[events["event"] == "touch", "channel"]) == {"tv", "radio"}
    assert truth.table.set_index("channel").loc["radio", "conversions"] == 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 120), nav=st.floats(0, 1), tg=st.floats(0, 3))
def test_invariants_hold_for_any_seed(seed, n, nav, tg):
    events, truth = Simulation(n_users=n, navigational=nav, targeting=tg).run(seed=seed)
    conv = events["event"] == "conversion"
    assert truth.table["conversions"].sum() + truth.baseline_conversions == conv.sum()
    assert (truth.table["conversions"] >= 0).all()
    assert events["user_id"].nunique() <= n
    if len(events):
        Events.from_frame(events)


def test_poisson_inverse_cdf_matches_scipy():
    """The round-by-round inverse CDF equals scipy's Poisson ppf (the reference), edge values included."""
    from scipy import stats

    from attribution.sim.simulate import _poisson_inverse_cdf

    rng = np.random.default_rng(0)
    u = np.concatenate([rng.random(50_000), [1e-300, np.nextafter(1.0, 0.0)]])
    lam = np.concatenate([rng.uniform(0, 5, 50_000), [0.01, 30.0]])
    np.testing.assert_array_equal(_poisson_inverse_cdf(u, lam), stats.poisson.ppf(u, lam).astype(np.int64))


def test_hash_uniforms_are_uniform_and_keyed():
    from attribution.sim.simulate import _hash_uniform

    idx = np.arange(200_000, dtype=np.uint64)
    u = _hash_uniform(np.uint64(12345), idx)
    assert (u > 0).all() and (u < 1).all()
    # Kolmogorov-Smirnov against U(0, 1): the statistic's 0.1% critical value is 1.95 / sqrt(n)
    s = np.sort(u)
    ks = np.max(np.maximum(np.arange(1, s.size + 1) / s.size - s, s - np.arange(s.size) / s.size))
    assert ks < 1.95 / np.sqrt(s.size)
    np.testing.assert_array_equal(u[5:10], _hash_uniform(np.uint64(12345), idx[5:10]))  # keyed by index
    assert not np.array_equal(u[:10], _hash_uniform(np.uint64(54321), idx[:10]))
