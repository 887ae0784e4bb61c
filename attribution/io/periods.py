"""Reporting periods (SPEC 4, ``--period``): calendar buckets of UTC timestamps and dates, vectorised.

A period is identified by its first day, a :class:`datetime.date` (``2026-01-01`` for January 2026, the Monday
for an ISO week), so that a BI tool reads the ``period`` column as a date and charts it on a time axis.
Buckets are computed in UTC, like every timestamp of the engine:

- ``day``: the calendar day;
- ``week``: the ISO week, Monday to Sunday;
- ``month``: the calendar month.

Credit is dated by its conversion's timestamp, spend by its ``date``.
"""

from __future__ import annotations

import numpy as np

from attribution.exceptions import ParameterError, option
from attribution.io.timeparse import NS_PER_DAY

PERIODS = ("day", "week", "month")


def check_choice(option: str, value, choices) -> str | None:
    """A choice option's value, trimmed and lower-cased (None stays None); one message shape otherwise."""
    if value is None:
        return None
    chosen = str(value).strip().lower()
    if chosen not in choices:
        raise ParameterError(f"The '{option}' option must be one of {', '.join(choices)}. Got {value!r} instead.")
    return chosen


def check_period(period: str | None) -> str | None:
    """Validate a ``--period`` value (None = no period cut)."""
    return check_choice(f"{option('period')}", period, PERIODS)


def epoch_days(ns: np.ndarray) -> np.ndarray:
    """UTC day number (days since 1970-01-01) of epoch-nanosecond timestamps (floor, so pre-1970 works too)."""
    return np.floor_divide(np.asarray(ns, np.int64), NS_PER_DAY)


def period_start_days(days: np.ndarray, period: str) -> np.ndarray:
    """The first day (epoch day number, int64) of the period holding each epoch day."""
    days = np.asarray(days, np.int64)
    if period == "day":
        return days
    if period == "week":
        # 1970-01-01 was a Thursday: (days + 3) % 7 is 0 on Mondays
        return days - np.mod(days + 3, 7)
    if period == "month":
        months = days.astype("datetime64[D]").astype("datetime64[M]")
        return months.astype("datetime64[D]").astype(np.int64)
    raise ParameterError(f"The {option('period', quoted=True)} option must be one of {', '.join(PERIODS)}. Got {period!r} instead.")


def period_of_ns(ns: np.ndarray, period: str) -> np.ndarray:
    """Period start (epoch day number) of epoch-nanosecond timestamps."""
    return period_start_days(epoch_days(ns), period)


def days_to_dates(days: np.ndarray) -> np.ndarray:
    """Epoch day numbers → an object array of :class:`datetime.date` (Parquet date32, SQL DATE, CSV 2026-01-31)."""
    return np.asarray(days, np.int64).astype("datetime64[D]").astype(object)
