"""The bundled early companies run through the listing checker with their pre-listing figures.

What is used (and what is not in the data):
- Statements: the last three fiscal years ending before the listing date (`financials`, bundled
  FY2016-2019). Net profit before and after non-recurring items of the last two years, revenue
  of the last year, three-year revenue and operating cash flow.
- Expected market value is **not in the data**. We use the market value at the IPO price:
  the exchange pre-close on the listing day (which is the issue price) times the total shares of
  the listing day (`bars_daily` raw + `shares`). The first-day closing market value is shown
  beside it; it is usually far higher (first-day gains), so it would overstate what the issuer
  could claim when it filed.
- R&D (for standard 2) is not in the bundled statements, so standard 2 reads "missing rd_3y"
  unless its market value or revenue test already fails.
- Standard 5's approvals / Phase II / technological advantage are not in the data: "missing"
  unless the market value test fails.
- Red chip: only CDR issuers (689xxx) are known to be red chips; other red chips (e.g. those
  listed in Hong Kong) are not identified, so they are checked against standards 1-5. WVR from
  the W mark at the master snapshot.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kechuang.rules import listing

STATUS_MARK = {"met": "yes", "not_met": "no", "missing": "?", "not_applicable": "-"}


def prelisting_figures(fin: pd.DataFrame, company: dict[Any, Any]) -> tuple[
        listing.Figures | None, dict[str, Any]]:
    """Figures of one company from statements before its listing date; None if no year."""
    ld = pd.Timestamp(company["list_date"])
    f = fin[(fin["code"] == company["code"]) & (pd.to_datetime(fin["period_end"]) < ld)].copy()
    pe = pd.to_datetime(f["period_end"])
    f = f[(pe.dt.month == 12) & (pe.dt.day == 31)].sort_values("period_end", ascending=False)
    info: dict[str, Any] = {"fy": None, "years": len(f)}
    if f.empty:
        return None, info
    last3 = f.head(3)
    y0 = f.iloc[0]
    y1 = f.iloc[1] if len(f) > 1 else None
    info["fy"] = int(pd.Timestamp(y0["period_end"]).year)

    def pair(col: str) -> tuple[float, float] | None:
        if y1 is None or pd.isna(y0[col]) or pd.isna(y1[col]):
            return None
        return (float(y0[col]), float(y1[col]))

    def sum3(col: str) -> float | None:
        if len(last3) < 3 or last3[col].isna().any():
            return None
        return float(last3[col].sum())

    rev = None if pd.isna(y0["revenue"]) else float(y0["revenue"])
    rev3 = sum3("revenue")
    if rev is not None and rev3 is not None and rev > rev3:
        rev3 = None  # inconsistent source rows; leave the three-year figure out
    mv = company.get("ipo_mv")
    figures = listing.Figures(
        market_value=None if mv is None or pd.isna(mv) else float(mv),
        net_profit=pair("net_profit"), net_profit_deducted=pair("net_profit_deducted"),
        revenue=None if rev is None or rev < 0 else rev, revenue_3y=rev3,
        cfo_3y=sum3("cfo"), red_chip=bool(company.get("red_chip")),
        wvr=bool(company.get("flag_w")))
    return figures, info


def checker_table(fin: pd.DataFrame, companies: pd.DataFrame) -> pd.DataFrame:
    """One row per company: the figures used and each test's outcome (yes / no / ? / -)."""
    rows = []
    for c in companies.to_dict("records"):
        figs, info = prelisting_figures(fin, c)
        row: dict[str, Any] = {"code": c["code"], "name": c["name"],
                               "list_date": str(c["list_date"])[:10], "fy": info["fy"],
                               "ipo_mv_bn": _bn(c.get("ipo_mv")),
                               "first_day_mv_bn": _bn(c.get("first_day_mv"))}
        if figs is None:
            row.update({t: "?" for t in listing.STANDARDS} | {"eligible": "?",
                        "note": "no statement before listing"})
            rows.append(row)
            continue
        on = max(pd.Timestamp(c["list_date"]).date(), listing.BOARD_OPEN)
        check = listing.check_listing(figs, on)
        for r in check.results:
            row[r.test] = STATUS_MARK[r.status]
        row["eligible"] = {True: "yes", False: "no", None: "?"}[check.eligible]
        row["revenue_m"] = None if figs.revenue is None else round(figs.revenue / 1e6, 1)
        p0 = figs.profit(0)
        row["np_lower_m"] = None if p0 is None else round(p0 / 1e6, 1)
        row["note"] = "; ".join(f"{r.test}: {r.reason}" for r in check.results
                                if r.status == "missing")[:200]
        rows.append(row)
    return pd.DataFrame(rows)


def unprofitable_at_listing(fin: pd.DataFrame, securities: pd.DataFrame) -> set[str]:
    """Codes whose last annual statement before listing shows a loss both before and after
    non-recurring items (surely unprofitable at listing, whatever profit measure the U mark
    uses)."""
    m = fin.merge(securities[["code", "list_date"]], on="code")
    pe = pd.to_datetime(m["period_end"])
    m = m[(pe < pd.to_datetime(m["list_date"])) & (pe.dt.month == 12) & (pe.dt.day == 31)]
    last = m.sort_values("period_end").groupby("code").tail(1)
    return set(last.loc[(last["net_profit"] <= 0) & (last["net_profit_deducted"] <= 0), "code"])


def _bn(x: Any) -> float | None:
    if x is None or pd.isna(x):
        return None
    return round(float(x) / 1e9, 2)


def summary(table: pd.DataFrame) -> dict[str, dict[str, int]]:
    """Per test: how many companies met / did not meet / could not be decided."""
    out = {}
    for t in (*listing.STANDARDS, "eligible"):
        if t in table.columns:
            vc = table[t].value_counts()
            out[t] = {k: int(vc.get(k, 0)) for k in ("yes", "no", "?", "-") if vc.get(k, 0)}
    return out
