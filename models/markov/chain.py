"""The k-order absorbing Markov chain of a path table, and its exact removal effects (SPEC 3.1).

Everything here works on a path table held as flat channel codes cut by offsets, with per-path conversions,
nulls and revenue (fractional counts allowed). Nothing loops per path: states are k-windows of channel codes
encoded as one integer key (mixed radix, base ``n_channels + 1``, digit 0 = "no channel"), made distinct by
``numpy.unique``; transition counts are summed with ``bincount``; absorption probabilities come from one sparse
LU factorisation per removed channel (``scipy.sparse.linalg.splu``), never from a dense inverse or simulation.

The linear system. With transient states T (START and the channel states), ``C`` the transition counts between
them, ``D`` the diagonal of counts out of each state (to transient states, CONVERSION and NULL), ``c`` the counts
into CONVERSION and ``v`` the revenue of those conversions, Q = D⁻¹C and r = D⁻¹c, so (I − Q) x = r is the same
as (D − C) x = c. The second right-hand side ``v`` gives the expected revenue (value removal effects). Removing
channel c sends every transition into a state containing c to NULL: rows and columns of those states are dropped
from (D − C) while D keeps its counts (those transitions now count as going to NULL).

References
----------
.. [1] Anderl, Becker, von Wangenheim & Schumann, "Mapping the customer journey: Lessons learned from graph-based
   online attribution modeling", International Journal of Research in Marketing 33(3), 2016.
.. [2] Kemeny & Snell, *Finite Markov Chains*, 1960, ch. III (absorbing chains, fundamental matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from attribution.kernels.constants import KEY_SEPARATOR
from attribution.models.markov.paths import split_paths

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"


def _scipy():
    """scipy's sparse matrices and solvers, imported when a chain is first built: importing the package (and running
    models without a chain) does not pay for them, and a run that fits Markov starts importing them on another
    thread while it reads its input (:data:`attribution.models.base.AttributionModel.imports`)."""
    import scipy.sparse as sp
    import scipy.sparse.linalg as spla

    return sp, spla


@dataclass
class EncodedPaths:
    """A path table as flat channel codes (``codes[offsets[p]:offsets[p+1]]`` is path p)."""

    channel_names: np.ndarray
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    revenue: np.ndarray

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def n_channels(self) -> int:
        return len(self.channel_names)

    def subset(self, conversions, nulls, revenue) -> "EncodedPaths":
        """The same paths with other counts (used by the order selection's split)."""
        return EncodedPaths(self.channel_names, self.codes, self.offsets, conversions, nulls, revenue)


def parse_paths(paths, conversions, nulls, revenue) -> EncodedPaths:
    """Split ``KEY_SEPARATOR``-joined path keys into sorted channel codes (an empty key = touchless)."""
    arr = pa.array(paths, pa.string()) if not isinstance(paths, (pa.Array, pa.ChunkedArray)) else paths
    codes, offsets, names = split_paths(arr, KEY_SEPARATOR, strip=False, dtype=np.int64)
    return EncodedPaths(names, codes, offsets,
                        np.asarray(conversions, float), np.asarray(nulls, float), np.asarray(revenue, float))


def encode_strings(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Codes into the sorted distinct values of a null-free string array (a lean ``encode_sorted``)."""
    if len(values) == 0:
        return np.zeros(0, np.int64), np.array([], dtype=object)
    enc = pc.dictionary_encode(values)
    names = np.array(enc.dictionary.to_pylist(), dtype=object)
    order = np.argsort(names.astype(str), kind="stable")
    rank = np.empty(len(names), np.int64)
    rank[order] = np.arange(len(names), dtype=np.int64)
    return rank[enc.indices.to_numpy(zero_copy_only=False)], names[order]


def collapse_repeats(p: EncodedPaths) -> EncodedPaths:
    """Merge consecutive repeats of a channel within each path (``a > a > b`` → ``a > b``)."""
    if len(p.codes) == 0:
        return p
    keep = np.ones(len(p.codes), bool)
    keep[1:] = p.codes[1:] != p.codes[:-1]
    keep[p.offsets[:-1][p.lengths > 0]] = True  # the first touch of every path
    csum = np.zeros(len(p.codes) + 1, np.int64)
    np.cumsum(keep, out=csum[1:])
    return EncodedPaths(p.channel_names, p.codes[keep], csum[p.offsets], p.conversions, p.nulls, p.revenue)


@dataclass
class Chain:
    """The fitted chain.

    State 0 is START, states ``1..n_states`` are the channel states in the order of ``state_keys`` (sorted
    windows of channel codes). ``members`` is a sparse (n_states + 1) × n_channels 0/1 matrix: state i contains
    channel c.
    """

    order: int
    channel_names: np.ndarray
    state_digits: np.ndarray  # (n_states, order) channel codes + 1, 0 past a short state's end
    src: np.ndarray  # transient → transient transitions (aggregated), START = 0
    dst: np.ndarray
    count: np.ndarray
    to_conversion: np.ndarray  # (n_states + 1,) counts into CONVERSION
    to_null: np.ndarray
    value: np.ndarray  # revenue of the conversions out of each state
    out: np.ndarray  # total count out of each transient state
    members: sp.csr_matrix

    @property
    def n_states(self) -> int:
        return len(self.state_digits)

    def state_names(self, separator: str = " > ") -> list[str]:
        names = self.channel_names
        out = [START]
        for row in self.state_digits:
            out.append(separator.join(str(names[d - 1]) for d in row if d > 0))
        return out


#: windows (or touches) handled per block when counting: the temporaries of a block are a few MB and reuse the
#: same memory block after block (a fresh process pays for every new page it touches)
BLOCK = 1 << 20
#: transitions are counted densely on ``source state × (n_channels + 1) + new channel`` up to this many keys
DENSE_TRANSITION_KEYS = 1 << 24


def _blocks(total: int):
    return [(a, min(a + BLOCK, total)) for a in range(0, total, BLOCK)]


def _unique_inverse(key: np.ndarray, upper: int):
    """``numpy.unique(key, return_inverse=True)`` for non-negative keys; O(n) by counting when keys are small
    (then ``key`` is overwritten by the inverse)."""
    if upper <= max(8 * len(key), 1 << 22):
        present = np.zeros(upper, bool)
        present[key] = True
        uniq = np.flatnonzero(present)
        rank = np.cumsum(present, dtype=key.dtype)
        rank -= 1
        for a, b in _blocks(len(key)):
            key[a:b] = rank[key[a:b]]
        return uniq.astype(np.int64), key
    uniq, inv = np.unique(key, return_inverse=True)
    return uniq, inv.reshape(-1)


def _window_keys(codes: np.ndarray, offsets: np.ndarray, order: int, base: int, dtype) -> np.ndarray:
    """Mixed-radix keys (digits: channel code + 1, 0 past a short state's end) of the windows of the paths
    ``codes[offsets[i]:offsets[i + 1]]``, in path order."""
    total = len(codes)
    lengths = np.diff(offsets)
    if total == 0:
        return np.zeros(0, dtype)
    ends = offsets[1:]
    # a full window starts at t unless t is among the last k − 1 touches of its path
    start = np.ones(total, bool)
    for m in range(1, order):
        start[ends[lengths >= m] - m] = False
    is_short = (lengths > 0) & (lengths < order)
    short = offsets[:-1][is_short]  # a path shorter than k is one state
    start[short] = True
    digit = codes.astype(dtype)
    digit += 1
    # key of the window starting at every touch, computed on contiguous slices (windows crossing a path's end
    # are garbage here and never used): key[t] = Σ_m digit[t + m] · base^(k − 1 − m)
    key = digit.copy()
    for m in range(1, min(order, total)):
        key[:total - m] *= base
        key[:total - m] += digit[m:]
    if len(short):  # short states: the digits past the path's end are 0
        slen = lengths[is_short]
        sk = np.zeros(len(short), dtype)
        for m in range(order):
            sk = sk * base + np.where(m < slen, digit[np.minimum(short + m, total - 1)], 0).astype(dtype)
        key[short] = sk
    return key[start]


def window_states(p: EncodedPaths, order: int):
    """Per path, the sequence of k-window states; returns (state id per window, state digits, windows per path).

    A path of L ≤ k channels is one state; a longer one has the L − k + 1 windows of k consecutive channels.
    ``digits`` has one row per distinct state (sorted): channel codes + 1, 0 past the end of a short state.
    State ids are int32 when they fit (half the memory traffic of int64 over millions of windows).
    """
    lengths = p.lengths
    total = len(p.codes)
    base = p.n_channels + 1
    n_windows = np.where(lengths > order, lengths - order + 1, (lengths > 0).astype(np.int64))
    if total == 0:
        return np.zeros(0, np.int64), np.zeros((0, order), np.int64), np.zeros(len(lengths), np.int64)
    if order == 1:  # every channel of the vocabulary is a state (one without touches is never reached)
        return p.codes, np.arange(1, p.n_channels + 1, dtype=np.int64).reshape(-1, 1), n_windows
    if float(base) ** order < 2.0 ** 62:
        dtype = np.int32 if float(base) ** order < 2.0 ** 31 else np.int64
        key = np.empty(int(n_windows.sum()), dtype)
        # blocks of whole paths of about BLOCK touches each
        cuts = np.unique(np.r_[0, np.searchsorted(p.offsets, np.arange(BLOCK, total, BLOCK)), len(lengths)])
        at = 0
        for i, j in zip(cuts[:-1], cuts[1:]):
            t0, t1 = p.offsets[i], p.offsets[j]
            k = _window_keys(p.codes[t0:t1], p.offsets[i:j + 1] - t0, order, base, dtype)
            key[at:at + len(k)] = k
            at += len(k)
        uniq, inv = _unique_inverse(key, int(base ** order))
        digits = np.zeros((len(uniq), order), np.int64)
        rest = uniq.astype(np.int64)
        for m in range(order - 1, -1, -1):
            digits[:, m] = rest % base
            rest //= base
    else:  # too many channels for one integer key: unique rows instead
        start = np.ones(total, bool)
        ends = p.offsets[1:]
        for m in range(1, order):
            start[ends[lengths >= m] - m] = False
        start[p.offsets[:-1][(lengths > 0) & (lengths < order)]] = True
        s_idx = np.flatnonzero(start)
        pad = np.concatenate([p.codes.astype(np.int64) + 1, np.zeros(order, np.int64)])
        rem = np.repeat(ends, lengths)[s_idx] - s_idx  # touches left from each window start
        mat = np.stack([np.where(m < rem, pad[s_idx + m], 0) for m in range(order)], axis=1)
        digits, inv = np.unique(mat, axis=0, return_inverse=True)
        inv = inv.reshape(-1)
    if len(digits) < 2 ** 31 - 1:
        inv = inv.astype(np.int32, copy=False)
    return inv, digits, n_windows


def chain_plan(p: EncodedPaths, order: int, keep_keys: bool = False) -> "_Windows":
    """What :func:`build_chain` derives from the paths' channels alone (not from their counts): the windows, their
    states and, with ``keep_keys``, the transition keys once counted (8 bytes per window kept: for fits of other
    counts of the same paths, bootstrap replicates, which then skip building them). The chain is that of
    :func:`build_chain` bit for bit."""
    state, digits, n_windows = window_states(p, order)
    return _Windows(state, digits, n_windows, p.n_channels + 1, order, keep_keys)


def build_chain(p: EncodedPaths, order: int, plan: "_Windows | None" = None) -> Chain:
    """Transition counts of the order-``order`` chain of the paths (journeys with at least one touch).

    A transition between consecutive windows of a path is fixed by its source state and the channel it adds
    (the target is the source shifted by one channel), so transitions are counted on the key
    ``source × (n_channels + 1) + new channel``: densely, block by block of windows, when that range is small
    (whatever the number of states). Transitions from START are counted by target state. ``plan``:
    :func:`chain_plan` of the same paths' channels (built here when not given).
    """
    weight = p.conversions + p.nulls
    w = plan if plan is not None else chain_plan(p, order)
    state, digits = w.state, w.digits
    start_count = np.r_[0.0, np.bincount(state[w.first_idx], weight[w.end_path], minlength=w.n_t - 1)]
    if w.n_t * w.base <= DENSE_TRANSITION_KEYS:
        src, dst, count = _dense_transitions(w, weight)
    else:
        src, dst, count = _pair_transitions(w, weight)
    first = np.flatnonzero(start_count)
    src = np.r_[np.zeros(len(first), np.int64), src]
    dst = np.r_[first.astype(np.int64), dst]
    count = np.r_[start_count[first], count]
    ends = state[w.last_idx].astype(np.int64) + 1
    to_conv = np.bincount(ends, p.conversions[w.end_path], minlength=w.n_t)
    to_null = np.bincount(ends, p.nulls[w.end_path], minlength=w.n_t)
    value = np.bincount(ends, p.revenue[w.end_path], minlength=w.n_t)
    out = np.bincount(src, count, minlength=w.n_t) + to_conv + to_null
    return Chain(order, p.channel_names, digits, src, dst, count, to_conv, to_null, value, out,
                 _members(digits, w.n_t, p.n_channels, order))


class _Windows:
    """The windows of :func:`window_states` with what :func:`build_chain` derives from them: each path's first
    and last window (paths with windows only), and the window range of every path."""

    def __init__(self, state: np.ndarray, digits: np.ndarray, n_windows: np.ndarray, base: int, order: int,
                 keep_keys: bool = False):
        self.keep_keys = keep_keys
        self.state, self.digits, self.n_windows, self.base, self.order = state, digits, n_windows, base, order
        self.n_t = len(digits) + 1
        self.w_end = np.cumsum(n_windows)
        self.w_start = self.w_end - n_windows
        self.has = n_windows > 0
        self.first_idx = self.w_start[self.has]  # the first window of each path: from START
        self.last_idx = self.w_end[self.has] - 1
        self.end_path = np.flatnonzero(self.has)
        self.block_keys = {}  # (a, b) -> the dense transition keys of windows a .. b − 1 and their weight layout

    def state_keys(self) -> np.ndarray | None:
        """The mixed-radix key of each state (None when it would not fit in 62 bits)."""
        if float(self.base) ** self.order >= 2.0 ** 62:
            return None
        key = np.zeros(self.n_t - 1, np.int64)
        for m in range(self.order):
            key = key * self.base + self.digits[:, m]
        return key


def _dense_transitions(w: _Windows, weight: np.ndarray):
    """(source, target, count) of the transitions between windows, counted densely on the key
    ``source state id × base + added channel`` (source id: state + 1; the START rows are left out)."""
    base, order, state = w.base, w.order, w.state
    n_keys = w.n_t * base
    state_key = w.state_keys()
    dense = np.zeros(n_keys)
    target = None if state_key is not None else np.zeros(n_keys, np.int64)
    added = w.digits[:, -1]  # the channel a window adds, by state (at order 1: the state's own digit)
    for a, b in _blocks(len(state)):
        cur = state[a:b]
        if (a, b) in w.block_keys:
            key, (p0, p1, nw, firsts) = w.block_keys[a, b]
            wt = np.repeat(weight[p0:p1 + 1], nw)
            wt[firsts] = 0.0
        else:
            key, wt, layout = _block_keys(w, weight, a, b)
            key *= base
            if order == 1:
                key += cur
                key += base + 1
            else:
                key += base
                key += added[cur]
            if w.keep_keys:
                w.block_keys[a, b] = (key, layout)
        dense += np.bincount(key, wt, minlength=n_keys)
        if target is not None:
            target[key] = cur + 1  # every window with a given key has the same state
    dense[:base] = 0.0
    pair = np.flatnonzero(dense)
    src, count = pair // base, dense[pair]
    if target is not None:
        return src, target[pair], count
    # drop the source's first channel, append the new one: the key of a full window
    dst_key = (state_key[src - 1] % base ** (order - 1)) * base + pair % base
    return src, np.searchsorted(state_key, dst_key) + 1, count


def _block_keys(w: _Windows, weight: np.ndarray, a: int, b: int):
    """For the windows ``a .. b − 1``: the previous window's state (-1 for a path's first window) as int64, built
    in place to become the transition key, the weight of the transition (0 from START: counted apart), and how
    those weights were laid out (to lay out other counts the same way)."""
    key = np.empty(b - a, np.int64)
    key[0] = w.state[a - 1] if a else -1
    key[1:] = w.state[a:b - 1]
    # the paths of windows a .. b − 1, and their windows inside the block
    p0, p1 = np.searchsorted(w.w_end, [a, b - 1], side="right")
    nw = w.n_windows[p0:p1 + 1].copy()
    nw[0] = w.w_end[p0] - a
    nw[-1] -= w.w_end[p1] - b
    wt = np.repeat(weight[p0:p1 + 1], nw)
    firsts = w.w_start[p0:p1 + 1] - a
    firsts = firsts[(firsts >= 0) & w.has[p0:p1 + 1]]
    key[firsts] = -1
    wt[firsts] = 0.0  # transitions from START are counted apart
    return key, wt, (p0, p1, nw, firsts)


def _pair_transitions(w: _Windows, weight: np.ndarray):
    """(source, target, count) of the transitions between windows as distinct (source, target) rows (when the
    dense key range is too large)."""
    n_w = len(w.state)
    sid = w.state.astype(np.int64) + 1
    prev = np.empty(n_w, np.int64)
    prev[0] = 0
    prev[1:] = sid[:-1]
    keep = np.ones(n_w, bool)
    keep[w.first_idx] = False
    wt = np.repeat(weight, w.n_windows)
    pairs, inv = np.unique(np.stack([prev[keep], sid[keep]], axis=1), axis=0, return_inverse=True)
    dense = np.bincount(inv.reshape(-1), wt[keep], minlength=len(pairs))
    nz = dense != 0
    return pairs[nz, 0], pairs[nz, 1], dense[nz]


def _members(digits: np.ndarray, n_t: int, n_channels: int, order: int) -> sp.csr_matrix:
    """The (n_states + 1) × n_channels 0/1 matrix: state i contains channel c (row 0, START, is empty)."""
    sp = _scipy()[0]
    rows = np.repeat(np.arange(1, n_t), order)
    cols = digits.reshape(-1) - 1
    ok = cols >= 0
    members = sp.csr_matrix((np.ones(int(ok.sum())), (rows[ok], cols[ok])), shape=(n_t, n_channels))
    members.data[:] = 1.0  # a state with a channel twice still "contains" it once
    return members


def system(chain: Chain) -> sp.csc_matrix:
    """The matrix D − C of the transient states (self-loops cancel out of it exactly: they change nothing)."""
    sp = _scipy()[0]
    n_t = chain.n_states + 1
    loop = chain.src == chain.dst
    d = chain.out - np.bincount(chain.src[loop], chain.count[loop], minlength=n_t)
    off = ~loop
    a = sp.coo_matrix((np.r_[d, -chain.count[off]], (np.r_[np.arange(n_t), chain.src[off]],
                                                      np.r_[np.arange(n_t), chain.dst[off]])), shape=(n_t, n_t))
    return a.tocsc()


#: systems up to this many states are solved by sparse LU; larger ones (whose LU factors fill in, as k-order
#: chains over many channels do) iteratively to machine precision, then checked
DIRECT_MAX_STATES = 2500
#: the scaled residual every iterative solve must reach: max |r − (I − Q) x| ≤ RTOL · max(|x|, |r|)
RTOL = 1e-13
FIXED_POINT_MAX_ITER = 5000
#: above this many states the fixed point runs before the Krylov solvers (measured on 140,000 states: BiCGSTAB
#: first 28 s, fixed point first 39 s for the 21 solves of order 4 over 1M paths, so only for huge chains)
FIXED_POINT_FIRST_STATES = 1_000_000


def _solve(a: sp.csc_matrix, b: np.ndarray, x0: np.ndarray | None = None) -> np.ndarray:
    """Solve ``a x = b`` (columns of ``b`` at once) to machine precision; states with no counts get x = 0.

    Sparse LU (``splu``) for small systems. For large ones BiCGSTAB / GMRES on the Jacobi-scaled system (a nonsingular,
    diagonally dominant M-matrix; typical chains absorb within a few steps, so it converges in a few dozen
    iterations), with the fixed-point iteration as a fallback, until the residual check passes; if it does not,
    sparse LU after all.
    """
    spla = _scipy()[1]
    diag = a.diagonal()
    live = diag > 0
    x = np.zeros(b.shape)
    if not live.any():
        return x
    if not live.all():
        idx = np.flatnonzero(live)
        x[idx] = _solve(a[idx][:, idx].tocsc(), b[idx], None if x0 is None else x0[idx])
        return x
    if a.shape[0] > DIRECT_MAX_STATES:
        out = _solve_iterative(a, b, diag, x0)
        if out is not None:
            return out
    return spla.splu(a, permc_spec="COLAMD").solve(np.asarray(b, float))


def _solve_iterative(a, b, diag, x0=None):
    """(I − Q) x = r with Q = I − D⁻¹A, r = D⁻¹b (the Jacobi-scaled system): Krylov refinement (BiCGSTAB, then
    GMRES) from ``x0``; if that stalls, the fixed point x ← Qx + r (it converges, Q being substochastic with every state able to
    reach absorption) and GMRES again. Very large systems start with the fixed point. Returns None when the
    residual check fails (the caller then uses LU)."""
    sp, spla = _scipy()
    off = a.tocsr(copy=True)
    off.setdiag(0.0)
    off.eliminate_zeros()
    q = (sp.diags(-1.0 / diag) @ off).tocsr()
    m = (sp.eye(len(diag), format="csr") - q).tocsr()
    r = b / diag[:, None]
    x = r.copy() if x0 is None else np.array(x0, float)

    def ok(j):
        tol = RTOL * max(float(np.abs(x[:, j]).max()), float(np.abs(r[:, j]).max()), 1e-300)
        return float(np.abs(r[:, j] - m @ x[:, j]).max()) <= tol

    def refine(j):
        # BiCGSTAB (cheap iterations) first; GMRES (no breakdown) when it does not get there
        for krylov in ("bicgstab", "bicgstab", "gmres", "gmres"):
            if ok(j):
                return True
            res = r[:, j] - m @ x[:, j]
            if krylov == "bicgstab":
                dx, info = spla.bicgstab(m, res, rtol=1e-14, atol=0.0, maxiter=2000)
            else:
                dx, info = spla.gmres(m, res, rtol=1e-14, atol=0.0, restart=50, maxiter=20)
            if np.all(np.isfinite(dx)):
                x[:, j] += dx
        return ok(j)

    if len(diag) > FIXED_POINT_FIRST_STATES:  # GMRES's orthogonalisation costs more than the sweeps here
        for _ in range(FIXED_POINT_MAX_ITER):
            nxt = q @ x + r
            delta = np.abs(nxt - x).max(axis=0)
            x = nxt
            if np.all(delta <= 1e-15 * np.maximum(np.abs(x).max(axis=0), 1e-300)):
                break
    for j in range(b.shape[1]):
        if refine(j):
            continue
        xj = x[:, j].copy()
        for _ in range(FIXED_POINT_MAX_ITER):
            nxt = q @ xj + r[:, j]
            delta = float(np.abs(nxt - xj).max())
            xj = nxt
            if delta <= 1e-15 * max(float(np.abs(xj).max()), 1e-300):
                break
        x[:, j] = xj
        if not refine(j):
            return None
    return x


@dataclass
class RemovalEffects:
    """P(conversion) and expected revenue from START, with and without each channel."""

    probability: float
    value: float
    probability_without: np.ndarray
    value_without: np.ndarray

    @property
    def conversion(self) -> np.ndarray:
        """RE(c) = 1 − P₋c / P (0 when P = 0)."""
        if self.probability <= 0:
            return np.zeros(len(self.probability_without))
        return np.clip(1.0 - self.probability_without / self.probability, 0.0, 1.0)

    @property
    def revenue(self) -> np.ndarray:
        if self.value <= 0:
            return np.zeros(len(self.value_without))
        return np.clip(1.0 - self.value_without / self.value, 0.0, 1.0)


def removal_effects(chain: Chain) -> RemovalEffects:
    """Absorption probability and value from START with all channels, then with each channel removed."""
    a = system(chain)
    b = np.column_stack([chain.to_conversion, chain.value])
    full_x = _solve(a, b)
    full = full_x[0]
    n_c = len(chain.channel_names)
    p_wo = np.zeros(n_c)
    v_wo = np.zeros(n_c)
    members = chain.members.tocsc()
    has = np.asarray(members.sum(axis=0)).ravel() > 0
    for c in range(n_c):  # one sparse solve per channel
        if not has[c]:
            p_wo[c], v_wo[c] = full
            continue
        hit = np.zeros(a.shape[0], bool)
        hit[members.indices[members.indptr[c]:members.indptr[c + 1]]] = True
        keep = np.flatnonzero(~hit)
        sub = a[keep][:, keep].tocsc()
        p_wo[c], v_wo[c] = _solve(sub, b[keep], full_x[keep])[0]  # warm start from the full chain
    return RemovalEffects(float(full[0]), float(full[1]), p_wo, v_wo)
