"""`kc.backtest(...)` and `kc.sweep(...)`: read the store (or take price matrices), build the
engine arrays, run, and attach statistics.

From the store: STAR stocks use the unadjusted bars (``source='raw'``) for execution and a
backward-adjusted close built from the ``adjustments`` factors for signals (decision 1);
``bar_flags`` ``ex_rights_gap`` bars are never limit hits, and the ex-rights factor on such a
bar turns a held position into bonus shares (decision 2), so the gap is no fake return. ETFs
come from ``fund_bars``; cash earns the CGB 3-month yield from ``rates``; the benchmark is the
STAR 50 (``index_levels`` 000688)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kechuang.core.dates import parse_range
from kechuang.core.errors import DateRangeError, UnknownCodeError, ValidationError
from kechuang.engines import backtest as eng
from kechuang.engines import sweep as sweep_eng
from kechuang.rules.fees import Commission
from kechuang.strategies import Strategy, make_strategy

BENCHMARK = "000688"


def _norm(code: Any) -> str:
    s = str(code).strip().upper().removeprefix("SH").removesuffix(".SH")
    if not (len(s) == 6 and s.isdigit()):
        raise UnknownCodeError(f"code {code!r} is not a 6-digit code")
    return s


def load_market(codes: Sequence[str], start: Any = None, end: Any = None,
                db: str | Path | None = None, cash_rate: bool = True,
                ) -> tuple[eng.MarketArrays, pd.Series | None]:
    """Prices and reference data for `codes` on the XSHG sessions of [start, end], plus the
    STAR 50 level series on the same sessions."""
    from kechuang.data.calendar import sessions as xshg_sessions
    from kechuang.data.store import open_store

    codes = [_norm(c) for c in codes]
    if not codes:
        raise ValidationError("no codes selected")
    if len(set(codes)) != len(codes):
        raise ValidationError(f"duplicate codes in {codes}")
    s, e = parse_range(start, end)
    with open_store(db) as st:
        ph = ",".join("?" * len(codes))
        stock = st.query(f"SELECT code, date, open, close, pre_close FROM bars_daily "
                         f"WHERE source = 'raw' AND code IN ({ph}) ORDER BY code, date", codes)
        fund = st.query(f"SELECT code, date, open, close, NULL AS pre_close FROM fund_bars "
                        f"WHERE code IN ({ph}) ORDER BY code, date", codes)
        have = set(stock["code"]) | set(fund["code"])
        missing = [c for c in codes if c not in have]
        if missing:
            raise UnknownCodeError(f"codes not in the store (no raw bars or fund bars): "
                                   f"{', '.join(missing)}")
        adj = st.query(f"SELECT code, ex_date, factor FROM adjustments WHERE code IN ({ph}) "
                       f"AND factor IS NOT NULL", codes)
        gaps = st.query(f"SELECT code, date FROM bar_flags WHERE source = 'raw' AND "
                        f"kind = 'ex_rights_gap' AND code IN ({ph})", codes)
        lst = st.query(f"SELECT code, list_date FROM securities WHERE code IN ({ph})", codes)
        bench = st.query("SELECT date, close FROM index_levels WHERE index_code = ? "
                         "ORDER BY date", [BENCHMARK])
        rates = st.query("SELECT date, yield_pct FROM rates WHERE curve = 'cgb' AND "
                         "tenor = '3m' ORDER BY date") if cash_rate else None
    bars = pd.concat([stock.assign(fund=False), fund.assign(fund=True)], ignore_index=True)
    bars["date"] = pd.to_datetime(bars["date"])
    first, last = bars["date"].min().date(), bars["date"].max().date()
    s = s or first
    e = e or last
    if s > last or e < first:
        raise DateRangeError(f"range {s} .. {e} is outside the data of these codes "
                             f"({first} .. {last})")
    sess = xshg_sessions(max(s, first), min(e, last))
    if len(sess) == 0:
        raise DateRangeError(f"no XSHG session between {s} and {e}")
    idx = pd.DatetimeIndex(sess.astype("datetime64[ns]"))
    bars = bars[(bars["date"] >= idx[0]) & (bars["date"] <= idx[-1])]

    def mat(col: str) -> np.ndarray:
        return (bars.pivot(index="date", columns="code", values=col)
                .reindex(index=idx, columns=codes).to_numpy(dtype=np.float64))

    close, open_ = mat("close"), mat("open")
    empty = [c for c, ok in zip(codes, np.isfinite(close).any(axis=0), strict=True) if not ok]
    if empty:
        raise DateRangeError(f"no bars in {idx[0].date()} .. {idx[-1].date()} for "
                             f"{', '.join(empty)}")
    pre = mat("pre_close")
    is_fund = np.array([c in set(fund["code"]) and c not in set(stock["code"]) for c in codes])
    T, A = close.shape
    factor = np.full((T, A), np.nan)
    adj["ex_date"] = pd.to_datetime(adj["ex_date"])
    col = {c: i for i, c in enumerate(codes)}
    pos = idx.get_indexer(pd.DatetimeIndex(adj["ex_date"]))
    for (c, f), p in zip(adj[["code", "factor"]].itertuples(index=False), pos, strict=True):
        if p >= 0:
            factor[p, col[c]] = f
    # backward-adjusted close for signals (decision 1): raw x product of factors to date
    cumf = np.cumprod(np.where(np.isfinite(factor) & (factor > 0), factor, 1.0), axis=0)
    signal = close * cumf
    gap = np.zeros((T, A), dtype=np.bool_)
    gaps["date"] = pd.to_datetime(gaps["date"])
    gpos = idx.get_indexer(pd.DatetimeIndex(gaps["date"]))
    for c, p in zip(gaps["code"], gpos, strict=True):
        if p >= 0:
            gap[p, col[c]] = True
    ld = dict(zip(lst["code"], pd.to_datetime(lst["list_date"]), strict=True))
    list_date = np.array([np.datetime64(ld[c].date()) if c in ld and not pd.isna(ld[c])
                          else np.datetime64("NaT") for c in codes], dtype="datetime64[D]")
    rate = np.zeros(T)
    notes: list[str] = []
    if rates is not None and len(rates):
        y = (rates.assign(date=pd.to_datetime(rates["date"])).set_index("date")["yield_pct"]
             .reindex(idx.union(pd.DatetimeIndex(rates["date"]))).ffill().reindex(idx))
        ndays = np.diff(idx.values.astype("datetime64[D]").astype(np.int64), prepend=0)
        ndays[0] = 0
        yld = np.nan_to_num(y.to_numpy(dtype=np.float64) / 100.0)
        rate = yld * ndays.astype(np.float64) / 365.0
    m = eng.MarketArrays(codes, np.asarray(sess), close, open_, signal, pre, factor, gap,
                         list_date, is_fund, rate, notes)
    b = None
    if len(bench):
        b = (bench.assign(date=pd.to_datetime(bench["date"])).set_index("date")["close"]
             .reindex(idx))
    return m, b


def _resolve(strategy: str | Strategy, params: dict[str, Any]) -> Strategy:
    return make_strategy(strategy, **params)


def _select(strat: Strategy, codes: Sequence[str] | str | None) -> list[str]:
    if isinstance(codes, str):
        codes = [c for c in codes.replace(",", " ").split() if c]
    own = strat.universe() if hasattr(strat, "universe") else None
    if codes:
        return [_norm(c) for c in codes]
    if own:
        return [_norm(c) for c in own]
    raise ValidationError(f"strategy {strat.name!r} needs codes (e.g. codes=['688981'])")


def _check_history(strat: Strategy, m: eng.MarketArrays) -> None:
    need = strat.min_bars() if hasattr(strat, "min_bars") else 2
    bars = np.isfinite(m.close).sum(axis=0)
    if bars.max() < need:
        raise DateRangeError(f"window of {need - 1} bars is longer than the history "
                             f"({int(bars.max())} bars at most) for strategy {strat.name!r}")


def backtest(strategy: str | Strategy = "ma_cross", codes: Sequence[str] | str | None = None,
             start: Any = None, end: Any = None, *, prices: pd.DataFrame | np.ndarray | None =
             None, rules: str = "star", fill: str = "close", commission: float | None = None,
             commission_min: float | None = None, benchmark: bool = True,
             dividend_tax: float = 0.0, db: str | Path | None = None, **params: Any
             ) -> eng.BacktestResult:
    """Run one backtest on store selections (codes, start, end) or on a price matrix
    (`prices`: DataFrame dates x codes, or a numpy array). Strategy parameters as keywords,
    e.g. ``backtest("ma_cross", ["688981"], fast=5, slow=20)``. `dividend_tax` is the share
    of cash dividends withheld (decision 2: none by default)."""
    strat = _resolve(strategy, params)
    comm = _commission(commission, commission_min)
    bench = None
    if prices is not None:
        m = eng.from_frame(prices)
        if rules == "star" and not isinstance(prices, pd.DataFrame):
            rules = "none"
    else:
        m, bench = load_market(_select(strat, codes), start, end, db)
    _check_history(strat, m)
    res = eng.run(strat, m, rules, fill, comm, dividend_tax)
    _attach_stats(res, m, bench if benchmark else None)
    return res


def _commission(rate: float | None, minimum: float | None) -> Commission | None:
    if rate is None and minimum is None:
        return None
    d = Commission()
    try:
        return Commission(d.rate if rate is None else rate,
                          d.minimum if minimum is None else minimum)
    except ValueError as e:
        raise ValidationError(str(e)) from None


def _attach_stats(res: eng.BacktestResult, m: eng.MarketArrays, bench: pd.Series | None
                  ) -> None:
    from kechuang.analytics import performance as perf

    init = res.stats.get("initial_cash")
    if init is None:
        init = float(res.params.get("cash", 0.0)) * (len(m.codes) if res.columns is not None
                                                     else 1)
    extra = dict(res.stats)
    res.stats = perf.summarize(res.equity, res.flows, init or None, bench, res.orders,
                               res.positions)
    res.stats.update(extra)
    res.stats["fees"] = res.fees
    res.stats["blocked"] = res.blocked
    if res.columns is None and len(m.codes) > 1:
        px = pd.DataFrame(m.close, index=res.equity.index, columns=m.codes)
        res.correlation = perf.correlation(px)
    if res.column_stats is not None and res.columns is not None:
        cs = perf.sweep_stats(res.column_stats.to_numpy(), float(res.params["cash"]))
        res.column_stats = pd.DataFrame(cs, index=res.column_stats.index)


def parse_grid(specs: Iterable[str]) -> dict[str, list[Any]]:
    """`NAME=V1,V2,...` or `NAME=START:STOP:STEP` (STOP included when on the step)."""
    grid: dict[str, list[Any]] = {}
    for spec in specs:
        if "=" not in spec:
            raise ValidationError(f"grid {spec!r}: expected NAME=V1,V2 or NAME=START:STOP:STEP")
        name, body = (x.strip() for x in spec.split("=", 1))
        if ":" in body:
            parts = body.split(":")
            if len(parts) != 3:
                raise ValidationError(f"grid {spec!r}: expected START:STOP:STEP")
            a, b, c = (_num(x, spec) for x in parts)
            if c <= 0 or b < a:
                raise ValidationError(f"grid {spec!r}: need STEP > 0 and STOP >= START")
            n = int(np.floor((b - a) / c + 1e-9)) + 1
            vals = [a + i * c for i in range(n)]
            grid[name] = [int(v) if all(isinstance(x, int) for x in (a, c)) else
                          round(v, 12) for v in vals]
        else:
            grid[name] = [_num(x, spec) for x in body.split(",") if x.strip()]
        if not grid[name]:
            raise ValidationError(f"grid {spec!r} has no values")
    return grid


def _num(x: str, spec: str) -> Any:
    x = x.strip()
    try:
        return int(x)
    except ValueError:
        pass
    try:
        return float(x)
    except ValueError:
        return x


def sweep(strategy: str | Strategy = "ma_cross", grid: Mapping[str, Sequence[Any]] | None = None,
          codes: Sequence[str] | str | None = None, start: Any = None, end: Any = None, *,
          prices: pd.DataFrame | np.ndarray | None = None, rules: str = "star",
          fill: str = "close", commission: float | None = None,
          commission_min: float | None = None, db: str | Path | None = None,
          progress: Callable[[int, int], None] | None = None, backend: str = "local",
          address: str | None = None, **params: Any) -> pd.DataFrame:
    """A grid of strategy parameters; returns a tidy table, one row per (combination, code)
    for column strategies, one per combination for allocation strategies, with the parameters
    and statistics. Column strategies run in parallel inside numba (no bars x combinations
    frames); allocation strategies run one portfolio backtest per combination.
    `backend="ray"` runs the column-strategy grid as Ray tasks (engines.sweep_ray) on the
    cluster at `address` (None: a local Ray instance or RAY_ADDRESS); same table."""
    if backend not in ("local", "ray"):
        raise ValidationError(f"backend={backend!r}; expected 'local' or 'ray'")
    if not grid:
        raise ValidationError("sweep needs a grid, e.g. grid={'fast': [5, 10], 'slow': [50]}")
    base = _resolve(strategy, params)
    names = list(grid)
    combos = [dict(zip(names, vals, strict=True)) for vals in itertools.product(*grid.values())]
    strats = [make_strategy(base, **c) for c in combos]  # validates every value up front
    comm = _commission(commission, commission_min)
    if prices is not None:
        m = eng.from_frame(prices)
        if rules == "star" and not isinstance(prices, pd.DataFrame):
            rules = "none"
        bench = None
    else:
        m, bench = load_market(_select(base, codes), start, end, db)
    for s in strats:
        _check_history(s, m)
    if base.shape == "columns":
        from kechuang.analytics import performance as perf

        fixed = {k: v for k, v in base.params().items() if k not in names}
        if "cash" in names:
            raise ValidationError("cash cannot be swept for column strategies")
        kernel_grid = np.array([s.kernel_params() for s in strats],  # type: ignore[attr-defined]
                               dtype=np.float64)
        if backend == "ray":
            from kechuang.engines import sweep_ray

            raw = sweep_ray.run_sweep(base.kind, kernel_grid, m, rules, fill,  # type: ignore
                                      comm, float(base.cash), progress=progress,  # type: ignore
                                      address=address)
        else:
            raw = sweep_eng.run_sweep(base.kind, kernel_grid, m, rules, fill,  # type: ignore
                                      comm, float(base.cash), progress=progress)  # type: ignore
        st = perf.sweep_stats(raw, float(base.cash))  # type: ignore[attr-defined]
        ncomb, ncol = raw.shape[:2]
        rows = {k: np.repeat(np.array([c[k] for c in combos]), ncol) for k in names}
        table = pd.DataFrame({**rows, "code": np.tile(np.array(m.codes, dtype=object), ncomb)})
        for k, v in st.items():
            table[k] = v.reshape(-1)
        table.attrs["fixed"] = fixed
        return table
    if backend == "ray":
        raise ValidationError(f"backend='ray' runs column strategies (ma_cross, grid); "
                              f"{base.name!r} sweeps run with backend='local'")
    out = []
    for i, s in enumerate(strats):
        res = eng.run(s, m, rules, fill, comm)
        _attach_stats(res, m, bench)
        row = {**combos[i]}
        row.update({k: v for k, v in res.stats.items() if isinstance(v, int | float)
                    and not isinstance(v, bool)})
        out.append(row)
        if progress:
            progress(i + 1, len(strats))
    return pd.DataFrame(out)
