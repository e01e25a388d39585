"""Shared set-up for the backtest workloads W1, W2, W3, W5 (benchmarks.md): the forward-adjusted
STAR bars as a fixed input, each stock on its own bars (missing dates skipped, never filled),
the project's own plain reference implementations, and the other engines' adapters
(vectorbt, backtrader), imported only when asked for."""

from __future__ import annotations

import csv
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "src" / "kechuang" / "datasets" / "star_daily"
MASTER = ROOT / "src" / "kechuang" / "datasets" / "star_master" / "star_stock_basic.csv"
CASH = 1_000_000.0
TOL = 1e-9


@dataclass
class Bars:
    codes: list[str]
    dates: np.ndarray  # (T,) datetime64[D], the union of dates
    close: np.ndarray  # flat, ordered by code then date
    open: np.ndarray
    t: np.ndarray  # flat session index into dates
    offsets: np.ndarray  # (n_codes + 1,)

    @property
    def n_bars(self) -> int:
        return len(self.close)

    def padded(self) -> np.ndarray:
        """(max own bars x codes) matrix, each column a stock's own closes, NaN-padded at the
        end: the other engines get exactly the own-bars series the kernels use."""
        n = np.diff(self.offsets)
        out = np.full((int(n.max()), len(self.codes)), np.nan)
        for k in range(len(self.codes)):
            out[: n[k], k] = self.close[self.offsets[k]: self.offsets[k + 1]]
        return out

    def column(self, k: int) -> np.ndarray:
        return self.close[self.offsets[k]: self.offsets[k + 1]]


@lru_cache(maxsize=1)
def load() -> Bars:
    df = pd.read_csv(DATA / "star_daily_qfq.csv.gz", dtype={"code": str},
                     usecols=["code", "date", "open", "close"])
    df = df.sort_values(["code", "date"], kind="stable").reset_index(drop=True)
    dates = np.array(sorted(df["date"].unique()), dtype="datetime64[D]")
    t = np.searchsorted(dates, df["date"].to_numpy().astype("datetime64[D]")).astype(np.int64)
    codes = list(dict.fromkeys(df["code"]))
    counts = df.groupby("code", sort=False).size().reindex(codes).to_numpy()
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return Bars(codes, dates, df["close"].to_numpy(np.float64), df["open"].to_numpy(np.float64),
                t, offsets)


def kernel_arrays(bars: Bars, rules: str) -> dict[str, Any]:
    """The kernels' inputs built by the engine from the same bars: rules "none", or "star"
    (limits from the previous own close, none in the first 5 sessions after listing, bars in
    suspect_price_gaps.csv never a limit hit, dated fees, 200-share lots, T+1)."""
    from kechuang.engines import backtest as eng
    from kechuang.engines import sweep as sweep_eng

    T, A = len(bars.dates), len(bars.codes)
    close = np.full((T, A), np.nan)
    open_ = np.full((T, A), np.nan)
    a = np.repeat(np.arange(A), np.diff(bars.offsets))
    close[bars.t, a] = bars.close
    open_[bars.t, a] = bars.open
    ld = {}
    with MASTER.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            ld[row["code"]] = row["list_date"]
    list_date = np.array([np.datetime64(ld[c]) if ld.get(c) else np.datetime64("NaT")
                          for c in bars.codes], dtype="datetime64[D]")
    gap = np.zeros((T, A), dtype=np.bool_)
    gaps = pd.read_csv(DATA / "suspect_price_gaps.csv", dtype={"code": str})
    col = {c: i for i, c in enumerate(bars.codes)}
    for c, d in zip(gaps["code"], gaps["date"], strict=True):
        i = int(np.searchsorted(bars.dates, np.datetime64(d)))
        if c in col and i < T and bars.dates[i] == np.datetime64(d):
            gap[i, col[c]] = True
    m = eng.MarketArrays(bars.codes, bars.dates, close, open_, None, None, None, gap, list_date,
                         np.zeros(A, dtype=np.bool_), None)
    return sweep_eng.prepare(m, rules)


def run_kechuang(kind: int, grid: np.ndarray, arrays: dict[str, Any]) -> np.ndarray:
    """Timed call: every (combination, stock) backtest; returns stats (combos x codes x k)."""
    from kechuang.engines.sweep import sweep_chunk

    return sweep_chunk(kind, grid, arrays, CASH, False)


# ----------------------------------------------------------------------------------------
# The project's own plain reference (numpy SMAs, a Python state machine), frictionless
# ----------------------------------------------------------------------------------------

def sma(x: np.ndarray, w: int) -> np.ndarray:
    out = np.full(len(x), np.nan)
    if len(x) >= w:
        c = np.cumsum(np.concatenate([[0.0], x]))
        out[w - 1:] = (c[w:] - c[:-w]) / w
    return out


def gt(a: float, b: float) -> bool:
    return a - b > TOL * max(abs(a), abs(b))


def ref_ma(x: np.ndarray, fast: int, slow: int) -> tuple[float, int, bool]:
    """(final value, fills, had a near tie) for W1 on one stock's closes."""
    f, s = sma(x, fast), sma(x, slow)
    cash, units, fills, tie = CASH, 0, 0, False
    for i in range(1, len(x)):
        if np.isnan(f[i - 1]) or np.isnan(s[i - 1]):
            continue
        if abs(f[i] - s[i]) <= TOL * max(abs(f[i]), abs(s[i])):
            tie = True
        if units == 0 and not gt(f[i - 1], s[i - 1]) and gt(f[i], s[i]):
            units = int(cash / x[i])
            if units > 0:
                cash -= units * x[i]
                fills += 1
        elif units > 0 and not gt(s[i - 1], f[i - 1]) and gt(s[i], f[i]):
            cash += units * x[i]
            units = 0
            fills += 1
    return cash + units * x[-1], fills, tie


def ref_grid(x: np.ndarray, band: float, unit: int, max_units: int) -> tuple[float, int, bool]:
    cash, pos, fills, tie = CASH, 0, 0, False
    ref = x[0]
    for px in x:
        lo, hi = ref * (1 - band), ref * (1 + band)
        if abs(px - lo) <= TOL * lo or abs(px - hi) <= TOL * hi:
            tie = True
        if px <= lo * (1 + TOL) and pos < max_units * unit:
            cash -= unit * px
            pos += unit
            fills += 1
            ref = px
        elif px * (1 + TOL) >= hi and pos > 0:
            k = min(unit, pos)
            cash += k * px
            pos -= k
            fills += 1
            ref = px
    return cash + pos * x[-1], fills, tie


def compare(name: str, ours: np.ndarray, ours_fills: np.ndarray, other: np.ndarray,
            other_fills: np.ndarray, ties: np.ndarray) -> dict[str, Any]:
    """Agreement of per-backtest results; disagreements where a near tie exists are counted
    separately (benchmarks.md: ties on exact SMA equality)."""
    same = np.isclose(ours, other, rtol=1e-9, atol=1e-4) & (ours_fills == other_fills)
    diff = ~same
    return {"engine": name, "backtests": len(ours), "equal": int(same.sum()),
            "differ_on_ties": int((diff & ties).sum()),
            "differ_otherwise": int((diff & ~ties).sum())}


def dump(directory: str | Path | None, workload: str, engine: str, rows: dict[str, Any]) -> None:
    if not directory:
        return
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(d / f"{workload}_{engine}.csv", index=False)


def engines_wanted(engines: str | list[str] | None, default: tuple[str, ...]) -> list[str]:
    if engines is None:
        return list(default)
    if isinstance(engines, str):
        engines = [e.strip() for e in engines.split(",") if e.strip()]
    return [e.lower() for e in engines]


def threads() -> int:
    import numba

    return int(numba.get_num_threads())


def ratio(a: float, b: float) -> float:
    return round(a / b, 1) if b and not math.isnan(b) else math.nan


def column_workload(workload: str, bars: Bars, ref: list[tuple[float, int, bool]],
                    engines: str | list[str] | None, params: dict[str, Any],
                    kechuang: Callable[[], Callable[[], np.ndarray]],
                    vectorbt: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]],
                    backtrader: Callable[[list[np.ndarray]], tuple[np.ndarray, np.ndarray]],
                    bt_codes: int = 25, dump_dir: str | Path | None = None
                    ) -> dict[str, Any]:
    """W1 / W3: one account per stock with `params`, each engine run once and checked against
    the plain reference `ref` (final value, fills, near tie per stock), then timed; ratios in
    bars/s. `kechuang` builds its inputs (untimed) and returns the timed call, which gives
    the kernel statistics (1 x stocks x N_STATS); `vectorbt` gets the
    own-bars matrix (built untimed); backtrader runs on the first `bt_codes` stocks only (a
    full run takes minutes)."""
    from benchmarks.run import time_call

    want = engines_wanted(engines, ("kechuang", "vectorbt", "backtrader"))
    lens = np.diff(bars.offsets)
    ref_final = np.array([r[0] for r in ref])
    ref_fills = np.array([r[1] for r in ref])
    ties = np.array([r[2] for r in ref])
    out: dict[str, Any] = {"bars": bars.n_bars, "stocks": len(bars.codes),
                           "threads": threads(), "engines": {}}
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def timed(name: str, fn: Callable[[], Any], n_bars: int, k: int,
              **timing: Any) -> dict[str, Any]:
        got = fn()
        if name == "kechuang":  # (1 x stocks x N_STATS) statistics
            got = (got[0, :, 0], got[0, :, 1].astype(np.int64))
        final, fills = got
        results[name] = (final, fills)
        t = time_call(fn, **timing)
        out["engines"][name] = t | {"bars_per_s": n_bars / t["median_s"], "check": compare(
            name, final, fills, ref_final[:k], ref_fills[:k], ties[:k])}
        return out["engines"][name]

    n = len(bars.codes)
    if "kechuang" in want:
        timed("kechuang", kechuang(), bars.n_bars, n)
    if "vectorbt" in want:
        close = bars.padded()
        timed("vectorbt", lambda: vectorbt(close), bars.n_bars, n)
    if "backtrader" in want:
        k = min(bt_codes, n)
        series = [bars.column(i) for i in range(k)]
        e = timed("backtrader", lambda: backtrader(series), int(lens[:k].sum()), k,
                  min_calls=1, min_seconds=0.0)
        e["stocks_timed"] = k
    kcs = out["engines"].get("kechuang", {}).get("bars_per_s")
    for name, e in out["engines"].items():
        if name != "kechuang" and kcs:
            out[f"ratio_kechuang_vs_{name}"] = ratio(kcs, e["bars_per_s"])
    for name, (final, fills) in results.items():
        dump_rows = {"code": bars.codes[: len(final)], **params}
        dump(dump_dir, workload, name, dump_rows | {"final_value": final, "n_fills": fills})
    return out


# ----------------------------------------------------------------------------------------
# Other engines
# ----------------------------------------------------------------------------------------

def vbt_ma(close: np.ndarray, fast: list[int], slow: list[int]
           ) -> tuple[np.ndarray, np.ndarray]:
    """vectorbt from_signals on the own-bars matrix for every (fast, slow) pair; returns final
    values and fill counts, (pairs x codes) flattened pair-major."""
    import vectorbt as vbt

    fw = np.repeat(np.array(fast), len(slow)) if len(fast) > 1 or len(slow) > 1 else fast
    sw = np.tile(np.array(slow), len(fast)) if len(fast) > 1 or len(slow) > 1 else slow
    fma = vbt.MA.run(close, window=list(fw), short_name="fast")
    sma_ = vbt.MA.run(close, window=list(sw), short_name="slow")
    entries = fma.ma_crossed_above(sma_)
    exits = fma.ma_crossed_below(sma_)
    n = len(fw)
    # prices carried past each stock's last bar (the signals there are NaN-based, so False):
    # the last row's value is then the final value at the stock's own last bar, and
    # final_value() is about 4x cheaper than indexing the whole value() frame
    big = np.tile(pd.DataFrame(close).ffill().to_numpy(), (1, n))
    pf = vbt.Portfolio.from_signals(big, entries.to_numpy(), exits.to_numpy(), init_cash=CASH,
                                    size=np.inf, size_granularity=1, direction="longonly",
                                    fees=0.0, freq="1D")
    final = pf.final_value().to_numpy()
    fills = pf.orders.count().to_numpy()
    return final, fills


def _vbt_grid_func() -> Any:
    """The grid order function, compiled once (a new function object per call would make
    vectorbt recompile its simulator every time)."""
    if _grid_func[0] is None:
        from numba import njit
        from vectorbt.portfolio import nb as pnb
        from vectorbt.portfolio.enums import NoOrder

        @njit
        def order_func(c: Any, ref: np.ndarray, band: float, unit: float,
                       max_units: float) -> Any:
            px = c.close[c.i, c.col]
            if np.isnan(px):
                return NoOrder
            if np.isnan(ref[c.col]):
                ref[c.col] = px
            if px <= ref[c.col] * (1 - band) and c.position_now < max_units * unit:
                ref[c.col] = px
                return pnb.order_nb(unit, px)
            if px >= ref[c.col] * (1 + band) and c.position_now > 0:
                ref[c.col] = px
                return pnb.order_nb(-min(unit, c.position_now), px)
            return NoOrder

        _grid_func[0] = order_func
    return _grid_func[0]


def vbt_grid(close: np.ndarray, lens: np.ndarray, band: float, unit: int, max_units: int
             ) -> tuple[np.ndarray, np.ndarray]:
    """vectorbt from_order_func over the own-bars matrix; final values and fill counts."""
    import vectorbt as vbt

    ref = np.full(close.shape[1], np.nan)
    pf = vbt.Portfolio.from_order_func(close, _vbt_grid_func(), ref, band, float(unit),
                                       float(max_units), init_cash=CASH, freq="1D")
    value = pf.value().to_numpy()
    final = value[lens - 1, np.arange(value.shape[1])]
    return final, pf.orders.count().to_numpy()


_grid_func: list[Any] = [None]


def bt_run(series: list[np.ndarray], strategy: str, params: dict[str, Any]
           ) -> tuple[np.ndarray, np.ndarray]:
    """backtrader: one Cerebro per stock, cheat-on-close fills at the signal bar's close."""
    import backtrader as bt

    class MA(bt.Strategy):
        params = (("fast", 10), ("slow", 50))

        def __init__(self) -> None:
            self.f = bt.ind.SMA(self.data.close, period=self.p.fast)
            self.s = bt.ind.SMA(self.data.close, period=self.p.slow)
            self.fills = 0

        def notify_order(self, order: Any) -> None:
            if order.status == order.Completed:
                self.fills += 1

        def next(self) -> None:
            if len(self) <= max(self.p.fast, self.p.slow):
                return
            f0, f1, s0, s1 = self.f[0], self.f[-1], self.s[0], self.s[-1]
            if not self.position and not gt(f1, s1) and gt(f0, s0):
                size = int(self.broker.getcash() / self.data.close[0])
                if size > 0:
                    self.buy(size=size)
            elif self.position and not gt(s1, f1) and gt(s0, f0):
                self.close()

    class Grid(bt.Strategy):
        params = (("band", 0.02), ("unit", 1), ("max_units", 10))

        def __init__(self) -> None:
            self.ref = None
            self.fills = 0

        def notify_order(self, order: Any) -> None:
            if order.status == order.Completed:
                self.fills += 1

        def next(self) -> None:
            px = self.data.close[0]
            if self.ref is None:
                self.ref = px
            pos = self.position.size
            if px <= self.ref * (1 - self.p.band) * (1 + TOL) and \
                    pos < self.p.max_units * self.p.unit:
                self.buy(size=self.p.unit)
                self.ref = px
            elif px * (1 + TOL) >= self.ref * (1 + self.p.band) and pos > 0:
                self.sell(size=min(self.p.unit, pos))
                self.ref = px

    cls = MA if strategy == "ma" else Grid
    finals, fills = [], []
    for x in series:
        idx = pd.bdate_range("2000-01-03", periods=len(x))
        df = pd.DataFrame({"open": x, "high": x, "low": x, "close": x, "volume": 1e9}, index=idx)
        cerebro = bt.Cerebro(stdstats=False)
        cerebro.broker.setcash(CASH)
        cerebro.broker.set_coc(True)
        cerebro.adddata(bt.feeds.PandasData(dataname=df))
        cerebro.addstrategy(cls, **params)
        strat = cerebro.run()[0]
        finals.append(cerebro.broker.getvalue())
        fills.append(strat.fills)
    return np.array(finals), np.array(fills)
