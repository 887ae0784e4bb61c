"""Grouping event rows by user and ordering them in time: the one sort a run needs (SPEC 2).

Journeys need the rows of every user together, in (timestamp, touch-before-conversion, input position) order.
Sorting by the user-id strings (or by dictionary codes, which need a hash table of every distinct id) is the
costliest step of a run. This module instead:

1. ranks every row in time: a stable sort of ``2·(t − t_min) + is_conversion``, a few milliseconds when the log
   is already in time order, as warehouse exports are (numpy's stable sort is a timsort for 64-bit keys);
2. hashes every user id to 64 bits with vectorised numpy over the id's raw bytes (Arrow's string buffers, 8 bytes
   at a time), without building a hash table;
3. sorts one packed 64-bit key per row, *high bits of the hash | time rank*, by value (a SIMD sort, several
   times faster than an argsort or a lexsort); rows whose hashes share the high bits are put in full-hash order
   afterwards;
4. checks that the grouping is exact: within every group of equal hashes, every id equals its neighbour, byte
   for byte and in length (unless the hash is a bijection: integer ids, or ids of one length up to 8 bytes,
   where every step of the hash is invertible). Should two distinct ids ever share a 64-bit hash, the rows are
   grouped again by sorted dictionary codes instead (slower, same journeys); so are ids over 64 bytes, for which
   Arrow's hash table is cheaper than hashing word by word.

Users come out in the order of their hash, which depends on the ids alone: the same log in any row order gives
the same journeys in the same order.

References
----------
.. [1] S. Vigna, "Further scramblings of Marsaglia's xorshift generators" (the splitmix64 finaliser used as the
   hash's last step), Journal of Computational and Applied Mathematics 315, 2017.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

_MUL = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
#: keep the 8-byte words of ids up to this many words for the exactness check instead of recomputing them
_KEEP_WORDS = 4
#: longer ids (over 64 bytes) are grouped by sorted dictionary codes instead (see IdHashes.usable)
_MAX_WORDS = 8


class DeferredIds:
    """The distinct user ids of a run, taken from the id column only when first used (detail exports).

    Behaves as the :class:`pyarrow.Array` it stands for (``take``, ``to_pylist``, indexing, ``len``).
    """

    def __init__(self, column: pa.ChunkedArray | pa.Array, rows: np.ndarray):
        self._column, self._rows, self._value = column, rows, None

    @property
    def value(self) -> pa.Array:
        if self._value is None:
            col = self._column
            if isinstance(col, pa.ChunkedArray):
                col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
            self._value = col.take(pa.array(self._rows, pa.int64()))
            self._column = self._rows = None
        return self._value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.value, name)

    def __len__(self) -> int:
        return len(self._rows) if self._value is None else len(self._value)

    def __getitem__(self, item):
        return self.value[item]

    def __iter__(self):
        return iter(self.value)

    def __repr__(self) -> str:
        return f"DeferredIds({len(self):,} user ids)"


def time_order(ts: np.ndarray, conv: np.ndarray) -> np.ndarray | None:
    """The stable order of rows by (timestamp, conversion flag), or None when the rows are already in it."""
    n = len(ts)
    if n == 0:
        return None
    lo, hi = int(ts.min()), int(ts.max())
    if hi - lo < (1 << 61):
        key = ts - np.int64(lo)
        key <<= 1
        key |= conv
        if bool(np.all(key[1:] >= key[:-1])):
            return None
        return np.argsort(key, kind="stable")
    return np.lexsort((conv, ts))  # timestamps spread over more than 73 years: two keys


def _chunks(column) -> list[pa.Array]:
    if isinstance(column, pa.ChunkedArray):
        return [c for c in column.chunks if len(c)]
    return [column] if len(column) else []


def _string_layout(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Start offsets into the data buffer and lengths of every string of a string/large_string array."""
    n = len(arr)
    bufs = arr.buffers()
    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    offsets = np.frombuffer(bufs[1], np.int64 if wide else np.int32, n + 1, arr.offset * (8 if wide else 4))
    starts = offsets[:-1].astype(np.int64)
    return starts, (offsets[1:] - offsets[:-1]).astype(np.int64)


class _Words:
    """The 8-byte little-endian words of every id (bytes past an id's end are zero), one word position at a time.

    Integer ids are one word (their value). Strings are read straight from Arrow's buffers: when every id has
    the same length the bytes form an ``(n, length)`` block; otherwise each word is two aligned 8-byte loads and
    a shift.
    """

    def __init__(self, column):
        self.parts = []
        self.n_words = 0
        self.lengths = None
        lengths = []
        for arr in _chunks(column):
            if pa.types.is_integer(arr.type):
                self.parts.append(("int", arr.to_numpy(zero_copy_only=False).astype(np.int64).view(np.uint64)))
                self.n_words = max(self.n_words, 1)
                continue
            starts, lens = _string_layout(arr)
            data_buf = arr.buffers()[2]
            lo = int(starts[0])
            hi = int(starts[-1] + lens[-1])
            data = np.frombuffer(data_buf, np.uint8, hi - lo, lo) if hi > lo else np.zeros(0, np.uint8)
            if bool(np.all(lens == lens[0])):  # back-to-back ids of one length: read in place
                self.parts.append(("fixed", (data, len(lens), int(lens[0]))))
            else:  # only the bytes this (possibly sliced) chunk uses, padded for 8-byte loads
                padded = np.zeros((hi - lo) // 8 + 2, np.uint64)
                padded.view(np.uint8)[:hi - lo] = data
                self.parts.append(("str", (padded, starts - lo, lens)))
            lengths.append(lens)
            self.n_words = max(self.n_words, -(-int(lens.max()) // 8) if len(lens) else 0)
        if lengths:
            self.lengths = np.concatenate(lengths) if len(lengths) > 1 else lengths[0]

    def word(self, k: int) -> np.ndarray:
        out = []
        for kind, part in self.parts:
            if kind == "int":
                out.append(part if k == 0 else np.zeros(len(part), np.uint64))
                continue
            if kind == "fixed":
                out.append(_fixed_word(*part, k))
            else:
                out.append(_loaded_word(*part, k))
        return np.concatenate(out) if len(out) != 1 else out[0]


def _fixed_word(data: np.ndarray, n: int, length: int, k: int) -> np.ndarray:
    """Word ``k`` of ``n`` ids of ``length`` bytes each, laid out back to back in ``data``."""
    lo = 8 * k
    width = max(0, min(8, length - lo))
    block = np.zeros((n, 8), np.uint8)
    if width:
        block[:, :width] = data.reshape(n, length)[:, lo:lo + width]
    return block.view(np.uint64).ravel()


def _loaded_word(padded: np.ndarray, starts: np.ndarray, lens: np.ndarray, k: int) -> np.ndarray:
    """Word ``k`` of ids of any lengths: two aligned loads around each id's byte ``8k`` and a shift."""
    p = starts + 8 * k
    q = np.minimum(p >> 3, len(padded) - 2)  # past an id's end the loaded bytes are masked out below
    shift = ((p & 7) << 3).astype(np.uint64)
    word = padded[q] >> shift
    word |= padded[q + 1] << (np.uint64(64) - shift)  # a shift by 64 gives 0 in numpy
    valid = np.clip(lens - 8 * k, 0, 8).astype(np.uint64) << np.uint64(3)
    mask = np.left_shift(np.uint64(1), valid) - np.uint64(1)  # 8 bytes: 1 << 64 = 0, minus 1 = all ones
    mask[valid == 64] = np.uint64(0xFFFFFFFFFFFFFFFF)
    word &= mask
    return word


def _hash(words: _Words, n: int, keep: bool, lengths: np.ndarray | None) -> tuple[np.ndarray, list]:
    """64-bit hash of every id (its words and its length); the words themselves when ``keep``."""
    h = np.full(n, np.uint64(0x243F6A8885A308D3))
    if lengths is not None:  # the length is scrambled before the words come in: 'b' and 'a\0' differ
        h ^= lengths.astype(np.uint64)
        h *= _MUL
        h ^= h >> np.uint64(29)
    kept = []
    for k in range(words.n_words):
        w = words.word(k)
        if keep:
            kept.append(w)
        h ^= w
        h *= _MUL
        h ^= h >> np.uint64(29)
    return splitmix64(h), kept  # every input bit reaches the high bits sorted on


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser [1] of 64-bit words, in place (a bijection that spreads every input bit);
    returns ``x``."""
    x ^= x >> np.uint64(30)
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser of a copy of ``x``: a well-spread 64-bit hash of 64-bit words (vectorised)."""
    return splitmix64(x.astype(np.uint64, copy=True))


def hash_strings(values: pa.Array) -> np.ndarray:
    """A 64-bit hash of every string's UTF-8 bytes, 8 bytes at a time (:func:`hash_ids`,
    the hash that groups users in memory). Nulls hash to 0."""
    if len(values) == 0:
        return np.zeros(0, np.uint64)
    h = hash_ids(values)
    if values.null_count:
        h[values.is_null().to_numpy(zero_copy_only=False)] = 0
    return h


def _sort_by_key(key: np.ndarray, t_order: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows in (key, time rank) order: one value sort of *high bits of key | time rank*, then a stable re-sort
    of the rows of groups whose keys agree in the high bits only. Returns (order, key in that order)."""
    bits = max(1, int(n - 1).bit_length())
    low = np.uint64((1 << bits) - 1)
    if t_order is None:
        rank = np.arange(n, dtype=np.uint64)
    else:
        rank = np.empty(n, np.uint64)
        rank[t_order] = np.arange(n, dtype=np.uint64)
    packed = key & ~low
    packed |= rank
    del rank
    packed.sort()
    new_high = None
    if n > 1:  # neighbours differ in the high bits when their XOR reaches them
        diff = np.bitwise_xor(packed[1:], packed[:-1])
        new_high = diff > low
        del diff
    packed &= low  # now the time rank of every sorted row, in place
    pos = packed.view(np.int64)
    order = pos if t_order is None else t_order[pos]
    del pos, packed
    sorted_key = key[order]
    if n > 1:
        mixed = (sorted_key[1:] != sorted_key[:-1]) & ~new_high
        if mixed.any():  # distinct keys sharing their high bits: re-sort those groups by the whole key
            group = np.cumsum(np.r_[True, new_high])
            bad = np.zeros(group[-1] + 1, bool)
            bad[group[1:][mixed]] = True
            idx = np.flatnonzero(bad[group])
            perm = np.argsort(sorted_key[idx], kind="stable")  # keeps time order within a key
            order[idx] = order[idx][perm]
            sorted_key[idx] = sorted_key[idx][perm]
    return order, sorted_key


def _equal_within(values: np.ndarray, order: np.ndarray, start: np.ndarray) -> bool:
    """Whether every row in ``order`` holds the value of the row before it, except at group starts."""
    w = values[order]
    return bool(np.all((w[1:] == w[:-1]) | start[1:]))


def user_time_order(users, conv: np.ndarray, ts: np.ndarray, rows: np.ndarray | None = None):
    """The row order by (user, timestamp, conversion flag, input position).

    Parameters
    ----------
    users : pyarrow.Array or ChunkedArray of strings or integers (no nulls), or their :class:`IdHashes`
    conv : numpy.ndarray of bool
        Conversion rows (they follow touches at equal timestamps).
    ts : numpy.ndarray of int64
    rows : numpy.ndarray of int64, optional
        The rows of ``users`` that ``conv`` and ``ts`` describe (default: all of them).

    Returns
    -------
    order : numpy.ndarray of int64
        Order of the ``len(ts)`` rows: each user's rows together, users in the order of their id's hash, rows
        in time order.
    first : numpy.ndarray of bool
        True on each user's first row in that order (``np.cumsum(first) - 1`` is the user code of every row).
    user_rows : numpy.ndarray of int64
        For every user code, a row of ``users`` holding that user's id.
    exact : bool
        False when two distinct ids share a hash, or the ids are too long to hash (over 64 bytes; the other
        results are then None); the caller must then group by sorted codes.
    """
    n = len(ts)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64), True
    ids = users if isinstance(users, IdHashes) else IdHashes(users)
    if not ids.usable:
        return None, None, None, False
    t_order = time_order(ts, conv.astype(np.int64))
    h = ids.hashes if rows is None else ids.hashes[rows]
    order, hs = _sort_by_key(h, t_order, n)
    del h
    start = np.empty(n, bool)
    start[0] = True
    np.not_equal(hs[1:], hs[:-1], out=start[1:])
    del hs
    src = order if rows is None else rows[order]
    exact = ids.exact_within(src, start)
    return order, start, src[start], exact


def hash_ids(users) -> np.ndarray:
    """The 64-bit hash of every id (strings or integers; a null hashes as an empty string): the same function
    of the value whatever the chunking, slicing or string type. Used to spread users over buckets."""
    words = _Words(users)
    return _hash(words, len(users), False, words.lengths)[0]


class IdHashes:
    """The 64-bit hash of every user id, and what checking a grouping by it needs (see the module docstring).

    Computing it only needs the id column, so it can run on another thread while the rest of the log is
    validated (numpy releases the GIL in its array loops).
    """

    def __init__(self, users):
        self.n = len(users)
        self.words = _Words(users)
        lengths = self.words.lengths
        self.one_length = lengths is None or bool(np.all(lengths == lengths[0]))
        if self.one_length:
            self.words.lengths = None  # nothing to check (and the hash no longer needs them)
        # words of ids of one length are cheap to read again (a strided copy); others are kept, up to a limit
        self.keep = not self.one_length and self.words.n_words <= _KEEP_WORDS
        #: ids longer than _MAX_WORDS words cost more to hash word by word than Arrow's hash table: not hashed
        self.usable = self.words.n_words <= _MAX_WORDS
        self.hashes, self.kept = _hash(self.words, self.n, self.keep, lengths) if self.usable else (None, [])

    def exact_within(self, src: np.ndarray, start: np.ndarray) -> bool:
        """Whether the rows ``src`` (of the hashed column), cut into groups at ``start``, hold one id per group."""
        if self.one_length and self.words.n_words <= 1:  # one word, one length: the hash is a bijection
            return True
        if not self.one_length and not _equal_within(self.words.lengths, src, start):
            return False
        for k in range(self.words.n_words):
            if not _equal_within(self.kept[k] if self.keep else self.words.word(k), src, start):
                return False
        return True


def code_time_order(codes: np.ndarray, conv: np.ndarray, ts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row order by (code, timestamp, conversion flag, input position) for int codes >= 0 (exact fallback of
    :func:`user_time_order`); returns (order, codes in that order)."""
    n = len(ts)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    t_order = time_order(ts, conv.astype(np.int64))
    top = max(1, int(codes.max()).bit_length()) if len(codes) else 1
    bits = max(1, int(n - 1).bit_length())
    if top + bits > 64:
        order = np.lexsort((conv, ts, codes))
        return order, codes[order]
    key = codes.astype(np.uint64) << np.uint64(64 - top)
    order, sorted_key = _sort_by_key(key, t_order, n)
    return order, (sorted_key >> np.uint64(64 - top)).astype(np.int64)
