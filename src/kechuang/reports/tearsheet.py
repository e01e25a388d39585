"""The backtest tearsheet: equity against the STAR 50, drawdown, monthly returns heatmap, rolling
volatility, fees by kind, orders blocked by reason and the statistics table.

Input is a backtest result (``kechuang.engines.backtest.BacktestResult``) and the STAR 50 level
series on its sessions (the api layer reads it from ``index_levels`` 000688). Returns are
time-weighted (cash inflows such as DCA contributions are stripped out of each session's return,
``analytics.performance.flow_adjusted_returns``), so the strategy line and the STAR 50 line both
show the growth of 1 CNY. Annualisation uses XSHG sessions per year."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kechuang.analytics.performance import flow_adjusted_returns, sessions_per_year
from kechuang.reports import png
from kechuang.reports.common import (
    BENCHMARK_NAME,
    DOWN,
    GREY,
    LINE,
    UP,
    Report,
    dates,
    figure,
    fmt_cny,
    fmt_date,
    fmt_num,
    fmt_pct,
    jsonable,
    label,
    table_html,
    values,
)

ROLLING_WINDOW = 60  # sessions, about one quarter
FEE_LABELS = {"commission": "commission 佣金", "stamp_duty": "stamp duty 印花税",
              "transfer": "transfer fee 过户费", "handling": "handling fee 经手费",
              "regulatory": "regulatory fee 证管费"}
BLOCK_LABELS = {"limit": "price limit 涨跌停", "t1": "T+1", "lot": "lot size 最小申报",
                "cash": "cash 资金不足"}

# (key, label, kind) of the statistics table; kind picks the formatting
STAT_ROWS = [
    ("start", "first session", "date"), ("end", "last session", "date"),
    ("sessions", "sessions", "int"), ("final_value", "final value", "cny"),
    ("contributed", "contributed (inflows)", "cny"), ("profit", "profit", "cny"),
    ("total_return", "total return (time-weighted)", "pct"), ("cagr", "CAGR", "pct"),
    ("money_weighted_return", "money-weighted return (IRR, p.a.)", "pct"),
    ("volatility", "annualised volatility", "pct"), ("sharpe", "Sharpe", "num"),
    ("sortino", "Sortino", "num"), ("max_drawdown", "maximum drawdown", "pct"),
    ("drawdown_peak", "drawdown peak", "date"), ("drawdown_trough", "drawdown trough", "date"),
    ("drawdown_recovery", "recovered on", "date"), ("calmar", "Calmar", "num"),
    ("turnover", "turnover (per year)", "num"), ("win_rate", "win rate of sells", "pct"),
    ("exposure", "exposure (share of sessions invested)", "pct"),
    ("n_fills", "fills", "int"), ("n_blocked", "blocked or trimmed orders", "int"),
    ("benchmark_return", "STAR 50 return, same sessions", "pct"), ("alpha", "alpha", "pct"),
    ("beta", "beta", "num"), ("tracking_error", "tracking error", "pct"),
    ("information_ratio", "information ratio", "num"),
    ("sessions_per_year", "sessions per year (XSHG)", "num"),
]


def _fmt(v: Any, kind: str) -> str:
    if v is None:
        return "not recovered" if kind == "date" else "n/a"
    if kind == "date":
        return fmt_date(v) or "not recovered"
    if kind == "cny":
        return fmt_cny(v)
    if kind == "pct":
        return fmt_pct(v)
    if kind == "int":
        return fmt_num(int(v)) if np.isfinite(float(v)) else "n/a"
    return fmt_num(v)


def series(res: Any, benchmark: pd.Series | None = None) -> dict[str, Any]:
    """The series the charts show: growth of 1 CNY (time-weighted) for the strategy and STAR 50,
    drawdown, monthly returns (year x month, %), rolling annualised volatility."""
    eq: pd.Series = res.equity.astype(float)
    flows = res.flows.reindex(eq.index).fillna(0.0).to_numpy(dtype=float) \
        if res.flows is not None else None
    init = res.stats.get("initial_cash")
    has_flows = flows is not None and bool(np.any(flows != 0))
    if not init:
        init = float(eq.iloc[0]) if not has_flows and float(eq.iloc[0]) > 0 else None
    r = flow_adjusted_returns(eq.to_numpy(), flows, None if has_flows else init)
    rs = pd.Series(r, index=eq.index)
    growth = (1.0 + rs.fillna(0.0)).cumprod()
    started = rs.notna().cumsum() > 0
    growth[~started] = np.nan
    growth.iloc[int(np.argmax(started.to_numpy()))] = 1.0 if started.any() else np.nan
    dd = growth / growth.cummax() - 1.0
    rd = rs.dropna()
    when = pd.DatetimeIndex(rd.index)
    monthly = ((1.0 + rd).groupby([when.year, when.month]).prod() - 1.0) * 100.0
    heat = monthly.unstack() if len(monthly) else pd.DataFrame()
    if len(heat):
        heat = heat.reindex(columns=range(1, 13))
        heat.index.name, heat.columns.name = "year", "month"
    p = sessions_per_year()
    vol = rs.rolling(ROLLING_WINDOW, min_periods=ROLLING_WINDOW).std(ddof=1) * np.sqrt(p)
    out: dict[str, Any] = {"returns": rs, "growth": growth, "drawdown": dd, "monthly": heat,
                           "rolling_vol": vol, "bench_growth": None, "bench_vol": None}
    if benchmark is not None and benchmark.notna().sum() > 1:
        b = benchmark.reindex(eq.index).ffill()
        both = growth.notna() & b.notna()
        if both.any():  # rebased to the strategy's value on the first session both exist
            i = int(np.argmax(both.to_numpy()))
            out["bench_growth"] = (b / b.iloc[i] * growth.iloc[i]).where(both)
        br = b.pct_change(fill_method=None)
        out["bench_vol"] = br.rolling(ROLLING_WINDOW, min_periods=ROLLING_WINDOW).std(ddof=1) \
            * np.sqrt(p)
    return out


def figures(res: Any, benchmark: pd.Series | None = None,
            names: Mapping[str, str] | None = None) -> dict[str, dict[str, Any]]:
    """The tearsheet's Plotly figures (plain dicts, JSON-safe after `jsonable`)."""
    s = series(res, benchmark)
    x = dates(s["growth"].index)
    codes = ", ".join(label(c, names) for c in res.positions.columns[:4])
    eq = [{"type": "scatter", "mode": "lines", "x": x, "y": values(s["growth"]),
           "name": f"{res.strategy} ({codes})", "line": {"color": LINE, "width": 1.6}}]
    if s["bench_growth"] is not None:
        eq.append({"type": "scatter", "mode": "lines", "x": x, "y": values(s["bench_growth"]),
                   "name": BENCHMARK_NAME, "line": {"color": GREY, "width": 1.2}})
    figs = {"equity": figure(eq, "Growth of 1 CNY vs STAR 50 (time-weighted)",
                             yaxis={"title": "CNY"})}
    value = [{"type": "scatter", "mode": "lines", "x": dates(res.equity.index),
              "y": values(res.equity), "name": "equity 账户净值", "line": {"color": LINE}},
             {"type": "scatter", "mode": "lines", "x": dates(res.cash.index),
              "y": values(res.cash), "name": "cash 现金", "line": {"color": GREY, "width": 1}}]
    if res.flows is not None and bool((res.flows != 0).any()):
        inflow = res.flows.reindex(res.equity.index).fillna(0.0).cumsum() \
            + float(res.stats.get("initial_cash") or 0.0)
        value.append({"type": "scatter", "mode": "lines", "x": dates(inflow.index),
                      "y": values(inflow), "name": "contributed 累计投入",
                      "line": {"color": UP, "width": 1, "dash": "dot"}})
    figs["value"] = figure(value, "Account value (CNY)", yaxis={"title": "CNY"})
    figs["drawdown"] = figure(
        [{"type": "scatter", "mode": "lines", "x": x, "y": values(100 * s["drawdown"]),
          "fill": "tozeroy", "name": "drawdown", "line": {"color": DOWN, "width": 1}}],
        "Drawdown (%)", yaxis={"title": "%"}, showlegend=False)
    heat = s["monthly"]
    if len(heat):
        z = [values(row) for row in heat.to_numpy()]
        text = [[("" if v is None else f"{v:.1f}") for v in row] for row in z]
        figs["monthly"] = figure(
            [{"type": "heatmap", "z": z, "x": [f"{m:02d}" for m in heat.columns],
              "y": [str(y) for y in heat.index], "text": text, "texttemplate": "%{text}",
              "colorscale": [[0, DOWN], [0.5, "#ffffff"], [1, UP]], "zmid": 0,
              "colorbar": {"title": {"text": "%"}}, "hoverongaps": False}],
            "Monthly returns (%)", yaxis={"autorange": "reversed", "type": "category"},
            xaxis={"type": "category"}, height=max(220, 60 + 28 * len(heat)))
    vol = [{"type": "scatter", "mode": "lines", "x": x, "y": values(100 * s["rolling_vol"]),
            "name": "strategy", "line": {"color": LINE, "width": 1.4}}]
    if s["bench_vol"] is not None:
        vol.append({"type": "scatter", "mode": "lines", "x": x,
                    "y": values(100 * s["bench_vol"]), "name": "STAR 50",
                    "line": {"color": GREY, "width": 1}})
    figs["rolling_vol"] = figure(vol, f"Rolling {ROLLING_WINDOW}-session volatility, "
                                      "annualised (%)", yaxis={"title": "%"})
    fees = res.fees
    figs["fees"] = figure(
        [{"type": "bar", "x": [FEE_LABELS.get(k, k) for k in fees],
          "y": [float(v) for v in fees.values()], "marker": {"color": LINE},
          "text": [fmt_cny(v) for v in fees.values()], "textposition": "auto"}],
        f"Fees by kind (total {fmt_cny(sum(fees.values()))})", yaxis={"title": "CNY"},
        showlegend=False, margin={"l": 60, "r": 20, "t": 40, "b": 80})
    blocked = res.blocked
    kinds = list(BLOCK_LABELS) + [k for k in blocked if k not in BLOCK_LABELS]
    figs["blocked"] = figure(
        [{"type": "bar", "x": [BLOCK_LABELS.get(k, k) for k in kinds],
          "y": [int(blocked.get(k, 0)) for k in kinds], "marker": {"color": UP},
          "text": [str(int(blocked.get(k, 0))) for k in kinds], "textposition": "auto"}],
        f"Orders blocked or trimmed, by reason (total {sum(blocked.values())})",
        yaxis={"title": "orders"}, showlegend=False)
    return figs


def stats_rows(stats: Mapping[str, Any]) -> list[list[str]]:
    rows = []
    for key, name, kind in STAT_ROWS:
        if key in stats:
            rows.append([name, _fmt(jsonable(stats[key]) if kind != "date" else stats[key],
                                    kind)])
    return rows


def correlation_rows(res: Any, names: Mapping[str, str] | None = None) -> list[list[str]]:
    """Header + rows of the legs' return correlation matrix (portfolio strategies with more
    than one asset), or [] when the backtest has none."""
    c = getattr(res, "correlation", None)
    if c is None or len(c) < 2:
        return []
    head = ["", *[label(x, names) for x in c.columns]]
    return [head] + [[label(i, names), *[fmt_num(v) for v in c.loc[i]]] for i in c.index]


def build(res: Any, benchmark: pd.Series | None = None,
          names: Mapping[str, str] | None = None, title: str | None = None) -> Report:
    """The tearsheet as a Report (HTML with Plotly charts, PNGs via matplotlib)."""
    codes = list(res.positions.columns)
    params = ", ".join(f"{k}={v}" for k, v in res.params.items())
    rep = Report(title or f"Backtest tearsheet: {res.strategy}",
                 f"{', '.join(label(c, names) for c in codes[:8])}"
                 f"{' …' if len(codes) > 8 else ''} · {params} · rules={res.rules}, "
                 f"fill at {res.fill} · {fmt_date(res.equity.index[0])} to "
                 f"{fmt_date(res.equity.index[-1])} · amounts in CNY")
    figs = figures(res, benchmark, names)
    rep.chart("equity", figs.pop("equity"))
    rep.charts({k: figs[k] for k in ("value", "drawdown", "rolling_vol") if k in figs})
    if "monthly" in figs:
        rep.chart("monthly", figs["monthly"])
    rep.charts({"fees": figs["fees"], "blocked": figs["blocked"]})
    rep.heading("Statistics")
    rep.html(table_html(["statistic", "value"], stats_rows(res.stats), numeric=[False, True]))
    corr = correlation_rows(res, names)
    if corr:
        rep.heading("Correlation of the legs' daily returns")
        rep.html(table_html(corr[0], corr[1:], numeric=[False] + [True] * (len(corr[0]) - 1)))
    if not res.orders.empty:
        rep.heading("Last orders")
        o = res.orders.tail(15)
        rep.html(table_html(
            ["date", "code", "side", "requested", "filled", "price (CNY)", "value (CNY)",
             "fees (CNY)", "reason"],
            [[fmt_date(r.date), label(r.code, names), r.side, fmt_num(int(r.requested)),
              fmt_num(int(r.filled)), fmt_num(r.price, 3), fmt_num(r.value),
              fmt_num(sum(float(getattr(r, k)) for k in FEE_LABELS if hasattr(r, k))),
              r.reason] for r in o.itertuples()],
            numeric=[False, False, False, True, True, True, True, True, False]))
    rep.notes.extend(res.notes)
    rep.notes.append("benchmark: STAR 50 price index (index_levels 000688), official levels")
    s = series(res, benchmark)

    def _eq(path: Path) -> None:
        lines = {res.strategy: s["growth"].dropna()}
        if s["bench_growth"] is not None:
            lines["STAR 50"] = s["bench_growth"].dropna()
        png.lines(path, lines, "Growth of 1 CNY vs STAR 50 (time-weighted)", "CNY")

    def _dd(path: Path) -> None:
        png.lines(path, {"drawdown": 100 * s["drawdown"].dropna()}, "Drawdown (%)", "%",
                  fill=True)

    def _heat(path: Path) -> None:
        png.heatmap(path, s["monthly"], "Monthly returns (%)")

    def _fees(path: Path) -> None:
        png.bars(path, list(res.fees), list(res.fees.values()), "Fees by kind (CNY)", "CNY")

    rep.pngs = {"equity": _eq, "drawdown": _dd, "fees": _fees}
    if len(s["monthly"]):
        rep.pngs["monthly"] = _heat
    return rep
