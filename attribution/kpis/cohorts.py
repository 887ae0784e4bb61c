"""Cohort lifetime value: cumulative revenue per customer by periods since the first conversion.

Customers (users with a conversion) are grouped into cohorts by the period (day, ISO week or month, UTC) of
their **first conversion**. For every cohort and every period index ``k`` (0 = the cohort's own period, 1 the
next, ...) up to the last period of the log, the table gives the revenue of all the cohort's conversions in
that period, its running sum, and the running sum per cohort customer (the cohort's LTV after ``k`` periods).
Later cohorts have fewer rows (they have been observed for less time); a period without conversions has
revenue 0, so every cohort's rows are contiguous. Everything is vectorised (``minimum.at``, ``bincount`` over
(cohort, k) cells).

References
----------
.. [1] Fader, P. S. and Hardie, B. G. S., "Customer-base valuation in a contractual setting" (cohort
   revenue curves); the cumulative revenue per customer by months since acquisition is the usual cohort LTV
   table of e-commerce analytics.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.io.events import Events
from attribution.io.periods import check_period, days_to_dates, epoch_days, period_start_days
from attribution.kernels.encoding import encode_sorted

COLUMNS = ["cohort", "periods_since_first", "customers", "revenue", "cumulative_revenue", "revenue_per_customer"]


def period_index(start_days: np.ndarray, cohort_days: np.ndarray, period: str) -> np.ndarray:
    """Whole periods from each cohort's first day to each period's first day (both period starts)."""
    if period == "month":
        months = lambda d: d.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)  # noqa: E731
        return months(start_days) - months(cohort_days)
    return (start_days - cohort_days) // (7 if period == "week" else 1)


def cohort_ltv(events: Events, *, conversion_events: Sequence[str] = ("conversion",), period: str = "month") \
        -> pd.DataFrame:
    """The cohort LTV table (module notes): ``cohort, periods_since_first, customers, revenue,
    cumulative_revenue, revenue_per_customer``, by cohort then period index."""
    period = check_period(period) or "month"
    table = events.table
    conv = pc.fill_null(pc.is_in(table["event"], value_set=pa.array([str(c) for c in conversion_events])), False)
    conv = conv.to_numpy(zero_copy_only=False).astype(bool)
    if not conv.any():
        return pd.DataFrame({c: pd.Series(dtype="int64" if c in ("periods_since_first", "customers") else float)
                             for c in COLUMNS})
    users, _ = encode_sorted(table["user_id"].filter(pa.array(conv)))
    ts = table["timestamp"].to_numpy().astype(np.int64, copy=False)[conv]
    rev = table["revenue"].to_numpy(zero_copy_only=False).astype(float)[conv]
    n_users = int(users.max()) + 1
    first = np.full(n_users, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, users, ts)
    cohort_of_user = period_start_days(epoch_days(first), period)
    row_period = period_start_days(epoch_days(ts), period)
    cohorts, cohort_code = np.unique(cohort_of_user, return_inverse=True)
    k = period_index(row_period, cohort_of_user[users], period)
    last = period_index(np.array([row_period.max()]), cohorts, period)  # periods observed per cohort, minus 1
    width = int(last.max()) + 1
    cells = np.bincount(cohort_code[users] * width + k, weights=rev, minlength=len(cohorts) * width)
    cells = cells.reshape(len(cohorts), width)
    size = np.bincount(cohort_code, minlength=len(cohorts))
    observed = np.arange(width)[None, :] <= last[:, None]
    ci, ki = np.nonzero(observed)
    cumulative = np.cumsum(cells, axis=1)
    return pd.DataFrame({
        "cohort": days_to_dates(cohorts[ci]), "periods_since_first": ki.astype(np.int64),
        "customers": size[ci].astype(np.int64), "revenue": cells[ci, ki], "cumulative_revenue": cumulative[ci, ki],
        "revenue_per_customer": cumulative[ci, ki] / size[ci]})
