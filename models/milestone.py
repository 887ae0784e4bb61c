"""Milestone (funnel-position) models: U-shaped, W-shaped and full path, as B2B attribution tools define them.

Each gives fixed shares to a journey's *milestone touches* and spreads the rest equally over its other touches:

============  =====================================================  ==========
model         milestone touches and their shares                     the rest
============  =====================================================  ==========
``u_shaped``  first touch 0.4, lead-creation touch 0.4               0.2
``w_shaped``  first 0.3, lead 0.3, opportunity creation 0.3          0.1
``full_path`` first 0.225, lead 0.225, opportunity 0.225, won 0.225  0.1
============  =====================================================  ==========

A milestone touch is the last touch of the journey at or before the milestone's first occurrence in it
(:mod:`attribution.journeys.milestones`). Rules, applied to every journey at once:

- **missing milestone** (the event is not in the journey, or no touch is at or before it): its share is left
  out and the shares present are renormalised to 1 (u_shaped without a lead: first touch 0.4/0.6 = 2/3, the
  other touches 1/3 together) — the model degrades to position-based weights over the positions present;
- **coinciding milestones** (the first touch is also the lead touch, ...): that touch gets every share it holds
  (u_shaped: 0.8, the other touches 0.2 together);
- **no other touch**: the rest share is redistributed to the milestone touches in proportion to their shares
  (a one-touch journey gives its touch 1).

Which events are the milestones: the ``lead``, ``opportunity`` and ``closed_won`` parameters name them; left
out, they are the run's ``--milestone-event`` names in the order given (lead = the first, opportunity = the
second, closed-won = the third), and closed-won is the conversion itself (its touch: the journey's last touch)
when fewer are configured. A conversion event's name also names the conversion.

References
----------
.. [1] HubSpot, "Understand attribution reporting" (U-shaped, W-shaped, full path).
.. [2] Marketo Measure (Bizible), "Attribution models": U-shaped 40/40/20, W-shaped 30/30/30/10, full path
   22.5 x 4 / 10.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from attribution.journeys.journeys import Journeys
from attribution.journeys.milestones import milestone_touch

from attribution.models.base import TouchWeightModel


def milestone_weights(journeys: Journeys, touches, shares, rest: float) -> np.ndarray:
    """Per-touch weights from milestone touches (flat index per journey, -1 = missing) and their shares.

    A touch gets the sum of the shares of the present milestones at it; the other touches of its journey share
    ``rest`` equally; each journey's weights are then divided by their sum (present shares, plus ``rest`` when
    the journey has other touches). Vectorised: one pass per milestone, none per journey.
    """
    n_t, n_j = journeys.n_touches, journeys.n_journeys
    at = np.zeros(n_t)
    present = np.zeros(n_j)
    for idx, share in zip(touches, shares):
        ok = idx >= 0
        np.add.at(at, idx[ok], share)
        present[ok] += share
    jid = journeys.touch_journey
    is_mile = at > 0
    others = journeys.lengths - np.bincount(jid, is_mile, minlength=n_j).astype(np.int64)
    total = present + np.where(others > 0, rest, 0.0)
    total[total <= 0] = 1.0  # touchless journeys only (the first touch is always present)
    w = np.where(is_mile, at, rest / np.maximum(others, 1)[jid])
    return w / total[jid]


class MilestoneModel(TouchWeightModel):
    """Base of the milestone models: ``roles`` (first, lead, opportunity, closed_won) with ``shares``."""

    journey_local = True  # a journey's weights depend on its own touches and milestone times
    roles: ClassVar[tuple[str, ...]] = ()
    shares: ClassVar[tuple[float, ...]] = ()
    rest: ClassVar[float] = 0.0

    def _names(self, lead=None, opportunity=None, closed_won=None):
        for key, value in (("lead", lead), ("opportunity", opportunity), ("closed_won", closed_won)):
            self._check(key, value, value is None or (isinstance(value, str) and value.strip() != ""),
                        "an event name")
        self.lead, self.opportunity, self.closed_won = lead, opportunity, closed_won

    def milestone_events(self) -> list[str]:
        """The event names this model's parameters name (the journeys must carry their times)."""
        return [getattr(self, r) for r in self.roles if r != "first" and getattr(self, r, None) is not None]

    def resolved(self, journeys: Journeys) -> dict:
        """Role → event name (None = the conversion) for ``journeys``: parameters, else the configured order."""
        configured = list(journeys.meta.get("milestone_events", ()))
        out = {}
        for i, role in enumerate(("lead", "opportunity", "closed_won")):
            name = getattr(self, role, None)
            out[role] = name if name is not None else (configured[i] if i < len(configured) else None)
        if getattr(self, "closed_won", None) is None and len(configured) < 3:
            out["closed_won"] = None
        return out

    def touch_weights(self, journeys: Journeys) -> np.ndarray:
        names = self.resolved(journeys)
        first = np.where(journeys.lengths > 0, journeys.offsets[:-1], -1)
        touches = []
        for role in self.roles:
            if role == "first":
                touches.append(first)
            elif role != "closed_won" and names[role] is None:
                touches.append(np.full(journeys.n_journeys, -1, np.int64))  # no lead / opportunity configured
            else:
                touches.append(milestone_touch(journeys, names[role]))
        return milestone_weights(journeys, touches, self.shares, self.rest)


class UShaped(MilestoneModel):
    """First touch and lead-creation touch 40% each, 20% over the other touches (see the module notes).

    Parameters
    ----------
    lead : str, optional
        The lead-creation event (default: the first ``--milestone-event``).
    """

    name = "u_shaped"
    roles = ("first", "lead")
    shares = (0.4, 0.4)
    rest = 0.2

    def __init__(self, lead=None):
        self._names(lead=lead)


class WShaped(MilestoneModel):
    """First touch, lead creation and opportunity creation 30% each, 10% over the other touches.

    Parameters
    ----------
    lead, opportunity : str, optional
        The events (default: the first and second ``--milestone-event``).
    """

    name = "w_shaped"
    roles = ("first", "lead", "opportunity")
    shares = (0.3, 0.3, 0.3)
    rest = 0.1

    def __init__(self, lead=None, opportunity=None):
        self._names(lead=lead, opportunity=opportunity)


class FullPath(MilestoneModel):
    """First touch, lead, opportunity and closed-won touches 22.5% each, 10% over the other touches.

    Parameters
    ----------
    lead, opportunity : str, optional
        The events (default: the first and second ``--milestone-event``).
    closed_won : str, optional
        The won event (default: the third ``--milestone-event``, else the conversion: the journey's last touch).
    """

    name = "full_path"
    roles = ("first", "lead", "opportunity", "closed_won")
    shares = (0.225, 0.225, 0.225, 0.225)
    rest = 0.1

    def __init__(self, lead=None, opportunity=None, closed_won=None):
        self._names(lead=lead, opportunity=opportunity, closed_won=closed_won)
