"""The additive counts of a run summary (rows, events, journeys, conversions), summed over partitions."""

from __future__ import annotations

from attribution.io.events import Events
from attribution.journeys.journeys import Journeys


def run_counts(events: Events, journeys: Journeys, event_counts: dict | None = None) -> dict:
    """The additive counts of a run summary: rows and events read, rows dropped, journeys, touches, conversions
    (touchless ones apart) and revenue. Partitioned engines add them up over partitions."""
    return {
        "rows": events.num_rows,
        "events": event_counts if event_counts is not None else events.event_counts(),
        "dropped": dict(events.dropped),
        "journeys": journeys.n_journeys,
        "touches": journeys.n_touches,
        "conversions": journeys.total_conversions,
        "touchless_conversions": float(journeys.conversions[journeys.touchless()].sum()),
        "revenue": journeys.total_revenue,
    }
