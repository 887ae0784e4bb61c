"""Timestamps and durations: every accepted form to UTC epoch nanoseconds.

Timestamps may arrive as Arrow timestamps (naive ones are taken as UTC), dates, ISO-8601 strings (with or
without an offset) or epoch numbers (integer, float, or numeric strings) in seconds, milliseconds, microseconds or
nanoseconds: the unit is forced (:class:`TimeRule`) or detected from each value's magnitude (:data:`BAND_EDGES`).
Every instant is checked against a plausible window of years before any multiplication, so nothing wraps around
the int64 range: an out-of-window value is reported, never placed in another century.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import ParameterError, option

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND

_NUMERIC = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


#: nanoseconds per epoch unit
UNIT_NS = {"s": NS_PER_SECOND, "ms": 1_000_000, "us": 1_000, "ns": 1}
#: magnitude bands of epoch values: ``|v| < 1e11`` is seconds, ``< 1e14`` milliseconds, ``< 1e17`` microseconds,
#: else nanoseconds (the bands' upper edges lie well above the year 2100 in each unit and 1990 in the next unit
#: is above the edge, so with the default window every epoch value has exactly one plausible reading)
BAND_EDGES = (1e11, 1e14, 1e17)
BAND_UNITS = ("s", "ms", "us", "ns")
#: default plausible window of years (inclusive); int64 nanoseconds reach from 1677-09-21 to 2262-04-11
DEFAULT_YEARS = (1990, 2100)
YEAR_LIMITS = (1678, 2261)


@dataclass(frozen=True)
class TimeRule:
    """How numeric timestamps are read and which instants are plausible.

    Parameters
    ----------
    epoch_unit : {"s", "ms", "us", "ns"} or None
        Unit of epoch numbers; None detects it per value from its magnitude (:data:`BAND_EDGES`).
    valid_years : (int, int)
        First and last plausible year (inclusive, UTC); instants outside are bad input, never wrapped.
    """

    epoch_unit: str | None = None
    valid_years: tuple[int, int] = DEFAULT_YEARS

    def __post_init__(self):
        if self.epoch_unit is not None and self.epoch_unit not in UNIT_NS:
            raise ParameterError(f"The {option('epoch-unit', quoted=True)} option must be one of s, ms, us, ns. Got {self.epoch_unit!r} instead.")
        lo, hi = self.valid_years
        if not (YEAR_LIMITS[0] <= lo <= hi <= YEAR_LIMITS[1]):
            raise ParameterError(
                f"The {option('valid-years', quoted=True)} option must be FIRST:LAST with {YEAR_LIMITS[0]} <= FIRST <= LAST <= "
                f"{YEAR_LIMITS[1]} (the range of nanosecond timestamps). Got {lo}:{hi} instead.")

    @classmethod
    def of(cls, epoch_unit=None, valid_years=None) -> "TimeRule":
        """A rule from option values: ``valid_years`` as ``"1990:2100"``, a pair, or None (the default)."""
        if valid_years is None:
            years = DEFAULT_YEARS
        elif isinstance(valid_years, str):
            m = re.fullmatch(r"\s*(\d{4})\s*[:-]\s*(\d{4})\s*", valid_years)
            if not m:
                raise ParameterError(f"The {option('valid-years', quoted=True)} option must look like 1990:2100. Got {valid_years!r} instead.")
            years = (int(m.group(1)), int(m.group(2)))
        else:
            years = tuple(int(y) for y in valid_years)
        return cls(epoch_unit if epoch_unit not in ("", "auto") else None, years)

    @property
    def bounds_ns(self) -> tuple[int, int]:
        """First and last allowed instant, epoch nanoseconds (both inside int64)."""
        lo = (date(self.valid_years[0], 1, 1) - date(1970, 1, 1)).days * NS_PER_DAY
        hi = (date(self.valid_years[1], 12, 31) - date(1970, 1, 1)).days * NS_PER_DAY + NS_PER_DAY - 1
        return lo, hi

    def describe(self) -> str:
        return f"{self.valid_years[0]}..{self.valid_years[1]}"


@dataclass
class TimeColumn:
    """A timestamp column converted to epoch nanoseconds.

    Attributes
    ----------
    ns : numpy.ndarray of int64
        Nanoseconds since 1970-01-01T00:00:00Z (0 where unparsable or out of range).
    unparsable : numpy.ndarray of bool
        Null, or not a timestamp at all.
    out_of_range : numpy.ndarray of bool
        Parsed, but outside the rule's years (including instants no int64 nanosecond count can hold).
    units : dict
        For epoch numbers whose unit was detected: unit → (rows, index of the first row). More than one entry
        means the column mixes units.
    """

    ns: np.ndarray
    unparsable: np.ndarray
    out_of_range: np.ndarray
    units: dict = field(default_factory=dict)


def convert_timestamps(array: pa.Array | pa.ChunkedArray, rule: TimeRule | None = None) -> TimeColumn:
    """Convert a timestamp column to UTC epoch nanoseconds, checking the plausible window.

    Parameters
    ----------
    array : pyarrow.Array or ChunkedArray
        Timestamps (naive ones are UTC), dates, ISO-8601 strings, or epoch numbers (integer, float or numeric
        strings) in the rule's unit or, by default, in the unit their magnitude shows (:data:`BAND_EDGES`).
    rule : TimeRule, optional

    Returns
    -------
    TimeColumn
    """
    rule = rule or TimeRule()
    if isinstance(array, pa.ChunkedArray) and pa.types.is_timestamp(array.type) and array.null_count == 0:
        fast = _timestamp_chunks(array, rule)
        if fast is not None:
            return fast
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    typ = array.type
    if pa.types.is_dictionary(typ):
        array = array.cast(typ.value_type)
        typ = array.type
    valid = ~array.is_null().to_numpy(zero_copy_only=False) if array.null_count else np.ones(len(array), bool)
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        factor = NS_PER_DAY if pa.types.is_date32(typ) else 1_000_000 if pa.types.is_date64(typ) else UNIT_NS[typ.unit]
        counts = array.view(pa.int32() if pa.types.is_date32(typ) else pa.int64())  # zero-copy: the epoch counts
        counts = counts.fill_null(0) if counts.null_count else counts
        values = counts.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        return _scaled(_as_int64(values, valid), valid, factor, rule)
    if pa.types.is_integer(typ):
        return _epoch_ints(array.fill_null(0).to_numpy(zero_copy_only=False), valid, rule)
    if pa.types.is_floating(typ) or pa.types.is_decimal(typ):
        return _epoch_floats(array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False), rule)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        nonnull = array.drop_null()
        if len(nonnull) and bool(pc.all(pc.match_substring_regex(nonnull, _NUMERIC.pattern)).as_py()):
            return _epoch_text(array, valid, rule)
        numeric = pc.fill_null(pc.match_substring_regex(array, _NUMERIC.pattern), False)
        if not bool(pc.any(numeric).as_py()):
            return _iso_text(array, rule)
        return _mixed_text(array, numeric.to_numpy(zero_copy_only=False), valid, rule)
    # anything else (bool, binary, nested): nothing parses
    n = len(array)
    return TimeColumn(np.zeros(n, np.int64), np.ones(n, bool), np.zeros(n, bool))


def _timestamp_chunks(array: pa.ChunkedArray, rule: TimeRule) -> TimeColumn | None:
    """The fast path of a null-free timestamp column: min and max checked against the window, then every chunk
    scaled to nanoseconds into one array without combining the chunks; None when some value is out of range."""
    factor = UNIT_NS[array.type.unit]
    lo_ns, hi_ns = rule.bounds_ns
    counts = pa.chunked_array([c.view(pa.int64()) for c in array.chunks], pa.int64())
    bounds = pc.min_max(counts).as_py()
    if len(array) == 0 or not (-(-lo_ns // factor) <= bounds["min"] and bounds["max"] <= hi_ns // factor):
        return None
    out = np.empty(len(array), np.int64)
    at = 0
    for chunk in counts.chunks:
        values = chunk.to_numpy()  # zero-copy: the epoch counts in the type's unit
        np.multiply(values, np.int64(factor), out=out[at:at + len(values)])  # inside the window: no overflow
        at += len(values)
    n = len(array)
    return TimeColumn(out, np.zeros(n, bool), np.zeros(n, bool))


def to_epoch_ns(array: pa.Array | pa.ChunkedArray, rule: TimeRule | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Convert a timestamp column to UTC epoch nanoseconds (see :func:`convert_timestamps`).

    Returns
    -------
    ns : numpy.ndarray of int64
        Nanoseconds since 1970-01-01T00:00:00Z (0 where ``bad``).
    bad : numpy.ndarray of bool
        True where a value is null, cannot be parsed, or falls outside the rule's years.
    """
    col = convert_timestamps(array, rule)
    return col.ns, col.unparsable | col.out_of_range


def _as_int64(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Integers as int64; unsigned values above the int64 range become int64 max (out of any window)."""
    if values.dtype == np.uint64:
        big = values > np.uint64(np.iinfo(np.int64).max)
        values = np.where(big, np.uint64(np.iinfo(np.int64).max), values)
    return values.astype(np.int64, copy=False)


def _scaled(values: np.ndarray, valid: np.ndarray, factor: int, rule: TimeRule, units=None) -> TimeColumn:
    """int64 counts of ``factor`` ns each → ns, with the window checked before any multiplication (no wrap)."""
    lo_ns, hi_ns = rule.bounds_ns
    lo, hi = -(-lo_ns // factor), hi_ns // factor  # the window in the column's unit (ceil, floor)
    n = len(values)
    if valid.all() and n and lo <= values.min() and values.max() <= hi:  # the fast path: min/max only
        return TimeColumn(values * np.int64(factor) if factor != 1 else values.copy(), np.zeros(n, bool),
                          np.zeros(n, bool), units or {})
    out = valid & ((values < lo) | (values > hi))
    ok = valid & ~out
    ns = np.where(ok, values, 0).astype(np.int64) * np.int64(factor)
    return TimeColumn(ns, ~valid, out, units or {})


def _bands(magnitude: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Index into :data:`BAND_UNITS` of every value's magnitude (float64 absolute values; out-of-window values
    land in some band and are then reported as out of range, not as another unit)."""
    return np.searchsorted(np.asarray(BAND_EDGES), np.where(valid, magnitude, 0.0), side="right")


def _unit_report(band: np.ndarray | int, valid: np.ndarray) -> dict:
    if np.isscalar(band):
        rows = np.flatnonzero(valid)
        return {BAND_UNITS[band]: (len(rows), int(rows[0]))} if len(rows) else {}
    report = {}
    for b in np.unique(band[valid]):
        rows = np.flatnonzero(valid & (band == b))
        report[BAND_UNITS[int(b)]] = (len(rows), int(rows[0]))
    return report


def _epoch_ints(values: np.ndarray, valid: np.ndarray, rule: TimeRule) -> TimeColumn:
    values = _as_int64(values, valid)
    if rule.epoch_unit is not None:
        return _scaled(values, valid, UNIT_NS[rule.epoch_unit], rule)
    if not valid.any():
        return _scaled(values, valid, NS_PER_SECOND, rule)
    live = values[valid] if not valid.all() else values
    mn, mx = int(live.min()), int(live.max())
    edges = np.asarray(BAND_EDGES)
    if mn >= 0 and np.searchsorted(edges, float(mn), "right") == np.searchsorted(edges, float(mx), "right"):
        band = int(np.searchsorted(edges, float(mx), "right"))  # one unit: the fast path
        col = _scaled(values, valid, UNIT_NS[BAND_UNITS[band]], rule)
        col.units = _unit_report(band, valid & ~col.out_of_range)
        return col
    band = _bands(np.abs(values.astype(np.float64)), valid)
    return _per_band(band, valid, rule, lambda unit, rows: _scaled(values, rows, UNIT_NS[unit], rule))


def _per_band(band: np.ndarray, valid: np.ndarray, rule: TimeRule, convert) -> TimeColumn:
    """Each value converted in the unit of its own band (a mixed column is refused by the caller)."""
    n = len(band)
    out = TimeColumn(np.zeros(n, np.int64), ~valid, np.zeros(n, bool))
    for b, unit in enumerate(BAND_UNITS):
        rows = valid & (band == b)
        if rows.any():
            part = convert(unit, rows)
            out.ns[rows] = part.ns[rows]
            out.out_of_range |= part.out_of_range & rows
    out.units = _unit_report(band, valid & ~out.out_of_range)  # implausible values are reported as such
    return out


def _epoch_floats(values: np.ndarray, rule: TimeRule, valid: np.ndarray | None = None) -> TimeColumn:
    if valid is None:
        valid = np.isfinite(values)
    else:
        valid = valid & np.isfinite(values)
    if rule.epoch_unit is not None:
        return _scaled_floats(values, valid, rule.epoch_unit, rule)
    band = _bands(np.abs(values), valid)
    if valid.any() and (band[valid] == band[valid][0]).all() and (values[valid] >= 0).all():
        unit = BAND_UNITS[int(band[valid][0])]
        col = _scaled_floats(values, valid, unit, rule)
        col.units = _unit_report(int(band[valid][0]), valid & ~col.out_of_range)
        return col
    return _per_band(band, valid, rule, lambda unit, rows: _scaled_floats(values, rows, unit, rule))


def _scaled_floats(values: np.ndarray, valid: np.ndarray, unit: str, rule: TimeRule) -> TimeColumn:
    """Float epoch numbers → ns: whole units exactly, the fraction rounded to the microsecond (seconds and
    milliseconds; float64 epoch seconds carry about 0.2 µs today) or to the nanosecond (smaller units)."""
    factor = UNIT_NS[unit]
    lo_ns, hi_ns = rule.bounds_ns
    inside = valid & (values >= lo_ns / factor) & (values <= hi_ns / factor)  # checked before any cast
    v = np.where(inside, values, 0.0)
    whole = np.floor(v)
    step = 1_000 if factor >= 1_000_000 else 1
    sub = np.round((v - whole) * (factor // step)).astype(np.int64) * step
    ns = whole.astype(np.int64) * np.int64(factor) + sub
    ns = np.minimum(ns, hi_ns)  # a fraction rounded up at the last instant stays inside
    ns[~inside] = 0
    return TimeColumn(ns, ~valid, valid & ~inside)


def _epoch_text(array: pa.Array, valid: np.ndarray, rule: TimeRule) -> TimeColumn:
    """Numeric strings: integers read exactly as int64 when they all are and fit, else as float64."""
    trimmed = pc.utf8_trim_whitespace(array)
    if bool(pc.all(pc.match_substring_regex(trimmed.drop_null(), r"^[-+]?\d+$")).as_py()):
        try:
            ints = pc.replace_substring_regex(trimmed, r"^\+", "").cast(pa.int64())
        except pa.ArrowInvalid:  # beyond int64: out of any window, read as floats below
            pass
        else:
            return _epoch_ints(ints.fill_null(0).to_numpy(zero_copy_only=False), valid, rule)
    floats = pd.to_numeric(pd.Series(array.to_numpy(zero_copy_only=False), dtype=object), errors="coerce")
    return _epoch_floats(floats.to_numpy(float), rule, valid)


def _mixed_text(array: pa.Array, numeric: np.ndarray, valid: np.ndarray, rule: TimeRule) -> TimeColumn:
    """A text column mixing ISO-8601 strings and epoch numbers: each row read as what it is (the numbers as
    :func:`_epoch_text` reads a numeric column, their units reported with row numbers of the whole column)."""
    rows = np.flatnonzero(numeric)
    epochs = _epoch_text(array.filter(pa.array(numeric)), valid[rows], rule)
    result = _iso_text(array, rule)
    result.ns[rows], result.unparsable[rows], result.out_of_range[rows] = \
        epochs.ns, epochs.unparsable, epochs.out_of_range
    result.units = {unit: (count, int(rows[first])) for unit, (count, first) in epochs.units.items()}
    return result


def _iso_text(array: pa.Array, rule: TimeRule) -> TimeColumn:
    """ISO-8601 text, parsed at the resolution it needs (no nanosecond overflow), then checked in the window."""
    parsed = pd.to_datetime(pd.Series(array.to_numpy(zero_copy_only=False), dtype=object), format="ISO8601",
                            utc=True, errors="coerce")
    valid = ~parsed.isna().to_numpy()
    values = np.asarray(parsed.array.asi8, dtype=np.int64)
    unit = getattr(parsed.array, "unit", "ns")
    return _scaled(np.where(valid, values, 0), valid, UNIT_NS[unit], rule)


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
