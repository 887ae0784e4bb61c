"""Fast splitting of path strings (``a > b > c``) into channel codes, without materialising one string per touch.

The separator is searched in the raw UTF-8 bytes of the whole column with numpy. A token starts at every path
start and right after every separator and runs to the next token's start, so the tokens tile the byte buffer
contiguously and form a zero-copy Arrow string array (``"a > "``, ``"b > "``, ``"c"``).
Dictionary-encoding that array hashes every touch once; the few distinct tokens are then cleaned (trailing
separator and surrounding white space removed) and ranked in sorted order. Empty channels are dropped, as
:mod:`attribution.paths` does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def split_paths(text, separator: str, *, strip: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Channel codes, per-path offsets and sorted channel names of a string column of paths.

    Returns int32 codes (``names`` index), int64 offsets, names.

    Parameters
    ----------
    text : pyarrow string array (nulls count as empty paths)
    separator : str
        What joins the channels; white space around it (and around channels) is ignored when ``strip``.
    strip : bool
        False keeps channel names exactly (for the statistics' own ``\x1f``-joined keys).
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks() if text.num_chunks else pa.array([], pa.string())
    if text.null_count:
        text = pc.fill_null(text, "")
    text = text.cast(pa.large_string())
    if text.offset:
        text = pa.concat_arrays([text])  # realign a sliced array at offset 0
    n = len(text)
    sep = ((separator.strip() or separator) if strip else separator).encode("utf-8")
    bufs = text.buffers()
    offs = np.frombuffer(bufs[1], np.int64, count=n + 1) if n else np.zeros(1, np.int64)
    data = np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    lo, hi = int(offs[0]), int(offs[-1])
    body = data[lo:hi]
    L = len(sep)
    # a token starts at every path start and right after every separator; zero-length tokens (empty paths, a
    # separator ending a path) vanish here, as they would be dropped anyway
    if L == 1 and len(body):
        # mark[i]: a token starts at byte i (and mark[len] closes the last one): few, large allocations only
        mark = np.empty(len(body) + 1, bool)
        mark[0] = True
        np.equal(body, sep[0], out=mark[1:])
        mark[offs[:-1] - lo] = True
        mark[-1] = True
        tok_offsets = np.flatnonzero(mark)
        del mark
        if lo:
            tok_offsets += lo
        n_tok = len(tok_offsets) - 1
        tok_start = tok_offsets[:-1]
    else:
        boundary = np.zeros(len(body) + 1, bool)
        if len(body) >= L:
            hit = body[: len(body) - L + 1] == sep[0]
            for i in range(1, L):
                hit &= body[i: len(body) - L + 1 + i] == sep[i]
            ends = np.flatnonzero(hit) + L
            if len(ends):
                # no match across two paths, and no overlapping matches of a repetitive separator
                same = (np.searchsorted(offs - lo, ends - L, side="right")
                        == np.searchsorted(offs - lo, ends - 1, side="right"))
                ends = ends[same]
                if len(ends) > 1:
                    keep = np.ones(len(ends), bool)
                    keep[1:] = np.diff(ends) >= L
                    ends = ends[keep]
            boundary[ends] = True
        boundary[offs[:-1] - lo] = True
        boundary[-1] = False
        tok_start = np.flatnonzero(boundary) + lo
        n_tok = len(tok_start)
        tok_offsets = np.empty(n_tok + 1, np.int64)
        tok_offsets[:-1] = tok_start
        tok_offsets[-1] = hi
    tokens = pa.Array.from_buffers(pa.large_string(), n_tok, [None, pa.py_buffer(tok_offsets), bufs[2]])
    enc = pc.dictionary_encode(tokens)
    raw = enc.dictionary.to_pylist()
    sep_text = sep.decode("utf-8")
    cleaned = []
    for s in raw:  # a loop over distinct tokens (about two per channel), not over touches
        s = s.strip() if strip else s
        if s.endswith(sep_text):
            s = s[: -len(sep_text)]
            s = s.strip() if strip else s
        cleaned.append(s)
    names = np.array(sorted({s for s in cleaned if s}), dtype=object)
    lookup = {s: i for i, s in enumerate(names)}
    remap = np.array([lookup.get(s, -1) for s in cleaned], np.int32)
    idx = enc.indices.to_numpy(zero_copy_only=False)
    codes = remap[idx] if len(remap) else np.zeros(0, np.int32)  # int32: half the memory traffic downstream
    first_tok = np.searchsorted(tok_start, offs, side="left")  # tokens before each path start
    per_path_kept = np.diff(first_tok)
    dropped = np.flatnonzero(codes < 0)
    if len(dropped):  # separators alone and white space: subtract them from their paths' token counts
        per_path_kept = per_path_kept - np.bincount(np.searchsorted(first_tok, dropped, side="right") - 1,
                                                    minlength=n)
        codes = np.delete(codes, dropped)
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(per_path_kept, out=offsets[1:])
    return codes, offsets, names
