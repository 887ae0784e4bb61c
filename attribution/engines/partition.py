"""Splitting an event log into user buckets: a stable hash of the user id, pieces read batch by batch.

Journeys never cross users, so a log split by user can be processed bucket by bucket and the partition
statistics merged exactly (DESIGN: partition-local sufficient statistics + finalise). The hash depends only on
the user id's value (never on the process, the file or the row), so every engine and every run puts a user in
the same bucket.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from attribution.exceptions import InputError, Problem, option
from attribution.io.csvread import checked, open_csv, raise_undecodable
from attribution.io.sources import file_kind
from attribution.kernels.userorder import hash_strings, mix64 as _mix64


def user_kind(types) -> str:
    """``"int"`` when every file stores user ids as integers, else ``"string"`` (mixed logs compare ids as text,
    exactly as the in-memory read does when it unifies the column)."""
    types = list(types)
    if types and all(pa.types.is_integer(t.value_type if pa.types.is_dictionary(t) else t) for t in types):
        return "int"
    return "string"


def bucket_of(users: pa.Array | pa.ChunkedArray, n_buckets: int, kind: str) -> np.ndarray:
    """Bucket (0 .. n_buckets - 1) of every user id; the same id lands in the same bucket in any run."""
    if isinstance(users, pa.ChunkedArray):
        users = users.combine_chunks() if users.num_chunks != 1 else users.chunk(0)
    if pa.types.is_dictionary(users.type):
        users = users.cast(users.type.value_type)
    if kind == "int" and pa.types.is_integer(users.type):
        wide = pa.uint64() if pa.types.is_unsigned_integer(users.type) else pa.int64()  # 2**64 - 1 fits
        h = _mix64(users.cast(wide).fill_null(0).to_numpy(zero_copy_only=False).view(np.uint64))
    elif pa.types.is_nested(users.type):
        h = np.zeros(len(users), np.uint64)  # not ids at all: validation reports the column (one bucket is enough)
    else:
        if not (pa.types.is_string(users.type) or pa.types.is_large_string(users.type)):
            users = pc.cast(users, pa.string())
        h = hash_strings(users)
    return (h % np.uint64(n_buckets)).astype(np.int64)


def split_by_bucket(table: pa.Table, buckets: np.ndarray, n_buckets: int) -> list[pa.Table | None]:
    """The rows of ``table`` of each bucket (input order kept within a bucket); None for an empty bucket."""
    keys = buckets.astype(np.uint16) if n_buckets <= 65_536 else buckets
    order = np.argsort(keys, kind="stable")  # radix sort for 16-bit keys
    counts = np.bincount(buckets, minlength=n_buckets)
    ordered = table.take(pa.array(order))
    out: list[pa.Table | None] = []
    start = 0
    for b in range(n_buckets):
        c = int(counts[b])
        out.append(ordered.slice(start, c) if c else None)
        start += c
    return out


def iter_pieces(path: str, columns: list[str], dictionary=(), batch_rows: int = 2_000_000, csv=None,
                numeric=()) -> Iterator[pa.Table]:
    """Read one file in pieces of about ``batch_rows`` rows, each with ``_row`` (row number within the file).

    Parquet is read row group by row group (only ``columns``; low-cardinality strings as dictionaries), CSV with
    the streaming reader, as ``csv`` (:class:`~attribution.io.csvread.CsvOptions`) says (``numeric``: the numeric
    columns, whose decimal mark it sets), each piece checked as a whole-file read is.
    """
    offset = 0
    if file_kind(path) == "parquet":
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        as_dict = [c for c in dictionary if c in columns and c in schema.names
                   and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
        if as_dict:
            pf = pq.ParquetFile(path, read_dictionary=as_dict)
        groups: list[int] = []
        rows = 0
        for g in range(pf.num_row_groups):
            groups.append(g)
            rows += pf.metadata.row_group(g).num_rows
            if rows >= batch_rows or g == pf.num_row_groups - 1:
                table = pf.read_row_groups(groups, columns=columns)
                yield table.append_column("_row", pa.array(np.arange(offset, offset + table.num_rows, dtype=np.int64)))
                offset += table.num_rows
                groups, rows = [], 0
        if pf.num_row_groups == 0:
            table = pf.schema_arrow.empty_table().select(columns)
            yield table.append_column("_row", pa.array(np.zeros(0, np.int64)))
        return
    reader, encoding = open_csv(path, columns, csv, numeric)
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            if offset == 0:  # a header-only file: one empty piece, as a Parquet file without row groups gives
                table = checked(reader.schema.empty_table(), path, csv, numeric, encoding, 0)
                yield table.append_column("_row", pa.array(np.zeros(0, np.int64)))
            return
        except pa.ArrowInvalid as exc:  # a column's type, inferred from the first block, does not fit a later one
            raise_undecodable(path, exc, encoding, offset)
            raise InputError(Problem(
                "csv_type_changes",
                "must keep the type its first rows have when read piece by piece (out of core / Dask); in the "
                f"piece from row {offset:,} on: " + str(exc).strip().splitlines()[0],
                "convert the log to Parquet (typed columns), or give the run enough memory to read the file whole "
                f"(a larger {option('memory-limit')}, {option('engine', 'local')})", file=path, first_row=offset)) from None
        table = checked(pa.Table.from_batches([batch]), path, csv, numeric, encoding, offset)
        yield table.append_column("_row", pa.array(np.arange(offset, offset + table.num_rows, dtype=np.int64)))
        offset += table.num_rows


def file_rows(path: str) -> int | None:
    """Rows of a Parquet file from its footer (None for CSV)."""
    if file_kind(path) == "parquet":
        return pq.ParquetFile(path).metadata.num_rows
    return None
