"""Shared pieces of the HTML reports: formatting (CNY, dates as the exchange writes them, Chinese
names beside codes), JSON-safe conversion, Plotly figures as plain dicts, and the page shell.

Reports work offline: the Plotly JavaScript comes from the installed ``plotly`` package and is
either inlined in the page or written beside it as ``plotly.min.js`` (never a CDN). Figures are
plain ``{"data": [...], "layout": {...}}`` dicts, the same objects the dashboard's JSON API
returns, so a chart looks the same in a report file and in the browser."""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PLOTLY_JS_NAME = "plotly.min.js"
BENCHMARK_NAME = "科创50 STAR 50 (000688)"

# Colours: red for up and green for down, as Chinese exchanges and terminals show them.
UP = "#d62728"
DOWN = "#2ca02c"
LINE = "#1f4e79"
GREY = "#7f7f7f"


def fmt_date(x: Any) -> str:
    """A date as the SSE writes it on its site and in its bulletins: YYYY-MM-DD."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    try:
        if pd.isna(x):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(x, np.datetime64):
        x = pd.Timestamp(x)
    if isinstance(x, pd.Timestamp | dt.datetime):
        return x.strftime("%Y-%m-%d")
    if isinstance(x, dt.date):
        return x.isoformat()
    return str(x)[:10]


def fmt_cny(x: Any, decimals: int = 2) -> str:
    if x is None or not np.isfinite(float(x)):
        return "n/a"
    return f"¥{float(x):,.{decimals}f}"


def fmt_pct(x: Any, decimals: int = 2) -> str:
    if x is None or not np.isfinite(float(x)):
        return "n/a"
    return f"{100.0 * float(x):.{decimals}f}%"


def fmt_num(x: Any, decimals: int = 2) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    return f"{v:,.{decimals}f}" if np.isfinite(v) else "n/a"


def label(code: str, names: Mapping[str, str] | None) -> str:
    """'688981 中芯国际': the code with its Chinese short name beside it when known."""
    name = (names or {}).get(str(code))
    return f"{code} {name}" if isinstance(name, str) and name else str(code)


def jsonable(obj: Any) -> Any:
    """Plain JSON types: dates as YYYY-MM-DD, NaN/inf as null, numpy scalars as Python."""
    if isinstance(obj, Mapping):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, pd.DataFrame):
        return [jsonable(r) for r in obj.to_dict("records")]
    if isinstance(obj, pd.Series):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, np.ndarray):
        return [jsonable(v) for v in obj.tolist()]
    if isinstance(obj, list | tuple | set):
        return [jsonable(v) for v in obj]
    if isinstance(obj, bool | np.bool_):
        return bool(obj)
    if isinstance(obj, int | np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        v = float(obj)
        return v if math.isfinite(v) else None
    if isinstance(obj, pd.Timestamp | dt.date | np.datetime64):
        return fmt_date(obj) or None
    if obj is None or isinstance(obj, str):
        return obj
    try:
        if pd.isna(obj):
            return None
    except (TypeError, ValueError):
        pass
    return str(obj)


def dates(index: Iterable[Any]) -> list[str]:
    return [fmt_date(d) for d in index]


def values(x: Iterable[Any]) -> list[float | None]:
    out: list[float | None] = []
    for v in x:
        f = float(v) if v is not None else math.nan
        out.append(f if math.isfinite(f) else None)
    return out


def figure(data: list[dict[str, Any]], title: str, **layout: Any) -> dict[str, Any]:
    """A Plotly figure as a plain dict, with the house layout."""
    lay: dict[str, Any] = {"title": {"text": title, "x": 0.01, "font": {"size": 15}},
                           "margin": {"l": 60, "r": 20, "t": 40, "b": 40},
                           "height": 320, "paper_bgcolor": "#ffffff",
                           "plot_bgcolor": "#ffffff",
                           "legend": {"orientation": "h", "y": -0.18},
                           "font": {"family": "Noto Sans CJK SC, WenQuanYi Zen Hei, "
                                              "Microsoft YaHei, sans-serif"}}
    for k, v in layout.items():
        if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict):
            v = dict(v)
            if isinstance(v.get("title"), str):  # plotly.js 3 wants {"text": ...}
                v["title"] = {"text": v["title"]}
            v.setdefault("gridcolor", "#e8e8e8")
        lay[k] = v
    for ax in ("xaxis", "yaxis"):
        lay.setdefault(ax, {"gridcolor": "#e8e8e8"})
    return {"data": data, "layout": lay}


def plotly_js() -> str:
    """The Plotly JavaScript bundle of the installed plotly package (offline)."""
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


def write_plotly_js(directory: Path) -> Path:
    """plotly.min.js beside the reports (written once, kept if already current)."""
    js = plotly_js()
    p = directory / PLOTLY_JS_NAME
    if not p.exists() or p.stat().st_size != len(js.encode("utf-8")):
        p.write_text(js, encoding="utf-8")
    return p


def table_html(columns: Sequence[str], rows: Iterable[Sequence[Any]],
               numeric: Sequence[bool] | None = None, cls: str = "tbl") -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = []
    for r in rows:
        cells = []
        for i, v in enumerate(r):
            align = ' class="num"' if numeric and i < len(numeric) and numeric[i] else ""
            cells.append(f"<td{align}>{html.escape('' if v is None else str(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>'
            + "".join(body) + "</tbody></table>")


CSS = """
body{font-family:"Noto Sans CJK SC","WenQuanYi Zen Hei","Microsoft YaHei",system-ui,sans-serif;
margin:0;color:#222;background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:8px 0 4px}h2{font-size:17px;margin:22px 0 8px;border-bottom:1px solid #ddd}
.meta{color:#666;font-size:13px}.note{color:#666;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:12px}
.chart{background:#fff;border:1px solid #e3e3e3;border-radius:4px;min-height:320px}
table.tbl{border-collapse:collapse;font-size:13px;background:#fff;margin:4px 0}
table.tbl th,table.tbl td{border:1px solid #e0e0e0;padding:3px 8px;text-align:left}
table.tbl td.num{text-align:right;font-variant-numeric:tabular-nums}
table.tbl th{background:#f0f3f7}
"""


@dataclass
class Report:
    """A report: blocks of HTML and Plotly figures, plus PNG renderers (matplotlib)."""

    title: str
    subtitle: str = ""
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (kind, payload)
    figures: dict[str, dict[str, Any]] = field(default_factory=dict)
    pngs: dict[str, Callable[[Path], None]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def heading(self, text: str) -> None:
        self.blocks.append(("html", f"<h2>{html.escape(text)}</h2>"))

    def html(self, fragment: str) -> None:
        self.blocks.append(("html", fragment))

    def chart(self, key: str, fig: dict[str, Any]) -> None:
        self.figures[key] = fig
        self.blocks.append(("chart", key))

    def charts(self, figs: Mapping[str, dict[str, Any]]) -> None:
        keys = []
        for k, f in figs.items():
            self.figures[k] = f
            keys.append(k)
        self.blocks.append(("grid", ",".join(keys)))

    def to_html(self, plotly: str = "inline") -> str:
        """The whole page. plotly='inline' embeds the JS (one self-contained file);
        'beside' loads ./plotly.min.js written next to the page."""
        if plotly not in ("inline", "beside"):
            raise ValueError(f"plotly={plotly!r}; expected 'inline' or 'beside'")
        parts = [f"<h1>{html.escape(self.title)}</h1>"]
        if self.subtitle:
            parts.append(f'<p class="meta">{html.escape(self.subtitle)}</p>')
        for kind, payload in self.blocks:
            if kind == "html":
                parts.append(payload)
            elif kind == "chart":
                parts.append(f'<div class="chart" id="fig-{payload}"></div>')
            else:
                parts.append('<div class="grid">' + "".join(
                    f'<div class="chart" id="fig-{k}"></div>' for k in payload.split(","))
                    + "</div>")
        if self.notes:
            parts.append("<h2>Notes</h2><ul class=\"note\">" + "".join(
                f"<li>{html.escape(n)}</li>" for n in self.notes) + "</ul>")
        figs = json.dumps(jsonable(self.figures), ensure_ascii=False, separators=(",", ":"))
        figs = figs.replace("</", "<\\/")
        script = (f"<script>{plotly_js()}</script>" if plotly == "inline"
                  else f'<script src="{PLOTLY_JS_NAME}"></script>')
        draw = ("<script>const FIGS=" + figs + ";for(const [k,f] of Object.entries(FIGS)){"
                "Plotly.newPlot('fig-'+k,f.data,f.layout,{responsive:true,displaylogo:false});}"
                "</script>")
        return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title)}</title><style>{CSS}</style>{script}</head>"
                f"<body><main>{''.join(parts)}</main>{draw}</body></html>")

    def write(self, directory: str | Path, stem: str, plotly: str = "beside",
              png: bool = True) -> list[Path]:
        """Write `<stem>.html` (and `<stem>_<chart>.png` files) into `directory`."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        out = []
        if plotly == "beside":
            out.append(write_plotly_js(d))
        p = d / f"{stem}.html"
        p.write_text(self.to_html(plotly), encoding="utf-8")
        out.append(p)
        if png:
            for name, render in self.pngs.items():
                q = d / f"{stem}_{name}.png"
                render(q)
                out.append(q)
        return out
