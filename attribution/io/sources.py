"""Finding and reading input files: a Parquet file, a folder or glob of Parquet files, or CSV.

Only the columns a run needs are read. Every file keeps its own row numbers (``_row``) so that validation can
name the first offending row of the file it is in. CSV files are read as :class:`~attribution.io.csvread.CsvOptions`
say (delimiter, decimal mark, encoding, null tokens: :mod:`attribution.io.csvread`).
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from attribution.exceptions import InputError, Problem, option
from attribution.io.csvread import CsvOptions, delimiter_hint, header_names, read_csv
from attribution.io.prune import row_groups_in, row_numbers

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.bz2", ".tsv", ".tsv.gz", ".tsv.bz2", ".txt")  # .txt: Excel's "Unicode text"


def file_kind(path: str) -> str | None:
    low = path.lower()
    if low.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if low.endswith(CSV_SUFFIXES):
        return "csv"
    return None


def resolve_sources(sources) -> list[str]:
    """Expand files, folders and globs into a sorted, de-duplicated list of files.

    Raises
    ------
    InputError
        When a source does not exist, matches nothing, or has a format the engine cannot read.
    """
    if isinstance(sources, (str, os.PathLike)):
        sources = [sources]
    files: list[str] = []
    problems: list[Problem] = []
    for src in sources:
        src = os.fspath(src)
        if os.path.isdir(src):
            found = sorted(
                str(p) for p in Path(src).rglob("*") if p.is_file() and file_kind(str(p)) == "parquet"
            )
            if not found:
                problems.append(Problem("no_files", "the folder holds no Parquet files (*.parquet)",
                                        "point at a folder of .parquet files, a file or a glob", file=src))
            files += found
        elif os.path.isfile(src):
            if file_kind(src) is None:
                problems.append(Problem("unknown_format",
                                        "the file is neither Parquet (.parquet) nor CSV (.csv, .tsv, .txt)",
                                        "rename the file with its format's extension", file=src))
            files.append(src)
        elif any(ch in src for ch in "*?["):
            found = sorted(f for f in glob.glob(src, recursive=True) if os.path.isfile(f) and file_kind(f))
            if not found:
                problems.append(Problem("no_files", "the pattern matches no Parquet or CSV file",
                                        "check the pattern and quote it so the shell does not expand it", file=src))
            files += found
        else:
            problems.append(Problem("file_missing", "the file does not exist",
                                    "check the path (it is read relative to the working directory)", file=src))
    if problems:
        raise InputError(problems)
    seen: set[str] = set()
    unique = []
    for f in files:
        if f not in seen:
            seen.add(f)
            unique.append(f)
    return unique


def read_schema_names(path: str, csv: CsvOptions | None = None) -> list[str]:
    """Column names of one file, read without reading its data (a CSV header naming a column twice is an
    error)."""
    try:
        if file_kind(path) == "parquet":
            return list(pq.read_schema(path).names)
        return header_names(path, csv)
    except (pa.ArrowInvalid, OSError, UnicodeError) as exc:
        raise unreadable(path, exc) from None


def read_columns(path: str, columns: list[str], dictionary=(), csv: CsvOptions | None = None,
                 numeric=(), time_range=None) -> pa.Table:
    """Read the named columns of one file, adding ``_row`` (0-based row number within the file).

    String columns named in ``dictionary`` (low-cardinality ones: event, channel, campaign) are read from
    Parquet as dictionary arrays, without materialising one string per row. ``csv`` says how a CSV file is read;
    ``numeric`` names its numeric columns (their decimal mark is ``csv.decimal``). ``time_range`` = (timestamp
    column, (lo, hi) epoch ns): only the Parquet row groups that may hold a time in [lo, hi) are read
    (:mod:`attribution.io.prune`).
    """
    try:
        if file_kind(path) == "parquet":
            schema = pq.read_schema(path)
            as_dict = [c for c in dictionary if c in columns and c in schema.names
                       and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
            pruned = None
            if time_range is not None:
                pruned = row_groups_in(path, time_range[0], *time_range[1])
            if pruned is not None:
                table = pq.ParquetFile(path, read_dictionary=as_dict or None, pre_buffer=False).read_row_groups(
                    pruned[0], columns=columns)
                return table.append_column("_row", pa.array(row_numbers(pruned[1])))
            table = pq.read_table(path, columns=columns, read_dictionary=as_dict or None, pre_buffer=False)
        else:
            table = read_csv(path, columns, csv, numeric)
    except (pa.ArrowInvalid, OSError, UnicodeError) as exc:
        raise unreadable(path, exc) from None
    return table.append_column("_row", pa.array(np.arange(table.num_rows, dtype=np.int64)))


def unreadable(path: str, exc: Exception) -> InputError:
    fix = "check that it is a valid Parquet or CSV file"
    if file_kind(path) == "csv" and "columns, got" in str(exc):
        fix = (f"check the delimiter ({option('delimiter')}) and the quoting: every line needs as many fields as the header "
               "(in a ','-separated file, numbers with a decimal comma must be quoted)")
    elif isinstance(exc, UnicodeError):
        fix = f"give the file's encoding with {option('encoding')} (UTF-16 and UTF-8 with a byte-order mark are detected)"
    return InputError(Problem("unreadable", f"the file cannot be read ({_first_line(exc)[:300]})", fix, file=path))


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def plan_columns(path: str, names, canonical, required, mapping: dict, problems: list, *,
                 flag: str = "column", what: str = "column", csv: CsvOptions | None = None) -> list[str]:
    """Actual names of the ``canonical`` columns a file has (in canonical order), given its column ``names``.

    Appends one ``column_missing`` :class:`Problem` to ``problems`` per missing ``required`` column, naming the
    columns found and the mapping option ``flag`` (``column``, ``spend-column``) that fixes it; for a CSV file whose
    header was split with the wrong delimiter, one ``csv_delimiter`` problem naming ``--delimiter`` instead.
    """
    found = ", ".join(map(str, names[:12])) + (", ..." if len(names) > 12 else "")
    wanted = []
    missing = [mapping.get(c, c) for c in required if mapping.get(c, c) not in names]
    if missing and file_kind(path) == "csv":
        hint = delimiter_hint(path, names, missing, csv)
        if hint is not None:
            problems.append(hint)
            return [mapping.get(c, c) for c in canonical if mapping.get(c, c) in names]
    for canon in canonical:
        actual = mapping.get(canon, canon)
        if actual in names:
            wanted.append(actual)
        elif canon in required:
            hint = (f"map it with {option(flag, f'{canon}=YOUR_COLUMN')}" if canon not in mapping
                    else f"check the {option(flag)} mapping")
            problems.append(Problem("column_missing", f"required {what} '{actual}' is missing (columns found: {found})",
                                    hint, file=path, column=actual))
    return wanted
