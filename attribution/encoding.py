"""Dictionary encoding with a deterministic, sorted vocabulary, and segment helpers over offsets."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def encode_sorted(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Encode values as int64 codes into their sorted distinct values.

    Codes do not depend on row order (the vocabulary is sorted), so shuffled input gives the same codes.
    Nulls get code -1.

    Returns
    -------
    codes : numpy.ndarray of int64
    vocabulary : pyarrow.Array (sorted, distinct, no nulls)
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if len(values) == 0:
        return np.zeros(0, np.int64), values.drop_null()
    encoded = pc.dictionary_encode(values)
    dictionary = encoded.dictionary
    order = pc.sort_indices(dictionary).to_numpy()
    rank = np.empty(len(dictionary), np.int64)
    rank[order] = np.arange(len(dictionary), dtype=np.int64)
    idx = encoded.indices
    nulls = idx.is_null().to_numpy(zero_copy_only=False)
    raw = idx.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    codes = rank[raw] if len(rank) else raw
    if nulls.any():
        codes = np.where(nulls, -1, codes)
    return codes, dictionary.take(pa.array(order))


def segment_ids(offsets: np.ndarray) -> np.ndarray:
    """The segment (journey) index of every element of a flat array cut by ``offsets``."""
    lengths = np.diff(offsets)
    return np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)


def positions(offsets: np.ndarray, seg: np.ndarray | None = None) -> np.ndarray:
    """0-based position of every element within its segment."""
    if seg is None:
        seg = segment_ids(offsets)
    return np.arange(offsets[-1], dtype=np.int64) - offsets[:-1][seg]


def take_segments(offsets: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat element indices and new offsets of the segments ``rows`` (in that order)."""
    rows = np.asarray(rows, np.int64)
    lengths = np.diff(offsets)[rows]
    new_offsets = np.zeros(len(rows) + 1, np.int64)
    np.cumsum(lengths, out=new_offsets[1:])
    starts = offsets[:-1][rows]
    flat = np.repeat(starts - new_offsets[:-1], lengths) + np.arange(new_offsets[-1], dtype=np.int64)
    return flat, new_offsets


def segment_sum(values: np.ndarray, seg: np.ndarray, n: int) -> np.ndarray:
    """Sum of ``values`` per segment (0 for empty segments)."""
    return np.bincount(seg, weights=values, minlength=n)
