"""Column mapping and the coercion of input columns to numbers and text, with one set of reason codes.

Every table the engine reads (event logs, path tables, spend, experiments) names its columns by canonical names
that a user maps onto theirs (``--column user_id=visitor``), and turns its value columns into numbers and its name
columns into text by the same rules:

================= =============================================================================================
reason code       rule (the column is the :class:`~attribution.exceptions.Problem`'s ``column``)
================= =============================================================================================
``not_numeric``   a number column holds text that is not a number, ``inf``, a boolean or another type's value
                  (an empty or null cell is 0, or refused where a value is required)
``negative``      a count or an amount is below 0
``too_large``     one value is above :data:`MAX_VALUE` (a billion such rows still sum to a finite float64)
``column_type``   a text column is stored as another type (numbers, nested values, ...)
================= =============================================================================================

Text numbers are read as :func:`pandas.to_numeric` reads them (``12``, `` 12.5 ``, ``1e3``); a CSV read with
``--decimal ,`` has its decimal commas turned into points by :mod:`attribution.io.csvread` before, and a column of
decimal commas read without it is refused there (``decimal_mark``). A floating-point NaN read from Parquet is a
missing value (the Arrow and pandas convention), as is an empty cell; the text ``NaN`` is not a number.

References
----------
pandas, ``pandas.to_numeric``: https://pandas.pydata.org/docs/reference/api/pandas.to_numeric.html
pandera, lazy validation (every broken rule at once): https://pandera.readthedocs.io/en/stable/lazy_validation.html
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import ParameterError, Problem, shorten, option

#: the largest value of one row: a billion rows of it still sum to 1e24, far from float64 overflow (1.8e308)
MAX_VALUE = 1e15
NOT_NUMERIC = "not_numeric"
NEGATIVE = "negative"
TOO_LARGE = "too_large"
COLUMN_TYPE = "column_type"


# ------------------------------------------------------------------------------------------------ column mapping
def parse_column_map(items) -> dict[str, str]:
    """Parse ``canonical=actual`` strings (or a dict) into a canonical → actual mapping.

    Parameters
    ----------
    items : dict, sequence of str or None
        ``{"user_id": "visitor"}`` or ``["user_id=visitor"]`` (white space around either name is dropped).

    Raises
    ------
    ParameterError
        For an item without ``=``.
    """
    if items is None:
        return {}
    if isinstance(items, dict):
        pairs = list(items.items())
    else:
        pairs = []
        for item in items:
            if "=" not in item:
                raise ParameterError(
                    f"The {option('column', quoted=True)} option must look like CANONICAL=ACTUAL (e.g. user_id=visitor). Got {item!r} instead."
                )
            canon, actual = item.split("=", 1)
            pairs.append((canon.strip(), actual.strip()))
    return dict(pairs)


def check_column_map(mapping: dict[str, str], canonical: tuple[str, ...], *, flag: str = "column",
                     what: str = "canonical column(s)", listing: str = "canonical columns are") -> None:
    """Refuse a mapping of names that are not among the ``canonical`` columns.

    Parameters
    ----------
    mapping : dict
        Canonical → actual names (:func:`parse_column_map`).
    canonical : tuple of str
        The table's canonical columns.
    flag, what, listing : str
        The mapping option (its flag, without dashes), the noun for the unknown names and the words before the list of canonical columns,
        for the message.

    Raises
    ------
    ParameterError
    """
    unknown = [c for c in mapping if c not in canonical]
    if unknown:
        raise ParameterError(
            f"The {option(flag, quoted=True)} option maps unknown {what} {', '.join(map(repr, unknown))}; "
            f"{listing} {', '.join(canonical)}."
        )


def absent_mappings(mapping: dict[str, str], schemas: list[tuple[str, list]], *, flag: str = "column",
                    skip: tuple[str, ...] = ()) -> list[Problem]:
    """One ``column_missing`` problem per mapped column that no file has: a mapping names a column on purpose,
    so one found nowhere is a typo, never an optional column to leave empty.

    A file without a mapped column that other files have reads it as empty (logs whose later files gained a
    column). ``schemas`` holds ``(file, column names)`` per file; ``skip`` lists canonical columns checked
    elsewhere (required ones, which :func:`attribution.io.sources.plan_columns` reports per file).

    Examples
    --------
    >>> [p.column for p in absent_mappings({"revenue": "amonut"}, [("log.csv", ["user_id", "amount"])])]
    ['amonut']
    """
    problems = []
    for canon, actual in mapping.items():
        if canon in skip or not schemas or any(actual in names for _, names in schemas):
            continue
        path, names = schemas[0]
        found = ", ".join(map(str, list(names)[:12])) + (", ..." if len(names) > 12 else "")
        problems.append(Problem(
            "column_missing", f"given with {option(flag, f'{canon}={actual}')}, and "
            f"{'no file has it' if len(schemas) > 1 else 'the file has no such column'} (columns found: {found})",
            f"check the {option(flag)} mapping",
            file=path if len(schemas) == 1 else f"{path} (and every other file)", column=actual))
    return problems


def to_canonical(table: pa.Table, mapping: dict[str, str]) -> pa.Table:
    """``table`` with its mapped columns renamed to their canonical names (others unchanged)."""
    inverse = {v: k for k, v in mapping.items()}
    return table.rename_columns([inverse.get(n, n) for n in table.column_names])


# ---------------------------------------------------------------------------------------------------- text
def text_column(col: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array | None:
    """A text column as ``string`` (dictionary-encoded and all-null columns too), or None for any other type."""
    typ = col.type
    if pa.types.is_dictionary(typ):
        col = col.cast(typ.value_type)
        typ = col.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_null(typ):
        return col.cast(pa.string())
    return None


def column_type_problem(expected: str, found, fix: str, *, file: str | None = None,
                        column: str | None = None) -> Problem:
    """The ``column_type`` problem of a column stored as another type than ``expected`` (``"a string"``)."""
    return Problem(COLUMN_TYPE, f"must be {expected} column, found {shorten(str(found))}", fix, file=file,
                   column=column)


def has_control(strings) -> np.ndarray:
    """Whether each string holds a control character (U+0000 to U+001F, U+007F; null: False)."""
    hits = pc.match_substring_regex(strings, "[\\x00-\\x1f\\x7f]")
    return pc.fill_null(hits, False).to_numpy(zero_copy_only=False)


# ------------------------------------------------------------------------------------------------- numbers
@dataclass(frozen=True)
class Broken:
    """Rows of one column that break one rule.

    Attributes
    ----------
    code, rule, fix : str
        As in :class:`~attribution.exceptions.Problem`.
    mask : numpy.ndarray of bool
        The offending rows.
    """

    code: str
    rule: str
    fix: str
    mask: np.ndarray

    @property
    def count(self) -> int:
        return int(self.mask.sum())

    def problem(self, *, file: str | None = None, column: str | None = None, rows=None,
                example=None) -> Problem:
        """The :class:`Problem` of these rows: count and first row (``rows`` maps positions to file rows), the
        first row's values from ``example(position)``; without ``rows`` just the rule (counted later)."""
        if rows is None:
            return Problem(self.code, self.rule, self.fix, file=file, column=column)
        first = int(np.flatnonzero(self.mask)[0])
        return Problem(self.code, self.rule, self.fix, file=file, column=column, count=self.count,
                       first_row=int(np.asarray(rows)[first]), example=example(first) if example else None)


def parse_numbers(col: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The one reading of a column as numbers.

    Parameters
    ----------
    col : pyarrow.Array or ChunkedArray
        Integer, floating-point, decimal or text (dictionary-encoded or not); any other type (boolean, dates,
        nested values) holds no numbers.

    Returns
    -------
    values : numpy.ndarray of float64
        A fresh (writable) array; NaN where the row is empty or not a number; ``inf`` as read.
    empty : numpy.ndarray of bool
        Null, NaN (of a number column) or blank text: no value.
    not_number : numpy.ndarray of bool
        A value that is not a number (text, boolean, another type).
    """
    typ = col.type
    if pa.types.is_dictionary(typ):
        col = col.cast(typ.value_type)
        typ = col.type
    n = len(col)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ) or pa.types.is_null(typ):
        # unchecked: integers above 2**53 round to the nearest float64 (they are far above MAX_VALUE anyway)
        values = pc.cast(col, pa.float64(), safe=False).to_numpy(zero_copy_only=False)
        if not values.flags.writeable:  # a zero-copy view of Arrow's buffer
            values = values.copy()
        return values, np.isnan(values), np.zeros(n, bool)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)
        values = np.array(pd.to_numeric(text, errors="coerce"), dtype=float)
        empty = (text.isna() | text.fillna("").str.strip().eq("")).to_numpy()
        return values, empty, np.isnan(values) & ~empty
    empty = col.is_null().to_numpy(zero_copy_only=False)
    return np.full(n, np.nan), empty, ~empty


def number_column(col, *, fix: str, negative_fix: str | None = None, limit: float | None = MAX_VALUE,
                  limit_fix: str | None = None, required: bool = False,
                  empty_means: str = "0") -> tuple[np.ndarray, list[Broken]]:
    """A value column as float64 checked by the rules of numbers, and the rules its rows break.

    Parameters
    ----------
    col : pyarrow.Array or ChunkedArray
        As read (:func:`parse_numbers`).
    fix : str
        How to fix a value that is not a number (``"store revenue as numbers (empty means 0)"``).
    negative_fix, limit_fix : str, optional
        How to fix a negative value and one above ``limit`` (default: a generic fix).
    limit : float or None
        The largest value of one row (:data:`MAX_VALUE`); None: no limit.
    required : bool
        An empty row breaks ``not_numeric`` (otherwise it is 0).
    empty_means : str
        What an empty row stands for, in the rule's words (``"0"``, ``"unknown"``).

    Returns
    -------
    values : numpy.ndarray of float64
        Empty and offending rows are 0.
    broken : list of Broken
        One entry per rule broken by at least one row, in the order ``not_numeric``, ``negative``, ``too_large``;
        a row breaks at most one of them.
    """
    values, empty, not_number = parse_numbers(col)
    if len(values) and not not_number.any():
        low, high = values.min(), values.max()  # NaN (an empty row) makes both NaN
        if low >= 0 and (high <= limit if limit is not None else np.isfinite(high)):
            return values, []  # every row a finite number within the rules: nothing to mask
    not_number |= np.isinf(values)
    if required:
        not_number |= empty
    negative = ~not_number & (values < 0)  # NaN compares False
    too_large = values > limit if limit is not None else np.zeros(len(values), bool)
    too_large &= ~not_number
    rules = (
        (NOT_NUMERIC, "must be a finite number" + ("" if required else f" (empty means {empty_means})"), fix,
         not_number),
        (NEGATIVE, "must be >= 0", negative_fix or "fix or drop the rows with negative values", negative),
        (TOO_LARGE, f"must be at most {limit:.0e} (sums of such values stay finite)",
         limit_fix or "check the unit of the column (cents? micros?) or fix the rows", too_large),
    )
    broken = [Broken(code, rule, how, mask) for code, rule, how, mask in rules if mask.any()]
    np.copyto(values, 0.0, where=not_number | negative | too_large | ~np.isfinite(values))
    return values, broken
