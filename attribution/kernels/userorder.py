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
4. checks that the grouping is exact: within every group of equal hashes, every id equals its neighbour in
   length and in every 8-byte word but the last. The last word need not be compared: each step of the hash is
   invertible, so for a given length and given earlier words, distinct last words give distinct hashes (for the
   same reason integer ids, and ids of one length up to 8 bytes, need no check at all). The hash and the words to
   compare are laid out side by side, one record per row, so that bringing them into the sorted order is one
   random access per row (gathers, not arithmetic, are what this step costs). Should two distinct ids ever share
   a 64-bit hash, the rows are grouped again by sorted dictionary codes instead (slower, same journeys); so are ids
   over 64 bytes, for which Arrow's hash table is cheaper than hashing word by word.

Users come out in the order of their hash, which depends on the ids alone: the same log in any row order gives
the same journeys in the same order.

References
----------
.. [1] S. Vigna, "Further scramblings of Marsaglia's xorshift generators" (the splitmix64 finaliser used as the
   hash's last step), Journal of Computational and Applied Mathematics 315, 2017.
"""

from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

_MUL = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
#: at most this many values per row (length, words) are compared from the side-by-side record; ids needing more
#: are compared one word at a time, each word read again from the id column
_RECORD_CHECKS = 3
#: rows hashed at a time: a block's words and the hash's temporaries stay in the CPU's cache
_BLOCK = 1 << 15
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
    return time_keys(ts, conv)[0]


def time_keys(ts: np.ndarray, conv: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, int]:
    """:func:`time_order`, the packed time key of every row, ``2·(t − t_min) + is_conversion`` (None when the
    timestamps span more than 73 years and two keys are sorted instead), and ``t_min``."""
    n = len(ts)
    if n == 0:
        return None, np.zeros(0, np.int64), 0
    lo, hi = int(ts.min()), int(ts.max())
    if hi - lo < (1 << 61):
        key = ts - np.int64(lo)
        key <<= 1
        key |= conv
        if bool(np.all(key[1:] >= key[:-1])):
            return None, key, lo
        return np.argsort(key, kind="stable"), key, lo
    return np.lexsort((conv, ts)), None, lo  # timestamps spread over more than 73 years: two keys


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

    def blocks(self):
        """Every block of at most ``_BLOCK`` consecutive rows (within one chunk): ``(first row, rows, word)``,
        ``word(k)`` giving word ``k`` of those rows."""
        row = 0
        for kind, part in self.parts:
            n = _part_rows(kind, part)
            for a in range(0, n, _BLOCK):
                b = min(n, a + _BLOCK)
                yield row + a, b - a, functools.partial(_block_word, kind, part, a, b)
            row += n

    def word(self, k: int) -> np.ndarray:
        """Word ``k`` of every id."""
        out = [_block_word(kind, part, 0, _part_rows(kind, part), k) for kind, part in self.parts]
        return np.concatenate(out) if len(out) != 1 else out[0]


def _part_rows(kind: str, part) -> int:
    """The rows of one part of :class:`_Words`."""
    return len(part) if kind == "int" else part[1] if kind == "fixed" else len(part[1])


def _block_word(kind: str, part, a: int, b: int, k: int) -> np.ndarray:
    """Word ``k`` of rows ``a:b`` of one part of :class:`_Words`."""
    if kind == "int":
        return part[a:b] if k == 0 else np.zeros(b - a, np.uint64)
    if kind == "fixed":
        data, _, length = part
        return _fixed_word(data[a * length:b * length], b - a, length, k)
    padded, starts, lens = part
    return _loaded_word(padded, starts[a:b], lens[a:b], k)


def _fixed_word(data: np.ndarray, n: int, length: int, k: int) -> np.ndarray:
    """Word ``k`` of ``n`` ids of ``length`` bytes each, laid out back to back in ``data``: an unaligned strided
    view of 8-byte loads, bytes past an id's end (the next id's) masked out; the last few ids, whose loads would
    pass the buffer's end, are copied into a zero-padded block instead."""
    lo = 8 * k
    width = max(0, min(8, length - lo))
    if width == 0 or n == 0:
        return np.zeros(n, np.uint64)
    loaded = max(0, min(n, (n * length - lo - 8) // length + 1))  # rows whose 8-byte load stays in the buffer
    out = np.empty(n, np.uint64)
    if loaded:
        out[:loaded] = np.ndarray((loaded,), dtype="<u8", buffer=data, offset=lo, strides=(length,))
        if width < 8:
            out[:loaded] &= np.uint64((1 << (8 * width)) - 1)
    if loaded < n:
        block = np.zeros((n - loaded, 8), np.uint8)
        block[:, :width] = data[loaded * length:n * length].reshape(n - loaded, length)[:, lo:lo + width]
        out[loaded:] = block.view(np.uint64).ravel()
    return out


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


def _hash_block(word, n_words: int, m: int, lengths: np.ndarray | None, sink=None) -> np.ndarray:
    """64-bit hash of ``m`` ids (their length, then their ``n_words`` words, ``word(k)`` giving word k);
    ``sink(k, word)`` receives each word as it is read."""
    h = np.full(m, np.uint64(0x243F6A8885A308D3))
    if lengths is not None:  # the length is scrambled before the words come in: 'b' and 'a\0' differ
        h ^= lengths.astype(np.uint64)
        h *= _MUL
        h ^= h >> np.uint64(29)
    for k in range(n_words):
        w = word(k)
        if sink is not None:
            sink(k, w)
        h ^= w  # each step is invertible: for given earlier words, distinct last words give distinct hashes
        h *= _MUL
        h ^= h >> np.uint64(29)
    return splitmix64(h)  # every input bit reaches the high bits sorted on


def _hash(words: _Words, n: int, lengths: np.ndarray | None, out: np.ndarray | None = None, sink=None) -> np.ndarray:
    """:func:`_hash_block` of every id, block by block (``lengths``: of every id, or None), into ``out`` (a
    fresh array by default); ``sink(rows, k, word)`` receives each block's words."""
    out = np.empty(n, np.uint64) if out is None else out
    for start, m, word in words.blocks():
        rows = slice(start, start + m)
        block_sink = None if sink is None else functools.partial(sink, rows)
        out[rows] = _hash_block(word, words.n_words, m, None if lengths is None else lengths[rows], block_sink)
    return out


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


def _packed_order(key: np.ndarray, t_order: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows in (high bits of key, time rank) order: one value sort of *high bits of key | time rank*. Returns the
    order and, between every two neighbours in it, whether their high bits differ (None for one row)."""
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
    return (pos if t_order is None else t_order[pos]), new_high


def _mixed_groups(sorted_key: np.ndarray, new_high: np.ndarray | None, differs: np.ndarray | None = None):
    """The positions of the rows of groups whose keys agree in the high bits only, and the stable permutation
    that puts them in whole-key order (time order kept within a key); (None, None) when there are none.
    ``differs``: whether each row's key differs from the one before (computed here when not given)."""
    if new_high is None:
        return None, None
    if differs is None:
        differs = sorted_key[1:] != sorted_key[:-1]
    mixed = np.flatnonzero(differs & ~new_high)  # rows i and i + 1 share their high bits, not their key
    if not len(mixed):
        return None, None
    bounds = np.r_[0, np.flatnonzero(new_high) + 1, len(sorted_key)]  # where each high-bits group starts
    groups = np.unique(np.searchsorted(bounds, mixed, side="right") - 1)
    first, sizes = bounds[groups], bounds[groups + 1] - bounds[groups]
    idx = np.arange(int(sizes.sum())) + np.repeat(first - (np.cumsum(sizes) - sizes), sizes)  # their rows
    return idx, np.argsort(sorted_key[idx], kind="stable")


def _sort_by_key(key: np.ndarray, t_order: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows in (key, time rank) order: :func:`_packed_order`, then a stable re-sort of the rows of groups whose
    keys agree in the high bits only. Returns (order, key in that order)."""
    order, new_high = _packed_order(key, t_order, n)
    sorted_key = key[order]
    idx, perm = _mixed_groups(sorted_key, new_high)
    if idx is not None:
        order[idx] = order[idx][perm]
        sorted_key[idx] = sorted_key[idx][perm]
    return order, sorted_key


def user_time_order(users, conv: np.ndarray, ts: np.ndarray, rows: np.ndarray | None = None, *,
                    sorted_times: bool = False):
    """The row order by (user, timestamp, conversion flag, input position).

    Parameters
    ----------
    users : pyarrow.Array or ChunkedArray of strings or integers (no nulls), or their :class:`IdHashes`
    conv : numpy.ndarray of bool
        Conversion rows (they follow touches at equal timestamps).
    ts : numpy.ndarray of int64
    rows : numpy.ndarray of int64, optional
        The rows of ``users`` that ``conv`` and ``ts`` describe (default: all of them).
    sorted_times : bool
        Also return ``(ts[order], conv[order])``, unpacked from the sorted time keys where they exist.

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
    times : tuple of numpy.ndarray, only with ``sorted_times``
        The timestamps and conversion flags in ``order``.
    """
    n = len(ts)
    if n == 0:
        out = np.zeros(0, np.int64), np.zeros(0, bool), np.zeros(0, np.int64), True
        return (*out, (ts[:0], conv[:0])) if sorted_times else out
    ids = users if isinstance(users, IdHashes) else IdHashes(users)
    if not ids.usable:
        return (None, None, None, False, None) if sorted_times else (None, None, None, False)
    t_order, tkey, t_min = time_keys(ts, conv.astype(np.int64))
    h = ids.hashes if rows is None else ids.hashes[rows]
    order, new_high = _packed_order(h, t_order, n)
    del h, t_order
    src = order if rows is None else rows[order]
    record = np.take(ids.record, src, axis=0)  # one random access per row: the hash and what the check compares
    start = np.empty(n, bool)
    start[0] = True
    np.not_equal(record[1:, 0], record[:-1, 0], out=start[1:])
    idx, perm = _mixed_groups(record[:, 0], new_high, start[1:])
    if idx is not None:  # distinct hashes sharing their high bits: whole-hash order within those groups
        order[idx] = order[idx][perm]
        if src is not order:
            src[idx] = src[idx][perm]
        record[idx] = record[idx][perm]
        np.not_equal(record[1:, 0], record[:-1, 0], out=start[1:])
    del new_high
    exact = ids.exact_sorted(record, src, start)
    del record
    out = order, start, src[start], exact
    if not sorted_times:
        return out
    if tkey is None:
        return (*out, (ts[order], conv[order]))
    tk = tkey[order]
    del tkey
    sorted_conv = (tk & 1).astype(bool)
    tk >>= 1
    tk += np.int64(t_min)
    return (*out, (tk, sorted_conv))


def hash_ids(users) -> np.ndarray:
    """The 64-bit hash of every id (strings or integers; a null hashes as an empty string): the same function
    of the value whatever the chunking, slicing or string type. Used to spread users over buckets."""
    words = _Words(users)
    return _hash(words, len(users), words.lengths)


class IdHashes:
    """The 64-bit hash of every user id, and what checking a grouping by it needs (see the module docstring).

    ``record`` holds one row per id: the hash, then the values an exact grouping compares between neighbours
    (the length when ids differ in length, then every word but the last), when there are at most
    ``_RECORD_CHECKS`` of them; otherwise the hash alone, and the words are read again from the column.
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
        #: ids longer than _MAX_WORDS words cost more to hash word by word than Arrow's hash table: not hashed
        self.usable = self.words.n_words <= _MAX_WORDS
        self.record = self.hashes = None
        if not self.usable:
            return
        #: the words compared: all but the last (given the length and the earlier words, the hash fixes it)
        self.checked_words = max(0, self.words.n_words - 1)
        checks = (0 if self.one_length else 1) + self.checked_words
        self.in_record = checks <= _RECORD_CHECKS
        self.record = np.empty((self.n, 1 + (checks if self.in_record else 0)), np.uint64)
        sink = None
        if self.in_record and checks:
            first = 1
            if not self.one_length:
                self.record[:, 1] = lengths
                first = 2

            def sink(rows, k, w):
                if k < self.checked_words:
                    self.record[rows, first + k] = w
        _hash(self.words, self.n, lengths, self.record[:, 0], sink)
        self.hashes = self.record[:, 0]

    def exact_sorted(self, record: np.ndarray, src: np.ndarray, start: np.ndarray) -> bool:
        """Whether the rows ``src`` of the hashed column, whose records (in that order) are ``record``, hold one
        id per group, the groups starting at ``start``."""
        if record.shape[1] > 1:
            same = record[1:, 1:] == record[:-1, 1:]
            return bool(np.all(same.all(axis=1) | start[1:]))
        if self.in_record:  # nothing to compare: the hash is a bijection of the id
            return True
        columns = [] if self.one_length else [lambda: self.words.lengths]
        columns += [lambda k=k: self.words.word(k) for k in range(self.checked_words)]
        for column in columns:
            w = column()[src]
            if not np.all((w[1:] == w[:-1]) | start[1:]):
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
