"""Grouping of channel-code sequences (paths): by hash in order of first occurrence, or sorted.

A path table is a list of channel-code sequences ``codes[offsets[i]:offsets[i + 1]]``. Two ways to find its
distinct paths:

- :func:`group_first_seen` numbers them in the order of their first occurrence. Every sequence gets a 64-bit
  polynomial hash (one pass over the touches, a block at a time), the hashes are sorted, and every sequence
  sharing a hash with an earlier one is compared with it touch by touch, so the result is exact whatever the
  hash does. A table whose paths are all distinct (what peer tools take as input)
  costs one pass over the touches and one sort of a million 64-bit keys: no touch is gathered or moved.
- :func:`group_code_sequences` numbers them in lexicographic order (a sequence before its extensions): a sort,
  needed only where paths are shown.

No loop per sequence in either.
"""

from __future__ import annotations

import numpy as np

from attribution.kernels.encoding import take_segments

#: touches hashed per block (whole sequences; a longer sequence is a block of its own): the temporaries of a
#: block stay a few MB and reuse the same pages
BLOCK = 1 << 20
#: odd multiplier of the polynomial hash (codes times its powers, modulo 2**64), and its inverse modulo 2**64
_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_INVERSE = np.uint64(pow(0x9E3779B97F4A7C15, -1, 1 << 64))
#: odd multiplier of a sequence's length in its hash (so that sequences of code 0 differ by their lengths)
_LENGTH_MULTIPLIER = np.uint64(0xD6E8FEB86659FD93)


def _powers(base: np.uint64, n: int) -> np.ndarray:
    """``base ** i`` modulo 2**64 for i = 0 .. n − 1."""
    out = np.empty(max(n, 1), np.uint64)
    out[0] = 1
    out[1:] = base
    np.multiply.accumulate(out, out=out)
    return out[:n]


def sequence_hashes(codes: np.ndarray, offsets: np.ndarray, block: int = BLOCK) -> np.ndarray:
    """A 64-bit hash of every sequence: ``Σ_i codes[s + i] · M^i  XOR  length · L`` (mod 2**64; s the sequence's
    start, i the position in it, L another odd constant). Equal sequences hash equal; distinct ones almost never
    do. The hashes are only compared and sorted (every collision is checked touch by touch), never used to spread
    keys, so no finaliser runs over them.

    Computed without a position per touch: within a block of touches starting at ``lo``, every touch t is
    multiplied by ``M^(t − lo)`` (a contiguous slice of one table), the products are summed per sequence, and
    each sum is brought back to its sequence's start by ``M^−(s − lo)`` (M is odd, so invertible modulo 2**64).
    """
    n = len(offsets) - 1
    offsets = np.asarray(offsets, np.int64)
    lengths = np.diff(offsets)
    out = np.zeros(n, np.uint64)
    if n and offsets[-1] > offsets[0]:
        values = np.asarray(codes)
        cuts = np.unique(np.r_[0, np.searchsorted(offsets, np.arange(offsets[0] + block, offsets[-1], block)), n])
        span = int(np.max(offsets[cuts[1:]] - offsets[cuts[:-1]]))
        up, down = _powers(_MULTIPLIER, span), _powers(_INVERSE, span)
        term = np.empty(span, np.uint64)
        with np.errstate(over="ignore"):
            for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
                lo, hi = int(offsets[a]), int(offsets[b])
                if hi == lo:
                    continue
                t = term[:hi - lo]
                if values.dtype == np.int64:  # the same bits as uint64 (codes are non-negative): one pass
                    np.multiply(values[lo:hi].view(np.uint64), up[:hi - lo], out=t)
                else:
                    t[:] = values[lo:hi]
                    t *= up[:hi - lo]
                if lengths[a:b].all():  # no empty sequence in the block: every start opens a sum
                    first = offsets[a:b] - lo
                    sums = np.add.reduceat(t, first)
                    sums *= down[first]
                    out[a:b] = sums
                    continue
                keep = np.flatnonzero(lengths[a:b] > 0)
                first = offsets[a:b][keep] - lo
                sums = np.add.reduceat(t, first)
                sums *= down[first]
                out[a + keep] = sums
    with np.errstate(over="ignore"):
        out ^= lengths.astype(np.uint64) * _LENGTH_MULTIPLIER
    return out


def group_first_seen(codes: np.ndarray, offsets: np.ndarray, n_codes: int) -> tuple[np.ndarray, int]:
    """Number the distinct sequences ``codes[offsets[i]:offsets[i + 1]]`` in the order of their first occurrence.

    Exact: sequences are grouped by :func:`sequence_hashes` (sorted: a hash table of a million distinct 64-bit
    keys is several times slower than sorting them; no stable sort, which is slower still), and every sequence that shares its hash with an earlier
    one is compared with that one; should two distinct sequences ever share a hash, the grouping falls back to
    :func:`group_code_sequences` (sorted, then renumbered by first occurrence).

    Returns
    -------
    group : numpy.ndarray of int64
        The number of each sequence's distinct value (0 = the first one met).
    n_groups : int
    """
    n = len(offsets) - 1
    if n == 0:
        return np.zeros(0, np.int64), 0
    hashes = sequence_hashes(codes, offsets)
    ordered = np.sort(hashes)
    if not (ordered[1:] == ordered[:-1]).any():  # all distinct: group i is sequence i
        return np.arange(n, dtype=np.int64), n
    del ordered
    order = np.argsort(hashes)
    hashes = hashes[order]
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(hashes[1:], hashes[:-1], out=new[1:])
    del hashes
    run = np.cumsum(new) - 1
    n_groups = int(run[-1]) + 1
    first = np.minimum.reduceat(order, np.flatnonzero(new))  # each hash's first row
    group = np.empty(n, np.int64)
    group[order] = run
    group = renumber_first_seen(group, n_groups, first=first)
    if _same_as_first(codes, offsets, group):
        return group, n_groups
    sorted_group, n_groups = group_code_sequences(codes, offsets, n_codes)
    return renumber_first_seen(sorted_group, n_groups), n_groups


def first_members(group: np.ndarray) -> np.ndarray:
    """Index of the first member of every group, for groups numbered in order of first occurrence."""
    if len(group) == 0:
        return np.zeros(0, np.int64)
    top = np.maximum.accumulate(group)
    new = np.empty(len(group), bool)
    new[0] = True
    np.greater(top[1:], top[:-1], out=new[1:])
    return np.flatnonzero(new)


def _same_as_first(codes: np.ndarray, offsets: np.ndarray, group: np.ndarray) -> bool:
    """Whether every sequence equals the first sequence of its group (touch by touch)."""
    first = first_members(group)
    later = np.ones(len(group), bool)
    later[first] = False
    rows = np.flatnonzero(later)
    reps = first[group[rows]]
    lengths = np.diff(offsets)
    if not np.array_equal(lengths[rows], lengths[reps]):
        return False
    for a in range(0, len(rows), BLOCK):
        mine, _ = take_segments(offsets, rows[a:a + BLOCK])
        theirs, _ = take_segments(offsets, reps[a:a + BLOCK])
        if not np.array_equal(codes[mine], codes[theirs]):
            return False
    return True


def renumber_first_seen(group: np.ndarray, n_groups: int, first: np.ndarray | None = None) -> np.ndarray:
    """Groups renumbered in the order of their first member (``first``: each group's first member, if known)."""
    if first is None:
        first = np.full(n_groups, len(group), np.int64)
        np.minimum.at(first, group, np.arange(len(group), dtype=np.int64))
    is_first = np.zeros(len(group), bool)
    is_first[first] = True
    rank = np.cumsum(is_first) - 1  # first members counted in row order
    return rank[first][group]


# ------------------------------------------------------------------------------------------- sorted grouping
#: code-sequence words compared per sorting round (after the first, which compares one)
WORDS_PER_ROUND = 4


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
    words = _Words(codes, offsets, n_codes)
    # round 1: every sequence by its first word (order within ties does not matter: only groups are kept)
    col = _first_words(words.codes, words.starts, words.lengths, words.per_word, words.bits)
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
        longer = np.bincount(grp, words.n_words[order[active]] > w0) > 0
        keep = (np.bincount(grp)[grp] > 1) & longer[grp]
        active = active[keep]
        if not len(active):
            break
        new, w0 = _next_round(words, order, gid, active, w0)
    is_start = gid == np.arange(n, dtype=np.int64)
    rank = np.cumsum(is_start) - 1
    group = np.empty(n, np.int64)
    group[order] = rank
    return group, int(rank[-1]) + 1


class _Words:
    """The sequences of :func:`group_code_sequences` as 64-bit words of ``per_word`` digits of ``bits`` bits."""

    def __init__(self, codes: np.ndarray, offsets: np.ndarray, n_codes: int):
        self.codes = np.asarray(codes)
        self.lengths = np.diff(offsets).astype(np.int64)
        self.starts = np.asarray(offsets[:-1], np.int64)
        self.bits = max(int(n_codes).bit_length(), 1)  # digits 1 .. n_codes
        self.per_word = 64 // self.bits
        self.n_words = -(-self.lengths // self.per_word)

    def columns(self, seqs: np.ndarray, w0: int, k: int) -> list[np.ndarray]:
        """Words ``w0 .. w0 + k − 1`` of the sequences ``seqs`` (0 past a sequence's end)."""
        per_word, bits = self.per_word, self.bits
        ln = self.lengths[seqs]
        short = int(ln.max()) < (1 << 15) if len(ln) else True
        by = np.argsort((-ln).astype(np.int16) if short else -ln, kind="stable")  # longest first
        neg = -ln[by]
        st = self.starts[seqs][by]
        cols = np.zeros((k, len(seqs)), np.uint64)
        for j in range(w0 * per_word, min((w0 + k) * per_word, int(-neg[0]) if len(neg) else 0)):
            cnt = int(np.searchsorted(neg, -j, side="left"))  # sequences longer than j: a prefix
            d = self.codes[st[:cnt] + j].astype(np.uint64)
            d += np.uint64(1)
            d <<= np.uint64((per_word - 1 - j % per_word) * bits)
            cols[j // per_word - w0, :cnt] |= d
        out = np.empty_like(cols)
        out[:, by] = cols
        return list(out)


def _next_round(words: _Words, order: np.ndarray, gid: np.ndarray, active: np.ndarray, w0: int):
    """Sort the still-tied sequences ``order[active]`` by their next words within their groups (``order`` and
    ``gid`` updated in place); returns the group-start flags of ``active`` and the next word to compare."""
    seqs = order[active]
    k = max(1, min(WORDS_PER_ROUND, int(words.n_words[seqs].max()) - w0))
    cols = words.columns(seqs, w0, k)
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
    return new, w0 + k


def _first_words(codes: np.ndarray, starts: np.ndarray, lengths: np.ndarray, per_word: int, bits: int,
                 block: int = BLOCK) -> np.ndarray:
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
