"""A tiny hand-computable log and spend table shared by the KPI, detail, SQL and CLI tests (importable as kpikit).

Users (all timestamps UTC):

- ``a``: email 2026-01-30 00:00, search 2026-01-31 00:00, lead 2026-01-31 06:00, conversion 2026-02-01 12:00
  (revenue 100);
- ``b``: search 2026-01-10, lead 2026-01-11, conversion 2026-01-12 (revenue 50);
- ``c``: email 2026-01-05, display 2026-01-06, no conversion;
- ``d``: a touchless conversion 2026-01-20 (revenue 10).

Spend: email 10 (2026-01-15), search 20 (2026-01-20) and 30 (2026-02-02), tv 5 (2026-02-03): tv never
appears in the log.
"""

from __future__ import annotations

import pandas as pd

EVENTS = pd.DataFrame(
    [
        ("a", "2026-01-30T00:00:00Z", "touch", "email", None, "spring"),
        ("a", "2026-01-31T00:00:00Z", "touch", "search", None, "brand"),
        ("a", "2026-01-31T06:00:00Z", "lead", None, None, None),
        ("a", "2026-02-01T12:00:00Z", "conversion", None, 100.0, None),
        ("b", "2026-01-10T00:00:00Z", "touch", "search", None, None),
        ("b", "2026-01-11T00:00:00Z", "lead", None, None, None),
        ("b", "2026-01-12T00:00:00Z", "conversion", None, 50.0, None),
        ("c", "2026-01-05T00:00:00Z", "touch", "email", None, "spring"),
        ("c", "2026-01-06T00:00:00Z", "touch", "display", None, None),
        ("d", "2026-01-20T00:00:00Z", "conversion", None, 10.0, None),
    ],
    columns=["user_id", "timestamp", "event", "channel", "revenue", "campaign"],
)

SPEND = pd.DataFrame({
    "channel": ["email", "search", "tv", "search"],
    "spend": [10.0, 20.0, 5.0, 30.0],
    "date": ["2026-01-15", "2026-01-20", "2026-02-03", "2026-02-02"],
})


def write_inputs(tmp_path):
    """The log as Parquet and the spend as CSV; returns (events_path, spend_path)."""
    events = tmp_path / "events.parquet"
    spend = tmp_path / "spend.csv"
    EVENTS.to_parquet(events, index=False)
    SPEND.to_csv(spend, index=False)
    return events, spend


def row(table: pd.DataFrame, model: str, channel: str, period=None) -> pd.Series:
    """The one row of ``model`` × ``channel`` (× period, a 'YYYY-MM-DD' string)."""
    mask = (table["model"] == model) & (table["channel"] == channel)
    if period is not None:
        mask &= table["period"].astype(str) == period
    rows = table[mask]
    assert len(rows) == 1, f"{len(rows)} rows for {model}/{channel}/{period}"
    return rows.iloc[0]
