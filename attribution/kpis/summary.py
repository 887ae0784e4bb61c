"""The run summary and the warnings about what it counts, written once for every engine.

A run in memory counts its one event log with :func:`run_counts`; a partitioned run counts each user partition
the same way and adds the counts up with :func:`merge_counts`. Both then end in :func:`finalise_counts`, which
warns about what the counts show (a conversion event or lead milestone with no rows, spend channels that no
touch names) and returns the run summary, so that the two paths give the same warnings and the same summary.
"""

from __future__ import annotations

import warnings

from attribution.exceptions import option
from attribution.io.events import Events
from attribution.journeys.journeys import Journeys

#: the additive counts of :func:`run_counts`, summed by :func:`merge_counts`
SUMMED = ("rows", "journeys", "touches", "conversions", "touchless_conversions", "revenue")


def run_counts(events: Events, journeys: Journeys, event_counts: dict | None = None,
               lead_journeys: Journeys | None = None) -> dict:
    """The additive counts of a run summary: rows and events read, rows dropped, journeys, touches, conversions
    (touchless ones apart) and revenue, and the channels on a touch (of ``journeys`` and ``lead_journeys``).
    Partitioned engines add them up over partitions (:func:`merge_counts`)."""
    channels = set(map(str, journeys.channel_names))
    if lead_journeys is not None:
        channels |= set(map(str, lead_journeys.channel_names))
    return {
        "rows": events.num_rows,
        "events": event_counts if event_counts is not None else events.event_counts(),
        "dropped": dict(events.dropped),
        "journeys": journeys.n_journeys,
        "touches": journeys.n_touches,
        "conversions": journeys.total_conversions,
        "touchless_conversions": float(journeys.conversions[journeys.touchless()].sum()),
        "revenue": journeys.total_revenue,
        "channels": sorted(channels),
    }


def merge_counts(parts) -> dict:
    """:func:`run_counts` of user-disjoint partitions added up (empty partitions, ``{}``, skipped); event names
    sorted, as :meth:`Events.event_counts` sorts them."""
    total: dict = {"rows": 0, "events": {}, "dropped": {}, "journeys": 0, "touches": 0, "conversions": 0.0,
                   "touchless_conversions": 0.0, "revenue": 0.0, "channels": set()}
    for c in parts:
        if not c:
            continue
        for k in SUMMED:
            total[k] += c[k]
        for k, v in c["events"].items():
            total["events"][k] = total["events"].get(k, 0) + v
        for k, v in c["dropped"].items():
            total["dropped"][k] = total["dropped"].get(k, 0) + v
        total["channels"] |= set(c.get("channels", ()))
    total["events"] = dict(sorted(total["events"].items(), key=lambda kv: str(kv[0])))
    total["channels"] = sorted(total["channels"])
    return total


def warn_counts(counts: dict, *, conversion_events=(), lead_event: str | None = None, spend=None) -> None:
    """Warn about what a run's counts show: conversion events or the lead milestone without rows, spend
    channels that appear on no touch (kept: they get rows with spend and no credit, but a typo is the usual
    cause)."""
    events = counts["events"]
    missing = [e for e in conversion_events if e not in events]
    if missing and counts["rows"]:
        warnings.warn(
            f"no rows with conversion event {', '.join(map(repr, missing))}; event names in the log: "
            f"{', '.join(map(repr, list(events)[:10]))}. Use {option('conversion-event', 'NAME')}.",
            UserWarning, stacklevel=3,
        )
    if lead_event is not None and lead_event not in events:
        warnings.warn(f"no rows with milestone event {lead_event!r}: every channel gets 0 leads.", UserWarning,
                      stacklevel=3)
    if spend is not None:
        known = set(counts.get("channels", ()))
        unseen = sorted(set(spend.frame["channel"].astype(str)) - known)
        if unseen:
            warnings.warn(
                f"spend channel(s) {', '.join(map(repr, unseen[:10]))}{', ...' if len(unseen) > 10 else ''} never "
                f"appear on a touch of the event log: they get rows with spend and no credit. Check the spelling "
                f"(log channels: {', '.join(sorted(known)[:12])}).", UserWarning, stacklevel=3)


def run_summary(counts: dict, *, files: int, conversion_events) -> dict:
    """The run summary of (merged) counts: files, rows, events per name, rows of other events (``ignored``),
    dropped rows per reason, journeys, touches, conversions, touchless conversions and revenue (and
    ``ids_merged`` when identities were stitched)."""
    known = {"touch", *conversion_events}
    summary = {"files": files, **{k: counts[k] for k in ("rows", "events")},
               "ignored": sum(v for k, v in counts["events"].items() if k not in known),
               **{k: counts[k] for k in ("dropped", "journeys", "touches", "conversions", "touchless_conversions",
                                         "revenue")}}
    if counts.get("ids_merged") is not None:
        summary["ids_merged"] = counts["ids_merged"]
    return summary


def finalise_counts(counts: dict, *, files: int, conversion_events, lead_event: str | None = None,
                    spend=None) -> dict:
    """The one end of every run's counting: :func:`warn_counts`, then :func:`run_summary`."""
    warn_counts(counts, conversion_events=conversion_events, lead_event=lead_event, spend=spend)
    return run_summary(counts, files=files, conversion_events=conversion_events)
