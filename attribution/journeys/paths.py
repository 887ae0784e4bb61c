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
from attribution.io.columns import check_column_map, column_type_problem, has_control, number_column, \
    parse_column_map, text_column, to_canonical
from attribution.io.events import NONE_CHANNEL, RESERVED
from attribution.journeys.journeys import Journeys
from attribution.io.sources import plan_columns, read_columns, read_schema_names, resolve_sources
from attribution.journeys.pathsplit import split_paths
from attribution.kernels.encoding import encode_sorted, take_segments

PATH_COLUMNS = ("path", "conversions", "nulls", "revenue")
DEFAULT_SEPARATOR = " > "


@dataclass(eq=False)
class PathTable:
    """Distinct paths with their counts, stored as distinct-path :class:`~attribution.journeys.journeys.Journeys`.

    Attributes
    ----------
    journeys : Journeys
        One journey entry per distinct path, sorted by path; ``conversions``, ``nulls`` and ``revenue`` are the
        path's totals. No timestamps.
    """

    journeys: Journeys

    @property
    def n_paths(self) -> int:
        return self.journeys.n_journeys

    def to_frame(self, separator: str = DEFAULT_SEPARATOR) -> pd.DataFrame:
        """``path, conversions, nulls, revenue``, one row per distinct path."""
        j = self.journeys
        return pd.DataFrame({
            "path": j.path_strings(separator).to_pylist(),
            "conversions": j.conversions,
            "nulls": j.nulls,
            "revenue": j.revenue,
        })

    @classmethod
    def from_journeys(cls, journeys) -> "PathTable":
        """Group journeys by their channel sequence; sums conversions, nulls and revenue exactly.

        Distinct paths come out sorted by path text (channel names joined by ``\x1f``; byte order), whatever
        the order of the journeys; each keeps the touches of its first journey. The sort runs on the channel
        codes, not on strings: with names ranked in byte order, comparing code sequences (a path before its
        extensions) is comparing the joined texts whenever every name is non-empty and has no character below
        ``\x20``; otherwise the joined texts themselves are sorted.
        """
        if journeys.n_journeys == 0:
            return cls(journeys)
        names = pa.array([str(c) for c in journeys.channel_names], pa.string())
        if len(names) and pc.any(pc.or_(pc.equal(pc.binary_length(names), 0),
                                        pc.match_substring_regex(names, "[\\x00-\\x1f]"))).as_py():
            codes, n_paths = _group_by_text(journeys)
        else:
            rank, _ = encode_sorted(names)  # names ranked in byte order (equal names share a rank)
            touch = journeys.touch_channel
            if not np.array_equal(rank, np.arange(len(rank))):
                touch = rank[touch]
            codes, n_paths = group_code_sequences(touch, journeys.offsets, int(rank.max()) + 1 if len(rank) else 1)
        conversions = np.bincount(codes, journeys.conversions, minlength=n_paths)
        nulls = np.bincount(codes, journeys.nulls, minlength=n_paths)
        revenue = np.bincount(codes, journeys.revenue, minlength=n_paths)
        # representative journey of each path: its first occurrence
        first = np.full(n_paths, len(codes), np.int64)
        np.minimum.at(first, codes, np.arange(len(codes), dtype=np.int64))
        touch_channel, offsets = _take_segments(journeys.touch_channel, journeys.offsets, first)
        return cls(Journeys(
            channel_names=journeys.channel_names, touch_channel=touch_channel, offsets=offsets,
            conversions=conversions, nulls=nulls, revenue=revenue, lookback_days=journeys.lookback_days,
            meta={**journeys.meta, "source": "path_table"},
        ))

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
    problems, parts = [], []
    for path in files:
        wanted = plan_columns(path, read_schema_names(path, csv), PATH_COLUMNS, ("path", "conversions"), mapping,
                              problems, csv=csv)
        if not problems:
            t = read_columns(path, wanted, csv=csv,
                             numeric=[mapping.get(c, c) for c in ("conversions", "nulls", "revenue")])
            parts.append((path, to_canonical(t, mapping)))
    if problems:
        raise InputError(problems)
    # every file's paths are split, checked and concatenated first, then grouped once: no file is grouped twice
    tables = []
    for path, t in parts:
        tables.append(_parse(t, separator=separator, file=path, mapping=mapping))
    return PathTable.from_journeys(tables[0] if len(tables) == 1 else _concat_journeys(tables))


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
    return PathTable.from_journeys(journeys)


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
    codes, offsets, names = split_paths(path, separator)
    codes, names = _checked_names(codes, offsets, names, table["_row"].to_numpy(), file, mapping)
    return Journeys(names, codes.astype(np.int64), offsets, conversions, nulls, revenue,
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


#: code-sequence words compared per sorting round (after the first, which compares one)
_WORDS_PER_ROUND = 4


def group_code_sequences(codes: np.ndarray, offsets: np.ndarray, n_codes: int) -> tuple[np.ndarray, int]:
    """Group the sequences ``codes[offsets[i]:offsets[i + 1]]`` (values in ``0 .. n_codes − 1``) and number the
    distinct ones in lexicographic order (a sequence before its extensions; the empty one first).

    Sequences are compared as 64-bit words of ``64 // bits`` digits each (digit = code + 1, so the padding 0
    after a sequence's end sorts first): all sequences by their first word, then only the groups still tied
    and longer than that by their next words, and so on (most-significant-digit first). Words are packed one
    digit position at a time over the sequences that long, so the work is proportional to the touches; there
    is no loop per sequence.

    Returns
    -------
    group : numpy.ndarray of int64
        The number of each sequence's distinct value (0 = the smallest).
    n_groups : int
    """
    n = len(offsets) - 1
    if n == 0:
        return np.zeros(0, np.int64), 0
    lengths = np.diff(offsets).astype(np.int64)
    starts = np.asarray(offsets[:-1], np.int64)
    codes = np.asarray(codes)
    bits = max(int(n_codes).bit_length(), 1)  # digits 1 .. n_codes
    per_word = 64 // bits
    n_words = -(-lengths // per_word)

    def columns(seqs: np.ndarray, w0: int, k: int) -> list[np.ndarray]:
        """Words ``w0 .. w0 + k − 1`` of the sequences ``seqs`` (0 past a sequence's end)."""
        ln = lengths[seqs]
        short = int(ln.max()) < (1 << 15) if len(ln) else True
        by = np.argsort((-ln).astype(np.int16) if short else -ln, kind="stable")  # longest first
        neg = -ln[by]
        st = starts[seqs][by]
        cols = np.zeros((k, len(seqs)), np.uint64)
        for j in range(w0 * per_word, min((w0 + k) * per_word, int(-neg[0]) if len(neg) else 0)):
            cnt = int(np.searchsorted(neg, -j, side="left"))  # sequences longer than j: a prefix
            d = codes[st[:cnt] + j].astype(np.uint64)
            d += np.uint64(1)
            d <<= np.uint64((per_word - 1 - j % per_word) * bits)
            cols[j // per_word - w0, :cnt] |= d
        out = np.empty_like(cols)
        out[:, by] = cols
        return list(out)

    # round 1: every sequence by its first word (order within ties does not matter: only groups are kept)
    col = _first_words(codes, starts, lengths, per_word, bits)
    order = np.argsort(col)
    col = col[order]
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(col[1:], col[:-1], out=new[1:])
    del col
    gid = np.maximum.accumulate(np.where(new, np.arange(n, dtype=np.int64), 0))  # start position of its group
    w0 = 1
    active = np.arange(n, dtype=np.int64)
    while True:
        # groups still tied: more than one member, and some member has words beyond those compared
        grp = np.cumsum(new) - 1
        longer = np.bincount(grp, n_words[order[active]] > w0) > 0
        keep = (np.bincount(grp)[grp] > 1) & longer[grp]
        active = active[keep]
        if not len(active):
            break
        seqs = order[active]
        k = max(1, min(_WORDS_PER_ROUND, int(n_words[seqs].max()) - w0))
        cols = columns(seqs, w0, k)
        g = gid[active]
        perm = np.lexsort(cols[::-1] + [g])  # the last key is the primary one: groups stay in place
        order[active] = seqs[perm]
        g = g[perm]
        new = np.empty(len(active), bool)
        new[0] = True
        new[1:] = g[1:] != g[:-1]
        for c in cols:
            c = c[perm]
            new[1:] |= c[1:] != c[:-1]
        gid[active] = np.maximum.accumulate(np.where(new, active, 0))
        w0 += k
    is_start = gid == np.arange(n, dtype=np.int64)
    rank = np.cumsum(is_start) - 1
    group = np.empty(n, np.int64)
    group[order] = rank
    return group, int(rank[-1]) + 1


def _first_words(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray, per_word: int, bits: int,
                 block: int = 1 << 18) -> np.ndarray:
    """First 64-bit word of every sequence (its first ``per_word`` digits, as in :func:`group_code_sequences`).

    One pass over the touches in storage order, a block of sequences at a time: each touch's digit is shifted to
    its place and the digits of a sequence are OR-ed together (``bitwise_or.reduceat``), so memory is read in
    order instead of one gather per position over sequences sorted by length.
    """
    n = len(lengths)
    out = np.zeros(n, np.uint64)
    for a in range(0, n, block):
        ln = lengths[a:a + block]
        keep = np.flatnonzero(ln > 0)
        if not len(keep):
            continue
        lo = int(starts[a + keep[0]])
        hi = int(starts[a + keep[-1]] + ln[keep[-1]])
        first = starts[a:a + block] - lo  # this block's sequence starts within codes[lo:hi]
        pos = np.arange(hi - lo, dtype=np.int64)
        pos -= np.repeat(first, ln)  # position within its sequence (touches of a block's sequences are contiguous)
        digit = codes[lo:hi].astype(np.uint64)
        digit += np.uint64(1)
        late = pos >= per_word
        pos[late] = 0
        digit <<= ((per_word - 1 - pos) * bits).astype(np.uint64)
        digit[late] = 0
        out[a + keep] = np.bitwise_or.reduceat(digit, first[keep])
    return out
