"""Order simulation kernels (numba): plain arrays in, arrays out.

Two shapes (docs/architecture.md, "Backtest semantics"):

- independent columns, one account each, stored *ragged*: the bars of column k are
  ``[offsets[k], offsets[k+1])`` of flat arrays, so every column runs over its own bars (missing
  dates are skipped, never forward-filled). Strategy logic that depends on the account state
  (MA crossover, grid) runs inside the kernel, so a sweep never materialises (bars x
  combinations) frames: ``sweep_run`` runs the columns in parallel with ``prange``, each
  column's combinations in turn, and keeps only a row of statistics per backtest. For MA
  crossovers the crossing flags of a column are computed in one vectorisable pass and flat
  stretches are skipped to the next upward crossing.
- one portfolio with shared cash over many assets (``portfolio_run``): target weights on
  rebalance sessions (with an optional drift band), fixed-value buys (DCA), cash inflows and a
  per-session interest rate on cash.

Rule values arrive as arrays prepared by the engine from the rules layer: limit prices per bar
(NaN = no limit on that bar: first sessions after listing, bars flagged as data gaps, or
``rules="none"``), fee rates per session (stamp duty, transfer, handling, regulatory), lot size,
lot step and settlement lag per column. Checks run in the order of decision 7: limit, T+1, lot,
cash. Every order a rule blocks or trims carries a reason code.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kechuang.kernels import crossings as cx
from kechuang.kernels.crossings import TOL  # relative price tolerance (decision 8)

# Reason codes for blocked or trimmed orders (decision 7 order).
OK = 0
R_LIMIT = 1
R_T1 = 2
R_LOT = 3
R_CASH = 4
R_NOBAR = 5
REASONS = ("ok", "limit", "t+1", "lot", "cash", "no_bar")

# Fee lines per fill (decision 9), in this column order.
FEE_KINDS = ("commission", "stamp_duty", "transfer", "handling", "regulatory")

# Columns of the per-task statistics row written by the column kernels.
STAT_FIELDS = ("final_value", "n_fills", "n_bars", "sum_r", "sum_r2", "sum_neg_r2",
               "max_drawdown", "n_exposed", "n_closed", "n_wins", "traded_value", "fees",
               "n_blocked")
N_STATS = len(STAT_FIELDS)



@njit(cache=True)
def round_cents(x: float) -> float:
    """Half up to 0.01 CNY (decision 9); the 1e-9 nudge absorbs binary representation error."""
    return np.floor(x * 100.0 + 0.5 + 1e-9) / 100.0


@njit(cache=True)
def gt_tol(a: float, b: float) -> bool:
    """a > b beyond the relative tolerance (equal within it counts as not greater)."""
    return a - b > TOL * max(abs(a), abs(b))


@njit(cache=True)
def locked(side: int, px: float, up: float, dn: float) -> bool:
    """Blocking by direction (decision 4): no buy at or above limit-up, no sell at or below
    limit-down; NaN limits (no limit on the bar) never block."""
    if side == 1:
        return (not np.isnan(up)) and px >= up - 1e-9
    return (not np.isnan(dn)) and px <= dn + 1e-9


@njit(cache=True)
def fee_lines(value: float, is_sell: bool, rates: np.ndarray, s: int, stamp_on: bool,
              comm_rate: float, comm_min: float, out: np.ndarray) -> float:
    """Fill `out` (5 lines, FEE_KINDS order) for one fill of `value` CNY; return the total.
    rates[s] = (stamp duty, transfer, handling, regulatory) for session s."""
    r0, r1, r2, r3 = rates[s, 0], rates[s, 1], rates[s, 2], rates[s, 3]
    if comm_rate == 0.0 and comm_min == 0.0 and r0 == 0.0 and r1 == 0.0 and r2 == 0.0 \
            and r3 == 0.0:
        for k in range(5):
            out[k] = 0.0
        return 0.0  # frictionless: skip the rounding
    c = value * comm_rate
    if c < comm_min:
        c = comm_min
    out[0] = round_cents(c) if value > 0 else 0.0
    out[1] = round_cents(value * r0) if (is_sell and stamp_on) else 0.0
    out[2] = round_cents(value * r1)
    out[3] = round_cents(value * r2)
    out[4] = round_cents(value * r3)
    return out[0] + out[1] + out[2] + out[3] + out[4]


@njit(cache=True)
def no_fees(rates: np.ndarray, comm_rate: float, comm_min: float) -> bool:
    """Every fee line is zero on every session (rules="none", or a zero commission under a
    zero schedule): the kernels then skip the fee arithmetic, whose result would be 0."""
    return comm_rate == 0.0 and comm_min == 0.0 and not np.any(rates != 0.0)


@njit(cache=True)
def lot_round(n: int, min_lot: int, step: int) -> int:
    """Largest valid buy size not above n (0 if under the minimum)."""
    if n < min_lot:
        return 0
    if step == 1:
        return n  # skip the integer division (tens of cycles) in the common case
    return min_lot + ((n - min_lot) // step) * step


@njit(cache=True)
def size_buy(desired: int, price: float, cash: float, rates: np.ndarray, s: int,
             comm_rate: float, comm_min: float, min_lot: int, step: int, buf: np.ndarray,
             free: bool = False) -> tuple[int, int]:
    """(shares, reason) for a buy of `desired` shares: lot rule first, then cash (decision 7).
    reason is R_LOT when the lot rule leaves nothing, R_CASH when cash trims or blocks it.
    free: the caller knows every fee is zero (see `no_fees`), so the fee lines are skipped."""
    n = lot_round(desired, min_lot, step)
    if n <= 0:
        return 0, R_LOT
    fee = 0.0 if free else fee_lines(n * price, False, rates, s, False, comm_rate, comm_min,
                                     buf)
    cost = n * price + fee
    if cost <= cash + 1e-9:
        return n, OK
    r = 0.0 if free else comm_rate + rates[s, 1] + rates[s, 2] + rates[s, 3]
    m = lot_round(int(cash / (price * (1.0 + r))), min_lot, step)
    while m > 0:
        fee = 0.0 if free else fee_lines(m * price, False, rates, s, False, comm_rate,
                                         comm_min, buf)
        cost = m * price + fee
        if cost <= cash + 1e-9:
            break
        m = lot_round(m - step, min_lot, step)
    return m, R_CASH


@njit(cache=True)
def size_sell(desired: int, pos: int, sellable: int, min_lot: int, step: int
              ) -> tuple[int, int]:
    """(shares, reason) for a sell: T+1 trims to the sellable shares (decision 6), then the lot
    rule: >= min_lot in steps, or the whole available balance when it is under min_lot (odd lot
    sold in one order)."""
    d = min(desired, pos)
    reason = OK
    if d > sellable:
        d = sellable
        reason = R_T1
    if d <= 0:
        return 0, R_T1
    avail = min(pos, sellable)
    if d == avail and avail < min_lot:
        return d, reason
    if d == pos:
        return d, reason
    if d < min_lot:
        return 0, R_LOT
    v = d if step == 1 else min_lot + ((d - min_lot) // step) * step
    if v < d and reason == OK:
        reason = R_LOT
    return v, reason


# --------------------------------------------------------------------------------------------
# Independent columns
# --------------------------------------------------------------------------------------------

@njit(cache=True, inline="always")
def _add_return(eq: float, prev_eq: float, sum_r: float, sum_r2: float, sum_neg: float
                ) -> tuple[float, float, float]:
    """The return accumulators after one bar (an unchanged equity adds r = 0 exactly, so
    callers may skip the call then)."""
    r = eq / prev_eq - 1.0
    q = min(r, 0.0)  # branchless: the sign of r is a coin flip for the predictor
    return sum_r + r, sum_r2 + r * r, sum_neg + q * q


@njit(cache=True, inline="always")
def _drawdown(eq: float, peak: float, max_dd: float) -> tuple[float, float]:
    """(peak, maximum drawdown) after one bar. Branch-free: a test for new peaks and new lows
    mispredicts on every turn of the price; the division it saves costs less (W2 -8%, W3
    -10%)."""
    peak = max(peak, eq)
    return peak, max(max_dd, 1.0 - eq / peak)


# numpy's error model: a division by zero gives inf instead of a per-division check that
# raises (equity and prices are positive here); about 3% of W2
@njit(cache=True, error_model="numpy")
def _column(kind: int, params: np.ndarray,
            sig: np.ndarray, csum: np.ndarray, close: np.ndarray,
            open_: np.ndarray, sess: np.ndarray,
            lim_up: np.ndarray, lim_dn: np.ndarray, div_cash: np.ndarray, bonus: np.ndarray,
            fee_rates: np.ndarray, stamp_on: bool, comm_rate: float, comm_min: float,
            min_lot: int, step: int, t1: int, init_cash: float, next_open: bool,
            lo: int, hi: int, record: bool,
            o_equity: np.ndarray, o_cash: np.ndarray, o_pos: np.ndarray, o_side: np.ndarray,
            o_req: np.ndarray, o_fill: np.ndarray, o_price: np.ndarray, o_fees: np.ndarray,
            o_reason: np.ndarray, o_corp: np.ndarray, stats: np.ndarray,
            corp: np.ndarray, state: np.ndarray, ev: np.ndarray, buf: np.ndarray,
            free: bool) -> None:
    """One account over bars [lo, hi) for each parameter row of `params`, statistics into the
    same row of `stats`. kind 0 = MA crossover (p0 fast, p1 slow; long-only, all-in), kind 1
    = grid (p0 band, p1 unit shares, p2 maximum units). One call runs every row: a call
    passes about 200 values (each array is 7), which cost ~240 ns per backtest when W2 made
    one call per (pair, column) task. csum, corp, state
    and ev are the column's own inputs for MA crossovers (crossings.column_inputs); buf is
    5 floats of scratch for fee lines (left at zero when `free`, every fee zero: no_fees)."""
    for row in range(params.shape[0]):
        p0 = params[row, 0]
        p1 = params[row, 1]
        p2 = params[row, 2]
        fast = int(p0)
        slow = int(p1)
        cash = init_cash
        pos = 0
        bought_sess = -1
        bought_qty = 0
        wmax = max(fast, slow)
        ref = np.nan
        pending = 0  # next-open order side: 1 buy, -1 sell
        cost_basis = 0.0
        peak = init_cash
        prev_eq = init_cash
        n_fills = 0
        n_closed = 0
        n_wins = 0
        n_exposed = 0
        n_blocked = 0
        sum_r = 0.0
        sum_r2 = 0.0
        sum_neg = 0.0
        max_dd = 0.0
        traded = 0.0
        fees_tot = 0.0
        nb = 0
        first = lo
        if kind == 0:
            # the crossing events of the whole column in one branch-free pass (vectorised)
            cx.ma_events(csum, 0, hi - lo, fast, slow, corp, state, ev)
            # before a crossing can be seen the account is flat cash: no signal, no return
            first = min(hi, lo + wmax)
            if record:
                for i in range(lo, first):
                    o_equity[i] = cash
                    o_cash[i] = cash
                    o_pos[i] = 0
            nb = max(first - lo - 1, 0)
        i = first - 1
        while i < hi - 1:
            i += 1
            j = i - lo
            if kind == 0 and pos == 0 and pending == 0:
                # flat with nothing pending: jump to the next upward crossing (equity is cash,
                # every skipped return is 0)
                i0 = i
                j = cx.next_event(ev, j, hi - lo, cx.UP)
                i = lo + j
                nb += i - i0
                if record:
                    for k in range(i0, i):
                        o_equity[k] = cash
                        o_cash[k] = cash
                        o_pos[k] = 0
                if i >= hi:
                    break
                nb -= 1  # bar i itself is counted below
            elif kind == 0 and pos > 0 and not record and not next_open:
                # holding, fills at the close: the bars before the next exit signal or corporate
                # action cannot trade, so they only update the statistics (same operations, same
                # order as the full body below; an unchanged equity adds r = 0 exactly, so the
                # body's `eq != prev_eq` test is left out)
                e = lo + cx.next_event(ev, j, hi - lo, cx.DOWN | cx.CORP)
                held = close[i:e]
                for k in range(e - i):
                    eq = cash + pos * held[k]
                    sum_r, sum_r2, sum_neg = _add_return(eq, prev_eq, sum_r, sum_r2, sum_neg)
                    peak, max_dd = _drawdown(eq, peak, max_dd)
                    prev_eq = eq
                nb += e - i
                n_exposed += e - i
                i = e
                if i >= hi:
                    break
                j = i - lo
            elif kind == 1 and j > 0 and not record and not next_open:
                # grid, fills at the close: bars where neither threshold is reached and no
                # corporate action falls only update the statistics
                max_pos = int(p2) * int(p1)
                while i < hi:
                    x = sig[i]
                    if (pos > 0 and (div_cash[i] != 0.0 or bonus[i] != 0.0)) or \
                            (x <= ref * (1.0 - p0) * (1.0 + TOL) and pos < max_pos) or \
                            (x * (1.0 + TOL) >= ref * (1.0 + p0) and pos > 0):
                        break
                    eq = cash + pos * close[i]
                    nb += 1
                    if eq != prev_eq:
                        sum_r, sum_r2, sum_neg = _add_return(eq, prev_eq, sum_r, sum_r2,
                                                             sum_neg)
                    if pos > 0:
                        n_exposed += 1
                    peak, max_dd = _drawdown(eq, peak, max_dd)
                    prev_eq = eq
                    i += 1
                if i >= hi:
                    break
                j = i - lo
            # corporate actions on a held position, before trading (decision 2)
            if pos > 0 and (div_cash[i] != 0.0 or bonus[i] != 0.0):
                add = 0.0
                if div_cash[i] != 0.0:
                    add += pos * div_cash[i]
                if bonus[i] != 0.0:
                    extra = pos * bonus[i]
                    new = int(np.floor(extra + 1e-9))
                    ref_px = close[i - 1] / (1.0 + bonus[i]) if i > lo else close[i]
                    add += (extra - new) * ref_px
                    pos += new
                    cost_basis += 0.0
                cash += add
                if record:
                    o_corp[i] = add
            # strategy decision input at this bar
            want = 0  # 1 buy, -1 sell
            qty = 0
            if kind == 0:
                if ev[j] & cx.UP:
                    want = 1
                elif ev[j] & cx.DOWN:
                    want = -1
            else:
                if j == 0:
                    ref = sig[i]
                x = sig[i]
                unit = int(p1)
                if x <= ref * (1.0 - p0) * (1.0 + TOL) and pos < int(p2) * unit:
                    want = 1
                    qty = unit
                elif x * (1.0 + TOL) >= ref * (1.0 + p0) and pos > 0:
                    want = -1
                    qty = min(unit, pos)
            # orders: execute now at the close, or carry to the next bar's open
            # phase 0: the order carried to this open (only with next_open); 1: this bar's signal
            s = sess[i] if (want != 0 or pending != 0) else 0
            for phase in range(0 if pending != 0 else 1, 2 if want != 0 else 1):
                side = 0
                if phase == 0 and next_open and pending != 0:
                    side = pending
                    px = open_[i]
                    pending = 0
                elif phase == 1 and want != 0:
                    if next_open:
                        pending = want
                        continue
                    side = want
                    px = close[i]
                if side == 0:
                    continue
                if kind == 0:
                    if side == 1 and pos > 0:
                        continue
                    if side == -1 and pos == 0:
                        continue
                if side == 1:
                    desired = qty if kind == 1 else int(cash / px)
                else:
                    desired = qty if kind == 1 else pos
                reason = OK
                n = 0
                if locked(side, px, lim_up[i], lim_dn[i]):
                    reason = R_LIMIT
                elif side == 1:
                    n, reason = size_buy(desired, px, cash, fee_rates, s, comm_rate, comm_min,
                                         min_lot, step, buf, free)
                    if kind == 0 and reason == R_CASH and n > 0:
                        reason = OK  # all-in: the fee margin is not a trim
                else:
                    sellable = pos
                    if t1 > 0 and bought_sess == s:
                        sellable = pos - bought_qty
                    n, reason = size_sell(desired, pos, sellable, min_lot, step)
                if reason != OK:
                    n_blocked += 1
                if n > 0:
                    value = n * px
                    f = 0.0 if free else fee_lines(value, side == -1, fee_rates, s, stamp_on,
                                                   comm_rate, comm_min, buf)
                    if side == 1:
                        cash -= value + f
                        if bought_sess != s:
                            bought_sess = s
                            bought_qty = 0
                        bought_qty += n
                        cost_basis += value + f
                        pos += n
                        if kind == 1:
                            ref = sig[i] if phase == 1 else open_[i] * sig[i] / close[i]
                    else:
                        proceeds = value - f
                        n_closed += 1
                        # win: proceeds beat the average cost of the shares sold
                        n_wins += proceeds * pos > cost_basis * n  # branch-free: a coin flip
                        cost_basis -= cost_basis * n / pos
                        cash += proceeds
                        pos -= n
                        if pos == 0:
                            cost_basis = 0.0
                        if kind == 1:
                            ref = sig[i] if phase == 1 else open_[i] * sig[i] / close[i]
                    n_fills += 1
                    traded += value
                    fees_tot += f
                    if record:
                        o_fill[i] = n * side
                        o_price[i] = px
                        for k in range(5):
                            o_fees[i, k] = buf[k]
                if record and (n > 0 or reason != OK):
                    o_side[i] = side
                    o_req[i] = desired
                    o_reason[i] = reason
            eq = cash + pos * close[i]
            if record:
                o_equity[i] = eq
                o_cash[i] = cash
                o_pos[i] = pos
            if j > 0:
                nb += 1
                if eq != prev_eq:  # a flat account with no trade has r = 0 exactly
                    sum_r, sum_r2, sum_neg = _add_return(eq, prev_eq, sum_r, sum_r2, sum_neg)
            if pos > 0:
                n_exposed += 1
            peak, max_dd = _drawdown(eq, peak, max_dd)
            prev_eq = eq
        stats[row, 0] = prev_eq
        stats[row, 1] = n_fills
        stats[row, 2] = nb
        stats[row, 3] = sum_r
        stats[row, 4] = sum_r2
        stats[row, 5] = sum_neg
        stats[row, 6] = max_dd
        stats[row, 7] = n_exposed
        stats[row, 8] = n_closed
        stats[row, 9] = n_wins
        stats[row, 10] = traded
        stats[row, 11] = fees_tot
        stats[row, 12] = n_blocked


@njit(cache=True)
def columns_run(kind: int, params: np.ndarray, sig: np.ndarray, close: np.ndarray,
                open_: np.ndarray, sess: np.ndarray, offsets: np.ndarray, lim_up: np.ndarray,
                lim_dn: np.ndarray, div_cash: np.ndarray, bonus: np.ndarray,
                fee_rates: np.ndarray, stamp_on: bool, comm_rate: float, comm_min: float,
                min_lot: int, step: int, t1: int, init_cash: float, next_open: bool
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                           np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                           np.ndarray]:
    """Every column with one parameter row `params` (3 values), recording per-bar outputs.
    Returns equity, cash, position, side, requested, filled (signed), price, fees (n x 5),
    reason, corporate-action cash, and the statistics (n_columns x N_STATS)."""
    n = close.shape[0]
    ncol = offsets.shape[0] - 1
    o_equity = np.zeros(n)
    o_cash = np.zeros(n)
    o_pos = np.zeros(n, dtype=np.int64)
    o_side = np.zeros(n, dtype=np.int8)
    o_req = np.zeros(n, dtype=np.int64)
    o_fill = np.zeros(n, dtype=np.int64)
    o_price = np.full(n, np.nan)
    o_fees = np.zeros((n, 5))
    o_reason = np.zeros(n, dtype=np.int8)
    o_corp = np.zeros(n)
    stats = np.zeros((ncol, N_STATS))
    free = no_fees(fee_rates, comm_rate, comm_min)
    buf = np.zeros(5)
    row = np.empty((1, 3))
    row[0, :] = params[:3]
    for c in range(ncol):
        csum, corp, state, ev = cx.column_inputs(sig, div_cash, bonus, offsets[c],
                                                 offsets[c + 1], kind == 0)
        _column(kind, row, sig, csum, close, open_, sess, lim_up, lim_dn, div_cash, bonus,
                fee_rates, stamp_on, comm_rate, comm_min, min_lot, step, t1, init_cash,
                next_open, offsets[c], offsets[c + 1], True, o_equity, o_cash, o_pos, o_side,
                o_req, o_fill, o_price, o_fees, o_reason, o_corp, stats[c:c + 1], corp, state,
                ev, buf, free)
    return (o_equity, o_cash, o_pos, o_side, o_req, o_fill, o_price, o_fees, o_reason, o_corp,
            stats)


@njit(cache=True, parallel=True)
def sweep_run(kind: int, grid: np.ndarray, sig: np.ndarray, close: np.ndarray,
              open_: np.ndarray, sess: np.ndarray, offsets: np.ndarray, lim_up: np.ndarray,
              lim_dn: np.ndarray, div_cash: np.ndarray, bonus: np.ndarray,
              fee_rates: np.ndarray, stamp_on: bool, comm_rate: float, comm_min: float,
              min_lot: int, step: int, t1: int, init_cash: float, next_open: bool,
              n_groups: int = 0) -> np.ndarray:
    """Every (combination, column) backtest, columns in parallel; returns statistics
    (n_combinations x n_columns x N_STATS). Nothing of size bars x combinations is built.
    n_groups: runs of columns with equal bar counts handed to prange (pass the thread count);
    0 makes every column its own task."""
    ncol = offsets.shape[0] - 1
    ncomb = grid.shape[0]
    out = np.zeros((ncomb, ncol, N_STATS))
    d1 = np.zeros(0)
    di = np.zeros(0, dtype=np.int64)
    d8 = np.zeros(0, dtype=np.int8)
    d2 = np.zeros((0, 5))
    free = no_fees(fee_rates, comm_rate, comm_min)
    groups = balanced_groups(offsets, n_groups) if n_groups > 0 else np.arange(ncol + 1)
    for g in prange(groups.shape[0] - 1):
        for c in range(groups[g], groups[g + 1]):
            # one column at a time, its combinations in turn: the column's bars and its
            # inputs stay in cache
            csum, corp, state, ev = cx.column_inputs(sig, div_cash, bonus, offsets[c],
                                                     offsets[c + 1], kind == 0)
            buf = np.zeros(5)
            st = np.zeros((ncomb, N_STATS))
            _column(kind, grid, sig, csum, close, open_, sess, lim_up, lim_dn, div_cash, bonus,
                    fee_rates, stamp_on, comm_rate, comm_min, min_lot, step, t1, init_cash,
                    next_open, offsets[c], offsets[c + 1], False, d1, d1, di, d8, di, di, d1,
                    d2, d8, d1, st, corp, state, ev, buf, free)
            out[:, c, :] = st
    return out


@njit(cache=True)
def balanced_groups(offsets: np.ndarray, n_groups: int) -> np.ndarray:
    """Boundaries of `n_groups` runs of consecutive columns holding about equal numbers of
    bars. prange hands each thread an equal share of iterations; over columns that share is
    uneven (listing dates differ: 54%/46% of the W2 bars for two threads), over these groups
    it is not. Dynamic chunking (numba's parallel chunksize) was measured 1.2-4x slower."""
    ncol = offsets.shape[0] - 1
    n_groups = max(1, min(n_groups, ncol))
    out = np.empty(n_groups + 1, dtype=np.int64)
    out[0] = 0
    total = offsets[ncol] - offsets[0]
    c = 0
    for g in range(1, n_groups):
        target = offsets[0] + total * g // n_groups
        while c < ncol and offsets[c + 1] <= target:
            c += 1
        # end the group at whichever column boundary lies nearer the target
        if c < ncol and offsets[c + 1] - target < target - offsets[c]:
            c += 1
        out[g] = max(c, out[g - 1])
    out[n_groups] = ncol
    return out


# --------------------------------------------------------------------------------------------
# One portfolio with shared cash
# --------------------------------------------------------------------------------------------

@njit(cache=True)
def portfolio_run(close: np.ndarray, open_: np.ndarray, lim_up: np.ndarray,
                  lim_dn: np.ndarray, div_cash: np.ndarray, bonus: np.ndarray,
                  fee_rates: np.ndarray, stamp_on: np.ndarray, comm_rate: float,
                  comm_min: float, min_lot: np.ndarray, step: np.ndarray, t1: np.ndarray,
                  target_w: np.ndarray, rebalance: np.ndarray, band: float,
                  buy_value: np.ndarray, inflow: np.ndarray, cash_rate: np.ndarray,
                  init_cash: float, next_open: bool
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                             np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One account over T sessions x A assets. close/open NaN = no bar (suspended or not
    listed: no trade, valued at the last close). On a `rebalance` session the targets become
    target_w[t] (NaN = 0); with band > 0 a session where any weight drifts more than `band`
    from its target rebalances too. Targets and DCA buys persist until filled (decision 5):
    orders blocked by limit, T+1 or a missing bar are retried next session. Sells run before
    buys, so sale proceeds pay for buys the same session.

    Returns equity (T), cash (T), positions (T x A), requested (T x A, signed), filled
    (T x A, signed), fill price (T x A), fees (T x A x 5), reason (T x A), corporate-action
    cash (T x A), interest (T)."""
    T, A = close.shape
    equity = np.zeros(T)
    cash_o = np.zeros(T)
    pos_o = np.zeros((T, A), dtype=np.int64)
    req_o = np.zeros((T, A), dtype=np.int64)
    fill_o = np.zeros((T, A), dtype=np.int64)
    price_o = np.full((T, A), np.nan)
    fees_o = np.zeros((T, A, 5))
    reason_o = np.zeros((T, A), dtype=np.int8)
    corp_o = np.zeros((T, A))
    interest_o = np.zeros(T)
    cash = init_cash
    pos = np.zeros(A, dtype=np.int64)
    bought = np.zeros(A, dtype=np.int64)  # shares bought this session (T+1)
    last = np.full(A, np.nan)
    tgt = np.full(A, np.nan)
    pend_w = np.zeros(A, dtype=np.bool_)
    pend_v = np.zeros(A)
    carry = np.zeros(A, dtype=np.int64)  # next-open desired deltas
    has_carry = False
    have_tgt = False
    buf = np.zeros(5)
    desired = np.zeros(A, dtype=np.int64)
    for t in range(T):
        bought[:] = 0
        # cash flows and interest before trading
        it = cash * cash_rate[t]
        cash += it
        interest_o[t] = it
        cash += inflow[t]
        # corporate actions on held positions (decision 2)
        for a in range(A):
            if pos[a] > 0 and (div_cash[t, a] != 0.0 or bonus[t, a] != 0.0):
                add = pos[a] * div_cash[t, a]
                if bonus[t, a] != 0.0:
                    extra = pos[a] * bonus[t, a]
                    new = int(np.floor(extra + 1e-9))
                    ref_px = last[a] / (1.0 + bonus[t, a])
                    add += (extra - new) * ref_px
                    pos[a] += new
                cash += add
                corp_o[t, a] = add
        for phase in range(2):
            if phase == 0:
                if not (next_open and has_carry):
                    continue
                px_row = open_[t]
                for a in range(A):
                    desired[a] = carry[a]
                has_carry = False
            else:
                px_row = close[t]
                # valuation at this session's closes for target sizing
                for a in range(A):
                    if not np.isnan(close[t, a]):
                        last[a] = close[t, a]
                if rebalance[t]:
                    for a in range(A):
                        w = target_w[t, a]
                        tgt[a] = 0.0 if np.isnan(w) else w
                        pend_w[a] = True
                    have_tgt = True
                eq = cash
                for a in range(A):
                    if pos[a] > 0:
                        eq += pos[a] * last[a]
                if band > 0 and have_tgt and not rebalance[t] and eq > 0:
                    drift = False
                    for a in range(A):
                        if np.isnan(last[a]):
                            continue
                        w_now = pos[a] * last[a] / eq
                        if abs(w_now - tgt[a]) > band:
                            drift = True
                    if drift:
                        for a in range(A):
                            pend_w[a] = True
                for a in range(A):
                    pend_v[a] += buy_value[t, a]
                    d = 0
                    if pend_w[a] and not np.isnan(last[a]):
                        d = int(np.floor(tgt[a] * eq / last[a] + 1e-9)) - pos[a]
                        if d == 0:
                            pend_w[a] = False
                    if pend_v[a] > 0 and not np.isnan(last[a]):
                        d += int(np.floor(pend_v[a] / last[a] + 1e-9))
                    desired[a] = d
                if next_open:
                    for a in range(A):
                        carry[a] = desired[a]
                        if desired[a] != 0:
                            has_carry = True
                            req_o[t, a] = desired[a]
                    continue
            # sells first, then buys
            for side in (-1, 1):
                for a in range(A):
                    d = desired[a]
                    if d == 0 or (side == -1 and d > 0) or (side == 1 and d < 0):
                        continue
                    px = px_row[a]
                    if phase == 1 or not next_open:
                        req_o[t, a] = d
                    reason = OK
                    n = 0
                    if np.isnan(px):
                        reason = R_NOBAR
                    elif locked(side, px, lim_up[t, a], lim_dn[t, a]):
                        reason = R_LIMIT
                    elif side == 1:
                        n, reason = size_buy(d, px, cash, fee_rates, t, comm_rate, comm_min,
                                             min_lot[a], step[a], buf)
                    else:
                        sellable = pos[a] - bought[a] if t1[a] > 0 else pos[a]
                        n, reason = size_sell(-d, pos[a], sellable, min_lot[a], step[a])
                    if n > 0:
                        value = n * px
                        f = fee_lines(value, side == -1, fee_rates, t, stamp_on[a], comm_rate,
                                      comm_min, buf)
                        if side == 1:
                            cash -= value + f
                            pos[a] += n
                            bought[a] += n
                        else:
                            cash += value - f
                            pos[a] -= n
                        fill_o[t, a] = n * side
                        price_o[t, a] = px
                        for k in range(5):
                            fees_o[t, a, k] = buf[k]
                    reason_o[t, a] = reason
                    retry = reason in (R_LIMIT, R_T1, R_NOBAR)
                    keep_v = retry or reason in (R_LOT, R_CASH)
                    if side == 1 and pend_v[a] > 0 and (n > 0 or not keep_v):
                        pend_v[a] = 0.0
                    if not retry:
                        pend_w[a] = False
        eq = cash
        for a in range(A):
            if pos[a] > 0:
                eq += pos[a] * last[a]
        equity[t] = eq
        cash_o[t] = cash
        pos_o[t] = pos
    return (equity, cash_o, pos_o, req_o, fill_o, price_o, fees_o, reason_o, corp_o,
            interest_o)
