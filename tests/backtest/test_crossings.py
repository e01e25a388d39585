"""MA crossing events and the word-at-a-time search against slow, obvious twins."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.kernels import crossings as cx
from kechuang.kernels import orders as ko

SETTINGS = settings(max_examples=200, deadline=None)


def twin_events(x: np.ndarray, fast: int, slow: int, corp: np.ndarray) -> list[int]:
    """Event byte per bar from the SMAs themselves (division, the tolerance of decision 8)."""
    n = len(x)
    w = max(fast, slow)
    above = [False] * n
    below = [False] * n
    for j in range(w - 1, n):
        f = sum(x[j - fast + 1: j + 1]) / fast
        s = sum(x[j - slow + 1: j + 1]) / slow
        above[j] = ko.gt_tol(f, s)
        below[j] = ko.gt_tol(s, f)
    out = [0] * n
    for j in range(w, n):
        out[j] = int(corp[j]) | int(above[j] and not above[j - 1]) \
            | (int(below[j] and not below[j - 1]) << 1)
    return out


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(1, 80), fast=st.integers(1, 12),
       slow=st.integers(1, 30), ties=st.booleans())
def test_ma_events_match_twin(seed: int, n: int, fast: int, slow: int, ties: bool) -> None:
    rng = np.random.default_rng(seed)
    # ties: prices on a coarse grid, so equal SMAs (the tolerance's case) happen often
    x = rng.integers(1, 4, n).astype(float) if ties else 10 + rng.standard_normal(n).cumsum()
    x = np.abs(x) + 0.5
    div = np.where(rng.random(n) < 0.07, 0.3, 0.0)
    bonus = np.where(rng.random(n) < 0.05, 0.2, 0.0)
    csum, corp, state, ev = cx.column_inputs(x, div, bonus, 0, n, True)
    np.testing.assert_allclose(csum, np.concatenate([[0.0], np.cumsum(x)]))
    assert (corp == np.where((div != 0) | (bonus != 0), cx.CORP, 0)).all()
    cx.ma_events(csum, 0, n, fast, slow, corp, state, ev)
    w = max(fast, slow)
    want = twin_events(x, fast, slow, corp)
    # bars below w are never read, and the padding past n stays zero for the word search
    assert ev[w:n].tolist() == want[w:]
    assert not ev[n:].any()


@SETTINGS
@given(marks=st.lists(st.integers(0, 7), min_size=0, max_size=70), j=st.integers(0, 75),
       mask=st.sampled_from([1, 2, 4, 6, 7]))
def test_next_event_is_the_first_marked_bar(marks: list, j: int, mask: int) -> None:
    n = len(marks)
    ev = cx.column_inputs(np.ones(n), np.zeros(n), np.zeros(n), 0, n, True)[3]
    ev[:n] = marks
    want = next((k for k in range(j, n) if marks[k] & mask), n)
    assert cx.next_event(ev, j, n, np.uint8(mask)) == want
