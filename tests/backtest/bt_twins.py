"""Slow, obvious pure-Python twins of the order kernels (kechuang.kernels.orders).

Written independently of the kernels: SMAs as slice means, fees with Decimal half-up rounding,
buy sizes found by stepping down from the affordable size, state kept in plain variables and
dicts. Tests run both on random inputs and compare every output."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

OK, LIMIT, T1, LOT, CASH, NOBAR = 0, 1, 2, 3, 4, 5
TOL = 1e-9


def cents(x: float | Decimal) -> float:
    d = x if isinstance(x, Decimal) else Decimal(repr(float(x)))
    return float(d.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fees(shares: int, price: float, sell: bool, rates: np.ndarray, stamp_on: bool,
         comm_rate: float, comm_min: float) -> list[float]:
    """Each line in decimal arithmetic (shares x price x rate exactly), rounded half up."""
    if shares <= 0:
        return [0.0] * 5
    v = Decimal(int(shares)) * Decimal(repr(float(price)))

    def line(rate: float) -> float:
        return cents(v * Decimal(repr(float(rate))))

    comm = max(v * Decimal(repr(float(comm_rate))), Decimal(repr(float(comm_min))))
    return [cents(comm), line(rates[0]) if (sell and stamp_on) else 0.0, line(rates[1]),
            line(rates[2]), line(rates[3])]


def valid_buy(n: int, min_lot: int, step: int) -> bool:
    return n >= min_lot and (n - min_lot) % step == 0


def buy_size(desired: int, price: float, cash: float, rates: np.ndarray, comm_rate: float,
             comm_min: float, min_lot: int, step: int) -> tuple[int, int]:
    n = desired
    while n > 0 and not valid_buy(n, min_lot, step):
        n -= 1
    if n == 0:
        return 0, LOT

    def cost(k: int) -> float:
        return k * price + sum(fees(k, price, False, rates, False, comm_rate, comm_min))

    if cost(n) <= cash + 1e-9:
        return n, OK
    m = min(n, int(cash // price) + 1)
    while m > 0 and (not valid_buy(m, min_lot, step) or cost(m) > cash + 1e-9):
        m -= 1
    return m, CASH


def sell_size(desired: int, pos: int, sellable: int, min_lot: int, step: int
              ) -> tuple[int, int]:
    want = min(desired, pos)
    reason = OK
    if want > sellable:
        want, reason = sellable, T1
    if want <= 0:
        return 0, T1
    if want == pos or (want == min(pos, sellable) and want < min_lot):
        return want, reason  # whole position, or the whole odd-lot balance available
    if want < min_lot:
        return 0, LOT
    n = want
    while (n - min_lot) % step:
        n -= 1
    if n < want and reason == OK:
        reason = LOT
    return n, reason


def blocked(side: int, px: float, up: float, dn: float) -> bool:
    if side == 1:
        return not math.isnan(up) and px >= up - 1e-9
    return not math.isnan(dn) and px <= dn + 1e-9


def gt(a: float, b: float) -> bool:
    return a - b > TOL * max(abs(a), abs(b))


def twin_column(kind: int, params: tuple[float, float, float], sig: np.ndarray,
                close: np.ndarray, open_: np.ndarray, sess: np.ndarray, lim_up: np.ndarray,
                lim_dn: np.ndarray, div_cash: np.ndarray, bonus: np.ndarray,
                fee_rates: np.ndarray, stamp_on: bool, comm_rate: float, comm_min: float,
                min_lot: int, step: int, t1: int, init_cash: float, next_open: bool
                ) -> dict[str, list]:
    """One column: kind 0 MA crossover (fast, slow), kind 1 grid (band, unit, max units)."""
    n = len(close)
    out: dict[str, list] = {k: [] for k in ("equity", "cash", "pos", "fill", "reason", "fees",
                                            "price")}
    cash, pos = float(init_cash), 0
    bought: dict[int, int] = {}
    ref = sig[0]
    pending = 0
    for i in range(n):
        if pos > 0 and div_cash[i]:
            cash += pos * div_cash[i]
        if pos > 0 and bonus[i]:
            extra = pos * bonus[i]
            new = math.floor(extra + 1e-9)
            cash += (extra - new) * (close[i - 1] / (1 + bonus[i]) if i > 0 else close[i])
            pos += new
        want, qty = 0, 0
        if kind == 0:
            fast, slow = int(params[0]), int(params[1])

            def sma(w: int, k: int) -> float:
                return float(np.mean(sig[k - w + 1:k + 1])) if k - w + 1 >= 0 else math.nan

            if i >= 1:
                pf, ps, cf, cs = sma(fast, i - 1), sma(slow, i - 1), sma(fast, i), sma(slow, i)
                if not any(math.isnan(v) for v in (pf, ps, cf, cs)):
                    if not gt(pf, ps) and gt(cf, cs):
                        want = 1
                    elif not gt(ps, pf) and gt(cs, cf):
                        want = -1
        else:
            band, unit, max_units = params
            if sig[i] <= ref * (1 - band) * (1 + TOL) and pos < int(max_units) * int(unit):
                want, qty = 1, int(unit)
            elif sig[i] * (1 + TOL) >= ref * (1 + band) and pos > 0:
                want, qty = -1, min(int(unit), pos)
        fill, reason, fl, price = 0, OK, [0.0] * 5, math.nan
        orders = []
        if next_open and pending:
            orders.append((pending, open_[i], True))
            pending = 0
        if want:
            if next_open:
                pending = want
            else:
                orders.append((want, close[i], False))
        for side, px, at_open in orders:
            if kind == 0 and ((side == 1 and pos > 0) or (side == -1 and pos == 0)):
                continue
            rates = fee_rates[sess[i]]
            k, r = 0, OK
            if blocked(side, px, lim_up[i], lim_dn[i]):
                r = LIMIT
            elif side == 1:
                desired = qty if kind == 1 else int(cash / px)
                k, r = buy_size(desired, px, cash, rates, comm_rate, comm_min, min_lot, step)
                if kind == 0 and r == CASH and k > 0:
                    r = OK
            else:
                desired = qty if kind == 1 else pos
                sellable = pos - (bought.get(int(sess[i]), 0) if t1 else 0)
                k, r = sell_size(desired, pos, sellable, min_lot, step)
            if k > 0:
                fl = fees(k, px, side == -1, rates, stamp_on, comm_rate, comm_min)
                if side == 1:
                    cash -= k * px + sum(fl)
                    pos += k
                    bought[int(sess[i])] = bought.get(int(sess[i]), 0) + k
                else:
                    cash += k * px - sum(fl)
                    pos -= k
                if kind == 1:
                    ref = open_[i] * sig[i] / close[i] if at_open else sig[i]
                fill, price = k * side, px
            reason = r if (k > 0 or r != OK) else reason
        out["equity"].append(cash + pos * close[i])
        out["cash"].append(cash)
        out["pos"].append(pos)
        out["fill"].append(fill)
        out["reason"].append(reason)
        out["fees"].append(fl)
        out["price"].append(price)
    return out


def twin_portfolio(close: np.ndarray, lim_up: np.ndarray, lim_dn: np.ndarray,
                   fee_rates: np.ndarray, stamp_on: np.ndarray, comm_rate: float,
                   comm_min: float, min_lot: np.ndarray, step: np.ndarray, t1: np.ndarray,
                   target_w: np.ndarray, rebalance: np.ndarray, buy_value: np.ndarray,
                   inflow: np.ndarray, cash_rate: np.ndarray, init_cash: float
                   ) -> dict[str, list]:
    """Shared-cash portfolio, fills at the close, no corporate actions, no drift band."""
    T, A = close.shape
    cash = float(init_cash)
    pos = [0] * A
    last = [math.nan] * A
    target = [math.nan] * A
    pending_w = [False] * A
    pending_v = [0.0] * A
    out: dict[str, list] = {"equity": [], "cash": [], "pos": [], "fill": [], "reason": []}
    for t in range(T):
        cash += cash * cash_rate[t]
        cash += inflow[t]
        for a in range(A):
            if not math.isnan(close[t, a]):
                last[a] = close[t, a]
        if rebalance[t]:
            target = [0.0 if math.isnan(w) else float(w) for w in target_w[t]]
            pending_w = [True] * A
        eq = cash + sum(pos[a] * last[a] for a in range(A) if pos[a] > 0)
        want = [0] * A
        for a in range(A):
            pending_v[a] += buy_value[t, a]
            if math.isnan(last[a]):
                continue
            if pending_w[a]:
                want[a] = math.floor(target[a] * eq / last[a] + 1e-9) - pos[a]
                if want[a] == 0:
                    pending_w[a] = False
            if pending_v[a] > 0:
                want[a] += math.floor(pending_v[a] / last[a] + 1e-9)
        fills, reasons = [0] * A, [0] * A
        order = [a for a in range(A) if want[a] < 0] + [a for a in range(A) if want[a] > 0]
        for a in order:
            px, side = close[t, a], (1 if want[a] > 0 else -1)
            k, r = 0, OK
            if math.isnan(px):
                r = NOBAR
            elif blocked(side, px, lim_up[t, a], lim_dn[t, a]):
                r = LIMIT
            elif side == 1:
                k, r = buy_size(want[a], px, cash, fee_rates[t], comm_rate, comm_min,
                                int(min_lot[a]), int(step[a]))
            else:
                sellable = pos[a]  # nothing bought yet this session: sells run first
                k, r = sell_size(-want[a], pos[a], sellable, int(min_lot[a]), int(step[a]))
            if k > 0:
                fl = fees(k, px, side == -1, fee_rates[t], bool(stamp_on[a]), comm_rate,
                          comm_min)
                cash += -side * k * px - sum(fl)
                pos[a] += side * k
                fills[a] = side * k
            reasons[a] = r
            retry = r in (LIMIT, T1, NOBAR)
            if side == 1 and pending_v[a] > 0 and k > 0:
                pending_v[a] = 0.0
            if not retry:
                pending_w[a] = False
        out["equity"].append(cash + sum(pos[a] * last[a] for a in range(A) if pos[a] > 0))
        out["cash"].append(cash)
        out["pos"].append(list(pos))
        out["fill"].append(fills)
        out["reason"].append(reasons)
    return out
