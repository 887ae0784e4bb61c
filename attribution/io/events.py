"""The event log: reading, canonical columns and validation at the boundary (SPEC 1.1 and 6).

:func:`read_events` turns files into :class:`Events`, an Arrow table with canonical column names and types:
``user_id`` (string or int64), ``timestamp`` (int64 UTC epoch nanoseconds), ``event`` (string), ``channel``
(string, null off touches), ``revenue`` (float64, null = 0) and, when present, ``campaign``, ``source``,
``medium``. Every broken rule is collected and reported at once; with ``on_bad_rows='skip'`` the offending rows
are dropped instead and counted per reason.
"""

from __future__ import annotations

import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from attribution.exceptions import DroppedRowsWarning, InputError, ParameterError, Problem, RenamedChannelWarning, option
from attribution.io.columns import MAX_VALUE, absent_mappings, check_column_map, column_type_problem, has_control, \
    number_column, parse_column_map, text_column, to_canonical
from attribution.io.csvread import CsvOptions
from attribution.io.sources import plan_columns, read_columns, read_schema_names, resolve_sources
from attribution.io.timeparse import TimeRule, convert_timestamps
from attribution.kernels.constants import NONE_CHANNEL
from attribution.kernels.encoding import encode_sorted
from attribution.kernels.userorder import IdHashes

REQUIRED = ("user_id", "timestamp", "event", "channel")
OPTIONAL = ("revenue", "campaign", "source", "medium", "conversion_id")
CANONICAL = REQUIRED + OPTIONAL
TOUCH_EVENT = "touch"
#: low-cardinality string columns: read from Parquet as dictionaries and kept encoded (``Events.codes``)
ENCODED = ("event", "channel", "campaign", "source", "medium")
#: reserved channel names and what touches that carry them are renamed to
RESERVED = {NONE_CHANNEL: "(none) (channel)"}


class Events:
    """A validated event log with canonical columns.

    Attributes
    ----------
    table : pyarrow.Table
        Canonical columns plus ``_file`` (index into ``files``) and ``_row`` (row within that file).
    files : list of str
        The files read, in reading order.
    dropped : dict
        Rows dropped per reason code (``on_bad_rows='skip'``).
    encodings : dict
        Cache of :meth:`codes`: column name → (integer codes, sorted vocabulary), filled while reading.

    Notes
    -----
    The low-cardinality string columns read from Parquet are held as codes; ``table`` turns them into string
    columns the first time it is used. Journeys only need the codes (:meth:`codes`, :meth:`column`), so a plain
    run never builds one Python-visible string per row for them.
    """

    #: distinct ids stitched into another by the identity rules (:mod:`attribution.io.identity`); None without
    ids_merged: int | None = None
    #: the export shape the log was read from (:mod:`attribution.io.schemas`); None for canonical logs
    schema: str | None = None

    def __init__(self, table: pa.Table, files=None, dropped=None, encodings=None, *, pending=None, time_units=None,
                 user_hashes: Future | None = None):
        self._table = table
        #: the user ids' hashes (:class:`attribution.kernels.userorder.IdHashes`) being computed on another thread
        #: while the log was validated, or None; taken once by :meth:`take_user_hashes`
        self._user_hashes = user_hashes
        #: file path → {epoch unit: (rows, first row)} of the files whose epoch numbers had their unit detected
        self.time_units = dict(time_units) if time_units else {}
        self.files = list(files) if files is not None else []
        self.dropped = dict(dropped) if dropped is not None else {}
        self.encodings = dict(encodings) if encodings is not None else {}
        #: column name → position, for columns held only as codes in ``encodings`` until ``table`` is used
        self._pending = dict(pending) if pending else {}

    @property
    def table(self) -> pa.Table:
        if self._pending:
            table = self._table
            for name, pos in sorted(self._pending.items(), key=lambda kv: kv[1]):
                table = table.add_column(pos, name, _decode(*self.encodings[name]))
            self._table, self._pending = table, {}
        return self._table

    @table.setter
    def table(self, value: pa.Table) -> None:
        self._table, self._pending = value, {}

    @property
    def column_names(self) -> list[str]:
        names = list(self._table.column_names)
        for name, pos in sorted(self._pending.items(), key=lambda kv: kv[1]):
            names.insert(pos, name)
        return names

    def column(self, name: str) -> pa.ChunkedArray:
        """One column, without materialising the code-held ones unless it is one of them."""
        if name in self._pending:
            return self.table[name]
        return self._table[name]

    def codes(self, name: str) -> tuple[np.ndarray, pa.Array]:
        """Column ``name`` as integer codes into its sorted distinct values (-1 = null), computed once.

        Same as :func:`attribution.kernels.encoding.encode_sorted` of ``table[name]``; the low-cardinality columns
        read from Parquet come already encoded, so this costs nothing for them.
        """
        if name not in self.encodings:
            self.encodings[name] = encode_sorted(self.column(name))
        return self.encodings[name]

    def take_user_hashes(self) -> IdHashes | None:
        """The user ids' hashes computed in the background while the log was validated (one per row of
        ``user_id``), or None when none were started or they failed (the caller then hashes the column itself,
        which raises a real error properly). Given once: the future is dropped after it."""
        pending, self._user_hashes = self._user_hashes, None
        if pending is None:
            return None
        try:
            return pending.result()
        except Exception:  # noqa: BLE001 (hashing again on the caller's thread raises it, if it is real)
            return None

    @property
    def num_rows(self) -> int:
        return self._table.num_rows

    def event_counts(self) -> dict[str, int]:
        """Rows per event name, sorted by name."""
        if "event" in self.encodings:
            codes, vocab = self.encodings["event"]
            n = np.bincount(codes + 1, minlength=len(vocab) + 1)  # slot 0: the nulls (code -1)
            counts = {v: int(c) for v, c in zip(vocab.to_pylist(), n[1:]) if c}
            if n[0]:
                counts[None] = int(n[0])
        else:
            vc = pc.value_counts(self.table["event"])
            counts = {v["values"].as_py(): v["counts"].as_py() for v in vc}
        return dict(sorted(counts.items(), key=lambda kv: str(kv[0])))

    def has_column(self, name: str) -> bool:
        return name in self.column_names

    def __repr__(self) -> str:
        return f"Events({self.num_rows:,} rows, columns={self.column_names}, files={self.files!r})"

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, epoch_unit=None, valid_years=None, **kwargs) -> "Events":
        """Validate an in-memory pandas frame with canonical (or mapped) columns (options as :func:`read_events`)."""
        return _validate([("<frame>", pa.Table.from_pandas(frame, preserve_index=False))],
                         time_rule=TimeRule.of(epoch_unit, valid_years), **kwargs)


def validate_planned(tables, plan, identity=None, *, on_bad_rows: str = "error", time_rule=None) -> Events:
    """Validate a read plan's tables, first joining ids by ``identity`` (an
    :class:`~attribution.io.identity.Identity`) when given; the events then record ``ids_merged``."""
    if identity is None:
        return _validate(tables, mapping=plan.mapping, on_bad_rows=on_bad_rows, time_rule=time_rule)
    tables, merged = identity.apply(tables, plan.actual("user_id"))
    events = _validate(tables, mapping=plan.mapping, on_bad_rows=on_bad_rows, time_rule=time_rule)
    events.ids_merged = merged
    return events


@dataclass
class ReadPlan:
    """What to read: every file with the (actual) columns a run needs, and the column mapping.

    The out-of-core and Dask engines read the same plan piece by piece and validate each user bucket with the
    same :func:`validate_tables` as the in-memory read.
    """

    files: list[tuple[str, list[str]]]
    mapping: dict[str, str]
    csv: CsvOptions = CsvOptions()

    @property
    def dictionary(self) -> list[str]:
        """Actual names of the low-cardinality columns read as dictionaries."""
        return [self.mapping.get(c, c) for c in ENCODED]

    @property
    def numeric(self) -> list[str]:
        """Actual names of the numeric columns (their CSV decimal mark is ``csv.decimal``)."""
        return [self.actual("revenue")]

    def actual(self, canon: str) -> str:
        return self.mapping.get(canon, canon)

    def read(self, path: str, wanted: list[str], time_range=None) -> pa.Table:
        """One planned file's columns (:func:`attribution.io.sources.read_columns`); ``time_range`` (epoch ns
        [lo, hi)) skips the Parquet row groups without a row in it."""
        return read_columns(path, wanted, dictionary=self.dictionary, csv=self.csv, numeric=self.numeric,
                            time_range=(self.actual("timestamp"), time_range) if time_range else None)


def plan_read(sources, *, columns=None, skip=(), csv: CsvOptions | None = None) -> ReadPlan:
    """Resolve the sources and check every file's required columns, reading schemas only (CSV files as ``csv``
    says: :class:`~attribution.csvread.CsvOptions`).

    Raises
    ------
    InputError
        For missing files and missing required columns (every one at once).
    """
    mapping = parse_column_map(columns)
    check_column_map(mapping, CANONICAL)
    files = resolve_sources(sources)
    problems: list[Problem] = []
    planned, schemas = [], []
    csv = replace(csv or CsvOptions(), text=(mapping.get("user_id", "user_id"),))  # ids as text: exact above 2**63
    for path in files:
        names = read_schema_names(path, csv)
        wanted = plan_columns(path, names, tuple(c for c in CANONICAL if c not in skip or c in REQUIRED), REQUIRED,
                              mapping, problems, csv=csv)
        planned.append((path, wanted))
        schemas.append((path, names))
    if not problems:  # (a wrong delimiter explains a missing mapped column too)
        problems = absent_mappings(mapping, schemas, skip=REQUIRED)
    if problems:
        raise InputError(problems)
    return ReadPlan(planned, mapping, csv)


def warn_dropped(dropped: dict) -> None:
    """The one warning about rows skipped with ``on_bad_rows="skip"`` (counts per reason), in memory or merged
    over partitions."""
    dropped = {k: v for k, v in dropped.items() if v}
    if dropped:
        warnings.warn("dropped bad rows: " + ", ".join(f"{k}: {v:,}" for k, v in dropped.items()),
                      DroppedRowsWarning, stacklevel=3)


def validate_tables(tables, *, mapping=None, on_bad_rows: str = "error", time_rule: TimeRule | None = None,
                    check_units: bool = True) -> Events:
    """Validate ``[(file path, table as read), ...]`` into :class:`Events` (what :func:`read_events` does after
    reading). Tables may carry their own ``_row`` column (row numbers within the original file).

    ``check_units=False`` leaves the one-unit rule of epoch numbers to the caller: a partitioned engine checks it
    on the units of all partitions (:attr:`Events.time_units`, :func:`mixed_unit_problems`)."""
    return _validate(tables, mapping=mapping, on_bad_rows=on_bad_rows, time_rule=time_rule, check_units=check_units)


def add_units(into: dict, path: str, units: dict) -> None:
    """Add one piece's detected epoch units ({unit: (rows, first row)}) to ``into[path]``: rows summed, the
    first row kept (:attr:`Events.time_units`)."""
    if not units:
        return
    merged = into.setdefault(path, {})
    for unit, (count, first) in units.items():
        had = merged.get(unit, (0, first))
        merged[unit] = (had[0] + count, min(had[1], first))


def mixed_unit_problems(units_by_file: dict, mapping=None) -> list[Problem]:
    """The files whose epoch numbers mix units (seconds and milliseconds, ...): refused whatever ``on_bad_rows``,
    since no rule can tell which rows are right.

    Parameters
    ----------
    units_by_file : dict
        File path → {unit: (rows, first row)}, as :attr:`Events.time_units`.
    """
    problems = []
    for path, units in units_by_file.items():
        if len(units) < 2:
            continue
        main = max(units, key=lambda u: (units[u][0], -list(units).index(u)))
        others = {u: v for u, v in units.items() if u != main}
        seen = "; ".join(f"{u}: {v[0]:,} rows from row {v[1]}" for u, v in units.items())
        problems.append(Problem(
            "timestamp_mixed_units",
            f"epoch numbers must all be in one unit (told apart by magnitude: below 1e11 s, 1e14 ms, 1e17 us, "
            f"else ns); this column mixes {', '.join(units)} ({seen})",
            f"convert the column to one unit, or force one with {option('epoch-unit')} (the rows in other units then fall "
            f"outside {option('valid-years')} and are reported)",
            file=path, column=(mapping or {}).get("timestamp", "timestamp"),
            count=sum(v[0] for v in others.values()), first_row=min(v[1] for v in others.values())))
    return problems


def _validate(tables, *, mapping=None, on_bad_rows="error", time_rule=None, check_units=True) -> Events:
    """Validate ``[(file path, table as read), ...]``: canonical columns per file (:func:`_canonical_part`), the
    bad rows of every file counted per reason, then raised (``on_bad_rows="error"``) or dropped."""
    if on_bad_rows not in ("error", "skip"):
        raise ParameterError(f"The 'on_bad_rows' option must be 'error' or 'skip'. Got {on_bad_rows!r} instead.")
    mapping = mapping or {}
    tables = list(tables)
    hashing = _hash_users_in_background(tables, mapping)
    files, parts, masks, encodings, time_units = _canonical_parts(tables, mapping, time_rule or TimeRule())
    held = {c for c in ENCODED if encodings and all(c in e for e in encodings)}
    if "channel" not in held:  # some file's channels are plain strings: the coded ones become trimmed columns too
        parts = [p.set_column(p.column_names.index("channel"), "channel", _as_dictionary(*e["channel"]))
                 if "channel" in e else p for p, e in zip(parts, encodings)]
    problems = _row_problems(parts, masks, mapping)
    if check_units:  # mixed units: no rule tells which rows are right, so refused whatever on_bad_rows
        _refuse_mixed_units(time_units, mapping, problems if on_bad_rows == "error" else [])
    unified = _concat(parts)
    merged = _concat_encodings(encodings, parts, unified.column_names)
    dropped: dict[str, int] = {}
    if problems:
        if on_bad_rows == "error":
            raise _input_error(problems, time_units)
        keep, dropped = _kept_rows(parts, masks)
        unified = unified.filter(pa.array(keep))
        merged = {k: (codes[keep], vocab) for k, (codes, vocab) in merged.items()}
        warn_dropped(dropped)
    # code-held columns stay codes until someone reads ``Events.table`` (see Events)
    pending = {name: i for i, name in enumerate(unified.column_names) if name in merged}  # original positions
    unified = unified.drop_columns(list(pending))
    for name in [c for c in unified.column_names if pa.types.is_dictionary(unified[c].type)]:
        i = unified.column_names.index(name)
        unified = unified.set_column(i, name, unified[name].cast(pa.string()))
    return Events(unified, files, dropped, merged, pending=pending, time_units=time_units,
                  user_hashes=hashing if not dropped else None)  # same rows as hashed: journeys pick them up


def _canonical_parts(tables: list, mapping: dict, time_rule: TimeRule):
    """Every file's table in canonical columns (:func:`_canonical_part`), numbered by file (``_file``).

    Returns
    -------
    files, parts, masks, encodings : list
        Per file: its path, canonical table, {(code, column): (Problem, mask)} of bad rows and coded columns.
    time_units : dict
        The epoch units detected per file (:attr:`Events.time_units`).

    Raises
    ------
    InputError
        For a missing required column or a column of the wrong type (in any file: all of them at once).
    """
    problems: list[Problem] = []
    files, parts, masks, encodings, time_units = [], [], [], [], {}
    for file_index, (path, table) in enumerate(tables):
        files.append(path)
        table = to_canonical(table, mapping)
        if "_row" not in table.column_names:
            table = table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))
        for canon in REQUIRED:
            if canon not in table.column_names:
                problems.append(Problem("column_missing", f"required column '{mapping.get(canon, canon)}' is missing",
                                        f"map it with {option('column', f'{canon}=YOUR_COLUMN')}", file=path, column=canon))
        if problems:
            continue
        part, bad, enc, units = _canonical_part(table, path, mapping, problems, time_rule)
        add_units(time_units, path, units)
        parts.append(part.append_column("_file", pa.array(np.full(part.num_rows, file_index, np.int32))))
        masks.append(bad)
        encodings.append(enc)
    if problems:
        raise _input_error(problems, time_units)
    return files, parts, masks, encodings, time_units


def _flagged(reason: tuple[str, str], parts: list[pa.Table], masks: list[dict]) -> np.ndarray:
    """The rows of every file that break ``reason``, concatenated in file order."""
    return np.concatenate([m.get(reason, (None, np.zeros(p.num_rows, bool)))[1] for m, p in zip(masks, parts)])


def _row_problems(parts: list[pa.Table], masks: list[dict], mapping: dict) -> list[Problem]:
    """One problem per reason over all files: how many rows break it, and the first of them (its file's
    problem, row number and values)."""
    problems = []
    for reason in sorted({r for m in masks for r in m}):
        flagged = _flagged(reason, parts, masks)
        if not flagged.any():
            continue
        first = int(np.flatnonzero(flagged)[0])
        offset = 0
        for m, p in zip(masks, parts):
            if first < offset + p.num_rows:
                problem: Problem = m[reason][0]
                local = first - offset
                problems.append(Problem(problem.code, problem.rule, problem.fix, file=problem.file,
                                        column=problem.column, count=int(flagged.sum()),
                                        first_row=int(p["_row"][local].as_py()),
                                        example=_example(p, local, problem.column, mapping)))
                break
            offset += p.num_rows
    return problems


def _kept_rows(parts: list[pa.Table], masks: list[dict]) -> tuple[np.ndarray, dict[str, int]]:
    """The rows that break no rule (``on_bad_rows="skip"``) and the rows dropped per reason code."""
    keep = np.ones(sum(p.num_rows for p in parts), bool)
    dropped: dict[str, int] = {}
    for reason in sorted({r for m in masks for r in m}):
        flagged = _flagged(reason, parts, masks)
        dropped[reason[0]] = dropped.get(reason[0], 0) + int(flagged.sum())
        keep &= ~flagged
    return keep, dropped


def _refuse_mixed_units(time_units: dict, mapping, problems: list[Problem]) -> None:
    """Raise the row problems found so far with :func:`mixed_unit_problems`, if there are any of the latter."""
    mixed = mixed_unit_problems(time_units, mapping)
    if mixed:
        raise _input_error(problems + mixed, time_units)


def _input_error(problems: list[Problem], time_units: dict) -> InputError:
    """The InputError of a failed validation, carrying the epoch units seen (a partitioned engine checks them)."""
    exc = InputError(problems)
    exc.time_units = time_units
    return exc


def _hash_users_in_background(tables, mapping):
    """Start hashing a single file's user ids (:class:`attribution.kernels.userorder.IdHashes`) on another thread, so
    that the first step of building journeys overlaps validation; None when it does not apply."""
    if len(tables) != 1:
        return None
    _, table = tables[0]
    name = mapping.get("user_id", "user_id")
    if name not in table.column_names:
        return None
    col = table[name]
    typ = col.type
    if col.null_count or not (pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_integer(typ)):
        return None
    pool = ThreadPoolExecutor(1)
    future = pool.submit(IdHashes, col)
    pool.shutdown(wait=False)
    return future


def _concat_encodings(encodings: list[dict], parts: list[pa.Table], columns) -> dict:
    """Merge per-file (codes, sorted vocabulary) of the columns every file has encoded."""
    if not encodings:
        return {}
    names = [c for c in ENCODED if c in columns and all(c in e for e in encodings)]
    merged = {}
    for name in names:
        if len(encodings) == 1:
            merged[name] = encodings[0][name]
            continue
        vocabs = [e[name][1] for e in encodings]
        starts = np.cumsum([0] + [len(v) for v in vocabs])
        remap, vocab = encode_sorted(pa.concat_arrays(vocabs))
        remap = np.append(remap, -1)
        codes = np.concatenate([np.where(e[name][0] >= 0, e[name][0] + starts[i], len(remap) - 1)
                                for i, e in enumerate(encodings)])
        merged[name] = (remap[codes], vocab)
    return merged


def _as_dictionary(codes: np.ndarray, vocabulary: pa.Array) -> pa.ChunkedArray:
    """(codes, vocabulary) as a dictionary column (no strings copied); -1 is null."""
    nulls = codes < 0
    if nulls.any():
        idx = pa.array(np.where(nulls, 0, codes).astype(np.int32), mask=nulls)
    else:
        idx = pa.array(codes.astype(np.int32))
    return pa.chunked_array([pa.DictionaryArray.from_arrays(idx, vocabulary.cast(pa.string()), safe=False)])


def _decode(codes: np.ndarray, vocabulary: pa.Array) -> pa.ChunkedArray:
    """The string column of (codes, vocabulary); -1 is null."""
    nulls = codes < 0
    idx = pa.array(np.where(nulls, 0, codes), mask=nulls if nulls.any() else None)
    if len(vocabulary) == 0:
        return pa.chunked_array([pa.nulls(len(codes), pa.string())])
    return pa.chunked_array([vocabulary.cast(pa.string()).take(idx)])


def _example(part: pa.Table, i: int, column: str | None, mapping) -> dict:
    row = {}
    for name in ("user_id", "timestamp_raw", "event", "channel", "revenue_raw"):
        if name in part.column_names:
            key = name.replace("_raw", "")
            col = part[name]
            if name.endswith("_raw") and not pa.types.is_string(col.type):
                try:  # raw values are kept as read; shown as text
                    row[mapping.get(key, key)] = col.slice(i, 1).cast(pa.string())[0].as_py()
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    row[mapping.get(key, key)] = str(col[i].as_py())
            else:
                row[mapping.get(key, key)] = col[i].as_py()
    return row


def _concat(parts: list[pa.Table]) -> pa.Table:
    if not parts:
        return pa.table({"user_id": pa.array([], pa.string()), "timestamp": pa.array([], pa.int64()),
                         "event": pa.array([], pa.string()), "channel": pa.array([], pa.string()),
                         "revenue": pa.array([], pa.float64()), "_row": pa.array([], pa.int64()),
                         "_file": pa.array([], pa.int32())})
    parts = [p.drop_columns([c for c in ("timestamp_raw", "revenue_raw") if c in p.column_names]) for p in parts]
    user_types = {p["user_id"].type for p in parts}
    if len(user_types) > 1:
        parts = [p.set_column(p.column_names.index("user_id"), "user_id", p["user_id"].cast(pa.string())) for p in parts]
    for c in {c for p in parts for c in p.column_names}:
        types = {p[c].type for p in parts if c in p.column_names}
        if len(types) > 1:  # e.g. a CSV (strings) and a Parquet file (dictionary codes): compare as strings
            parts = [p.set_column(p.column_names.index(c), c, p[c].cast(pa.string()))
                     if c in p.column_names and pa.types.is_dictionary(p[c].type) else p for p in parts]
    cols = [c for c in parts[0].column_names if all(c in p.column_names for p in parts)]
    extra = sorted({c for p in parts for c in p.column_names} - set(cols))
    aligned = []
    for p in parts:
        for c in extra:
            if c not in p.column_names:
                p = p.append_column(c, pa.nulls(p.num_rows, pa.string()))
        aligned.append(p.select(cols + extra))
    return pa.concat_tables(aligned) if len(aligned) > 1 else aligned[0]


class _RowFlags:
    """The bad rows of one file's table, per reason: ``{(code, column): (Problem without counts, mask)}`` (a
    code names a rule; the rules of numbers, :mod:`attribution.io.columns`, may apply to several columns).

    Parameters
    ----------
    path : str
        The file.
    mapping : dict
        Canonical → actual column names (problems name the actual column).
    """

    def __init__(self, path: str, mapping: dict):
        self.path, self.mapping = path, mapping
        self.bad: dict[tuple[str, str], tuple[Problem, np.ndarray]] = {}

    def __call__(self, code: str, column: str, rule: str, fix: str, mask) -> None:
        mask = np.asarray(mask, bool)
        if mask.any():
            problem = Problem(code, rule, fix, file=self.path, column=self.mapping.get(column, column))
            self.bad[code, column] = (problem, mask)


def _canonical_part(table: pa.Table, path: str, mapping, problems: list[Problem], time_rule: TimeRule):
    """Canonical types for one file's table.

    Parameters
    ----------
    table : pyarrow.Table
        With canonical column names and ``_row``.
    path : str
    mapping : dict
        Canonical → actual column names, for messages.
    problems : list of Problem
        Where whole-column problems (a column of the wrong type) are appended.
    time_rule : TimeRule

    Returns
    -------
    part : pyarrow.Table
        The canonical columns (``timestamp_raw`` and ``revenue_raw`` as read, for error examples).
    bad : dict
        ``{(code, column): (Problem, mask)}`` of bad rows.
    enc : dict
        The (codes, sorted vocabulary) of the dictionary-read columns (see :data:`ENCODED`).
    units : dict
        The detected epoch units, ``{unit: (rows, first row)}``.
    """
    name = lambda canon: mapping.get(canon, canon)  # noqa: E731
    flag = _RowFlags(path, mapping)
    enc: dict[str, tuple[np.ndarray, pa.Array]] = {}
    table = _scalar_columns(table, path, name, problems)
    cols = {"user_id": _user_ids(table, path, name, flag, problems)}
    units = _timestamp(table, cols, flag, time_rule)
    cols["event"], is_touch = _event(table, path, name, flag, problems, enc)
    cols["channel"] = _channel(table, path, name, is_touch, flag, problems, enc)
    if "revenue" in table.column_names:
        cols["revenue"] = _revenue(table["revenue"], flag)
        cols["revenue_raw"] = table["revenue"]  # for error examples only (dropped after validation)
    else:
        cols["revenue"] = pa.chunked_array([pa.array(np.zeros(table.num_rows), pa.float64())])
    for opt in ("campaign", "source", "medium", "conversion_id"):
        if opt in table.column_names:
            cols[opt] = _optional_text(table[opt], opt, enc)
    cols["_row"] = table["_row"]
    return pa.table(cols), flag.bad, enc, units


def _user_ids(table: pa.Table, path: str, name, flag: _RowFlags, problems: list) -> pa.ChunkedArray:
    """The user id column, string or int64 (unsigned 64-bit ids as text), nulls flagged."""
    user = table["user_id"]
    if pa.types.is_dictionary(user.type):
        user = user.cast(user.type.value_type)
    if pa.types.is_unsigned_integer(user.type) and user.type.bit_width == 64:
        user = user.cast(pa.string())  # ids up to 2**64 - 1 stay distinct (int64 holds half of them)
    elif pa.types.is_integer(user.type):
        user = user.cast(pa.int64())
    else:
        text = text_column(user)
        if text is None:
            problems.append(column_type_problem("a string or integer", user.type,
                                                "store user ids as strings or integers", file=path,
                                                column=name("user_id")))
            text = pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
        user = text
    flag("user_id_null", "user_id", "must not be null", "drop events without a user or fill the user id",
         user.is_null().to_numpy(zero_copy_only=False))
    return user


def _event(table: pa.Table, path: str, name, flag: _RowFlags, problems: list, enc: dict):
    """The event column (codes into ``enc`` for a dictionary column), nulls flagged; and which rows are
    touches."""
    if _is_string_dictionary(table["event"].type):
        codes, vocab = encode_sorted(table["event"])
        enc["event"] = (codes, vocab)
        event = table["event"]  # a placeholder for examples; the column is rebuilt from the codes when read
        event_null = codes < 0
        is_touch = codes == _code_of(vocab, TOUCH_EVENT)
    else:
        event = text_column(table["event"])
        if event is None:
            problems.append(column_type_problem("a string", table["event"].type,
                                                "store event names as strings (touch, conversion, ...)", file=path,
                                                column=name("event")))
            event = pa.chunked_array([pa.nulls(table.num_rows, pa.string())])
        event_null = event.is_null().to_numpy(zero_copy_only=False)
        is_touch = pc.fill_null(pc.equal(event, TOUCH_EVENT), False).to_numpy(zero_copy_only=False)
    flag("event_null", "event", "must not be null", "fill the event name (touch, conversion, ...)", event_null)
    return event, is_touch


def _revenue(raw: pa.ChunkedArray, flag: _RowFlags) -> pa.ChunkedArray:
    """Revenue as float64 (:func:`attribution.io.columns.number_column`): empty and bad rows 0, bad rows
    flagged."""
    values, broken = number_column(
        raw, fix="store revenue as numbers (empty means 0)",
        negative_fix="refunds are not conversions: remove them or net them into the conversion's revenue",
        limit=MAX_VALUE, limit_fix="check the unit of the revenue column (cents? micros?) or fix the rows")
    for b in broken:
        flag(b.code, "revenue", b.rule, b.fix, b.mask)
    return pa.chunked_array([pa.array(values, pa.float64())])


def _optional_text(col: pa.ChunkedArray, canon: str, enc: dict) -> pa.ChunkedArray:
    """An optional text column as string; a dictionary-read low-cardinality one (:data:`ENCODED`) is kept as
    read, its codes into ``enc``."""
    if canon in ENCODED and _is_string_dictionary(col.type):
        enc[canon] = encode_sorted(col)
        return col  # as read (same values); rebuilt from the codes when read
    if pa.types.is_dictionary(col.type):
        col = col.cast(col.type.value_type)
    return col.cast(pa.string())


def _timestamp(table: pa.Table, cols: dict, flag, rule: TimeRule) -> dict:
    """The timestamp column in epoch ns (into ``cols``), its bad rows flagged; returns the detected epoch units
    with file row numbers."""
    ts = convert_timestamps(table["timestamp"], rule)
    cols["timestamp"] = pa.chunked_array([pa.array(ts.ns, pa.int64())])
    cols["timestamp_raw"] = table["timestamp"]  # for error examples only (dropped after validation)
    flag("timestamp_unparsable", "timestamp",
         "must be a timestamp, an ISO-8601 string (2026-01-31T12:00:00Z) or epoch seconds, ms, us or ns",
         f"fix or drop the rows (or rerun with {option('on-bad-rows', 'skip')})", ts.unparsable)
    flag("timestamp_out_of_range", "timestamp",
         f"must fall within the years {rule.describe()} (UTC)",
         f"fix or drop the rows, or widen the window with {option('valid-years', 'FIRST:LAST')} (epoch numbers in an "
         f"unexpected unit: {option('epoch-unit', 's|ms|us|ns')})", ts.out_of_range)
    rows = table["_row"]
    return {u: (n, int(rows[i].as_py())) for u, (n, i) in ts.units.items()}


def _channel(table: pa.Table, path: str, name, is_touch: np.ndarray, flag, problems: list, enc: dict):
    """The channel column, whitespace-trimmed (codes into ``enc`` for a dictionary column), with touches
    without a channel or with control characters flagged and the reserved name renamed (:data:`RESERVED`)."""
    n = table.num_rows
    if _is_string_dictionary(table["channel"].type):
        codes, vocab = encode_sorted(_trimmed_dictionaries(table["channel"]))
        reserved = _code_of(vocab, NONE_CHANNEL)
        if reserved >= 0:  # rename in the small vocabulary and re-sort it
            remap, vocab = encode_sorted(pc.if_else(pc.equal(vocab, NONE_CHANNEL), RESERVED[NONE_CHANNEL], vocab))
            renamed = codes == reserved
            codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
        else:
            renamed = np.zeros(n, bool)
        enc["channel"] = (codes, vocab)
        channel = table["channel"]  # a placeholder for examples (as read); see _validate for mixed inputs
        no_channel = (codes < 0) | (codes == _code_of(vocab, ""))
        control = np.isin(codes, np.flatnonzero(has_control(vocab)))
    else:
        channel = text_column(table["channel"])
        if channel is None:
            problems.append(column_type_problem("a string", table["channel"].type, "store channel names as strings",
                                                file=path, column=name("channel")))
            channel = pa.chunked_array([pa.nulls(n, pa.string())])
        channel = pc.utf8_trim_whitespace(channel)
        no_channel = pc.fill_null(pc.equal(channel, ""), True).to_numpy(zero_copy_only=False)
        control = has_control(channel)
        renamed = pc.fill_null(pc.equal(channel, NONE_CHANNEL), False).to_numpy(zero_copy_only=False)
        if renamed.any():
            channel = pc.if_else(renamed, RESERVED[NONE_CHANNEL], channel)
    flag("channel_missing_on_touch", "channel", "must be set on touch rows",
         f"fill the channel of every touch (or rerun with {option('on-bad-rows', 'skip')})", is_touch & no_channel)
    flag("channel_control_character", "channel", "must not contain control characters (U+0000 to U+001F, U+007F)",
         f"remove them from the channel names (or rerun with {option('on-bad-rows', 'skip')})", is_touch & control)
    if (renamed & is_touch).any():
        warnings.warn(f"touches with the channel {NONE_CHANNEL!r} (the name of the touchless row) are reported as "
                      f"{RESERVED[NONE_CHANNEL]!r}", RenamedChannelWarning, stacklevel=5)
    return channel


#: what each canonical column holds, for the message when a file stores it as a nested type
SCALAR_KINDS = {"user_id": "a string or integer", "timestamp": "a timestamp, date, ISO-8601 string or epoch number",
                "event": "a string", "channel": "a string", "revenue": "a number", "campaign": "a string",
                "source": "a string", "medium": "a string", "conversion_id": "a string or integer"}


def _scalar_columns(table: pa.Table, path: str, name, problems: list) -> pa.Table:
    """Nested columns (struct, list, map, union) where one value per row belongs: one problem each, and the
    column replaced by nulls so that nothing else trips over it (the read stops at the problem)."""
    for i, col in enumerate(table.column_names):
        typ = table.schema.field(i).type
        typ = typ.value_type if pa.types.is_dictionary(typ) else typ
        if col in SCALAR_KINDS and pa.types.is_nested(typ):
            problems.append(column_type_problem(SCALAR_KINDS[col], typ,
                                                f"store one {SCALAR_KINDS[col].split(' ', 1)[1]} value per row in "
                                                f"'{name(col)}' (flatten or map the column before reading)",
                                                file=path, column=name(col)))
            table = table.set_column(i, col, pa.nulls(table.num_rows, pa.string()))
    return table


def _trimmed_dictionaries(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """A dictionary column with every chunk's (small) dictionary whitespace-trimmed; indices untouched."""
    return pa.chunked_array(
        [pa.DictionaryArray.from_arrays(c.indices, pc.utf8_trim_whitespace(c.dictionary.cast(pa.string())))
         for c in col.chunks], pa.dictionary(col.type.index_type, pa.string()))


def _is_string_dictionary(typ) -> bool:
    return pa.types.is_dictionary(typ) and (pa.types.is_string(typ.value_type) or pa.types.is_large_string(typ.value_type))


def _code_of(vocabulary: pa.Array, value: str) -> int:
    """Code of ``value`` in a sorted vocabulary, or -2 (matches no code) when absent."""
    hits = np.flatnonzero(pc.fill_null(pc.equal(vocabulary, value), False).to_numpy(zero_copy_only=False))
    return int(hits[0]) if len(hits) else -2
