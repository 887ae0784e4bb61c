"""Grouping of channel-code sequences in order of first occurrence: exact, whatever the hash does."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from attribution.journeys import pathgroup


def flat(seqs):
    offsets = np.cumsum([0] + [len(s) for s in seqs]).astype(np.int64)
    codes = np.array([c for s in seqs for c in s], np.int64)
    return codes, offsets


def first_seen_reference(seqs):
    number = {}
    return [number.setdefault(tuple(s), len(number)) for s in seqs], len(number)


def random_sequences(seed: int, n: int, n_codes: int, max_len: int = 30):
    rng = np.random.default_rng(seed)
    base = [tuple(rng.integers(0, n_codes, int(rng.integers(0, max_len))).tolist()) for _ in range(40)]
    return [base[i][:int(rng.integers(0, len(base[i]) + 1))] for i in rng.integers(0, 40, n)] + [()]


@pytest.mark.parametrize("n_codes", [1, 3, 20, 70_000])
def test_groups_are_numbered_in_order_of_first_occurrence(n_codes):
    seqs = random_sequences(n_codes, 600, n_codes)
    codes, offsets = flat(seqs)
    group, n = pathgroup.group_first_seen(codes, offsets, n_codes)
    want, n_want = first_seen_reference(seqs)
    assert n == n_want and group.tolist() == want


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 4), max_size=8), min_size=1, max_size=40))
def test_first_seen_matches_a_dictionary(seqs):
    codes, offsets = flat(seqs)
    group, n = pathgroup.group_first_seen(codes, offsets, 5)
    want, n_want = first_seen_reference(seqs)
    assert n == n_want and group.tolist() == want
    assert pathgroup.first_members(group).tolist() == sorted({g: i for i, g in reversed(list(enumerate(want)))}.values())


def test_distinct_sequences_keep_their_own_numbers():
    seqs = [(i % 7, i // 7) for i in range(49)] + [(), (3,)]
    group, n = pathgroup.group_first_seen(*flat(seqs), 7)
    assert n == len(seqs) and group.tolist() == list(range(len(seqs)))


@pytest.mark.parametrize("collide", ["all", "pairs"])
def test_hash_collisions_are_caught(monkeypatch, collide):
    """With a hash that maps distinct sequences to one value, the comparison with each group's first member
    sees it, and the result is still exact."""
    seqs = random_sequences(5, 300, 6)

    def bad_hashes(codes, offsets, block=pathgroup.BLOCK):
        n = len(offsets) - 1
        return np.zeros(n, np.uint64) if collide == "all" else (np.diff(offsets) % 2).astype(np.uint64)

    monkeypatch.setattr(pathgroup, "sequence_hashes", bad_hashes)
    group, n = pathgroup.group_first_seen(*flat(seqs), 6)
    want, n_want = first_seen_reference(seqs)
    assert n == n_want and group.tolist() == want


def test_equal_lengths_but_other_codes_in_one_hash_group_are_caught(monkeypatch):
    seqs = [(0, 1), (1, 0), (0, 1), (2, 2)]
    monkeypatch.setattr(pathgroup, "sequence_hashes", lambda codes, offsets, block=0: np.zeros(4, np.uint64))
    group, n = pathgroup.group_first_seen(*flat(seqs), 3)
    assert (group.tolist(), n) == ([0, 1, 0, 2], 3)


def test_hashes_depend_on_order_and_length_not_on_storage():
    seqs = [(1, 2), (2, 1), (1, 2, 0), (0, 1, 2), (), (0,), (1, 2)]
    h = pathgroup.sequence_hashes(*flat(seqs))
    assert len(set(h[:6].tolist())) == 6 and h[0] == h[6]
    # the same sequences split over several blocks hash the same
    assert pathgroup.sequence_hashes(*flat(seqs), block=2).tolist() == h.tolist()
