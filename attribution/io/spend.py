"""The spend table (SPEC 1.3): reading, validation, and spend summed once per channel (and period).

Columns (any name can be mapped, ``spend_columns={"spend": "cost"}`` or ``--spend-column spend=cost``):

========== ======== ======== =================================================================================
column     type     required meaning
========== ======== ======== =================================================================================
channel    string   yes      the channel, spelled as in the event log (surrounding spaces are trimmed)
spend      number   yes      money spent (>= 0; null = 0)
date       date     no       day of the spend (a date, a timestamp or an ISO-8601 string, UTC); needed by
                             ``--period``
campaign   string   no       with ``--by campaign`` spend is summed per channel × campaign (no campaign:
                             ``(none)``); otherwise per channel
cost_type  string   no       ``media``, ``tools``, ``staff``, ...: ``spend`` is the fully loaded cost (all
                             types), ``media_spend`` the rows whose cost type is ``media`` (case-insensitive;
                             a null cost type counts as media)
========== ======== ======== =================================================================================

Spend rows are summed per channel (per period) exactly once, however many models a run reports: every model's
rows join the same sums. The channel ``(none)`` (touchless conversions) is reserved and cannot carry spend.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import InputError, ParameterError, Problem, option
from attribution.io.columns import absent_mappings, check_column_map, column_type_problem, number_column, parse_column_map, \
    text_column
from attribution.io.periods import check_period, epoch_days, period_start_days
from attribution.io.sources import file_kind, plan_columns, read_columns, read_schema_names
from attribution.io.timeparse import YEAR_LIMITS, TimeRule, convert_timestamps
from attribution.kernels.constants import NONE_CHANNEL

SPEND_REQUIRED = ("channel", "spend")
SPEND_OPTIONAL = ("date", "campaign", "cost_type")
SPEND_CANONICAL = SPEND_REQUIRED + SPEND_OPTIONAL
MEDIA = "media"


@dataclass
class Spend:
    """A validated spend table.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per input row: ``channel`` (object), ``spend`` (float), ``media_spend`` (float, when a
        ``cost_type`` column was given), ``day`` (int64 epoch day, when a ``date`` column was given),
        ``campaign`` and ``cost_type`` when given.
    file : str
        Where it was read from (``<frame>`` for an in-memory frame).
    """

    frame: pd.DataFrame
    file: str = "<frame>"
    columns: dict = field(default_factory=dict)

    @property
    def has_dates(self) -> bool:
        return "day" in self.frame.columns

    @property
    def has_cost_types(self) -> bool:
        return "media_spend" in self.frame.columns

    @property
    def value_columns(self) -> list[str]:
        return ["spend", "media_spend"] if self.has_cost_types else ["spend"]

    @property
    def total(self) -> float:
        return float(self.frame["spend"].sum())

    def by_channel(self, period: str | None = None, by: str | None = None) -> pd.DataFrame:
        """Spend summed per channel (× campaign with ``by="campaign"``) (× period start, an epoch day number).

        Spend rows without a campaign are summed under the campaign ``(none)``.

        Raises
        ------
        ParameterError
            When ``period`` is given and the spend table has no ``date`` column, or ``by="campaign"`` and it has
            no ``campaign`` column.
        """
        period = check_period(period)
        keys = ["channel"]
        frame = self.frame
        if by is not None:
            if by != "campaign":
                raise ParameterError(f"The {option('by', quoted=True)} option must be campaign. Got {by!r} instead.")
            if "campaign" not in frame.columns:
                raise ParameterError(
                    f"{option('by', 'campaign')} needs the campaign of every spend row, and the spend table {self.file} has no "
                    f"'campaign' column. Add one (map it with {option('spend-column', 'campaign=YOUR_COLUMN')}), or drop {option('by')}."
                )
            camp = frame["campaign"].astype(object)
            blank = camp.isna() | camp.astype(str).str.strip().eq("")
            frame = frame.assign(campaign=np.where(blank.to_numpy(), NONE_CHANNEL,
                                                   camp.astype(str).str.strip().to_numpy()).astype(object))
            keys.append("campaign")
        if period is not None:
            if not self.has_dates:
                raise ParameterError(
                    f"{option('period', period)} needs the date of every spend row, and the spend table {self.file} has no "
                    f"'date' column. Add a date column (map it with {option('spend-column', 'date=YOUR_COLUMN')}), or drop {option('period')}."
                )
            frame = frame.assign(period=period_start_days(frame["day"].to_numpy(), period))
            keys.append("period")
        out = frame.groupby(keys, sort=True, as_index=False)[self.value_columns].sum()
        for k in keys:
            if k != "period":
                out[k] = out[k].astype(object)
        return out.reset_index(drop=True)


def read_spend(source, *, columns=None, csv=None) -> Spend:
    """Read and validate a spend table (CSV or Parquet file, or a pandas frame).

    Parameters
    ----------
    source : str, path or pandas.DataFrame
    columns : dict or list of "canonical=actual", optional
        Column name mapping for the spend table's canonical columns.
    csv : attribution.io.csvread.CsvOptions, optional
        How a CSV file is read (delimiter, decimal mark of spend, encoding): the event log's options.

    Raises
    ------
    InputError
        With every broken rule at once: a missing file or column, a null channel, a spend that is not a finite
        number, negative or above :data:`attribution.io.columns.MAX_VALUE`, an unparsable date, spend on the
        reserved channel ``(none)``.
    """
    mapping = parse_column_map(columns)
    check_column_map(mapping, SPEND_CANONICAL, flag="spend-column", what="column(s)",
                     listing="the spend table's columns are")
    name = lambda canon: mapping.get(canon, canon)  # noqa: E731
    path, names, table = _open_spend(source, csv)
    problems: list[Problem] = []
    plan_columns(path, names, SPEND_REQUIRED, SPEND_REQUIRED, mapping, problems, flag="spend-column",
                 what="spend column", csv=csv)
    problems = problems or absent_mappings(mapping, [(path, names)], flag="spend-column", skip=SPEND_REQUIRED)
    if problems:
        raise InputError(problems)
    wanted = [name(c) for c in SPEND_CANONICAL if name(c) in names]
    if table is None:
        table = read_columns(path, wanted, csv=csv, numeric=[name("spend")])
    flag = _flagger(table, path, name, wanted, problems)
    out = {"channel": _spend_channels(table[name("channel")], flag, problems, path, name("channel"))}
    out["spend"], broken = number_column(table[name("spend")], fix="store spend as numbers (empty means 0)",
                                         negative_fix="net refunds and credits into the channel's spend")
    for b in broken:
        flag(b.code, "spend", b.rule, b.fix, b.mask)
    if name("date") in wanted:
        dates = convert_timestamps(table[name("date")], TimeRule(valid_years=YEAR_LIMITS))  # any representable day
        flag("date_unparsable", "date", "must be a date (2026-01-31), a timestamp or an ISO-8601 string",
             "fix the dates, or drop the date column if spend is not dated", dates.unparsable)
        flag("date_out_of_range", "date", f"must fall within the years {YEAR_LIMITS[0]}..{YEAR_LIMITS[1]}",
             "fix the dates", dates.out_of_range)
        out["day"] = epoch_days(dates.ns)
    if name("campaign") in wanted:
        out["campaign"] = _text_values(table[name("campaign")])
    if name("cost_type") in wanted:
        out["cost_type"], is_media = _cost_types(table[name("cost_type")])
        out["media_spend"] = np.where(is_media, out["spend"], 0.0)
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(out)
    frame["channel"] = frame["channel"].astype(object)
    return Spend(frame, path, dict(mapping))


def _open_spend(source, csv) -> tuple[str, list, pa.Table | None]:
    """The spend source's display path, its column names and, for a frame, its table (None for a file, whose
    columns are read once they are planned).

    Raises
    ------
    InputError
        For a missing file or one of an unknown format.
    """
    if isinstance(source, pd.DataFrame):
        table = pa.Table.from_pandas(source, preserve_index=False)
        table = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        return "<frame>", table.column_names, table
    path = os.fspath(source)
    if not os.path.isfile(path):
        raise InputError(Problem("file_missing", "the spend file does not exist",
                                 f"check the {option('spend')} path (it is read relative to the working directory)", file=path))
    if file_kind(path) is None:
        raise InputError(Problem("unknown_format",
                                 "the spend file is neither Parquet (.parquet) nor CSV (.csv, .tsv, .txt)",
                                 "rename the file with its format's extension", file=path))
    return path, read_schema_names(path, csv), None


def _flagger(table: pa.Table, path: str, name, wanted: list, problems: list):
    """``flag(code, canon, rule, fix, mask)``: one problem (appended to ``problems``) for the rows of ``mask``,
    with the first one's row number and values."""
    rows = table["_row"].to_numpy()

    def flag(code, canon, rule, fix, mask):
        mask = np.asarray(mask, bool)
        if mask.any():
            first = int(np.flatnonzero(mask)[0])
            example = {name(c): table[name(c)][first].as_py() for c in ("channel", "spend", "date") if name(c) in wanted}
            problems.append(Problem(code, rule, fix, file=path, column=name(canon), count=int(mask.sum()),
                                    first_row=int(rows[first]), example=example))
    return flag


def _spend_channels(col, flag, problems: list, path: str, column: str) -> np.ndarray:
    """The channel names, trimmed; missing ones and the reserved touchless channel flagged, a column that is not
    text reported."""
    channel = text_column(col)
    if channel is None:
        problems.append(column_type_problem("a string", col.type, "store channel names as strings, spelled as in "
                                            "the event log", file=path, column=column))
        channel = pa.chunked_array([pa.nulls(len(col), pa.string())])
    channel = pc.utf8_trim_whitespace(channel)
    ch = np.asarray(channel.to_numpy(zero_copy_only=False), dtype=object)
    missing = pc.fill_null(pc.equal(channel, ""), True).to_numpy(zero_copy_only=False)
    flag("channel_missing", "channel", "must be set on every spend row", "fill the channel of every spend row", missing)
    flag("channel_reserved", "channel", f"must not be the reserved channel '{NONE_CHANNEL}' (touchless conversions, "
         "which cost nothing)", "book that spend on the channel that caused it", ch == NONE_CHANNEL)
    return ch


def _as_text(col) -> pa.ChunkedArray:
    """A column as text: a text column as it is, any other type cast to string."""
    text = text_column(col)
    return col.cast(pa.string()) if text is None else text


def _text_values(col) -> np.ndarray:
    """A column's values as Python strings (other types cast to string)."""
    return np.asarray(_as_text(col).to_numpy(zero_copy_only=False), dtype=object)


def _cost_types(col) -> tuple[np.ndarray, np.ndarray]:
    """The cost types, trimmed and lower-cased, and which rows are media spend (media, empty or null)."""
    kinds = pc.utf8_lower(pc.utf8_trim_whitespace(_as_text(col)))
    is_media = pc.fill_null(pc.equal(kinds, MEDIA), True).to_numpy(zero_copy_only=False)
    is_media |= pc.fill_null(pc.equal(kinds, ""), False).to_numpy(zero_copy_only=False)
    return np.asarray(kinds.to_numpy(zero_copy_only=False), dtype=object), is_media
