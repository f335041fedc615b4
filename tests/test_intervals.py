"""The page ledger under the tracker's checks, against a plain set of pages.

The model is a Python ``set`` of page numbers on small ranges: what is in it,
how many disjoint runs it has and whether a new range would touch one are
all computed from the pages themselves, independently of the intervals.
"""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from dmdissect.analysis import intervals
from dmdissect.analysis.intervals import PageSet, coalesce

ranges = st.lists(st.tuples(st.integers(0, 200), st.integers(0, 40)), max_size=12)
operations = st.lists(
    st.tuples(
        st.sampled_from(["add", "remove", "overlap", "put", "take"]),
        st.integers(0, 120),
        st.integers(0, 9),
    ),
    max_size=60,
)


def _runs_of(model: set[int]) -> list[tuple[int, int]]:
    """Disjoint half-open runs of a set of pages, from the pages alone."""
    runs = []
    for page in sorted(model):
        if runs and runs[-1][1] == page:
            runs[-1] = (runs[-1][0], page + 1)
        else:
            runs.append((page, page + 1))
    return runs


@given(operations, st.integers(1, 40), st.sampled_from([1, 2, 3, intervals.LOAD]))
def test_pageset_agrees_with_a_set_of_pages(steps, limit, load):
    """One block and many alike: with blocks of 2 to 6 runs, ranges that meet, merge
    or split runs across the blocks' edges, and blocks split and vanish."""
    saved = intervals.LOAD
    intervals.LOAD = load
    try:
        _agrees_with_a_set_of_pages(steps, limit, load)
    finally:
        intervals.LOAD = saved


def _agrees_with_a_set_of_pages(steps, limit, load):
    model: set[int] = set()
    pages = PageSet(limit=limit)
    overflowed = False
    for op, start, count in steps:
        wanted = set(range(start, start + count))
        if op == "overlap":
            assert pages.overlap(start, start + count) == len(model & wanted)
        elif op in ("remove", "take"):
            if op == "take":
                assert pages.take(start, start + count) == len(model & wanted)
            else:
                pages.remove(start, start + count)
            model -= wanted
        else:
            # A run that touches nothing is a new interval: refused once the cap is reached.
            touches = bool(model & set(range(start - 1, start + count + 1)))
            full = count > 0 and not touches and len(_runs_of(model)) >= limit
            if op == "put":
                assert pages.put(start, start + count) == len(model & wanted)
            else:
                assert pages.add(start, start + count) is not full
            if full:
                overflowed = True
            else:
                model |= wanted
        assert pages.runs() == _runs_of(model)
        assert len(pages) == len(_runs_of(model))
        assert pages.overflowed is overflowed
        blocks = pages._starts
        assert all(0 < len(block) <= 2 * load for block in blocks)
        assert pages._firsts == [block[0] for block in blocks]


@given(ranges)
def test_coalesce_merges_and_counts_pages_given_twice(given_ranges):
    runs, twice = coalesce(given_ranges)
    pages = [p for start, count in given_ranges for p in range(start, start + count)]
    assert {p for s, e in runs for p in range(s, e)} == set(pages)
    assert twice == len(pages) - len(set(pages))
    assert all(e < s2 for (_, e), (s2, _) in zip(runs, runs[1:]))


@given(st.integers(0, 1000), st.lists(st.integers(0, 40), max_size=12))
def test_coalesce_of_ranges_one_after_another(first, counts):
    """Ranges each beginning where the last ends (a guest's usual part), empty ones among them."""
    given_ranges = []
    for count in counts:
        given_ranges.append((first, count))
        first += count
    runs, twice = coalesce(given_ranges)
    pages = [p for start, count in given_ranges for p in range(start, start + count)]
    assert runs == _runs_of(set(pages))
    assert twice == 0


def test_pageset_stops_growing_at_its_limit():
    pages = PageSet(limit=2)
    assert pages.add(0, 1) and pages.add(10, 11)
    assert pages.add(20, 21) is False
    assert pages.overflowed is True
    assert pages.add(1, 5) is True
    assert pages.runs() == [(0, 5), (10, 11)]


def test_scattered_runs_never_shift_more_than_a_block_of_entries():
    """Scattered 2 MiB runs across 4 TiB: no insert moves more than one block.

    A flat sorted list (the ledger before) shifts every later entry on each
    insert, 100,000 of them at the cap; blocks of at most twice the load keep
    the entries one insert or delete moves bounded however many runs the set holds.
    """
    chunks = (4 << 40) // (2 << 20)
    rng = random.Random(11)
    pages = PageSet(limit=50_000)
    chosen = rng.sample(range(0, chunks, 2), 50_000)
    for chunk in chosen:
        assert pages.add(chunk * 512, chunk * 512 + 512)
    assert len(pages) == 50_000
    assert pages.runs() == [(c * 512, c * 512 + 512) for c in sorted(chosen)]
    assert pages.add(612, 712) is False  # inside a chunk never used: a new run, refused
    blocks = pages._starts
    assert max(len(block) for block in blocks) <= 2 * intervals.LOAD
    assert len(blocks) >= 50_000 // (2 * intervals.LOAD)
    for start, _ in pages.runs()[::2]:
        pages.remove(start, start + 512)
    assert len(pages) == 25_000
    assert max(len(block) for block in blocks) <= 2 * intervals.LOAD


def test_a_set_of_few_runs_is_one_block():
    """One set per transaction: those that stay small are a single block.

    Up to ``2 * LOAD`` scattered runs stay in one block; one more splits it in
    two, every run kept in order.
    """
    most = 2 * intervals.LOAD
    pages = PageSet(limit=most * 2)
    for run in range(most):
        assert pages.add(10 * run, 10 * run + 5)
    assert len(pages._starts) == 1 and len(pages) == most
    assert pages.add(-10, -5)
    assert len(pages._starts) == 2
    assert pages.runs() == [(-10, -5)] + [(10 * r, 10 * r + 5) for r in range(most)]
    assert pages.take(0, 12) == 7 and pages.runs()[:3] == [(-10, -5), (12, 15), (20, 25)]
    assert PageSet(limit=0).add(1, 2) is False
