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

from attribution.io.events import parse_column_map
from attribution.exceptions import InputError, ParameterError, Problem, option
from attribution.kernels.constants import NONE_CHANNEL
from attribution.io.periods import check_period, epoch_days, period_start_days
from attribution.io.sources import file_kind, plan_columns, read_columns, read_schema_names
from attribution.io.timeparse import YEAR_LIMITS, TimeRule, convert_timestamps

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
        With every broken rule at once: a missing file or column, a null channel, a non-numeric, negative or
        infinite spend, an unparsable date, spend on the reserved channel ``(none)``.
    """
    mapping = parse_column_map(columns)
    unknown = [c for c in mapping if c not in SPEND_CANONICAL]
    if unknown:
        raise ParameterError(
            f"The {option('spend-column', quoted=True)} option maps unknown column(s) {', '.join(map(repr, unknown))}; the spend table's "
            f"columns are {', '.join(SPEND_CANONICAL)}."
        )
    name = lambda canon: mapping.get(canon, canon)  # noqa: E731
    if isinstance(source, pd.DataFrame):
        path = "<frame>"
        table = pa.Table.from_pandas(source, preserve_index=False)
        table = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        names = table.column_names
    else:
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise InputError(Problem("file_missing", "the spend file does not exist",
                                     f"check the {option('spend')} path (it is read relative to the working directory)", file=path))
        if file_kind(path) is None:
            raise InputError(Problem("unknown_format",
                                     "the spend file is neither Parquet (.parquet) nor CSV (.csv, .tsv, .txt)",
                                     "rename the file with its format's extension", file=path))
        names = read_schema_names(path, csv)
        table = None
    problems = []
    plan_columns(path, names, SPEND_REQUIRED, SPEND_REQUIRED, mapping, problems, flag="spend-column",
                 what="spend column", csv=csv)
    if problems:
        raise InputError(problems)
    wanted = [name(c) for c in SPEND_CANONICAL if name(c) in names]
    if table is None:
        table = read_columns(path, wanted, csv=csv, numeric=[name("spend")])
    rows = table["_row"].to_numpy()
    n = table.num_rows

    def flag(code, canon, rule, fix, mask):
        mask = np.asarray(mask, bool)
        if mask.any():
            first = int(np.flatnonzero(mask)[0])
            example = {name(c): table[name(c)][first].as_py() for c in ("channel", "spend", "date") if name(c) in wanted}
            problems.append(Problem(code, rule, fix, file=path, column=name(canon), count=int(mask.sum()),
                                    first_row=int(rows[first]), example=example))

    out: dict[str, np.ndarray] = {}
    channel = _strings(table[name("channel")])
    if channel is None:
        problems.append(Problem("column_type", f"must be a string column, found {table[name('channel')].type}",
                                "store channel names as strings, spelled as in the event log", file=path,
                                column=name("channel")))
        channel = pa.chunked_array([pa.nulls(n, pa.string())])
    channel = pc.utf8_trim_whitespace(channel)
    ch = np.asarray(channel.to_numpy(zero_copy_only=False), dtype=object)
    missing = pc.fill_null(pc.equal(channel, ""), True).to_numpy(zero_copy_only=False)
    flag("channel_missing", "channel", "must be set on every spend row", "fill the channel of every spend row", missing)
    flag("channel_reserved", "channel", f"must not be the reserved channel '{NONE_CHANNEL}' (touchless conversions, "
         "which cost nothing)", "book that spend on the channel that caused it", ch == NONE_CHANNEL)
    out["channel"] = ch

    values, non_numeric = _numbers(table[name("spend")])
    flag("spend_not_numeric", "spend", "must be a number", "store spend as numbers (null means 0)",
         non_numeric | np.isinf(values))
    flag("spend_negative", "spend", "must be >= 0", "net refunds and credits into the channel's spend", values < 0)
    out["spend"] = np.where(np.isfinite(values) & (values >= 0), values, 0.0)

    if name("date") in wanted:
        dates = convert_timestamps(table[name("date")], TimeRule(valid_years=YEAR_LIMITS))  # any representable day
        ns = dates.ns
        flag("date_unparsable", "date", "must be a date (2026-01-31), a timestamp or an ISO-8601 string",
             "fix the dates, or drop the date column if spend is not dated", dates.unparsable)
        flag("date_out_of_range", "date", f"must fall within the years {YEAR_LIMITS[0]}..{YEAR_LIMITS[1]}",
             "fix the dates", dates.out_of_range)
        out["day"] = epoch_days(ns)
    if name("campaign") in wanted:
        camp = _strings(table[name("campaign")])
        out["campaign"] = (np.asarray(camp.to_numpy(zero_copy_only=False), dtype=object) if camp is not None
                           else np.asarray(table[name("campaign")].cast(pa.string()).to_numpy(zero_copy_only=False),
                                           dtype=object))
    if name("cost_type") in wanted:
        ct = _strings(table[name("cost_type")])
        if ct is None:
            ct = table[name("cost_type")].cast(pa.string())
        kinds = pc.utf8_lower(pc.utf8_trim_whitespace(ct))
        is_media = pc.fill_null(pc.equal(kinds, MEDIA), True).to_numpy(zero_copy_only=False)
        is_media |= pc.fill_null(pc.equal(kinds, ""), False).to_numpy(zero_copy_only=False)
        out["cost_type"] = np.asarray(kinds.to_numpy(zero_copy_only=False), dtype=object)
        out["media_spend"] = np.where(is_media, out["spend"], 0.0)
    if problems:
        raise InputError(problems)
    frame = pd.DataFrame(out)
    frame["channel"] = frame["channel"].astype(object)
    return Spend(frame, path, dict(mapping))


def _strings(col) -> pa.ChunkedArray | None:
    typ = col.type
    if pa.types.is_dictionary(typ):
        col = col.cast(typ.value_type)
        typ = col.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_null(typ):
        return col.cast(pa.string())
    return None


def _numbers(col) -> tuple[np.ndarray, np.ndarray]:
    """Values as float (null = 0) and a mask of non-numeric entries."""
    typ = col.type
    if pa.types.is_dictionary(typ):
        col = col.cast(typ.value_type)
        typ = col.type
    n = len(col)
    if pa.types.is_integer(typ) or pa.types.is_floating(typ) or pa.types.is_decimal(typ) or pa.types.is_null(typ):
        values = col.cast(pa.float64()).to_numpy(zero_copy_only=False).astype(float)
        return np.where(np.isnan(values), 0.0, values), np.zeros(n, bool)
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        text = pd.Series(col.to_numpy(zero_copy_only=False), dtype=object)
        values = pd.to_numeric(text, errors="coerce").to_numpy(float)
        blank = text.isna().to_numpy() | text.fillna("").str.strip().eq("").to_numpy()
        return np.where(np.isnan(values), 0.0, values), np.isnan(values) & ~blank
    return np.zeros(n), ~col.is_null().to_numpy(zero_copy_only=False)
