"""Fast splitting of path strings (``a > b > c``) into channel codes, without materialising one string per touch.

Used by path tables (:mod:`attribution.journeys.paths`) and by ``Markov.fit_paths``, so both read a path the same way:
split at the separator (matched left to right, without overlaps, as ``str.split`` and Arrow's
``split_pattern`` do), white space around each channel removed, empty channels dropped.

The separator is searched in the raw UTF-8 bytes with numpy, a piece of a few MB of text at a time. A token starts
at every path start and right after every separator and runs to the next token's start, so the tokens tile the
byte buffer contiguously and form a zero-copy Arrow string array (``"a > "``, ``"b > "``, ``"c"``).
Dictionary-encoding that array hashes every touch once; the few distinct tokens are then cleaned (trailing
separator and surrounding white space removed; Python's ``str.strip`` and Arrow's ``utf8_trim_whitespace``
remove the same characters) and ranked in sorted order (code point order, which is UTF-8 byte order).
Pieces are tokenised (scanned and dictionary-encoded) on two threads while the caller's thread turns the
tokenised pieces, in order, into channel codes: the result does not depend on the threads.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


#: paths are split in pieces of at most this many bytes of text, so the temporaries (a flag per byte, token
#: offsets) stay small and reuse the same memory: a fresh process pays for every new page it touches
PIECE_BYTES = 1 << 22


def split_paths(text, separator: str, *, strip: bool = True, dtype=np.int32) -> tuple[np.ndarray, np.ndarray,
                                                                                       np.ndarray]:
    """Channel codes, per-path offsets and sorted channel names of a string column of paths.

    Returns codes (``names`` index; int32 unless ``dtype`` says otherwise), int64 offsets, names.

    Parameters
    ----------
    text : pyarrow string or large string array, chunked or not (nulls count as empty paths)
    separator : str
        What joins the channels; white space around it (and around channels) is ignored when ``strip``.
    strip : bool
        False keeps channel names exactly (for the statistics' own ``\x1f``-joined keys).
    dtype : numpy integer type
        Of the codes: int32 (half the memory traffic of int64 downstream), or int64 where the codes end up as
        int64 anyway (written so from the start: no widening copy).
    """
    chunks = [c if pa.types.is_string(c.type) or pa.types.is_large_string(c.type) else c.cast(pa.string())
              for c in (text.chunks if isinstance(text, pa.ChunkedArray) else [text])]
    sep = ((separator.strip() or separator) if strip else separator).encode("utf-8")
    sep_text = sep.decode("utf-8")
    lookup: dict[str, int] = {}  # cleaned channel name -> provisional id (order of first sight)
    n = sum(len(c) for c in chunks)
    n_bytes = sum(int(_offsets(c)[-1] - _offsets(c)[0]) for c in chunks if len(c))
    # a kept channel has at least one byte, and all but the last of a path one more for the separator: room for
    # that many codes, of which only the pages written to are ever touched (untouched memory costs nothing)
    codes = np.empty(n_bytes // 2 + n + 1, dtype)
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    at = row = 0
    pieces = [chunk.slice(lo, hi - lo) for chunk in chunks for lo, hi in _piece_bounds(chunk)]
    for piece, tokens in zip(pieces, _tokenised(pieces, sep)):
        known = len(lookup)
        at += _assign(tokens, sep_text, strip, lookup, codes[at:], offsets[row + 1:row + 1 + len(piece)])
        row += len(piece)
        if len(lookup) > known and at <= PIECE_BYTES:  # new names among the first few million codes: rank now
            _rank_in_place(codes[:at], lookup)
    codes = codes[:at]
    np.cumsum(offsets[1:], out=offsets[1:])
    names = np.array(sorted(lookup), dtype=object)
    _rank_in_place(codes, lookup)
    return codes, offsets, names


def _rank_in_place(codes: np.ndarray, lookup: dict) -> None:
    """Renumber provisional ids as the ranks of their names in sorted order, in ``codes`` and ``lookup``, a block
    at a time; nothing to do when they already are (as when every name turns up in the first piece)."""
    provisional = sorted(lookup, key=lookup.__getitem__)  # by id: ids are 0 .. len(lookup) - 1
    order = sorted(range(len(provisional)), key=provisional.__getitem__)
    if order == list(range(len(order))):
        return
    rank = np.empty(len(provisional), codes.dtype)
    rank[order] = np.arange(len(provisional), dtype=codes.dtype)
    for a in range(0, len(codes), PIECE_BYTES):
        codes[a:a + PIECE_BYTES] = rank[codes[a:a + PIECE_BYTES]]
    for name, i in zip(provisional, rank.tolist()):
        lookup[name] = i


def _piece_bounds(chunk: pa.Array) -> list[tuple[int, int]]:
    """Row ranges of ``chunk`` holding about ``PIECE_BYTES`` of text each."""
    n = len(chunk)
    if n == 0:
        return []
    offs = _offsets(chunk)
    size = int(offs[-1] - offs[0])
    if size <= PIECE_BYTES:
        return [(0, n)]
    cuts = np.searchsorted(offs, offs[0] + np.arange(PIECE_BYTES, size, PIECE_BYTES), side="right") - 1
    bounds = np.unique(np.r_[0, cuts, n])
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _offsets(arr: pa.Array) -> np.ndarray:
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    return np.frombuffer(arr.buffers()[1], width, count=arr.offset + len(arr) + 1)[arr.offset:]


#: threads tokenising pieces, and how many pieces they may run ahead of the one being assigned codes (which
#: bounds the memory held by tokenised pieces)
THREADS, AHEAD = 2, 4


def _tokenised(pieces: list, sep: bytes):
    """:func:`_tokenise` of every piece, in order: on :data:`THREADS` threads, at most :data:`AHEAD` pieces ahead
    of the caller, when there are several pieces and cores (numpy and Arrow release the GIL while they scan, hash
    and search); the result is the same either way."""
    if len(pieces) < 2 or (os.cpu_count() or 1) < 2:
        scratch = threading.local()  # this call's own flags, freed when it ends
        for piece in pieces:
            yield _tokenise(piece, sep, scratch)
        return
    with ThreadPoolExecutor(THREADS) as pool:
        queue = deque(pool.submit(_tokenise, piece, sep) for piece in pieces[:AHEAD])
        for i in range(len(pieces)):
            tokens = queue.popleft().result()
            if i + AHEAD < len(pieces):
                queue.append(pool.submit(_tokenise, pieces[i + AHEAD], sep))
            yield tokens


#: per worker thread, the flags of :func:`_flags` (freed with the thread)
_scratch = threading.local()


def _flags(n: int, scratch) -> np.ndarray:
    """``n`` flags (one per byte of a piece) from ``scratch``'s reusable array: a fresh process pays for every new
    page it touches, so pieces reuse the same memory."""
    buf = getattr(scratch, "flags", None)
    if buf is None or len(buf) < n:
        buf = scratch.flags = np.empty(max(n, PIECE_BYTES + 1), bool)
    return buf[:n]


def _tokenise(piece: pa.Array, sep: bytes, scratch=_scratch) -> tuple[list, np.ndarray, np.ndarray, bool]:
    """The tokens of one piece: its distinct raw tokens, each token's index into them, the index of every path's
    first token (one more entry: the number of tokens), and whether the raw tokens end with their separator.

    A token starts at every path start and right after every separator and runs to the next token's start
    (separator included); zero-length tokens (empty paths, a separator ending a path) vanish here, as they would
    be dropped anyway."""
    if piece.null_count:  # a null path is empty
        piece = pc.fill_null(piece, "")
    offs = _offsets(piece).astype(np.int64)
    starts = offs[:-1]
    if len(sep) > 1 and any(sep[:i] == sep[-i:] for i in range(1, len(sep))):
        return _tokenise_arrow(piece, sep)
    data_buf = piece.buffers()[2]
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    lo, hi = int(offs[0]), int(offs[-1])
    body = data[lo:hi]
    L = len(sep)
    boundary = _flags(len(body) + 1, scratch)
    boundary[0] = False
    if L == 1:
        np.equal(body, sep[0], out=boundary[1:])
    else:
        boundary[1:] = False
    if L > 1 and len(body) >= L:
        hit = body[: len(body) - L + 1] == sep[0]
        for i in range(1, L):
            hit &= body[i: len(body) - L + 1 + i] == sep[i]
        ends_at = np.flatnonzero(hit) + L
        if len(ends_at):
            # no match across two paths, and no overlapping matches of a repetitive separator
            rel = offs - lo
            same = (np.searchsorted(rel, ends_at - L, side="right") == np.searchsorted(rel, ends_at - 1, side="right"))
            ends_at = ends_at[same]
            if len(ends_at) > 1:
                keep = np.ones(len(ends_at), bool)
                keep[1:] = np.diff(ends_at) >= L
                ends_at = ends_at[keep]
        boundary[ends_at] = True
    boundary[starts - lo] = True
    boundary[-1] = True
    tok = np.flatnonzero(boundary)
    tok += lo
    n_tok = len(tok) - 1
    tokens = pa.Array.from_buffers(pa.large_string(), n_tok, [None, pa.py_buffer(tok), data_buf])
    enc = pc.dictionary_encode(tokens)
    first_tok = np.searchsorted(tok[:-1], offs, side="left")  # tokens before each path start
    return enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False), first_tok, True


def _tokenise_arrow(piece: pa.Array, sep: bytes) -> tuple[list, np.ndarray, np.ndarray, bool]:
    """:func:`_tokenise` for a separator that can overlap itself (``||``, ``--``): Arrow's splitting matches it
    left to right without overlaps, as ``str.split`` does (the tokens hold no separator)."""
    lists = pc.split_pattern(piece, sep.decode("utf-8"))
    enc = pc.dictionary_encode(lists.flatten())
    first_tok = np.zeros(len(piece) + 1, np.int64)
    np.cumsum(pc.list_value_length(lists).to_numpy(zero_copy_only=False), out=first_tok[1:])
    return enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False), first_tok, False


def _assign(tokens: tuple, sep_text: str, strip: bool, lookup: dict, out: np.ndarray,
            per_path_out: np.ndarray) -> int:
    """Codes of one tokenised piece (:func:`_tokenise`): provisional ids (in ``lookup``, extended here) into ``out``,
    kept touches per path into ``per_path_out``; returns the number of codes written."""
    dictionary, idx, first_tok, trailing = tokens
    n_tok = len(idx)
    remap = np.empty(len(dictionary), out.dtype)
    for i, s in enumerate(dictionary):  # a loop over distinct tokens (about two per channel)
        s = s.strip() if strip else s
        if trailing and s.endswith(sep_text):
            s = s[: -len(sep_text)]
            s = s.strip() if strip else s
        remap[i] = lookup.setdefault(s, len(lookup)) if s else -1
    np.subtract(first_tok[1:], first_tok[:-1], out=per_path_out)
    if not n_tok:
        return 0
    if (remap >= 0).all():
        np.take(remap, idx, out=out[:n_tok])
        return n_tok
    # separators alone and white space: subtract them from their paths' token counts
    codes = remap[idx]
    keep = codes >= 0
    dropped = np.flatnonzero(~keep)
    per_path_out -= np.bincount(np.searchsorted(first_tok, dropped, side="right") - 1,
                                minlength=len(per_path_out))
    codes = codes[keep]
    out[:len(codes)] = codes
    return len(codes)
