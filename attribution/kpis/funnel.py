"""The funnel summary (SPEC 4): users through the configured milestones to customers, overall and per segment.

Not per model: the funnel counts people, not credit. One row per segment:

- ``by = "all"``: every user of the log;
- ``by = "lead_source"``: users grouped by the channel of their first touch (``(none)`` when they have no touch);
- ``by = "campaign"``: users grouped by the campaign of their first touch (``(none)`` when it has none);
- ``by = "cohort"`` (with ``period``): users grouped by the period (``2026-01-01`` for January) of their first
  row in the log, so each cohort's funnel can be compared with the next one's.

Columns (``<stage>`` is each ``--milestone-event`` name, in the order given)::

    by, segment, users, <stage>, <stage>_rate, ..., customers, customer_rate, repeat_customers, repeat_rate,
    days_to_convert_median, days_to_convert_mean, revenue, revenue_per_customer, [revenue_per_lead,]
    [won, lost, win_rate]

Definitions (the rules chosen where SPEC 4 is silent):

- ``users`` (visitors): distinct users with any row in the log (a touch, a milestone, a conversion, any event).
- A user *reaches* a stage when they have a row of that stage's event **or of any later stage** (a customer
  who never filled the lead form still passed through the stage), so counts never grow down the funnel.
  Stage order: the milestones as given, then the conversion (``customers``).
- ``<stage>_rate`` = users reaching the stage / users reaching the previous stage (``users`` before the first
  milestone); ``customer_rate`` likewise against the last milestone. Nulls where the denominator is 0.
- ``repeat_customers``: customers with a second conversion; ``repeat_rate`` = repeat_customers / customers.
- ``days_to_convert_*``: days from a customer's first touch to their first conversion, over customers with a
  touch at or before it (no lookback window applies: the funnel counts people over the whole log).
- ``revenue``: all conversion revenue of the segment's users; ``revenue_per_customer`` = revenue / customers,
  ``revenue_per_lead`` = revenue / users reaching the first milestone (a window LTV, not a forecast).
- ``won``, ``lost``: rows of the ``--won-event`` / ``--lost-event`` events (opportunity outcomes) of the
  segment's users; ``win_rate`` = won / (won + lost).

Everything is vectorised: per-user arrays by ``bincount`` / ``minimum.at``, then one group-by per dimension.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.kernels.encoding import encode_sorted
from attribution.io.events import TOUCH_EVENT, Events
from attribution.io.reader import read_events
from attribution.io.periods import check_period, period_of_ns
from attribution.exceptions import ParameterError, option
from attribution.io.schemas import DEFAULT_CONVERSIONS, check_schema
from attribution.journeys.journeys import NONE_CHANNEL
from attribution.kpis.cohorts import cohort_ltv
from attribution.kpis.report import ratio
from attribution.io.timeparse import NS_PER_DAY

_RESERVED = {"by", "segment", "users", "customers", "customer_rate", "repeat_customers", "repeat_rate", "revenue",
             "won", "lost", "win_rate", "touch", "conversion"}


def _rows_of(event: pa.ChunkedArray, names: Sequence[str]) -> np.ndarray:
    if not names:
        return np.zeros(len(event), bool)
    mask = pc.is_in(event, value_set=pa.array(list(names), pa.string()))
    return pc.fill_null(mask, False).to_numpy(zero_copy_only=False).astype(bool)


def funnel_frame(
    events: Events,
    *,
    milestone_events: Sequence[str] = (),
    conversion_events: Sequence[str] = ("conversion",),
    won_event: str | None = None,
    lost_event: str | None = None,
    period: str | None = None,
) -> pd.DataFrame:
    """The funnel summary of a validated event log (see the module docstring for every column).

    Parameters
    ----------
    events : Events
    milestone_events : sequence of str
        The funnel stages before conversion, in order (``lead``, ``qualified``, ...).
    conversion_events : sequence of str
    won_event, lost_event : str, optional
        Opportunity outcome events; with either, ``won``, ``lost`` and ``win_rate`` are added.
    period : {"day", "week", "month"}, optional
        Adds cohort rows: users by the period of their first row in the log.

    References
    ----------
    .. [1] SPEC 4 (funnel summary); win rate = won / (won + lost) by lead source and campaign as CRM reports do.
    """
    period = check_period(period)
    stages = [str(s) for s in milestone_events]
    conversion_events = [str(c) for c in conversion_events] or ["conversion"]
    _check_stages(stages, conversion_events)
    table = events.table
    users, _ = encode_sorted(table["user_id"])
    U = int(users.max()) + 1 if len(users) else 0
    ev = table["event"]
    ts = table["timestamp"].to_numpy().astype(np.int64, copy=False)
    conv = _rows_of(ev, conversion_events)

    per_user = _stage_reach(users, U, ev, stages, conv)
    first_touch_row = _first_touch_rows(users, U, ev, ts)
    days = _days_to_convert(users, U, ts, conv, first_touch_row)
    rev = table["revenue"].to_numpy(zero_copy_only=False).astype(float)
    per_user["revenue"] = np.bincount(users[conv], rev[conv], minlength=U)
    outcomes = won_event is not None or lost_event is not None
    if outcomes:
        per_user["won"] = np.bincount(users[_rows_of(ev, [won_event] if won_event else [])], minlength=U).astype(float)
        per_user["lost"] = np.bincount(users[_rows_of(ev, [lost_event] if lost_event else [])],
                                       minlength=U).astype(float)

    dimensions = [("all", np.full(U, "all", dtype=object)),
                  ("lead_source", _first_touch_label(table, "channel", first_touch_row, U)),
                  ("campaign", _first_touch_label(table, "campaign", first_touch_row, U))]
    if period is not None and U:
        first_seen = np.full(U, np.iinfo(np.int64).max, np.int64)
        np.minimum.at(first_seen, users, ts)
        starts = period_of_ns(first_seen, period).astype("datetime64[D]")
        dimensions.append(("cohort", np.datetime_as_string(starts, unit="D").astype(object)))
    out = _segment_sums(pd.DataFrame(per_user).assign(days=days), list(per_user), dimensions, U)
    return _funnel_columns(out, stages, outcomes)


def _check_stages(stages: list[str], conversion_events: list[str]) -> None:
    clash = sorted((set(stages) & _RESERVED) | (set(stages) & set(conversion_events)))
    if len(set(stages)) != len(stages) or clash:
        raise ParameterError(
            f"The {option('milestone-event', quoted=True)} names must be distinct and differ from the conversion events and from "
            f"{', '.join(sorted(_RESERVED))}. Got {stages!r} instead."
        )


def _stage_reach(users: np.ndarray, U: int, ev, stages: list[str], conv: np.ndarray) -> dict[str, np.ndarray]:
    """Per user: 1 for every stage reached (a later stage implies the earlier ones), customers, repeat customers."""
    per_user: dict[str, np.ndarray] = {"users": np.ones(U)}
    reached = [np.bincount(users[_rows_of(ev, [s])], minlength=U) > 0 for s in stages]
    n_conv = np.bincount(users[conv], minlength=U)
    customers = n_conv > 0
    later = customers.copy()
    for i in range(len(stages) - 1, -1, -1):
        reached[i] = reached[i] | later
        later = reached[i]
    for s, r in zip(stages, reached):
        per_user[s] = r.astype(float)
    per_user["customers"] = customers.astype(float)
    per_user["repeat_customers"] = (n_conv > 1).astype(float)
    return per_user


def _first_touch_rows(users: np.ndarray, U: int, ev, ts: np.ndarray) -> np.ndarray:
    """Each user's first touch row (by time, ties in input order); -1 for users without a touch."""
    touch = pc.fill_null(pc.equal(ev, TOUCH_EVENT), False).to_numpy(zero_copy_only=False).astype(bool)
    t_idx = np.flatnonzero(touch)
    order = t_idx[np.lexsort((t_idx, ts[t_idx], users[t_idx]))]
    first_touch_row = np.full(U, -1, np.int64)
    if len(order):
        u_sorted = users[order]
        head = np.r_[True, u_sorted[1:] != u_sorted[:-1]]
        first_touch_row[u_sorted[head]] = order[head]
    return first_touch_row


def _days_to_convert(users, U, ts, conv, first_touch_row) -> np.ndarray:
    """Days from a customer's first touch to their first conversion; NaN unless a touch came at or before it."""
    big = np.iinfo(np.int64).max
    first_conv = np.full(U, big, np.int64)
    np.minimum.at(first_conv, users[conv], ts[conv])
    has_touch = first_touch_row >= 0
    ft_ts = np.where(has_touch, ts[np.maximum(first_touch_row, 0)] if len(ts) else 0, big)
    ok_days = (first_conv < big) & has_touch & (ft_ts <= first_conv)
    days = np.full(U, np.nan)
    days[ok_days] = (first_conv[ok_days] - ft_ts[ok_days]) / NS_PER_DAY
    return days


def _first_touch_label(table: pa.Table, column: str, first_touch_row: np.ndarray, U: int) -> np.ndarray:
    """Each user's first-touch value of ``column``; the touchless label where there is none."""
    has_touch = first_touch_row >= 0
    if column not in table.column_names or not has_touch.any():
        return np.full(U, NONE_CHANNEL, dtype=object)
    values = table[column].take(pa.array(np.maximum(first_touch_row, 0)))
    labels = np.asarray(values.to_numpy(zero_copy_only=False), dtype=object)
    missing = ~has_touch | pd.isna(labels) | (labels == "")
    labels[missing] = NONE_CHANNEL
    return labels


def _segment_sums(frame: pd.DataFrame, value_cols: list[str], dimensions, U: int) -> pd.DataFrame:
    """One group-by per dimension: the per-user sums and the days-to-convert median and mean per segment."""
    parts = []
    for by, labels in dimensions:
        grouped = frame.assign(segment=labels).groupby("segment", sort=True)
        sums = grouped[value_cols].sum()
        sums["days_to_convert_median"] = grouped["days"].median()
        sums["days_to_convert_mean"] = grouped["days"].mean()
        sums = sums.reset_index()
        sums.insert(0, "by", by)
        parts.append(sums)
    if U:
        return pd.concat(parts, ignore_index=True)
    return pd.DataFrame({"by": ["all"], "segment": ["all"], **{c: [0.0] for c in value_cols},
                         "days_to_convert_median": [np.nan], "days_to_convert_mean": [np.nan]})


def _funnel_columns(out: pd.DataFrame, stages: list[str], outcomes: bool) -> pd.DataFrame:
    """The published columns, in order: counts, stage rates, days to convert, revenue, outcomes."""
    result = out[["by", "segment", "users"]].copy()
    result["users"] = result["users"].astype(float)
    previous = out["users"].to_numpy(float)
    for s in stages:
        result[s] = out[s].to_numpy(float)
        result[f"{s}_rate"] = ratio(out[s], previous)
        previous = out[s].to_numpy(float)
    result["customers"] = out["customers"].to_numpy(float)
    result["customer_rate"] = ratio(out["customers"], previous)
    result["repeat_customers"] = out["repeat_customers"].to_numpy(float)
    result["repeat_rate"] = ratio(out["repeat_customers"], out["customers"])
    result["days_to_convert_median"] = out["days_to_convert_median"].to_numpy(float)
    result["days_to_convert_mean"] = out["days_to_convert_mean"].to_numpy(float)
    result["revenue"] = out["revenue"].to_numpy(float)
    result["revenue_per_customer"] = ratio(out["revenue"], out["customers"])
    if stages:
        result["revenue_per_lead"] = ratio(out["revenue"], out[stages[0]])
    if outcomes:
        result["won"] = out["won"].to_numpy(float)
        result["lost"] = out["lost"].to_numpy(float)
        result["win_rate"] = ratio(out["won"], out["won"] + out["lost"])
    for c in ["users", *stages, "customers", "repeat_customers"] + (["won", "lost"] if outcomes else []):
        result[c] = result[c].astype(np.int64)  # counts of people and rows
    result["by"] = result["by"].astype(object)
    result["segment"] = result["segment"].astype(object)
    return result


def funnel(sources, *, milestone_events=(), conversion_events=("conversion",), won_event=None, lost_event=None,
           columns=None, on_bad_rows="error", period=None, delimiter=None, decimal=".", encoding=None,
           epoch_unit=None, valid_years=None, schema=None, identity_map=None, journey_key=None,
           ltv: bool = False) -> pd.DataFrame:
    """Read an event log and return its funnel summary (:func:`funnel_frame`); ``delimiter``, ``decimal``,
    ``encoding``, ``epoch_unit`` and ``valid_years`` as :func:`attribution.io.reader.read_events`; ``schema``,
    ``identity_map`` and ``journey_key`` say how an export is mapped and ids are joined (same function). With
    ``ltv`` the cohort lifetime-value table by ``period`` (default month) is returned instead
    (:func:`attribution.kpis.cohorts.cohort_ltv`)."""
    period = check_period(period)
    if schema is not None and tuple(conversion_events) == ("conversion",):  # not given: the schema's own
        conversion_events = DEFAULT_CONVERSIONS[check_schema(schema)]
    events = read_events(sources, columns=columns, on_bad_rows=on_bad_rows, delimiter=delimiter, decimal=decimal,
                         encoding=encoding, epoch_unit=epoch_unit, valid_years=valid_years, schema=schema,
                         conversion_events=conversion_events, identity_map=identity_map, journey_key=journey_key)
    if ltv:
        return cohort_ltv(events, conversion_events=conversion_events, period=period or "month")
    return funnel_frame(events, milestone_events=milestone_events, conversion_events=conversion_events,
                        won_event=won_event, lost_event=lost_event, period=period)
