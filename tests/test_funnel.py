"""SPEC 4 funnel summary on a hand-computed log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution.io.events import Events
from attribution.exceptions import ParameterError
from attribution.kpis.funnel import funnel_frame

# u1: email 01-01, lead 01-02, qualified 01-03, won 01-04, conversion 01-05 (100), conversion 01-20 (50)
# u2: search 01-01, lead 01-02, lost 01-03
# u3: search 01-10, conversion 01-13 (30)          (no lead or qualified row: reaches both through conversion)
# u4: email 01-01, nothing else
# u5: a lone conversion 01-07 (20)                 (no touch: lead source (none), no days to convert)
# u6: a page view (an event of another name) only  (a visitor all the same)
ROWS = [
    ("u1", "2026-01-01", "touch", "email", None, "spring"), ("u1", "2026-01-02", "lead", None, None, None),
    ("u1", "2026-01-03", "qualified", None, None, None), ("u1", "2026-01-04", "won", None, None, None),
    ("u1", "2026-01-05", "conversion", None, 100.0, None), ("u1", "2026-01-20", "conversion", None, 50.0, None),
    ("u2", "2026-01-01", "touch", "search", None, "brand"), ("u2", "2026-01-02", "lead", None, None, None),
    ("u2", "2026-01-03", "lost", None, None, None),
    ("u3", "2026-01-10", "touch", "search", None, None), ("u3", "2026-01-13", "conversion", None, 30.0, None),
    ("u4", "2026-01-01", "touch", "email", None, "spring"),
    ("u5", "2026-01-07", "conversion", None, 20.0, None),
    ("u6", "2026-01-08", "page_view", None, None, None),
]


@pytest.fixture
def events():
    frame = pd.DataFrame(ROWS, columns=["user_id", "timestamp", "event", "channel", "revenue", "campaign"])
    frame["timestamp"] = frame["timestamp"] + "T00:00:00Z"
    return Events.from_frame(frame)


def seg(frame, by, segment):
    r = frame[(frame["by"] == by) & (frame["segment"] == segment)]
    assert len(r) == 1
    return r.iloc[0]


def test_overall_funnel(events):
    """users 6; leads: u1, u2 (rows) + u3, u5 (customers) = 4 → rate 4/6; qualified: u1 + u3, u5 = 3 → 3/4;
    customers u1, u3, u5 = 3 → 3/3; repeat: u1 → 1/3; days to convert: u1 4, u3 3 (u5 has no touch) → median
    3.5, mean 3.5; revenue 200 → 200/3 per customer, 200/4 per lead; won 1, lost 1 → win rate 0.5."""
    f = funnel_frame(events, milestone_events=["lead", "qualified"], won_event="won", lost_event="lost")
    assert list(f.columns) == [
        "by", "segment", "users", "lead", "lead_rate", "qualified", "qualified_rate", "customers", "customer_rate",
        "repeat_customers", "repeat_rate", "days_to_convert_median", "days_to_convert_mean", "revenue",
        "revenue_per_customer", "revenue_per_lead", "won", "lost", "win_rate"]
    a = seg(f, "all", "all")
    assert a[["users", "lead", "qualified", "customers", "repeat_customers", "won", "lost"]].tolist() == [
        6, 4, 3, 3, 1, 1, 1]
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert a[["lead_rate", "qualified_rate", "customer_rate", "repeat_rate"]].tolist() == pytest.approx(
        [4 / 6, 3 / 4, 1.0, 1 / 3])
    assert a[["days_to_convert_median", "days_to_convert_mean", "revenue", "revenue_per_customer",
              "revenue_per_lead", "win_rate"]].tolist() == pytest.approx([3.5, 3.5, 200.0, 200 / 3, 50.0, 0.5])


def test_by_lead_source_and_campaign(events):
    """Lead source = first touch's channel: email {u1, u4}, search {u2, u3}, (none) {u5, u6}. email: 2 users, 1
    lead, 1 customer, revenue 150, won 1 lost 0 → win rate 1; search: 2 users, 2 leads, 1 customer (u3, 3 days),
    lost 1 → win rate 0; (none): u5 converts without a touch → days null. Campaign: spring {u1, u4}, brand {u2},
    (none) {u3, u5, u6}."""
    f = funnel_frame(events, milestone_events=["lead"], won_event="won", lost_event="lost")
    assert list(f["by"]) == ["all"] + ["lead_source"] * 3 + ["campaign"] * 3
    assert list(f["segment"]) == ["all", "(none)", "email", "search", "(none)", "brand", "spring"]
    e = seg(f, "lead_source", "email")
    assert e[["users", "lead", "customers", "revenue", "won", "lost", "win_rate"]].tolist() == [2, 1, 1, 150, 1, 0, 1]
    s = seg(f, "lead_source", "search")
    assert s[["users", "lead", "customers", "days_to_convert_mean", "win_rate"]].tolist() == [2, 2, 1, 3.0, 0.0]
    n = seg(f, "lead_source", "(none)")
    assert n["customers"] == 1 and np.isnan(n["days_to_convert_median"]) and np.isnan(n["win_rate"])
    assert seg(f, "campaign", "(none)")["users"] == 3 and seg(f, "campaign", "spring")["revenue"] == 150


def test_without_milestones_or_outcomes(events):
    f = funnel_frame(events)
    assert "win_rate" not in f.columns and "revenue_per_lead" not in f.columns
    # approx (rel 1e-6): hand-computed values; the float arithmetic is off by a few ulps at most
    assert seg(f, "all", "all")["customer_rate"] == pytest.approx(3 / 6)


def test_bad_milestone_names(events):
    with pytest.raises(ParameterError, match="must be distinct"):
        funnel_frame(events, milestone_events=["lead", "lead"])
    with pytest.raises(ParameterError, match="must be distinct"):
        funnel_frame(events, milestone_events=["conversion"])


def test_cohorts_by_first_row(events):
    """--period week: u1, u2, u4 first appear on Thursday 2026-01-01 (week of Monday 2025-12-29), u5 and u6 on
    01-07 and 01-08 (week of 01-05), u3 on 01-10 (same week). Cohort 2025-12-29: u1, u2, u4 → 1 customer (u1);
    cohort 2026-01-05: u3, u5, u6 → 2 customers (u3, u5)."""
    f = funnel_frame(events, milestone_events=["lead"], period="week")
    cohorts = f[f["by"] == "cohort"]
    assert cohorts["segment"].tolist() == ["2025-12-29", "2026-01-05"]
    assert cohorts["users"].tolist() == [3, 3] and cohorts["customers"].tolist() == [1, 2]
    assert cohorts["users"].sum() == seg(f, "all", "all")["users"]
    with pytest.raises(ParameterError, match="'period' option"):
        funnel_frame(events, period="year")
