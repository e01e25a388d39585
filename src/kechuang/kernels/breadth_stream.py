"""Streaming W4 breadth (numba): one chunk of a long table at a time, with per-stock state
carried between chunks, so a market larger than memory is processed partition by partition.

The counts are those of ``kernels.breadth.simple_breadth_long`` (benchmarks.md, W4): per date
n_valid, advancers, decliners, unchanged, limit_up (close >= prev x 1.2 - 0.005), limit_down
(close <= prev x 0.8 + 0.005), n_ma20, above_ma20, n_ma60, above_ma60, over each stock's own
bars. The carried state is, per stock: the number of own bars so far, the last 60 closes (a
ring buffer) and the two running sums. The running sums are updated with the same additions and
subtractions in the same order as the in-memory kernel, so the results are identical, not just
close. The slow twin is in tests/scale/test_scale_breadth_stream.py."""

from __future__ import annotations

import numpy as np
from numba import njit

from kechuang.kernels.breadth import count_w4_row

WINDOW = 60  # longest window kept per stock (MA60)


def new_state(n_codes: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(n_own int64[n], ring float64[n, 60], sums float64[n, 2]) for `n_codes` stocks."""
    return (np.zeros(n_codes, dtype=np.int64), np.zeros((n_codes, WINDOW)),
            np.zeros((n_codes, 2)))


@njit(cache=True)
def breadth_chunk(code_idx: np.ndarray, date_idx: np.ndarray, close: np.ndarray, n_dates: int,
                  n_own: np.ndarray, ring: np.ndarray, sums: np.ndarray) -> np.ndarray:
    """Counts int64[n_dates, 10] for one chunk whose rows are in date order for each stock
    (e.g. sorted by date); every date of the chunk must be later than every date of earlier
    chunks. Updates the state arrays in place."""
    out = np.zeros((n_dates, 10), dtype=np.int64)
    n = close.shape[0]
    for i in range(n):
        c = code_idx[i]
        x = close[i]
        d = date_idx[i]
        k = n_own[c]
        s20 = sums[c, 0] + x
        s60 = sums[c, 1] + x
        if k >= 20:
            s20 -= ring[c, (k - 20) % WINDOW]
        if k >= 60:
            s60 -= ring[c, (k - 60) % WINDOW]
        p = ring[c, (k - 1) % WINDOW] if k >= 1 else 0.0
        count_w4_row(out, d, k, x, p, s20, s60)
        ring[c, k % WINDOW] = x
        sums[c, 0] = s20
        sums[c, 1] = s60
        n_own[c] = k + 1
    return out
