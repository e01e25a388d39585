"""The breadth report: advancers and decliners, the A/D line, the McClellan oscillator and
summation index, limit-up and limit-down counts, and the share of stocks above their moving
averages. Input: the daily breadth table of ``api.index.breadth`` (one row per session)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kechuang.reports import png
from kechuang.reports.common import (
    DOWN,
    GREY,
    LINE,
    UP,
    Report,
    dates,
    figure,
    fmt_date,
    fmt_num,
    table_html,
    values,
)


def ma_columns(t: pd.DataFrame) -> list[str]:
    return [c for c in t.columns if c.startswith("pct_above_ma")]


def figures(t: pd.DataFrame, universe: str = "board") -> dict[str, dict[str, Any]]:
    x = dates(t["date"])
    figs = {
        "advdec": figure(
            [{"type": "bar", "x": x, "y": values(t["advancers"]), "name": "advancers 上涨",
              "marker": {"color": UP}},
             {"type": "bar", "x": x, "y": values(-t["decliners"]), "name": "decliners 下跌",
              "marker": {"color": DOWN}}],
            f"Advancers and decliners ({universe})", barmode="relative", bargap=0),
        "adline": figure(
            [{"type": "scatter", "mode": "lines", "x": x, "y": values(t["ad_line"]),
              "name": "A/D line", "line": {"color": LINE}}],
            "Advance/decline line (cumulative advancers − decliners)", showlegend=False),
        "mcclellan": figure(
            [{"type": "scatter", "mode": "lines", "x": x, "y": values(t["mcclellan_osc"]),
              "name": "oscillator", "line": {"color": LINE, "width": 1.2}},
             {"type": "scatter", "mode": "lines", "x": x, "y": values(t["summation_index"]),
              "name": "summation index", "yaxis": "y2", "line": {"color": GREY, "width": 1}}],
            "McClellan oscillator (ratio-adjusted) and summation index",
            yaxis2={"overlaying": "y", "side": "right", "showgrid": False},
            margin={"l": 60, "r": 70, "t": 40, "b": 40}),
        "limits": figure(
            [{"type": "bar", "x": x, "y": values(t["limit_up"]), "name": "limit-up 涨停",
              "marker": {"color": UP}},
             {"type": "bar", "x": x, "y": values(-t["limit_down"]), "name": "limit-down 跌停",
              "marker": {"color": DOWN}}],
            "Limit-up and limit-down closes", barmode="relative", bargap=0),
    }
    mas = ma_columns(t)
    colors = [LINE, "#ff7f0e", GREY, "#9467bd"]
    figs["above_ma"] = figure(
        [{"type": "scatter", "mode": "lines", "x": x, "y": values(t[c]),
          "name": c.replace("pct_above_ma", "above MA"), "line": {"color": colors[i % 4],
                                                                "width": 1.2}}
         for i, c in enumerate(mas)],
        "Share of stocks above their moving averages (%)", yaxis={"range": [0, 100]})
    return figs


def latest_rows(t: pd.DataFrame, n: int = 10) -> tuple[list[str], list[list[str]]]:
    mas = ma_columns(t)
    cols = ["date", "members", "up", "down", "flat", "limit-up", "limit-down", "broken",
            "new highs", "new lows", "McClellan", *[c.replace("pct_above_ma", "% > MA")
                                                     for c in mas]]
    rows = []
    for r in t.tail(n).iloc[::-1].itertuples():
        rows.append([fmt_date(r.date), fmt_num(r.n_members), fmt_num(r.advancers),
                     fmt_num(r.decliners), fmt_num(r.unchanged), fmt_num(r.limit_up),
                     fmt_num(r.limit_down), fmt_num(r.broken_limit), fmt_num(r.new_highs),
                     fmt_num(r.new_lows), fmt_num(r.mcclellan_osc, 1),
                     *[fmt_num(getattr(r, c), 1) for c in mas]])
    return cols, rows


def build(t: pd.DataFrame, universe: str = "board", notes: Sequence[str] = ()) -> Report:
    rep = Report(f"Market breadth: {universe}",
                 f"{fmt_date(t['date'].iloc[0])} to {fmt_date(t['date'].iloc[-1])}, "
                 f"{len(t)} sessions")
    figs = figures(t, universe)
    rep.chart("advdec", figs["advdec"])
    rep.charts({"adline": figs["adline"], "mcclellan": figs["mcclellan"]})
    rep.charts({"limits": figs["limits"], "above_ma": figs["above_ma"]})
    rep.heading("Last sessions")
    cols, rows = latest_rows(t)
    rep.html(table_html(cols, rows, numeric=[False] + [True] * (len(cols) - 1)))
    rep.notes.extend(notes)

    def _ad(path: Path) -> None:
        png.lines(path, {"A/D line": t.set_index("date")["ad_line"]}, "Advance/decline line")

    def _ma(path: Path) -> None:
        png.lines(path, {c: t.set_index("date")[c] for c in ma_columns(t)},
                  "Share above moving averages (%)", "%")

    rep.pngs = {"adline": _ad, "above_ma": _ma}
    return rep
