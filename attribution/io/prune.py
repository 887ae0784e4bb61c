"""Parquet row groups that may hold rows of a time range (daily jobs read only what their lookback needs)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

_NS = {"s": 1_000_000_000, "ms": 1_000_000, "us": 1_000, "ns": 1}


def row_groups_in(path: str, column: str, lo: int | None, hi: int | None):
    """The row groups of a Parquet file whose ``column`` statistics may hold a time in [lo, hi), with the file row
    number each starts at; None when the column is no Arrow timestamp (then every row is read).

    A group without statistics is kept. Naive timestamps are UTC, as everywhere in the engine.
    """
    meta = pq.ParquetFile(path).metadata
    schema = pq.read_schema(path)
    if column not in schema.names or not pa.types.is_timestamp(schema.field(column).type):
        return None
    typ = schema.field(column).type
    index = meta.schema.to_arrow_schema().get_field_index(column)
    groups, starts, at = [], [], 0
    for g in range(meta.num_row_groups):
        rg = meta.row_group(g)
        stats = rg.column(index).statistics
        keep = True
        if stats is not None and stats.has_min_max:
            low, high = (pa.scalar(v, type=typ).value * _NS[typ.unit] for v in (stats.min, stats.max))
            keep = (hi is None or low < hi) and (lo is None or high >= lo)
        if keep:
            groups.append(g)
            starts.append((at, rg.num_rows))
        at += rg.num_rows
    return groups, starts


def row_numbers(starts) -> np.ndarray:
    """File row numbers of the rows of the row groups kept (``starts``: (first row, rows) per group)."""
    if not starts:
        return np.zeros(0, np.int64)
    return np.concatenate([np.arange(a, a + n, dtype=np.int64) for a, n in starts])
