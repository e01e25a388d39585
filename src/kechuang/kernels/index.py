"""Index kernels (numba): weight capping and the divisor-linked level series.

Plain arrays in, arrays out; the slow twins are in tests/index/test_idx_kernels.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit

EPS = 1e-12


@njit(cache=True)
def _cap_single(w: np.ndarray, cap: float) -> None:
    """Water-filling: weights above `cap` are set to it and the excess is spread over the
    uncapped weights in proportion to their weight, until none exceeds the cap."""
    n = w.shape[0]
    capped = np.zeros(n, dtype=np.bool_)
    for _ in range(n + 1):
        excess = 0.0
        free = 0.0
        for i in range(n):
            if w[i] > cap + EPS:
                excess += w[i] - cap
                w[i] = cap
                capped[i] = True
        if excess <= EPS:
            return
        for i in range(n):
            if not capped[i]:
                free += w[i]
        if free <= EPS:
            return  # infeasible (n x cap < 1): leave at the cap
        f = (free + excess) / free
        for i in range(n):
            if not capped[i]:
                w[i] *= f


@njit(cache=True)
def cap_weights(weights: np.ndarray, single_cap: float, top_cap: float, top_n: int,
                max_iter: int = 1000) -> np.ndarray:
    """Capped weights (sum 1): no weight above `single_cap` and the `top_n` largest together
    at most `top_cap` (STAR 50: 10% and 40% of the top five, star-market-reference.md 6.1).

    Iterate: (1) single cap by water-filling; (2) if the top_n weights sum above top_cap,
    scale them down proportionally to top_cap and scale the rest up to 1 - top_cap. Stop when
    both hold. A cap <= 0 disables that cap.
    """
    n = weights.shape[0]
    w = weights.astype(np.float64).copy()
    total = w.sum()
    if total <= 0:
        return w
    w /= total
    for _ in range(max_iter):
        if single_cap > 0:
            _cap_single(w, single_cap)
        if top_cap <= 0 or top_n >= n:
            break
        order = np.argsort(-w, kind="mergesort")
        s = 0.0
        for k in range(top_n):
            s += w[order[k]]
        if s <= top_cap + 1e-10:
            break
        rest = 1.0 - s
        if rest <= EPS:
            break
        up = (1.0 - top_cap) / rest
        down = top_cap / s
        for i in range(n):
            w[i] *= up
        for k in range(top_n):
            w[order[k]] = w[order[k]] / up * down
    return w


@njit(cache=True)
def chain_levels(price: np.ndarray, ref: np.ndarray, qty: np.ndarray, base_value: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Index level, divisor and index market value for each session (rows of the arrays).

    price[t, i]: the session's price (last close carried over a suspension); ref[t, i]: the
    reference price the session's move is measured from (the previous price, or the
    ex-rights pre-close when an event is neutralised); qty[t, i]: shares x inclusion factor x
    weight factor in force on session t (0 = not a constituent).

    Row 0 is the base: divisor = M_0 / base_value. On every later session the divisor is set
    so that the level at the reference prices equals the previous level:
    D_t = sum(qty_t x ref_t) / L_{t-1}, and L_t = sum(qty_t x price_t) / D_t. A constituent
    swap or a share change with unchanged prices therefore leaves the level unchanged.
    """
    n_t, n_s = price.shape
    level = np.empty(n_t, dtype=np.float64)
    divisor = np.empty(n_t, dtype=np.float64)
    mcap = np.empty(n_t, dtype=np.float64)
    for t in range(n_t):
        m = 0.0
        r = 0.0
        for i in range(n_s):
            q = qty[t, i]
            if q != 0.0:
                m += q * price[t, i]
                r += q * ref[t, i]
        mcap[t] = m
        if t == 0:
            divisor[t] = m / base_value
            level[t] = base_value
        else:
            divisor[t] = r / level[t - 1]
            level[t] = m / divisor[t]
    return level, divisor, mcap


@njit(cache=True)
def window_means(close: np.ndarray, shares: np.ndarray, amount: np.ndarray, lo: int, hi: int,
                 recent: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column over rows lo..hi (inclusive): mean of close x shares over rows where both
    are finite (average daily total market value), mean of amount over rows with a close
    (average daily trading value; NaN amounts skipped), and whether the column has a close in
    the last `recent` rows. NaN where there is no row to average."""
    n_s = close.shape[1]
    s_mv = np.zeros(n_s)
    n_mv = np.zeros(n_s, dtype=np.int64)
    s_amt = np.zeros(n_s)
    n_amt = np.zeros(n_s, dtype=np.int64)
    has_recent = np.zeros(n_s, dtype=np.bool_)
    for t in range(lo, hi + 1):  # row-major: rows outer, columns inner
        is_recent = t > hi - recent
        for j in range(n_s):
            c = close[t, j]
            if c == c:
                if is_recent:
                    has_recent[j] = True
                a = amount[t, j]
                if a == a:
                    s_amt[j] += a
                    n_amt[j] += 1
                v = c * shares[t, j]
                if v == v:
                    s_mv[j] += v
                    n_mv[j] += 1
    avg_mv = np.full(n_s, np.nan)
    avg_amt = np.full(n_s, np.nan)
    for j in range(n_s):
        if n_mv[j] > 0:
            avg_mv[j] = s_mv[j] / n_mv[j]
        if n_amt[j] > 0:
            avg_amt[j] = s_amt[j] / n_amt[j]
    return avg_mv, avg_amt, has_recent


@njit(cache=True)
def ffill_rows(a: np.ndarray) -> np.ndarray:
    """Carry the last finite value of each column down over NaN rows."""
    out = a.copy()
    n_t, n_s = a.shape
    for t in range(1, n_t):
        for j in range(n_s):
            if out[t, j] != out[t, j]:
                out[t, j] = out[t - 1, j]
    return out
