"""The dashboard's HTML pages: a shell with navigation and containers; static/app.js fills them
from the JSON API and draws the Plotly figures it returns (Plotly served locally, no CDN)."""

from __future__ import annotations

import html
from dataclasses import dataclass

from kechuang.reports.common import CSS


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    body: str


NAV = [("/", "overview", "Overview 概览"), ("/index", "index", "Index 指数"),
       ("/breadth", "breadth", "Breadth 市场宽度"), ("/backtest", "backtest", "Backtest lab 回测"),
       ("/sweep", "sweep", "Sweep 参数扫描"), ("/screen", "screen", "Screen 筛选"),
       ("/listing", "listing", "Listing checker 上市标准"), ("/bonds", "bonds", "Bonds 科创债")]

EXTRA_CSS = """
header{background:#1f4e79;color:#fff;padding:8px 24px;display:flex;gap:18px;align-items:center;
flex-wrap:wrap}header a{color:#dbe7f3;text-decoration:none;font-size:14px}
header a.on{color:#fff;font-weight:bold;border-bottom:2px solid #fff}
header .brand{font-weight:bold;font-size:16px;margin-right:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(330px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e3e3e3;border-radius:4px;padding:10px 14px}
.card h3{margin:0 0 6px;font-size:15px}.big{font-size:26px;font-weight:bold}
.up{color:#d62728}.down{color:#2ca02c}.err{color:#b00020;white-space:pre-wrap}
form.f{background:#fff;border:1px solid #e3e3e3;padding:10px 14px;border-radius:4px;
display:flex;flex-wrap:wrap;gap:10px 16px;align-items:flex-end}
form.f label{display:flex;flex-direction:column;font-size:12px;color:#444}
form.f input,form.f select,form.f textarea{font-size:13px;padding:3px 5px;min-width:110px}
form.f button{font-size:14px;padding:5px 16px;background:#1f4e79;color:#fff;border:0;
border-radius:3px;cursor:pointer}.busy{color:#666;font-size:13px}
.scroll{max-height:520px;overflow:auto}.scroll td{white-space:nowrap}
"""

_BODIES = {
    "overview": """
<h1>STAR Market overview 科创板概览</h1><p class="meta" id="ov-meta">loading…</p>
<div class="cards">
 <div class="card" id="ov-star50"><h3>科创50 STAR 50 today</h3>
<div class="busy">loading…</div></div>
 <div class="card" id="ov-breadth"><h3>Breadth, last session</h3><div class="busy">loading…</div>
</div>
 <div class="card" id="ov-board"><h3>Board snapshot</h3><div class="busy">loading…</div></div>
</div>
<div class="chart" id="fig-star50"></div>""",
    "index": """
<h1>Index 指数: STAR 50 rebuilt from prices and share counts</h1>
<p class="meta" id="ix-meta">loading… (the first build takes about a second)</p>
<div class="chart" id="fig-level"></div>
<h2>Tracking the official series</h2><div id="ix-fid"></div>
<div class="grid"><div class="chart" id="fig-weights"></div><div id="ix-review"></div></div>
<h2 id="ix-rally-h">Broad rallies</h2><div id="ix-rally"></div>
<h2>Constituents and weights</h2><div class="scroll" id="ix-weights"></div>
<ul class="note" id="ix-notes"></ul>""",
    "breadth": """
<h1>Market breadth 市场宽度</h1>
<form class="f" id="br-form"><label>universe<select name="universe">
<option value="board">whole board</option><option value="000688">STAR 50 members (rebuilt)</option>
</select></label><label>start<input type="date" name="start"></label>
<label>end<input type="date" name="end"></label><button type="submit">Show</button>
<span class="busy" id="br-busy"></span></form>
<p class="meta" id="br-meta"></p><div id="br-err" class="err"></div>
<div class="chart" id="fig-advdec"></div>
<div class="grid"><div class="chart" id="fig-adline"></div><div class="chart" id="fig-mcclellan">
</div>
<div class="chart" id="fig-limits"></div><div class="chart" id="fig-above_ma"></div></div>
<ul class="note" id="br-notes"></ul>""",
    "backtest": """
<h1>Backtest lab 回测</h1>
<form class="f" id="bt-form"><label>strategy<select name="strategy" id="bt-strategy"></select>
</label>
<label>codes (comma-separated)<input name="codes" id="bt-codes" value="688981" size="22"></label>
<label>start<input type="date" name="start"></label><label>end<input type="date" name="end"></label>
<label>rules<select name="rules"><option>star</option><option>none</option></select></label>
<label>fill<select name="fill"><option>close</option><option>next_open</option></select></label>
<span id="bt-params" style="display:contents"></span>
<button type="submit" id="bt-run">Run</button><span class="busy" id="bt-busy"></span></form>
<p class="meta" id="bt-doc"></p><div id="bt-err" class="err"></div>
<div id="bt-out" style="display:none"><p class="meta" id="bt-meta"></p>
<div class="chart" id="fig-equity"></div><div class="chart" id="fig-value"></div>
<div class="grid"><div class="chart" id="fig-drawdown"></div>
<div class="chart" id="fig-rolling_vol"></div></div>
<div class="chart" id="fig-monthly"></div>
<div class="grid"><div class="chart" id="fig-fees"></div><div class="chart" id="fig-blocked">
</div></div>
<h2>Statistics</h2><div id="bt-stats"></div><div id="bt-corr"></div></div>""",
    "sweep": """
<h1>Parameter sweep 参数扫描</h1>
<form class="f" id="sw-form"><label>strategy<select name="strategy" id="sw-strategy"></select>
</label>
<label>codes<input name="codes" value="688981" size="18"></label>
<label>x parameter<input name="xname" value="fast" size="8"></label>
<label>x values<input name="xvalues" value="5,10,15,20,30" size="16"></label>
<label>y parameter<input name="yname" value="slow" size="8"></label>
<label>y values<input name="yvalues" value="40,60,90,120,250" size="16"></label>
<label>statistic<select name="stat"><option>sharpe</option><option>total_return</option>
<option>cagr</option><option>max_drawdown</option><option>calmar</option><option>sortino</option>
<option>volatility</option><option>n_fills</option></select></label>
<button type="submit">Run sweep</button><span class="busy" id="sw-busy"></span></form>
<div id="sw-err" class="err"></div><p class="meta" id="sw-meta"></p>
<div class="chart" id="fig-sweep"></div>""",
    "screen": """
<h1>Company screens 筛选</h1>
<p class="meta">A screen uses the fiscal year whose annual report is due by the date. The
bundled statements are the early companies' FY2016-2019 figures and the share counts end on
2022-01-14, so the form starts at 2020-12-31; elsewhere the screens say "insufficient data".</p>
<form class="f" id="sc-form"><label>as of<input type="date" name="as_of" value="2020-12-31">
</label>
<label>codes (optional)<input name="codes" size="24"></label>
<button type="submit">Screen</button><span class="busy" id="sc-busy"></span></form>
<div id="sc-err" class="err"></div><p class="meta" id="sc-meta"></p>
<div class="scroll" id="sc-table"></div>""",
    "listing": """
<h1>Listing-standard checker 上市标准</h1>
<p class="meta">Amounts in CNY. Leave a field empty when unknown: the checker says which field a
standard needs.</p>
<form class="f" id="ls-form"><label>date<input type="date" name="date" value="2025-07-01"></label>
<label>expected market value<input name="market_value" value="3000000000"></label>
<label>net profit, last year<input name="np0" value="80000000"></label>
<label>net profit, year before<input name="np1" value="60000000"></label>
<label>after non-recurring, last year<input name="npd0" value="70000000"></label>
<label>after non-recurring, year before<input name="npd1" value="55000000"></label>
<label>revenue, last year<input name="revenue" value="400000000"></label>
<label>revenue, 3 years<input name="revenue_3y" value="900000000"></label>
<label>R&amp;D, 3 years<input name="rd_3y" value="120000000"></label>
<label>operating cash flow, 3 years<input name="cfo_3y" value="150000000"></label>
<label>industry<input name="industry" value="semiconductor"></label>
<label>red chip<select name="red_chip"><option value="false">no</option>
<option value="true">yes</option></select></label>
<label>WVR<select name="wvr"><option value="false">no</option><option value="true">yes</option>
</select></label>
<button type="submit">Check</button></form>
<div id="ls-err" class="err"></div><div id="ls-out"></div>""",
    "bonds": """
<h1>Sci-tech innovation bonds 科创债</h1><p class="meta" id="bd-meta">loading…</p>
<div id="bd-err" class="err"></div><div id="bd-out"></div>""",
}

PAGES: dict[str, Page] = {path: Page(key, title, _BODIES[key]) for path, key, title in NAV}


def render(page: Page) -> str:
    nav = "".join(f'<a href="{p}"{" class=on" if k == page.key else ""}>{html.escape(t)}</a>'
                  for p, k, t in NAV)
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(page.title)} · kechuang</title>"
            f"<style>{CSS}{EXTRA_CSS}</style>"
            '<script src="/static/plotly.min.js"></script></head>'
            f'<body data-page="{page.key}"><header><span class="brand">科创 kechuang</span>{nav}'
            '<a href="/board-report">Board report 板块报告</a>'
            f'<a href="/openapi.json">API (OpenAPI)</a></header><main>{page.body}</main>'
            '<script src="/static/app.js"></script></body></html>')
