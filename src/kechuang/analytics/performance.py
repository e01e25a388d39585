"""Performance statistics, annualised with XSHG sessions per year (about 242), and figures
relative to a benchmark (STAR 50 by default).

Conventions (the same as empyrical's, so they can be checked against it): returns are simple
per-session returns; volatility uses the sample standard deviation (ddof=1); Sharpe is
mean / std x sqrt(P); Sortino uses the downside deviation sqrt(mean(min(r, 0)^2)); CAGR is
(ending / starting value)^(P / n) - 1 over n returns; alpha is annualised compound,
(1 + mean(r - beta x b))^P - 1. With external cash flows (DCA) the time-weighted return strips
the flows out of each session's return, and the money-weighted return is the internal rate of
return of the flows and the final value."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd


@lru_cache(maxsize=1)
def sessions_per_year() -> float:
    from kechuang.data.calendar import mean_sessions_per_year

    return mean_sessions_per_year()


def flow_adjusted_returns(equity: np.ndarray, flows: np.ndarray | None = None,
                          initial: float | None = None) -> np.ndarray:
    """Per-session time-weighted returns; a flow arrives before the session's trading, so
    r_t = (E_t - F_t) / E_{t-1} - 1. Sessions before any money is in are skipped (NaN)."""
    e = np.asarray(equity, dtype=np.float64)
    f = np.zeros_like(e) if flows is None else np.asarray(flows, dtype=np.float64)
    prev = np.empty_like(e)
    prev[0] = e[0] - f[0] if initial is None else initial
    prev[1:] = e[:-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        r = (e - f) / prev - 1.0
    r[prev <= 0] = np.nan
    if initial is None:
        r[0] = np.nan
    return r


def drawdown(equity: pd.Series) -> tuple[float, Any, Any, Any]:
    """(max drawdown as a positive fraction, peak date, trough date, recovery date or None)."""
    e = equity.to_numpy(dtype=np.float64)
    if len(e) == 0:
        return 0.0, None, None, None
    peak = np.maximum.accumulate(e)
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = np.where(peak > 0, 1.0 - e / peak, 0.0)
    i = int(np.argmax(dd))
    if dd[i] <= 0:
        return 0.0, None, None, None
    p = int(np.argmax(e[: i + 1] == peak[i]))
    rec = np.nonzero(e[i:] >= peak[i])[0]
    idx = equity.index
    return float(dd[i]), idx[p], idx[i], (idx[i + int(rec[0])] if len(rec) else None)


def xirr(dates: np.ndarray, amounts: np.ndarray) -> float:
    """Annual internal rate of return of dated cash flows (investor's view: contributions
    negative, final value positive), by bisection on the net present value."""
    d = np.asarray(dates).astype("datetime64[D]").astype(np.int64)
    a = np.asarray(amounts, dtype=np.float64)
    if len(a) < 2 or not (a > 0).any() or not (a < 0).any():
        return math.nan
    years = (d - d[0]) / 365.0

    def npv(rate: float) -> float:
        return float(np.sum(a / (1.0 + rate) ** years))

    lo, hi = -0.9999, 10.0
    f_lo, f_hi = npv(lo), npv(hi)
    if f_lo * f_hi > 0:
        return math.nan
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        f_mid = npv(mid)
        if f_lo * f_mid <= 0:
            hi = mid
        else:
            lo, f_lo = mid, f_mid
        if hi - lo < 1e-12:
            break
    return 0.5 * (lo + hi)


def return_stats(r: np.ndarray, periods: float | None = None) -> dict[str, float]:
    """Statistics of a per-session return series (NaNs dropped)."""
    p = periods or sessions_per_year()
    x = np.asarray(r, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = len(x)
    out: dict[str, float] = {"n_returns": float(n)}
    if n < 2:
        return out | {"total_return": math.nan, "cagr": math.nan, "volatility": math.nan,
                      "sharpe": math.nan, "sortino": math.nan}
    growth = float(np.prod(1.0 + x))
    mean, std = float(x.mean()), float(x.std(ddof=1))
    down = float(np.sqrt(np.mean(np.minimum(x, 0.0) ** 2)))
    out["total_return"] = growth - 1.0
    out["cagr"] = growth ** (p / n) - 1.0 if growth > 0 else -1.0
    out["volatility"] = std * math.sqrt(p)
    out["sharpe"] = mean / std * math.sqrt(p) if std > 0 else math.nan
    out["sortino"] = mean / down * math.sqrt(p) if down > 0 else math.nan
    return out


def relative_stats(r: np.ndarray, b: np.ndarray, periods: float | None = None
                   ) -> dict[str, float]:
    """Alpha, beta, tracking error and information ratio against benchmark returns b."""
    p = periods or sessions_per_year()
    x, y = np.asarray(r, dtype=np.float64), np.asarray(b, dtype=np.float64)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 3 or float(np.var(y)) == 0:
        return {"alpha": math.nan, "beta": math.nan, "tracking_error": math.nan,
                "information_ratio": math.nan, "correlation": math.nan}
    beta = float(np.cov(x, y, ddof=1)[0, 1] / np.var(y, ddof=1))
    alpha = (1.0 + float(np.mean(x - beta * y))) ** p - 1.0
    active = x - y
    te = float(np.std(active, ddof=1))
    return {"alpha": alpha, "beta": beta, "tracking_error": te * math.sqrt(p),
            "information_ratio": float(np.mean(active)) / te * math.sqrt(p) if te > 0
            else math.nan, "correlation": float(np.corrcoef(x, y)[0, 1])}


def summarize(equity: pd.Series, flows: pd.Series | None = None,
              initial: float | None = None, benchmark: pd.Series | None = None,
              orders: pd.DataFrame | None = None, positions: pd.DataFrame | None = None,
              periods: float | None = None) -> dict[str, Any]:
    """All statistics of a backtest: returns, risk, drawdown with dates, Calmar, turnover,
    win rate, exposure and, with a benchmark level series, benchmark-relative figures."""
    p = periods or sessions_per_year()
    f = flows.to_numpy(dtype=np.float64) if flows is not None else None
    has_flows = f is not None and bool(np.any(f != 0))
    r = flow_adjusted_returns(equity.to_numpy(), f, None if has_flows else initial)
    out: dict[str, Any] = {"start": equity.index[0], "end": equity.index[-1],
                           "sessions": len(equity), "sessions_per_year": round(p, 2),
                           "final_value": float(equity.iloc[-1])}
    out |= return_stats(r, p)
    mdd, peak, trough, rec = drawdown(equity if not has_flows else
                                      pd.Series(np.nancumprod(1 + np.nan_to_num(r)),
                                                index=equity.index))
    out |= {"max_drawdown": mdd, "drawdown_peak": peak, "drawdown_trough": trough,
            "drawdown_recovery": rec}
    out["calmar"] = out["cagr"] / mdd if mdd > 0 and np.isfinite(out.get("cagr", np.nan)) \
        else math.nan
    if has_flows and f is not None:
        contributed = float(f.sum()) + (initial or 0.0)
        out["contributed"] = contributed
        out["time_weighted_return"] = out["total_return"]
        dates = list(equity.index[f != 0])
        amounts = list(-f[f != 0])
        if initial:
            dates.insert(0, equity.index[0])
            amounts.insert(0, -initial)
        dates.append(equity.index[-1])
        amounts.append(float(equity.iloc[-1]))
        out["money_weighted_return"] = xirr(np.array(dates, dtype="datetime64[D]"),
                                            np.array(amounts))
        out["profit"] = float(equity.iloc[-1]) - contributed
    if orders is not None and not orders.empty:
        traded = float(orders["value"].sum())
        years = max(len(equity) / p, 1e-9)
        mean_eq = float(equity[equity > 0].mean()) if (equity > 0).any() else math.nan
        out["turnover"] = traded / 2.0 / mean_eq / years if mean_eq else math.nan
        out["n_fills"] = int((orders["filled"] > 0).sum())
        out["n_blocked"] = int((orders["reason"] != "ok").sum())
    if positions is not None and not positions.empty:
        out["exposure"] = float((positions.to_numpy() > 0).any(axis=1).mean())
    if orders is not None and not orders.empty:
        out["win_rate"] = win_rate(orders)
    if benchmark is not None:
        b = benchmark.reindex(equity.index)
        br = b.pct_change(fill_method=None).to_numpy()
        out |= relative_stats(r, br, p)
        bb = b.dropna()
        out["benchmark_return"] = float(bb.iloc[-1] / bb.iloc[0] - 1) if len(bb) > 1 \
            else math.nan
    return out


def win_rate(orders: pd.DataFrame) -> float:
    """Share of sells whose proceeds beat the average cost of the shares sold (per code,
    average-cost accounting, fees included)."""
    wins = closed = 0
    filled = orders[orders["filled"] > 0]
    fee = filled[["commission", "stamp_duty", "transfer", "handling", "regulatory"]].sum(axis=1)
    state: dict[str, tuple[int, float]] = {}
    for code, side, n_, value, f in zip(filled["code"].tolist(), filled["side"].tolist(),
                                        filled["filled"].to_numpy(np.int64).tolist(),
                                        filled["value"].to_numpy(np.float64).tolist(),
                                        fee.to_numpy(np.float64).tolist(), strict=True):
        shares, cost = state.get(code, (0, 0.0))
        if side == "buy":
            state[code] = (shares + n_, cost + value + f)
        elif shares > 0:
            avg = cost / shares
            n = min(n_, shares)
            closed += 1
            wins += int(value - f > avg * n)
            state[code] = (shares - n, cost - avg * n)
    return wins / closed if closed else math.nan


def sweep_stats(stats: np.ndarray, init_cash: float, periods: float | None = None
                ) -> dict[str, np.ndarray]:
    """Statistics from the kernel accumulators (kernels.orders.STAT_FIELDS), vectorised over
    the leading axes: the sweep never keeps equity curves."""
    p = periods or sessions_per_year()
    final, n_fills, n = stats[..., 0], stats[..., 1], stats[..., 2]
    s1, s2, sneg = stats[..., 3], stats[..., 4], stats[..., 5]
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = s1 / n
        var = (s2 - n * mean**2) / (n - 1)
        std = np.sqrt(np.maximum(var, 0.0))
        down = np.sqrt(sneg / n)
        total = final / init_cash - 1.0
        cagr = np.where(final > 0, (final / init_cash) ** (p / n) - 1.0, -1.0)
        return {
            "final_value": final, "n_fills": n_fills.astype(np.int64), "total_return": total,
            "cagr": cagr, "volatility": std * np.sqrt(p),
            "sharpe": np.where(std > 0, mean / std * np.sqrt(p), np.nan),
            "sortino": np.where(down > 0, mean / down * np.sqrt(p), np.nan),
            "max_drawdown": stats[..., 6],
            "calmar": np.where(stats[..., 6] > 0, cagr / stats[..., 6], np.nan),
            "exposure": stats[..., 7] / (n + 1),
            "win_rate": np.where(stats[..., 8] > 0, stats[..., 9] / stats[..., 8], np.nan),
            "turnover": stats[..., 10] / 2.0 / init_cash / np.maximum(n / p, 1e-9),
            "fees": stats[..., 11], "n_blocked": stats[..., 12].astype(np.int64),
        }


def correlation(prices: pd.DataFrame) -> pd.DataFrame:
    """Correlation matrix of the daily returns of the legs (pairwise complete)."""
    return prices.pct_change(fill_method=None).corr()
