"""Shared test helpers (importable as ``testkit``: pytest puts tests/ on sys.path, see pyproject).

Tiny event logs written as rows, journeys built the way the engine builds them."""

from __future__ import annotations

import pandas as pd
from attribution.io.events import Events
from attribution.journeys.pathoptions import apply_path_options
from attribution.journeys.journeys import Journeys

DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-03-01 12:00:00")


def events_frame(rows) -> pd.DataFrame:
    """Rows ``(user, day_offset, event, channel[, revenue])`` → canonical event frame (day offsets from T0)."""
    out = []
    for r in rows:
        user, day, event, channel = r[:4]
        revenue = r[4] if len(r) > 4 else None
        out.append({"user_id": user, "timestamp": T0 + pd.to_timedelta(day, unit="D"), "event": event,
                    "channel": channel, "revenue": revenue})
    frame = pd.DataFrame(out, columns=["user_id", "timestamp", "event", "channel", "revenue"])
    frame["revenue"] = frame["revenue"].astype(float)
    return frame


def journeys_of(rows, path_options=None, **kwargs) -> Journeys:
    """Journeys of hand-written rows (``Journeys.from_events`` keywords), ``path_options`` applied."""
    return apply_path_options(Journeys.from_events(Events.from_frame(events_frame(rows)), **kwargs), path_options)


def paths_of(journeys: Journeys) -> list[tuple[tuple[str, ...], float, float]]:
    """Every journey as (channel tuple, conversions, revenue), in journey order."""
    names = journeys.channel_names
    out = []
    for j in range(journeys.n_journeys):
        chans = tuple(str(names[c]) for c in journeys.touch_channel[journeys.offsets[j]:journeys.offsets[j + 1]])
        out.append((chans, float(journeys.conversions[j]), float(journeys.revenue[j])))
    return out


def credit(table: pd.DataFrame, model: str, column: str = "conversions") -> dict[str, float]:
    """{channel: credit} of one model in a tidy result table, channels with zero credit left out."""
    rows = table[table["model"] == model]
    return {str(c): float(v) for c, v in zip(rows["channel"], rows[column]) if abs(v) > 0}
