"""Backtest engine: turns price matrices and STAR rules into kernel arrays, runs the kernels,
and wraps the outputs in a result object. Never opens the store (the api layer does).

Rule values come from the rules layer per session (``DatedSchedule.to_array``), so a backtest
across 2023-08-28 pays the old stamp duty before it and the new one after it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kechuang.core.errors import ValidationError
from kechuang.kernels import orders as ko
from kechuang.rules import fees, trading
from kechuang.strategies import Strategy
from kechuang.strategies.library import Plan

# Fund (ETF) trading rules are not STAR stock rules and are not in star-market-reference.md;
# these are stated assumptions of the engine (SSE fund trading): 100-unit lots in 100-unit
# steps, a ±10% limit (±20% for the 588xxx STAR ETFs, which follow the STAR limit of
# star-market-reference.md section 1), no stamp duty, T+0 for bond, gold, money-market and
# cross-border ETFs and T+1 for equity ETFs. Other exchange fees are applied as for stocks.
FUND_LOT = 100
FUND_LIMIT = 0.10
FUND_T0_PREFIXES = ("511", "518", "513", "159", "501")

# Decision 2: a factor of 1.05 or more is a bonus/conversion, below it a cash dividend.
BONUS_FACTOR = 1.05


@dataclass
class MarketArrays:
    """Prices and reference data on one session grid (T sessions x A codes); NaN = no bar."""

    codes: list[str]
    sessions: np.ndarray  # (T,) datetime64[D]
    close: np.ndarray  # raw close, execution prices
    open: np.ndarray
    signal: np.ndarray | None = None  # adjusted close for signals (decision 1); None = close
    pre_close: np.ndarray | None = None  # exchange pre-close, NaN unknown
    factor: np.ndarray | None = None  # ex-rights factor on the ex-date, NaN none
    gap: np.ndarray | None = None  # bar flagged ex_rights_gap: never a limit hit
    list_date: np.ndarray | None = None  # (A,) datetime64[D], NaT unknown
    is_fund: np.ndarray | None = None  # (A,) bool
    cash_rate: np.ndarray | None = None  # (T,) interest on cash per session (fraction)
    notes: list[str] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        T, A = self.close.shape
        return T, A

    def sig(self) -> np.ndarray:
        return self.close if self.signal is None else self.signal


@dataclass
class RuleArrays:
    lim_up: np.ndarray
    lim_dn: np.ndarray
    div_cash: np.ndarray
    bonus: np.ndarray
    fee_rates: np.ndarray
    stamp_on: np.ndarray
    min_lot: np.ndarray
    step: np.ndarray
    t1: np.ndarray
    comm_rate: float
    comm_min: float
    n_ignored_factors: int = 0


def _round_cents(x: np.ndarray) -> np.ndarray:
    return trading.round_price_array(x)


def _prev_own_close(close: np.ndarray) -> np.ndarray:
    """Each bar's previous own close (skipping sessions without a bar)."""
    _T, _A = close.shape
    filled = pd.DataFrame(close).ffill().to_numpy()
    prev = np.full_like(close, np.nan)
    prev[1:] = filled[:-1]
    prev[np.isnan(close)] = np.nan
    return prev


def session_numbers(list_date: np.ndarray, sessions: np.ndarray) -> np.ndarray:
    """(T, A) session number since listing, listing day = 1 (decision 11). Unknown listing
    dates count as long listed."""
    from kechuang.data.calendar import session_number

    T, A = len(sessions), len(list_date)
    out = np.full((T, A), 10**6, dtype=np.int64)
    for a in range(A):
        if not np.isnat(list_date[a]):
            out[:, a] = session_number(str(list_date[a]), sessions)
    return out


def prepare_rules(m: MarketArrays, rules: str = "star",
                  commission: fees.Commission | None = None,
                  dividends: bool = True, dividend_tax: float = 0.0) -> RuleArrays:
    """Kernel arrays for the rule set: "star" (dated STAR rules) or "none" (frictionless: whole
    units, no fees, no limits, no T+1). Corporate actions are applied in both."""
    if rules not in ("star", "none"):
        raise ValidationError(f"rules={rules!r}; expected 'star' or 'none'")
    T, A = m.shape
    close = m.close
    is_fund = m.is_fund if m.is_fund is not None else np.zeros(A, dtype=np.bool_)
    prev = _prev_own_close(close)
    factor = m.factor if m.factor is not None else np.full((T, A), np.nan)
    # decision 2: corporate actions on held positions
    div_cash = np.zeros((T, A))
    bonus = np.zeros((T, A))
    f_ok = np.isfinite(factor) & np.isfinite(prev)
    ignored = int((f_ok & (factor < 1.0)).sum())  # factor below 1: flagged and ignored
    cash_ev = f_ok & (factor >= 1.0) & (factor < BONUS_FACTOR)
    bonus_ev = f_ok & (factor >= BONUS_FACTOR)
    if dividends:
        div_cash[cash_ev] = (prev[cash_ev] - prev[cash_ev] / factor[cash_ev]) * (1 - dividend_tax)
    bonus[bonus_ev] = factor[bonus_ev] - 1.0
    if rules == "none":
        nan = np.full((T, A), np.nan)
        return RuleArrays(nan, nan.copy(), div_cash, bonus, np.zeros((T, 4)),
                          np.zeros(A, dtype=np.bool_), np.ones(A, dtype=np.int64),
                          np.ones(A, dtype=np.int64), np.zeros(A, dtype=np.int64), 0.0, 0.0,
                          ignored)
    c = commission or fees.Commission()
    # STAR schedules start on 2019-07-22; earlier sessions (fund history) take the first value
    sessions = np.maximum(np.asarray(m.sessions).astype("datetime64[D]"),
                          np.datetime64(trading.STAR_OPEN))
    # limit base: the exchange pre-close where known, else the previous close net of the event
    base = prev.copy()
    ev = np.isfinite(factor) & (factor >= 1.0)
    base[ev] = prev[ev] / factor[ev]
    if m.pre_close is not None:
        known = np.isfinite(m.pre_close) & np.isfinite(close)
        base[known] = m.pre_close[known]
    lim = trading.PRICE_LIMIT.to_array(sessions).astype(np.float64)[:, None]  # section 1
    lim = np.where(is_fund[None, :], FUND_LIMIT, lim)
    star_etf = np.array([c_.startswith("588") for c_ in m.codes])
    lim = np.where((is_fund & star_etf)[None, :], trading.PRICE_LIMIT.to_array(sessions)
                   .astype(np.float64)[:, None], lim)
    up = _round_cents(base * (1 + lim))  # decision 4: limit price rounded to 0.01
    dn = _round_cents(base * (1 - lim))
    # no limit in the first sessions after listing (section 1; decision 11)
    if m.list_date is not None:
        sn = session_numbers(m.list_date, m.sessions)
        free = sn <= trading.NO_LIMIT_SESSIONS.to_array(sessions)[:, None]
        up[free] = np.nan
        dn[free] = np.nan
    if m.gap is not None:  # data-gap bars (bonus-share events) are never a limit hit
        up[m.gap] = np.nan
        dn[m.gap] = np.nan
    rates = np.stack([fees.STAMP_DUTY_SELL.to_array(sessions), fees.TRANSFER_FEE.to_array(sessions),
                      fees.HANDLING_FEE.to_array(sessions),
                      fees.REGULATORY_FEE.to_array(sessions)], axis=1).astype(np.float64)
    min_lot = np.where(is_fund, FUND_LOT, int(trading.MIN_LOT.at(sessions[-1]))).astype(np.int64)
    step = np.where(is_fund, FUND_LOT, int(trading.LOT_STEP.at(sessions[-1]))).astype(np.int64)
    t0 = np.array([f and code.startswith(FUND_T0_PREFIXES) for f, code in zip(is_fund, m.codes,
                                                                            strict=True)])
    t1 = np.where(t0, 0, int(trading.SETTLEMENT_LAG.at(sessions[-1]))).astype(np.int64)
    return RuleArrays(up, dn, div_cash, bonus, rates, ~is_fund, min_lot, step, t1, c.rate,
                      c.minimum, ignored)


@dataclass
class BacktestResult:
    """Outputs of one backtest. `equity`, `cash` are per session; for column strategies
    `equity` is the sum of the independent accounts and `columns` holds each account."""

    strategy: str
    params: dict[str, Any]
    rules: str
    fill: str
    equity: pd.Series
    cash: pd.Series
    positions: pd.DataFrame
    orders: pd.DataFrame
    flows: pd.Series
    columns: pd.DataFrame | None = None  # per-code equity (column strategies)
    stats: dict[str, Any] = field(default_factory=dict)
    column_stats: pd.DataFrame | None = None
    correlation: pd.DataFrame | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def blocked(self) -> dict[str, int]:
        o = self.orders
        if o.empty:
            return {}
        b = o[o["reason"] != "ok"]
        return {str(k): int(v) for k, v in b["reason"].value_counts().items()}

    @property
    def fees(self) -> dict[str, float]:
        return {k: round(float(self.orders[k].sum()), 2) if not self.orders.empty else 0.0
                for k in ko.FEE_KINDS}

    def summary(self) -> dict[str, Any]:
        return {"strategy": self.strategy, "params": self.params, "rules": self.rules,
                "fill": self.fill, "stats": self.stats, "fees": self.fees,
                "blocked": self.blocked, "n_fills": int((self.orders["filled"] != 0).sum())
                if not self.orders.empty else 0, "notes": self.notes}

    def export(self, directory: str | Path, fmt: str = "csv") -> list[Path]:
        """Write equity/cash/flows, positions, orders and statistics as CSV or Parquet."""
        if fmt not in ("csv", "parquet"):
            raise ValidationError(f"format {fmt!r}; expected csv or parquet")
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        frames: dict[str, pd.DataFrame] = {
            "equity": pd.DataFrame({"equity": self.equity, "cash": self.cash,
                                    "flows": self.flows}),
            "positions": self.positions,
            "orders": self.orders,
            "stats": pd.DataFrame([{k: v for k, v in self.stats.items()
                                    if not isinstance(v, dict)}]),
        }
        if self.column_stats is not None:
            frames["column_stats"] = self.column_stats
        out = []
        for name, df in frames.items():
            p = d / f"{name}.{fmt}"
            if fmt == "csv":
                df.to_csv(p)
            else:
                df.columns = [str(c) for c in df.columns]
                df.to_parquet(p)
            out.append(p)
        return out


def _ragged(m: MarketArrays) -> dict[str, np.ndarray]:
    """Column-major ragged layout over each code's own bars."""
    _T, _A = m.shape
    have = np.isfinite(m.close)
    idx_t, idx_a = np.nonzero(have.T)  # ordered by code, then session
    t = idx_a
    a = idx_t
    counts = have.sum(axis=0)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return {"t": t.astype(np.int64), "a": a.astype(np.int64), "offsets": offsets}


def column_arrays(m: MarketArrays, r: RuleArrays) -> dict[str, Any]:
    """Flat (ragged) kernel inputs for column strategies."""
    rg = _ragged(m)
    t, a = rg["t"], rg["a"]
    fund = m.is_fund if m.is_fund is not None else np.zeros(len(m.codes), dtype=np.bool_)
    if fund.any() and not fund.all():
        raise ValidationError("a column strategy got both funds and stocks; run them separately "
                              "(their lot and settlement rules differ)")
    sig = m.sig()
    return dict(sig=np.ascontiguousarray(sig[t, a]), close=np.ascontiguousarray(m.close[t, a]),
                open_=np.ascontiguousarray(np.where(np.isfinite(m.open[t, a]), m.open[t, a],
                                                    m.close[t, a])),
                sess=t, offsets=rg["offsets"], lim_up=np.ascontiguousarray(r.lim_up[t, a]),
                lim_dn=np.ascontiguousarray(r.lim_dn[t, a]),
                div_cash=np.ascontiguousarray(r.div_cash[t, a]),
                bonus=np.ascontiguousarray(r.bonus[t, a]), fee_rates=r.fee_rates,
                stamp_on=bool(r.stamp_on[0]) if len(r.stamp_on) else True,
                comm_rate=r.comm_rate, comm_min=r.comm_min,
                min_lot=int(r.min_lot[0]), step=int(r.step[0]), t1=int(r.t1[0]), a=a)


def _check_fill(fill: str) -> bool:
    if fill not in ("close", "next_open"):
        raise ValidationError(f"fill={fill!r}; expected 'close' or 'next_open'")
    return fill == "next_open"


def run_columns(strategy: Strategy, m: MarketArrays, rules: str = "star", fill: str = "close",
                commission: fees.Commission | None = None, dividend_tax: float = 0.0
                ) -> BacktestResult:
    """One independent account per code (MA crossover, grid)."""
    next_open = _check_fill(fill)
    r = prepare_rules(m, rules, commission, dividend_tax=dividend_tax)
    ca = column_arrays(m, r)
    a_idx = ca.pop("a")
    cash0 = float(strategy.cash)  # type: ignore[attr-defined]
    params = np.array(strategy.kernel_params(), dtype=np.float64)  # type: ignore[attr-defined]
    (eq, cash, pos, side, req, fill_q, price, fee_l, reason, corp, stats) = ko.columns_run(
        strategy.kind, params, ca["sig"], ca["close"], ca["open_"], ca["sess"],  # type: ignore
        ca["offsets"], ca["lim_up"], ca["lim_dn"], ca["div_cash"], ca["bonus"], ca["fee_rates"],
        ca["stamp_on"], ca["comm_rate"], ca["comm_min"], ca["min_lot"], ca["step"], ca["t1"],
        cash0, next_open)
    T, A = m.shape
    t_idx = ca["sess"]
    idx = pd.DatetimeIndex(m.sessions.astype("datetime64[ns]"), name="date")
    eq_m = np.full((T, A), np.nan)
    eq_m[t_idx, a_idx] = eq
    cash_m = np.full((T, A), np.nan)
    cash_m[t_idx, a_idx] = cash
    pos_m = np.full((T, A), np.nan)
    pos_m[t_idx, a_idx] = pos
    # an account is worth its initial cash before its first bar and its last value after
    # its last bar (decision 12: a delisted position is valued at its last close)
    eq_df = pd.DataFrame(eq_m, index=idx, columns=m.codes).ffill().fillna(cash0)
    cash_df = pd.DataFrame(cash_m, index=idx, columns=m.codes).ffill().fillna(cash0)
    pos_df = pd.DataFrame(pos_m, index=idx, columns=m.codes).ffill().fillna(0).astype(np.int64)
    orders = _orders_frame(m, t_idx, a_idx, side, req, fill_q, price, fee_l, reason)
    res = BacktestResult(strategy.name, strategy.params(), rules, fill, eq_df.sum(axis=1),
                         cash_df.sum(axis=1), pos_df, orders,
                         pd.Series(0.0, index=idx, name="flows"), columns=eq_df)
    res.column_stats = pd.DataFrame(stats, index=pd.Index(m.codes, name="code"),
                                    columns=list(ko.STAT_FIELDS))
    corp_total = float(corp.sum())
    if corp_total:
        res.notes.append(f"corporate actions credited {corp_total:,.2f} CNY")
    if r.n_ignored_factors:
        res.notes.append(f"{r.n_ignored_factors} ex-rights factors below 1 ignored")
    res.notes.extend(m.notes)
    return res


def _orders_frame(m: MarketArrays, t_idx: np.ndarray, a_idx: np.ndarray, side: np.ndarray,
                  req: np.ndarray, fill_q: np.ndarray, price: np.ndarray, fee_l: np.ndarray,
                  reason: np.ndarray) -> pd.DataFrame:
    keep = np.nonzero(side != 0)[0]
    codes = np.array(m.codes, dtype=object)
    df = pd.DataFrame({
        "date": m.sessions[t_idx[keep]].astype("datetime64[ns]"),
        "code": codes[a_idx[keep]],
        "side": np.where(side[keep] > 0, "buy", "sell"),
        "requested": np.abs(req[keep]),
        "filled": np.abs(fill_q[keep]),
        "price": price[keep],
        "value": np.abs(fill_q[keep]) * np.nan_to_num(price[keep]),
    })
    for k, name in enumerate(ko.FEE_KINDS):
        df[name] = fee_l[keep, k]
    df["reason"] = np.array(ko.REASONS, dtype=object)[reason[keep].astype(np.int64)]
    # decision 10: one fill per order; sizes above the exchange's per-order maximum for limit
    # orders (star-market-reference.md section 1) are flagged, not split (fees are linear)
    is_fund = m.is_fund if m.is_fund is not None else np.zeros(len(m.codes), dtype=np.bool_)
    cap = trading.MAX_LIMIT_ORDER.to_array(np.maximum(
        m.sessions[t_idx[keep]].astype("datetime64[D]"), np.datetime64(trading.STAR_OPEN)))
    df["above_max_order"] = (np.abs(fill_q[keep]) > cap) & ~is_fund[a_idx[keep]]
    return df.sort_values(["date", "code"], kind="stable").reset_index(drop=True)


def run_portfolio(strategy: Strategy, m: MarketArrays, rules: str = "star",
                  fill: str = "close", commission: fees.Commission | None = None,
                  plan: Plan | None = None, dividend_tax: float = 0.0) -> BacktestResult:
    """One account with shared cash (DCA, rebalancing, core + satellite, equal weight)."""
    next_open = _check_fill(fill)
    r = prepare_rules(m, rules, commission, dividend_tax=dividend_tax)
    T, _A = m.shape
    listed = np.isfinite(pd.DataFrame(m.close).ffill().to_numpy())
    if plan is None:
        plan = strategy.plan(m.sessions, m.codes, listed)  # type: ignore[attr-defined]
    cash_rate = m.cash_rate if m.cash_rate is not None else np.zeros(T)
    (eq, cash, pos, req, fill_q, price, fee_l, reason, corp, interest) = ko.portfolio_run(
        np.ascontiguousarray(m.close), np.ascontiguousarray(np.where(np.isfinite(m.open),
                                                                     m.open, m.close)),
        r.lim_up, r.lim_dn, r.div_cash, r.bonus, r.fee_rates, r.stamp_on, r.comm_rate,
        r.comm_min, r.min_lot, r.step, r.t1, np.ascontiguousarray(plan.target_w),
        plan.rebalance, float(plan.band), np.ascontiguousarray(plan.buy_value), plan.inflow,
        cash_rate, float(plan.init_cash), next_open)
    idx = pd.DatetimeIndex(m.sessions.astype("datetime64[ns]"), name="date")
    tt, aa = np.nonzero((req != 0) | (fill_q != 0) | (reason != 0))
    side = np.sign(np.where(fill_q != 0, fill_q, req))[tt, aa]
    orders = _orders_frame(m, tt, aa, side.astype(np.int8), req[tt, aa], fill_q[tt, aa],
                           price[tt, aa], fee_l[tt, aa], reason[tt, aa])
    res = BacktestResult(strategy.name, strategy.params(), rules, fill,
                         pd.Series(eq, index=idx, name="equity"),
                         pd.Series(cash, index=idx, name="cash"),
                         pd.DataFrame(pos, index=idx, columns=m.codes), orders,
                         pd.Series(plan.inflow, index=idx, name="flows"))
    res.stats["initial_cash"] = float(plan.init_cash)
    res.stats["interest"] = round(float(interest.sum()), 2)
    res.stats["corporate_actions_cash"] = round(float(corp.sum()), 2)
    if r.n_ignored_factors:
        res.notes.append(f"{r.n_ignored_factors} ex-rights factors below 1 ignored")
    if np.any(cash_rate != 0):
        res.notes.append("cash earns the CGB 3-month yield, accrued by calendar days")
    res.notes.extend(m.notes)
    return res


def run(strategy: Strategy, m: MarketArrays, rules: str = "star", fill: str = "close",
        commission: fees.Commission | None = None, dividend_tax: float = 0.0
        ) -> BacktestResult:
    if not 0.0 <= dividend_tax < 1.0:
        raise ValidationError(f"dividend_tax={dividend_tax}; expected a fraction in [0, 1)")
    if strategy.shape == "columns":
        return run_columns(strategy, m, rules, fill, commission, dividend_tax)
    return run_portfolio(strategy, m, rules, fill, commission, dividend_tax=dividend_tax)


def from_frame(prices: pd.DataFrame | np.ndarray, dates: Any = None,
               open_: pd.DataFrame | np.ndarray | None = None) -> MarketArrays:
    """MarketArrays from a user price matrix (dates x codes); no corporate actions, no listing
    dates. A numpy matrix without dates gets consecutive business days from 2000-01-03 (use
    rules="none" for it: the dated rules need real sessions)."""
    if isinstance(prices, pd.DataFrame):
        close = prices.to_numpy(dtype=np.float64)
        codes = [str(c) for c in prices.columns]
        sessions = np.asarray(pd.DatetimeIndex(prices.index).values.astype("datetime64[D]"))
    else:
        close = np.asarray(prices, dtype=np.float64)
        if close.ndim == 1:
            close = close[:, None]
        codes = [f"c{i}" for i in range(close.shape[1])]
        if dates is None:
            sessions = np.busday_offset(np.datetime64(dt.date(2000, 1, 3)),
                                        np.arange(close.shape[0]), roll="forward")
        else:
            sessions = np.asarray(dates).astype("datetime64[D]")
    if close.ndim != 2 or close.shape[0] != len(sessions):
        raise ValidationError(f"prices have shape {close.shape}; expected (dates, codes)")
    if (close[np.isfinite(close)] <= 0).any():
        raise ValidationError("prices must be positive")
    o = close if open_ is None else np.asarray(open_, dtype=np.float64)
    return MarketArrays(codes, sessions, close, o)
