"""The BI fact table (conversion × touch × model): weights sum to 1, credits equal the summary table's."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.kpis.detail import DETAIL_COLUMNS, detail_frame
from attribution.io.events import Events
from attribution.exceptions import ParameterError
from attribution.journeys.journeys import Journeys
from attribution.models import parse_model_spec
from attribution.runner import run
from kpikit import EVENTS, write_inputs

# kpikit's spend has a channel (tv) absent from the log on purpose; its warning is tested once
pytestmark = pytest.mark.filterwarnings("ignore:spend channel")

SPECS = ["linear", "first_touch", "last_touch", "time_decay:half_life=1d", "position_based", "last_non_direct"]


def fit(j, specs=SPECS):
    return [parse_model_spec(s).fit(j) for s in specs]


def test_columns_and_rows_of_the_hand_made_log():
    """a's conversion has 2 touches, b's 1, d's none (one (none) row): 4 rows per model, ids 1..3 in user order."""
    j = Journeys.from_events(Events.from_frame(EVENTS))
    d = detail_frame(fit(j, ["linear"]), j)
    assert list(d.columns) == DETAIL_COLUMNS
    assert d["conversion_id"].tolist() == [1, 1, 2, 3]
    assert d["user_id"].tolist() == ["a", "a", "b", "d"]
    assert d["channel"].tolist() == ["email", "search", "search", "(none)"]
    assert d["campaign"].tolist()[:2] == ["spring", "brand"] and d["campaign"].iloc[2:].isna().all()
    assert d["position"].tolist() == [1, 2, 1, 0] and d["path_length"].tolist() == [2, 2, 1, 0]
    assert d["weight"].tolist() == [0.5, 0.5, 1.0, 1.0]
    assert d["attributed_revenue"].tolist() == [50.0, 50.0, 50.0, 10.0]
    assert d["conversion_date"].tolist() == [datetime.date(2026, 2, 1)] * 2 + [datetime.date(2026, 1, 12),
                                                                               datetime.date(2026, 1, 20)]
    assert d["touch_date"].iloc[0] == datetime.date(2026, 1, 30) and d["touch_date"].iloc[3] is None
    assert str(d["conversion_ts"].iloc[0]) == "2026-02-01 12:00:00+00:00" and pd.isna(d["touch_ts"].iloc[3])


def check_against_summary(detail, table):
    sums = detail.groupby(["model", "conversion_id"])["weight"].sum()
    # rtol=1e-12: per-touch weights summed per conversion (a few ulps)
    np.testing.assert_allclose(sums.to_numpy(), 1.0, rtol=1e-12)
    credit = detail.groupby(["model", "channel"])[["attributed_conversions", "attributed_revenue"]].sum()
    summary = table.set_index(["model", "channel"])[["conversions", "revenue"]]
    summary = summary[(summary["conversions"] != 0) | (summary["revenue"] != 0)]
    got = credit.reindex(summary.index).fillna(0.0).to_numpy()
    # 1e-9: fact rows summed back vs the fitted credit; raked Markov weights meet it to the float floor
    np.testing.assert_allclose(got, summary.to_numpy(), rtol=1e-9, atol=1e-9)
    extra = credit.drop(index=summary.index, errors="ignore")
    assert (extra.abs().to_numpy() < 1e-12).all()


def test_weights_sum_to_one_and_credits_equal_the_summary(tmp_path):
    events, spend = write_inputs(tmp_path)
    result = run([str(events)], models=SPECS, spend=str(spend))
    check_against_summary(detail_frame(result.models, result.journeys, result.events), result.table)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 40), st.sampled_from(["t", "t", "c"]),
                          st.sampled_from(["x", "y", "z", "direct"]), st.floats(0, 100)), min_size=1, max_size=40))
def test_property_credits_match_on_random_logs(rows):
    frame = pd.DataFrame({
        "user_id": [f"u{r[0]}" for r in rows],
        "timestamp": [pd.Timestamp("2026-01-01", tz="UTC") + pd.Timedelta(hours=r[1] * 7) for r in rows],
        "event": ["touch" if r[2] == "t" else "conversion" for r in rows],
        "channel": [r[3] if r[2] == "t" else None for r in rows],
        "revenue": [r[4] if r[2] == "c" else None for r in rows],
    })
    j = Journeys.from_events(Events.from_frame(frame))
    models = fit(j)
    from attribution.kpis.result import attribution_frame

    check_against_summary(detail_frame(models, j), attribution_frame(models))


def test_conversion_id_from_the_log():
    ev = EVENTS.assign(conversion_id=[None, None, None, "order-9", None, None, "order-7", None, None, "order-8"])
    events = Events.from_frame(ev)
    j = Journeys.from_events(events)
    d = detail_frame(fit(j, ["last_touch"]), j, events)
    assert d["conversion_id"].tolist() == ["order-9", "order-9", "order-7", "order-8"]


def test_path_tables_have_no_detail(tmp_path):
    paths = tmp_path / "p.csv"
    pd.DataFrame({"path": ["a > b"], "conversions": [1.0], "nulls": [0.0]}).to_csv(paths, index=False)
    result = run([str(paths)], models=["linear"], input="paths")
    with pytest.raises(ParameterError, match="detail needs an event log"):
        detail_frame(result.models, result.journeys)


def test_json_detail_has_iso_dates_and_timestamps(tmp_path):
    """JSON has no date type: dates as 2026-01-31, instants as ISO-8601 UTC, a touchless row's touch as null."""
    import json

    from attribution.io.export import write_table

    j = Journeys.from_events(Events.from_frame(EVENTS))
    path = tmp_path / "detail.json"
    write_table(detail_frame(fit(j, ["linear"]), j), str(path))
    rows = json.loads(path.read_text())
    assert rows[0]["conversion_ts"] == "2026-02-01T12:00:00.000000Z" and rows[0]["conversion_date"] == "2026-02-01"
    assert rows[-1]["channel"] == "(none)" and rows[-1]["touch_ts"] is None and rows[-1]["touch_date"] is None
