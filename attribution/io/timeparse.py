"""Timestamps and durations: every accepted form to UTC epoch nanoseconds.

Timestamps may arrive as Arrow timestamps (naive ones are taken as UTC), dates, ISO-8601 strings (with or
without an offset) or epoch seconds (integer, float, or numeric strings).
"""

from __future__ import annotations

import re
from datetime import timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import ParameterError

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND

_NUMERIC = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def _timestamp_chunks_to_ns(array: pa.ChunkedArray) -> np.ndarray:
    """Null-free timestamp chunks scaled to epoch nanoseconds, written chunk by chunk into one array."""
    factor = np.int64({"s": NS_PER_SECOND, "ms": 1_000_000, "us": 1_000, "ns": 1}[array.type.unit])
    out = np.empty(len(array), np.int64)
    at = 0
    with np.errstate(over="ignore"):
        for chunk in array.chunks:
            values = chunk.view(pa.int64()).to_numpy()  # zero-copy: the epoch counts in the type's unit
            np.multiply(values, factor, out=out[at:at + len(values)])
            at += len(values)
    return out


def to_epoch_ns(array: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Convert a timestamp column to UTC epoch nanoseconds.

    Parameters
    ----------
    array : pyarrow.Array or ChunkedArray
        Timestamps, dates, ISO-8601 strings or epoch seconds.

    Returns
    -------
    ns : numpy.ndarray of int64
        Nanoseconds since 1970-01-01T00:00:00Z (0 where ``bad``).
    bad : numpy.ndarray of bool
        True where a value is null or cannot be parsed.
    """
    if isinstance(array, pa.ChunkedArray) and pa.types.is_timestamp(array.type) and array.null_count == 0:
        return _timestamp_chunks_to_ns(array), np.zeros(len(array), bool)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    typ = array.type
    if pa.types.is_dictionary(typ):
        array = array.cast(typ.value_type)
        typ = array.type
    if pa.types.is_timestamp(typ) and array.null_count == 0:
        # fast path: the int64 values are UTC epoch counts in the type's unit; scale them to nanoseconds
        factor = {"s": NS_PER_SECOND, "ms": 1_000_000, "us": 1_000, "ns": 1}[typ.unit]
        ns = array.cast(pa.int64()).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        with np.errstate(over="ignore"):
            ns = ns * np.int64(factor) if factor != 1 else ns.copy()
        return ns, np.zeros(len(ns), bool)
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        if pa.types.is_date(typ):
            array = array.cast(pa.timestamp("s"))
        target = pa.timestamp("ns", tz=array.type.tz) if array.type.tz else pa.timestamp("ns")
        ns_arr = array.cast(target, safe=False)
        bad = ns_arr.is_null().to_numpy(zero_copy_only=False)
        ns = ns_arr.cast(pa.int64()).fill_null(0).to_numpy()
        return ns.astype(np.int64, copy=False), bad
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        secs = array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)
        if pa.types.is_integer(typ):
            ints = array.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
            bad = array.is_null().to_numpy(zero_copy_only=False)
            return ints * NS_PER_SECOND, bad
        return _seconds_to_ns(secs)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        values = array.to_numpy(zero_copy_only=False)
        nonnull = array.drop_null()
        numeric = (
            len(nonnull) > 0
            and bool(pc.all(pc.match_substring_regex(nonnull, _NUMERIC.pattern)).as_py())
        )
        if numeric:
            secs = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)
            return _seconds_to_ns(secs)
        parsed = pd.to_datetime(pd.Series(values, dtype=object), format="ISO8601", utc=True, errors="coerce")
        bad = parsed.isna().to_numpy()
        ns = parsed.array.as_unit("ns") if hasattr(parsed.array, "as_unit") else parsed.array
        ns = np.asarray(ns.asi8 if hasattr(ns, "asi8") else parsed.astype("int64"), dtype=np.int64).copy()
        ns[bad] = 0
        return ns, bad
    # anything else (bool, binary, nested): nothing parses
    n = len(array)
    return np.zeros(n, np.int64), np.ones(n, bool)


def _seconds_to_ns(secs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bad = ~np.isfinite(secs)
    out = np.zeros(len(secs), np.int64)
    good = ~bad
    # whole seconds exactly, the fraction rounded to the microsecond: float64 epoch seconds carry about 0.2 µs
    # of precision today, so 1704067200.1 means .100000 s, not .0999999 s
    whole = np.floor(secs[good])
    micros = np.round((secs[good] - whole) * 1_000_000).astype(np.int64)
    out[good] = whole.astype(np.int64) * NS_PER_SECOND + micros * 1_000
    return out, bad


_DURATION = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*([dhms]?)\s*$")
_UNIT_SECONDS = {"d": 86_400.0, "": 86_400.0, "h": 3_600.0, "m": 60.0, "s": 1.0}


def parse_duration_seconds(value, *, owner: str, name: str) -> float:
    """Parse a duration (``14d``, ``3h``, ``90m``, ``30s``, a bare number of days, or a timedelta).

    Raises
    ------
    ParameterError
        In the engine's one message shape when the value is not a duration > 0.
    """
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        seconds = float(value) * 86_400.0
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
    else:
        seconds = float("nan")
    if not np.isfinite(seconds) or seconds <= 0:
        raise ParameterError(
            f"The '{name}' parameter of {owner} must be a duration > 0 (a number of days, or a number "
            f"with unit d, h, m or s such as 14d or 3h). Got {value!r} instead."
        )
    return seconds
