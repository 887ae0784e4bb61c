"""The Markov fast path in pieces and blocks: splitting path strings piece by piece, counting windows and
transitions block by block, and the sparse (non-dense) transition count, against plain Python references."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from attribution.journeys import pathsplit as markov_paths
from attribution.models.markov import chain as markov_chain


def reference_split(values, separator, strip=True):
    """``str.split`` per path: the channels (white space stripped when ``strip``), empty ones dropped."""
    sep = (separator.strip() or separator) if strip else separator
    paths = []
    for v in values:
        tokens = [t.strip() if strip else t for t in (v or "").split(sep)]
        paths.append([t for t in tokens if t])
    return paths, sorted({t for p in paths for t in p})


ALPHABET = ["a", "bb", " c", "d ", "é", ">", " > ", "  ", "|", "||", "", "email", "\t"]


@pytest.mark.parametrize("piece_bytes", [1, 3, 16, 1 << 22])
@pytest.mark.parametrize("separator", [" > ", ">", "|", "||", "->"])
def test_split_paths_matches_str_split(monkeypatch, piece_bytes, separator):
    monkeypatch.setattr(markov_paths, "PIECE_BYTES", piece_bytes)
    rng = np.random.default_rng(len(separator) * 100 + piece_bytes)
    for trial in range(40):
        n = int(rng.integers(0, 25))
        values = ["".join(rng.choice(ALPHABET, int(rng.integers(0, 6)))) if rng.random() > 0.1 else None
                  for _ in range(n)]
        strip = trial % 5 != 0
        arr = pa.array(values, pa.large_string() if trial % 2 else pa.string())
        k = min(int(rng.integers(0, 4)), n)
        text = pa.chunked_array([arr.slice(0, k), arr.slice(k)], arr.type) if trial % 3 else arr.slice(0)
        dtype = np.int64 if trial % 4 == 1 else np.int32
        codes, offsets, names = markov_paths.split_paths(text, separator, strip=strip, dtype=dtype)
        want, want_names = reference_split(values, separator, strip)
        assert list(names) == want_names
        assert codes.dtype == dtype and len(offsets) == n + 1
        assert [[names[c] for c in codes[offsets[i]:offsets[i + 1]]] for i in range(n)] == want


def test_split_paths_of_a_sliced_array_and_dictionary_chunks():
    arr = pa.array(["x > y", "a > b", "b", None, "c > a"]).slice(1, 3)
    codes, offsets, names = markov_paths.split_paths(arr, " > ")
    assert list(names) == ["a", "b"] and offsets.tolist() == [0, 2, 3, 3] and codes.tolist() == [0, 1, 1]
    dictionary = pa.chunked_array([pa.array(["a > b", "b"]).dictionary_encode()])
    codes, offsets, names = markov_paths.split_paths(dictionary, " > ")
    assert list(names) == ["a", "b"] and codes.tolist() == [0, 1, 1]


def random_paths(seed, n_paths=300, n_channels=5, max_len=9):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, max_len + 1, n_paths)
    offsets = np.zeros(n_paths + 1, np.int64)
    np.cumsum(lengths, out=offsets[1:])
    codes = rng.integers(0, n_channels, int(offsets[-1])).astype(np.int32)
    conv = rng.choice([0.0, 1.0, 2.5], n_paths)
    nulls = rng.choice([0.0, 1.0, 3.0, 0.25], n_paths)
    rev = conv * rng.choice([1.0, 7.5], n_paths)
    names = np.array([f"c{i}" for i in range(n_channels)], dtype=object)
    return markov_chain.EncodedPaths(names, codes, offsets, conv, nulls, rev)


def reference_counts(p, order):
    """Transition counts with Python tuples: {(from, to): count}, START = ()."""
    trans, conv = {}, {}
    for i in range(len(p.offsets) - 1):
        path = tuple(p.codes[p.offsets[i]:p.offsets[i + 1]].tolist())
        if not path:
            continue
        windows = [path] if len(path) <= order else [path[j:j + order] for j in range(len(path) - order + 1)]
        for f, t in zip([()] + windows[:-1], windows):
            trans[(f, t)] = trans.get((f, t), 0.0) + p.conversions[i] + p.nulls[i]
        conv[windows[-1]] = conv.get(windows[-1], 0.0) + p.conversions[i]
    return {k: v for k, v in trans.items() if v != 0}, {k: v for k, v in conv.items() if v != 0}


def chain_counts(chain):
    def state(i):
        return () if i == 0 else tuple(int(d) - 1 for d in chain.state_digits[i - 1] if d > 0)

    trans = {(state(s), state(d)): c for s, d, c in zip(chain.src, chain.dst, chain.count)}
    conv = {state(i): c for i, c in enumerate(chain.to_conversion) if c != 0}
    return trans, conv


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("block", [1, 2, 7, 1 << 20])
@pytest.mark.parametrize("dense_keys", [0, 1 << 24])
def test_chain_counts_block_by_block_match_a_python_reference(monkeypatch, order, block, dense_keys):
    monkeypatch.setattr(markov_chain, "BLOCK", block)
    monkeypatch.setattr(markov_chain, "DENSE_TRANSITION_KEYS", dense_keys)
    p = random_paths(order * 10 + block % 5)
    chain = markov_chain.build_chain(p, order)
    want_trans, want_conv = reference_counts(p, order)
    got_trans, got_conv = chain_counts(chain)
    assert got_trans.keys() == want_trans.keys()
    # rel=1e-12: block-wise vs one-piece counting adds the same fractional counts in another order
    assert all(got_trans[k] == pytest.approx(v, rel=1e-12) for k, v in want_trans.items())
    assert got_conv.keys() == want_conv.keys()
    assert all(got_conv[k] == pytest.approx(v, rel=1e-12) for k, v in want_conv.items())
    # sorted by source, then target state, as transition_matrix() and the solver expect
    assert np.all(np.diff(chain.src * (chain.n_states + 1) + chain.dst) > 0)


def test_window_states_are_the_same_in_blocks(monkeypatch):
    p = random_paths(3, n_paths=500, max_len=12)
    for order in (2, 3, 5):
        whole = markov_chain.window_states(p, order)
        monkeypatch.setattr(markov_chain, "BLOCK", 5)
        parts = markov_chain.window_states(p, order)
        monkeypatch.undo()
        for a, b in zip(whole, parts):
            assert np.array_equal(a, b)


def test_split_paths_densest_text_fits_the_code_buffer():
    """One-byte channels and one-byte separators (the most channels per byte), and one-byte paths."""
    values = ["a|b|c|d", "a", "b", "a|b", "c|", "|d", "d|c|b|a|a"] * 50
    codes, offsets, names = markov_paths.split_paths(pa.array(values), "|")
    want, want_names = reference_split(values, "|")
    assert list(names) == want_names and len(codes) == sum(len(p) for p in want)
    assert [[names[c] for c in codes[offsets[i]:offsets[i + 1]]] for i in range(len(values))] == want
