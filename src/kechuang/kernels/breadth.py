"""Market-breadth kernels (numba). Plain arrays in, arrays out.

Panels are (T sessions x N stocks) float64 arrays with NaN where a stock has no bar (not listed
yet, suspended, delisted). Every per-stock quantity uses the stock's OWN bars: a gap is skipped,
never forward-filled. The slow, obvious twins live in tests/index/test_idx_breadth.py.
"""

from __future__ import annotations

import numpy as np
from numba import njit

TOL = 1e-6  # prices are in 0.01 CNY; a limit price is matched within this tolerance
# "Above the moving average" means above by more than 1e-9 relative: within it the close and
# the average count as equal (docs/architecture.md, decision 8), so summation order cannot flip
# a count between engines.
REL_TOL = 1e-9


@njit(cache=True)
def breadth_panel(adj_close: np.ndarray, close: np.ndarray, high: np.ndarray,
                  lim_up: np.ndarray, lim_down: np.ndarray, limit_ok: np.ndarray,
                  ret_ok: np.ndarray, member: np.ndarray, ma_windows: np.ndarray,
                  hl_window: int, hl_min_history: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Daily breadth counts over the stocks flagged in `member`.

    adj_close: adjusted closes (returns, moving averages, highs/lows); close/high: raw prices;
    lim_up/lim_down: rounded limit prices from the exchange pre-close (raw); limit_ok: the session
    has a price limit (not in the no-limit window) and no ex-rights event; ret_ok: the return of
    the bar is known (False e.g. on an ex-rights bar with no factor).

    Returns (counts[T, 11], ma_counts[T, K, 2], streak[T, N], hl[T, 3]) where counts columns are
    n_valid, advancers, decliners, unchanged, limit_up, limit_down, touched_up, broken,
    max_streak, n_streak2, n_members; ma_counts[t, k] = (n with MA_k defined, n above MA_k);
    streak = consecutive limit-up closes on own bars; hl = (n eligible, new highs, new lows).
    """
    n_t, n_s = adj_close.shape
    n_k = ma_windows.shape[0]
    counts = np.zeros((n_t, 11), dtype=np.int64)
    ma_counts = np.zeros((n_t, n_k, 2), dtype=np.int64)
    hl = np.zeros((n_t, 3), dtype=np.int64)
    streak = np.zeros((n_t, n_s), dtype=np.int64)
    max_w = hl_window
    for k in range(n_k):
        if ma_windows[k] > max_w:
            max_w = ma_windows[k]
    buf = np.empty(max_w, dtype=np.float64)  # ring buffer of the last own closes
    sums = np.zeros(n_k, dtype=np.float64)
    for j in range(n_s):
        n_own = 0
        prev = np.nan
        run = 0
        for k in range(n_k):
            sums[k] = 0.0
        for t in range(n_t):
            x = adj_close[t, j]
            if not np.isfinite(x):
                continue
            # ring-buffer update and rolling sums over own bars
            for k in range(n_k):
                w = ma_windows[k]
                sums[k] += x
                if n_own >= w:
                    sums[k] -= buf[(n_own - w) % max_w]
            buf[n_own % max_w] = x
            n_own += 1
            is_up = False
            if limit_ok[t, j] and close[t, j] >= lim_up[t, j] - TOL:
                is_up = True
            run = run + 1 if is_up else 0
            streak[t, j] = run
            if member[t, j]:
                counts[t, 10] += 1
                if ret_ok[t, j] and np.isfinite(prev):
                    counts[t, 0] += 1
                    if x > prev:
                        counts[t, 1] += 1
                    elif x < prev:
                        counts[t, 2] += 1
                    else:
                        counts[t, 3] += 1
                if limit_ok[t, j]:
                    if is_up:
                        counts[t, 4] += 1
                    if close[t, j] <= lim_down[t, j] + TOL:
                        counts[t, 5] += 1
                    if high[t, j] >= lim_up[t, j] - TOL:
                        counts[t, 6] += 1
                        if not is_up:
                            counts[t, 7] += 1
                if run > counts[t, 8]:
                    counts[t, 8] = run
                if run >= 2:
                    counts[t, 9] += 1
                for k in range(n_k):
                    w = ma_windows[k]
                    if n_own >= w:
                        ma_counts[t, k, 0] += 1
                        ma = sums[k] / w
                        if x - ma > REL_TOL * abs(ma):
                            ma_counts[t, k, 1] += 1
                if n_own >= hl_min_history:
                    hl[t, 0] += 1
                    m = min(n_own, hl_window)
                    hi = x
                    lo = x
                    for i in range(n_own - m, n_own):
                        v = buf[i % max_w]
                        if v > hi:
                            hi = v
                        if v < lo:
                            lo = v
                    if x >= hi:
                        hl[t, 1] += 1
                    if x <= lo:
                        hl[t, 2] += 1
            prev = x
    return counts, ma_counts, streak, hl


@njit(cache=True)
def mcclellan(adv: np.ndarray, dec: np.ndarray, ratio_adjusted: bool
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """McClellan oscillator and summation index (star-market-reference.md section 7).

    Net = A - D, or (A - D) / (A + D) x 1000 when ratio_adjusted (0 when A + D = 0).
    EMA19 and EMA39 use the McClellans' smoothing constants 0.10 and 0.05, seeded with the first
    value. Oscillator = EMA19 - EMA39; summation index = running sum of the oscillator.
    """
    n = adv.shape[0]
    net = np.empty(n, dtype=np.float64)
    osc = np.empty(n, dtype=np.float64)
    summ = np.empty(n, dtype=np.float64)
    e19 = 0.0
    e39 = 0.0
    total = 0.0
    for t in range(n):
        a = float(adv[t])
        d = float(dec[t])
        if ratio_adjusted:
            net[t] = (a - d) / (a + d) * 1000.0 if a + d > 0 else 0.0
        else:
            net[t] = a - d
        if t == 0:
            e19 = net[t]
            e39 = net[t]
        else:
            e19 = e19 + 0.10 * (net[t] - e19)
            e39 = e39 + 0.05 * (net[t] - e39)
        osc[t] = e19 - e39
        total += osc[t]
        summ[t] = total
    return net, osc, summ


@njit(cache=True, inline="always")
def count_w4_row(out: np.ndarray, d: int, k: int, x: float, p: float, s20: float,
                 s60: float) -> None:
    """Add one stock-day to the W4 counts of date row `d`: k = own bars before today, x = close,
    p = previous own close (used when k >= 1), s20/s60 = running sums including today."""
    if k >= 1:
        out[d, 0] += 1
        if x > p:
            out[d, 1] += 1
        elif x < p:
            out[d, 2] += 1
        else:
            out[d, 3] += 1
        if x >= p * 1.2 - 0.005:
            out[d, 4] += 1
        if x <= p * 0.8 + 0.005:
            out[d, 5] += 1
    if k >= 19:
        out[d, 6] += 1
        if x - s20 / 20.0 > REL_TOL * abs(s20 / 20.0):
            out[d, 7] += 1
    if k >= 59:
        out[d, 8] += 1
        if x - s60 / 60.0 > REL_TOL * abs(s60 / 60.0):
            out[d, 9] += 1


@njit(cache=True)
def simple_breadth_long(code_idx: np.ndarray, date_idx: np.ndarray, close: np.ndarray,
                        n_dates: int) -> np.ndarray:
    """The benchmark W4 breadth (benchmarks.md) on a long table sorted by (code, date).

    Per date: n_valid (stocks with a previous own close), advancers, decliners, unchanged,
    limit_up (close >= prev x 1.2 - 0.005), limit_down (close <= prev x 0.8 + 0.005),
    n_ma20, above_ma20, n_ma60, above_ma60 (close above own SMA by more than 1e-9 relative,
    window of own bars incl. today).
    Returns int64[n_dates, 10].
    """
    out = np.zeros((n_dates, 10), dtype=np.int64)
    n = close.shape[0]
    start = 0
    while start < n:
        end = start
        c = code_idx[start]
        while end < n and code_idx[end] == c:
            end += 1
        s20 = 0.0
        s60 = 0.0
        for i in range(start, end):
            x = close[i]
            d = date_idx[i]
            k = i - start
            s20 += x
            s60 += x
            if k >= 20:
                s20 -= close[i - 20]
            if k >= 60:
                s60 -= close[i - 60]
            p = close[i - 1] if k >= 1 else 0.0
            count_w4_row(out, d, k, x, p, s20, s60)
        start = end
    return out
