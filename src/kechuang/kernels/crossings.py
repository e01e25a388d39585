"""MA crossing events for the column kernels (numba): one byte per bar, found a word at a time.

An MA-crossover account only acts on bars where the fast SMA crosses the slow one or a
corporate action falls; every other bar is either flat cash (nothing to do) or a held position
(statistics only). ``ma_events`` marks those bars in one vectorised pass per (column, pair);
``next_event`` then finds the next marked bar 8 bars per load, so the state machine never
steps through quiet bars one by one.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import trailing_zeros

UP = np.uint8(1)  # fast crosses above slow between bars j-1 and j
DOWN = np.uint8(2)  # the mirror
CORP = np.uint8(4)  # a cash dividend or bonus issue takes effect on the bar

TOL = 1e-9  # relative tolerance for price comparisons (decision 8); orders uses it too
_ONES = np.uint64(0x0101010101010101)
_FULL = np.uint64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True)
def column_inputs(sig: np.ndarray, div_cash: np.ndarray, bonus: np.ndarray, lo: int, hi: int,
                  ma: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(prefix sums, corporate-action marks, state, events) for one column's bars [lo, hi):
    prefix sums of sig from 0 (n + 1 values), CORP on bars with a cash dividend or bonus
    issue, and the scratch of ``ma_events`` (events padded with zero bytes to whole 8-byte
    words, which ``next_event`` reads past the column's end). Built per column inside the
    parallel loop, so no serial pass over every bar precedes it; only MA crossovers (`ma`)
    use them, other strategies get empty arrays."""
    n = hi - lo if ma else 0
    csum = np.zeros(n + 1)
    corp = np.zeros(n, dtype=np.uint8)
    acc = 0.0
    for j in range(n):
        acc += sig[lo + j]
        csum[j + 1] = acc
        if div_cash[lo + j] != 0.0 or bonus[lo + j] != 0.0:
            corp[j] = CORP
    return csum, corp, np.zeros(n, dtype=np.uint8), np.zeros((n + 8) // 8 * 8, dtype=np.uint8)


@njit(cache=True)
def ma_events(csum: np.ndarray, base: int, n: int, fast: int, slow: int, corp: np.ndarray,
              state: np.ndarray, ev: np.ndarray) -> None:
    """Events of a column's n bars whose prefix sums start at csum[base] and whose corporate
    action marks are corp[0:n]. state[j] (j >= w - 1, w = max(fast, slow)) has bit UP when
    the fast SMA is above the slow one beyond the relative tolerance, DOWN when below it,
    neither within it; compared without dividing (sum_f x slow vs sum_s x fast, the test
    scaled by fast x slow). ev[j] for j >= w holds UP / DOWN where that bit is set on bar j
    and clear on bar j - 1, and CORP from corp; bytes below w are not written (no crossing
    can be seen there).

    The loops run over aligned slices with zero-based indices: an index such as `j - fast`
    makes numba emit a negative-index wraparound per load, which blocks SIMD (about 5x)."""
    w = max(fast, slow)
    m = n - w + 1
    if m <= 0:
        return
    top = csum[base + w: base + n + 1]
    lag_f = csum[base + w - fast: base + n + 1 - fast]
    lag_s = csum[base + w - slow: base + n + 1 - slow]
    st = state[w - 1: n]
    sf = float(slow)
    ff = float(fast)
    for t in range(m):
        a = (top[t] - lag_f[t]) * sf
        b = (top[t] - lag_s[t]) * ff
        eps = TOL * max(abs(a), abs(b))
        st[t] = np.uint8(a - b > eps) | (np.uint8(b - a > eps) << 1)
    # a bit set now and clear on the previous bar is a crossing into that side
    cur = state[w: n]
    prv = state[w - 1: n - 1]
    cp = corp[w: n]
    out = ev[w: n]
    for t in range(m - 1):
        out[t] = cp[t] | (cur[t] & ~prv[t])


@njit(cache=True)
def next_event(ev: np.ndarray, j: int, n: int, mask: np.uint8) -> int:
    """First bar k in [j, n) whose event byte has a bit of `mask`, else n, read a word (8
    bars) at a time; bytes of the first word below j are masked off, and ev's zero padding
    stands in for the bars past n. Bytes are little-endian in the word on every target
    numba has, so the lowest marked byte is the first bar."""
    if j >= n:
        return n
    words = ev.view(np.uint64)
    wm = _ONES * np.uint64(mask)
    k = np.uint64(j >> 3)
    last = np.uint64((n + 7) >> 3)
    hit = words[k] & wm & (_FULL << np.uint64(8 * (j & 7)))
    while True:
        if hit:
            return int(k) * 8 + int(trailing_zeros(hit)) // 8  # type: ignore[call-arg]
        k += np.uint64(1)
        if k >= last:
            return n
        hit = words[k] & wm
