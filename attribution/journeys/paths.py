"""The path table (SPEC 1.2): distinct paths with conversions, nulls and revenue.

Most peer tools (ChannelAttribution, fractribution, Marketing-Attribution-Models) take this table as input; many
models (Markov, Shapley, linear, ...) need nothing more. Counts may be fractional and are kept exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import InputError, Problem, RenamedChannelWarning, option
from attribution.io.columns import absent_mappings, check_column_map, column_type_problem, has_control, number_column, \
    parse_column_map, text_column, to_canonical
from attribution.io.events import NONE_CHANNEL, RESERVED
from attribution.journeys.journeys import Journeys
from attribution.io.sources import plan_columns, read_columns, read_schema_names, resolve_sources
from attribution.journeys.pathsplit import split_paths
from attribution.journeys.pathgroup import first_members, group_code_sequences, group_first_seen, renumber_first_seen
from attribution.kernels.encoding import encode_sorted, take_segments

PATH_COLUMNS = ("path", "conversions", "nulls", "revenue")
DEFAULT_SEPARATOR = " > "


@dataclass(eq=False)
class PathTable:
    """Distinct paths with their counts, stored as distinct-path :class:`~attribution.journeys.journeys.Journeys`.

    Attributes
    ----------
    journeys : Journeys
        One journey entry per distinct path; ``conversions``, ``nulls`` and ``revenue`` are the path's totals.
        No timestamps.
    sorted_by_path : bool
        Whether the paths are sorted by path text (else: in the order of their first occurrence in the input).
    """

    journeys: Journeys
    sorted_by_path: bool = True

    @property
    def n_paths(self) -> int:
        return self.journeys.n_journeys

    def sorted(self) -> "PathTable":
        """The same distinct paths sorted by path text (``self`` when they already are)."""
        return self if self.sorted_by_path else PathTable.from_journeys(self.journeys, sort=True)

    def to_frame(self, separator: str = DEFAULT_SEPARATOR) -> pd.DataFrame:
        """``path, conversions, nulls, revenue``, one row per distinct path, sorted by path."""
        j = self.sorted().journeys
        return pd.DataFrame({
            "path": j.path_strings(separator).to_pylist(),
            "conversions": j.conversions,
            "nulls": j.nulls,
            "revenue": j.revenue,
        })

    @classmethod
    def from_journeys(cls, journeys, *, sort: bool = True) -> "PathTable":
        """Group journeys by their channel sequence; sums conversions, nulls and revenue exactly (in row order).

        With ``sort`` the distinct paths come out sorted by path text (channel names joined by ``\x1f``; byte
        order), whatever the order of the journeys; otherwise in the order of their first occurrence
        (:func:`~attribution.journeys.pathgroup.group_first_seen`: no sort, and nothing gathered when the paths
        are already distinct). Each path keeps the touches of its first journey. The sort runs on the channel
        codes, not on strings: with names ranked in byte order, comparing code sequences (a path before its
        extensions) is comparing the joined texts whenever every name is non-empty and has no character below
        ``\x20``; otherwise the joined texts themselves are sorted (or hashed).
        """
        if journeys.n_journeys == 0:
            return cls(journeys, sort)
        codes, n_paths = _path_groups(journeys, sort)
        meta = {**journeys.meta, "source": "path_table"}
        if n_paths == journeys.n_journeys and not sort:  # already distinct: the same arrays, in the same order
            return cls(Journeys(
                channel_names=journeys.channel_names, touch_channel=journeys.touch_channel,
                offsets=journeys.offsets, conversions=journeys.conversions + 0.0, nulls=journeys.nulls + 0.0,
                revenue=journeys.revenue + 0.0, lookback_days=journeys.lookback_days, meta=meta), False)
        conversions = np.bincount(codes, journeys.conversions, minlength=n_paths)
        nulls = np.bincount(codes, journeys.nulls, minlength=n_paths)
        revenue = np.bincount(codes, journeys.revenue, minlength=n_paths)
        if sort:  # representative journey of each path: its first occurrence
            first = np.full(n_paths, len(codes), np.int64)
            np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
            touch_channel, offsets = _take_segments(journeys.touch_channel, journeys.offsets, first)
        else:  # the first occurrences come in path order: a mask over the touches, no gather
            is_first = np.zeros(len(codes), bool)
            is_first[first_members(codes)] = True
            touch_channel = journeys.touch_channel[np.repeat(is_first, journeys.lengths)]
            offsets = np.zeros(n_paths + 1, np.int64)
            np.cumsum(journeys.lengths[is_first], out=offsets[1:])
        return cls(Journeys(
            channel_names=journeys.channel_names, touch_channel=touch_channel, offsets=offsets,
            conversions=conversions, nulls=nulls, revenue=revenue, lookback_days=journeys.lookback_days,
            meta=meta), sort)

    @classmethod
    def from_frame(cls, frame, *, separator: str = DEFAULT_SEPARATOR, file: str = "<frame>") -> "PathTable":
        """Validate a ``path, conversions[, nulls][, revenue]`` table (pandas or Arrow)."""
        table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
        if "_row" not in table.column_names:
            table = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        return _build(table, separator=separator, file=file)


def read_paths(sources, *, columns=None, separator: str = DEFAULT_SEPARATOR, csv=None) -> PathTable:
    """Read and validate path-table files (``--input paths``).

    Parameters
    ----------
    sources : str, path or list
    columns : dict or list of "canonical=actual"
    separator : str
        What joins the channels of a path (default ``" > "``; surrounding white space is ignored).
    csv : attribution.io.csvread.CsvOptions, optional
        How CSV files are read (delimiter, decimal mark of conversions and revenue, encoding).
    """
    mapping = parse_column_map(columns)
    check_column_map(mapping, PATH_COLUMNS)
    files = resolve_sources(sources)
    problems, planned, schemas = [], [], []
    for path in files:
        names = read_schema_names(path, csv)
        planned.append((path, plan_columns(path, names, PATH_COLUMNS, ("path", "conversions"), mapping, problems,
                                           csv=csv)))
        schemas.append((path, names))
    problems = problems or absent_mappings(mapping, schemas, skip=("path", "conversions"))
    if problems:
        raise InputError(problems)
    numeric = [mapping.get(c, c) for c in ("conversions", "nulls", "revenue")]
    parts = [(path, to_canonical(read_columns(path, wanted, csv=csv, numeric=numeric), mapping))
             for path, wanted in planned]
    # every file's paths are split, checked and concatenated first, then grouped once: no file is grouped twice
    tables = []
    for path, t in parts:
        tables.append(_parse(t, separator=separator, file=path, mapping=mapping))
    return PathTable.from_journeys(tables[0] if len(tables) == 1 else _concat_journeys(tables), sort=False)


def _concat_journeys(parts):
    names = np.array(sorted({str(c) for p in parts for c in p.channel_names}), dtype=object)
    lookup = {c: i for i, c in enumerate(names)}
    chans, offs, conv, nul, rev = [], [0], [], [], []
    base = 0
    for p in parts:
        remap = np.array([lookup[str(c)] for c in p.channel_names], np.int64)
        chans.append(remap[p.touch_channel] if len(remap) else p.touch_channel)
        offs.append(p.offsets[1:] + base)
        base += p.n_touches
        conv.append(p.conversions)
        nul.append(p.nulls)
        rev.append(p.revenue)
    return Journeys(names, np.concatenate(chans), np.concatenate([np.zeros(1, np.int64)] + offs[1:]),
                    np.concatenate(conv), np.concatenate(nul), np.concatenate(rev), lookback_days=None)


def path_numbers(table: pa.Table, name: str, problems: list[Problem], *, file: str = "<frame>",
                 column: str | None = None, path: str = "path") -> np.ndarray:
    """A count or revenue column of a path table as float64, by the rules of numbers
    (:func:`attribution.io.columns.number_column`: empty and offending rows 0).

    Parameters
    ----------
    table : pyarrow.Table
        The path table; its ``_row`` column (when present) numbers the rows of ``file``.
    name : str
        The column (absent: all 0).
    problems : list of Problem
        Where one problem per rule broken is appended (with the first row's path and value).
    file, column, path : str
        For messages: the file, the column's name there (default ``name``) and the path column.
    """
    if name not in table.column_names:
        return np.zeros(table.num_rows)
    col = table[name]
    values, broken = number_column(col, fix="store the counts as numbers (empty means 0)",
                                   negative_fix="fix the counts (fractional counts are allowed, negatives are not)")
    rows = table["_row"].to_numpy() if "_row" in table.column_names else np.arange(table.num_rows)
    for b in broken:
        problems.append(b.problem(file=file, column=column or name, rows=rows,
                                  example=lambda i: {path: table[path][i].as_py(), column or name: col[i].as_py()}))
    return values


def _build(table: pa.Table, *, separator: str, file: str, mapping=None) -> PathTable:
    """A validated table's distinct paths (:func:`_parse`, then grouped)."""
    journeys = _parse(table, separator=separator, file=file, mapping=mapping)
    return PathTable.from_journeys(journeys, sort=False)


def _parse(table: pa.Table, *, separator: str, file: str, mapping=None):
    """One journey per row of a path table (not grouped yet): paths split into channel codes, counts checked."""
    problems: list[Problem] = []
    for req in ("path", "conversions"):
        if req not in table.column_names:
            problems.append(Problem("column_missing", f"required column '{req}' is missing",
                                    f"map it with {option('column', f'{req}=YOUR_COLUMN')}", file=file, column=req))
    if problems:
        raise InputError(problems)
    path = text_column(table["path"])
    if path is None or pa.types.is_null(table["path"].type):
        raise InputError(column_type_problem("a string", table["path"].type,
                                             "store paths as text such as 'email > search'", file=file,
                                             column=(mapping or {}).get("path", "path")))
    conversions, nulls, revenue = (
        path_numbers(table, c, problems, file=file, column=(mapping or {}).get(c, c))
        for c in ("conversions", "nulls", "revenue"))
    if problems:
        raise InputError(problems)
    codes, offsets, names = split_paths(path, separator, dtype=np.int64)
    codes, names = _checked_names(codes, offsets, names, table["_row"].to_numpy(), file, mapping)
    return Journeys(names, codes, offsets, conversions, nulls, revenue,
                    lookback_days=None, meta={"source": "path_table", "file": file})


def _checked_names(codes: np.ndarray, offsets: np.ndarray, names, rows, file: str, mapping):
    """The event log's channel-name rules on a path table's channels: control characters refused (they would
    split at the engine's internal separators), ``(none)`` (the touchless row's name) renamed with a warning."""
    kind = type(names)
    names = pa.array(list(names), pa.string())
    bad = np.flatnonzero(has_control(names))
    if len(bad):
        path_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
        hit = np.unique(path_of[np.isin(codes, bad)])
        first = int(np.asarray(rows)[int(hit[0])])
        raise InputError(Problem(
            "channel_control_character", "channel names must not contain control characters (U+0000 to U+001F, "
            "U+007F)", "remove them from the paths' channel names", file=file, column=(mapping or {}).get("path", "path"),
            count=len(hit), first_row=first, example={"channel": names[int(bad[0])].as_py()}))
    if pc.any(pc.equal(names, NONE_CHANNEL)).as_py():
        warnings.warn(f"channels named {NONE_CHANNEL!r} (the name of the touchless row) are reported as "
                      f"{RESERVED[NONE_CHANNEL]!r}", RenamedChannelWarning, stacklevel=4)
        remap, names = encode_sorted(pc.if_else(pc.equal(names, NONE_CHANNEL), RESERVED[NONE_CHANNEL], names))
        codes = remap[codes].astype(codes.dtype)
    values = names.to_pylist()
    return codes, (np.array(values, dtype=object) if kind is np.ndarray else values)


def _take_segments(values: np.ndarray, offsets: np.ndarray, rows: np.ndarray, block: int = 1 << 18):
    """``values`` of the segments ``rows`` (in that order) and their offsets; like
    :func:`~attribution.kernels.encoding.take_segments` followed by a gather, a block of rows at a time so that the
    index temporaries stay small."""
    lengths = np.diff(offsets)[rows]
    new_offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    out = np.empty(int(new_offsets[-1]), values.dtype)
    for a in range(0, len(rows), block):
        flat, sub = take_segments(offsets, rows[a:a + block])
        out[new_offsets[a]:new_offsets[a] + len(flat)] = values[flat]
    return out, new_offsets


def _group_by_text(journeys) -> tuple[np.ndarray, int]:
    """Path of each journey as a code into its sorted distinct ``\x1f``-joined texts (the general route)."""
    codes, distinct = encode_sorted(journeys.path_strings("\x1f"))
    return codes, len(distinct)


def _path_groups(journeys, sort: bool) -> tuple[np.ndarray, int]:
    """The distinct path of every journey (sorted by path text, or numbered in order of first occurrence)."""
    names = pa.array([str(c) for c in journeys.channel_names], pa.string())
    if len(names) and pc.any(pc.or_(pc.equal(pc.binary_length(names), 0),
                                    pc.match_substring_regex(names, "[\\x00-\\x1f]"))).as_py():
        codes, n_paths = _group_by_text(journeys)
        return (codes, n_paths) if sort else (renumber_first_seen(codes, n_paths), n_paths)
    rank, _ = encode_sorted(names)  # names ranked in byte order (equal names share a rank)
    touch = journeys.touch_channel
    if not np.array_equal(rank, np.arange(len(rank))):
        touch = rank[touch]
    n_codes = int(rank.max()) + 1 if len(rank) else 1
    return (group_code_sequences if sort else group_first_seen)(touch, journeys.offsets, n_codes)
