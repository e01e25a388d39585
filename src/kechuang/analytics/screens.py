"""Company screens (star-market-reference.md section 9): valuation (PS, price to R&D, PE, PEG
where defined), Dickinson lifecycle stage from cash-flow signs, R&D intensity, and the
speculation checks (patent count, order-backlog traceability, valuation matching) as optional
inputs. A value that the data cannot support is the text "insufficient data" (or "not defined:
<why>" where the formula has no meaning), never a number.

Definitions used:
- PS = market value / revenue of the latest fiscal year published by the as-of date (annual
  reports are due four months after year end, so FY Y counts from May of Y+1).
- Price to R&D (市研率) = market value / R&D investment (研发投入); PE = market value / net
  profit (as reported).
- PEG = PE / (growth in %), growth = trailing net-profit growth of the last two fiscal years
  (a stand-in for expected EPS growth, which is not in the data); undefined when either profit
  is <= 0 or growth <= 0 (section 9).
- Dickinson (2011) stage from the signs of CFO, CFI, CFF; a flow within 1% of revenue is
  treated as zero and the stage as undefined (section 9's materiality band).
- Valuation matching: a company's PS against the median PS of its cluster among the screened
  companies (needs 5 peers); "above" beyond 2x the median, "below" under 0.5x.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from kechuang.analytics.figures import INSUFFICIENT

DICKINSON = {
    ("-", "-", "+"): "introduction",
    ("+", "-", "+"): "growth",
    ("+", "-", "-"): "mature",
    ("-", "-", "-"): "shake-out",
    ("+", "+", "+"): "shake-out",
    ("+", "+", "-"): "shake-out",
    ("-", "+", "+"): "decline",
    ("-", "+", "-"): "decline",
}
MATERIALITY = 0.01
MIN_PEERS = 5
RICH, CHEAP = 2.0, 0.5


def _num(x: Any) -> float | None:
    if x is None:
        return None
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


def dickinson_stage(cfo: Any, cfi: Any, cff: Any, revenue: Any = None) -> str:
    flows = [_num(cfo), _num(cfi), _num(cff)]
    if any(v is None for v in flows):
        return INSUFFICIENT
    band = MATERIALITY * abs(_num(revenue) or 0.0)
    if any(abs(v) <= band for v in flows if v is not None):
        return "not defined: a cash flow within 1% of revenue"
    signs = tuple("+" if (v or 0) > 0 else "-" for v in flows)
    return DICKINSON[signs]  # type: ignore[index]


def _ratio(num: float | None, den: float | None, what: str) -> float | str:
    if num is None or den is None:
        return INSUFFICIENT
    if den <= 0:
        return f"not defined: {what} <= 0"
    return round(num / den, 2)


def screen_row(r: dict[Any, Any]) -> dict[str, Any]:
    """One company. Keys read: code, name, cluster, market_value, mv_date, fy, revenue,
    net_profit, net_profit_prev, rd (R&D investment), cfo, cfi, cff, patents,
    invention_patents, order_backlog, backlog_source."""
    mv, rev = _num(r.get("market_value")), _num(r.get("revenue"))
    np0, np1, rd = _num(r.get("net_profit")), _num(r.get("net_profit_prev")), _num(r.get("rd"))
    out: dict[str, Any] = {"code": r.get("code"), "name": r.get("name"),
                           "cluster": r.get("cluster") or INSUFFICIENT,
                           "fiscal_year": (f"FY{int(fy)}" if (fy := _num(r.get("fy")))
                                           else INSUFFICIENT),
                           "mv_date": r.get("mv_date") or INSUFFICIENT}
    out["ps"] = _ratio(mv, rev, "revenue")
    out["price_to_rd"] = _ratio(mv, rd, "R&D")
    out["pe"] = _ratio(mv, np0, "net profit")
    if mv is None or np0 is None or np1 is None:
        out["peg"] = INSUFFICIENT
    elif np0 <= 0 or np1 <= 0:
        out["peg"] = "not defined: loss in one of the two years"
    else:
        growth = (np0 / np1 - 1) * 100
        out["peg"] = ("not defined: earnings growth <= 0" if growth <= 0
                      else round((mv / np0) / growth, 2))
    out["rd_intensity_pct"] = (INSUFFICIENT if rd is None or rev is None else
                               "not defined: revenue <= 0" if rev <= 0 else
                               round(rd / rev * 100, 1))
    out["lifecycle"] = dickinson_stage(r.get("cfo"), r.get("cfi"), r.get("cff"), rev)
    pat, inv = _num(r.get("patents")), _num(r.get("invention_patents"))
    out["patents"] = INSUFFICIENT if pat is None else int(pat)
    out["invention_patent_share_pct"] = (INSUFFICIENT if pat is None or inv is None else
                                         "not defined: no patents" if pat <= 0 else
                                         round(inv / pat * 100, 1))
    backlog, src = _num(r.get("order_backlog")), r.get("backlog_source")
    has_src = isinstance(src, str) and src.strip() != ""
    out["order_backlog"] = (INSUFFICIENT if backlog is None else
                            "traceable" if has_src else "claimed, no source given")
    return out


def screen(frame: pd.DataFrame) -> pd.DataFrame:
    """Screens for every row, plus valuation matching within clusters."""
    rows = [screen_row(r) for r in frame.to_dict("records")]
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    ps = pd.to_numeric(out["ps"].where(out["ps"].map(lambda v: isinstance(v, float))),
                       errors="coerce")
    match: list[Any] = []
    for i, r in out.iterrows():
        peers = ps[(out["cluster"] == r["cluster"]) & (out.index != i)].dropna()
        if not isinstance(r["ps"], float) or len(peers) < MIN_PEERS:
            match.append(INSUFFICIENT)
            continue
        rel = r["ps"] / float(peers.median())
        verdict = "above peers" if rel > RICH else "below peers" if rel < CHEAP else "in line"
        match.append(f"{verdict} ({rel:.2f}x cluster median PS, {len(peers)} peers)")
    out["valuation_match"] = match
    return out
