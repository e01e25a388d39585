"""Move attribution for an index session, and sector-basket volatility.

A constituent's contribution is its weight at the reference (previous) prices times its return:
w_i = q_i ref_i / sum(q ref), r_i = p_i / ref_i - 1. With the divisor-linked level
(kernels.index.chain_levels) the contributions add up exactly to the index return.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from kechuang.engines.breadth import Panel
from kechuang.engines.index import IndexResult

# Theme baskets by industry (securities.industry). The store has no theme tags, so "AI" is a
# proxy: software services, IT equipment and internet names.
DEFAULT_BASKETS: dict[str, list[str]] = {
    "semiconductors": ["半导体"],
    "ai_proxy_software_it": ["软件服务", "IT设备", "互联网"],
    "biomedicine": ["医疗保健", "生物制药", "化学制药"],
}


def _day_arrays(res: IndexResult) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    a = res.arrays
    return a["price"], a["ref"], a["qty"], a["codes"]


def session_attribution(res: IndexResult, date: pd.Timestamp, industry: dict[str, str]
                        ) -> dict[str, Any]:
    price, ref, qty, codes = _day_arrays(res)
    t = int(np.nonzero(res.levels["date"].to_numpy() == np.datetime64(date))[0][0])
    cols = np.nonzero(qty[t] > 0)[0]
    wv = qty[t, cols] * ref[t, cols]
    w = wv / wv.sum()
    r = price[t, cols] / ref[t, cols] - 1.0
    contrib = w * r
    stocks = pd.DataFrame({"code": codes[cols], "industry": [industry.get(str(c), "unknown")
                                                             for c in codes[cols]],
                           "weight": w, "return": r, "contribution": contrib})
    stocks = stocks.sort_values("contribution", ascending=False).reset_index(drop=True)
    sectors = (stocks.groupby("industry")
               .agg(n=("code", "size"), weight=("weight", "sum"),
                    contribution=("contribution", "sum"),
                    n_fell=("return", lambda x: int((x < 0).sum())))
               .sort_values("contribution", ascending=False).reset_index())
    lv = res.levels["level"].to_numpy()
    idx_ret = lv[t] / lv[t - 1] - 1.0
    n_fell = int((r < 0).sum())
    return {"index": res.spec.code, "date": str(date.date()), "index_return": float(idx_ret),
            "sum_of_contributions": float(contrib.sum()), "n_constituents": len(cols),
            "n_fell": n_fell, "n_rose": int((r > 0).sum()), "n_unchanged": int((r == 0).sum()),
            "headline": f"{n_fell} of {len(cols)} constituents fell; index "
                        f"{idx_ret * 100:+.2f}%",
            "stocks": stocks, "sectors": sectors}


def daily_summary(res: IndexResult) -> pd.DataFrame:
    """Per session: index return, constituents that fell / rose, top contributor."""
    price, ref, qty, codes = _day_arrays(res)
    on = qty > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(on, price / ref - 1.0, np.nan)
        wv = np.where(on, qty * ref, 0.0)
        w = wv / wv.sum(axis=1, keepdims=True)
        c = np.where(on, w * np.nan_to_num(r), 0.0)
    lv = res.levels["level"].to_numpy()
    top = np.argmax(c, axis=1)
    df = pd.DataFrame({"date": res.levels["date"],
                       "index_return": np.r_[np.nan, lv[1:] / lv[:-1] - 1.0],
                       "n_constituents": on.sum(axis=1), "n_fell": (r < 0).sum(axis=1),
                       "n_rose": (r > 0).sum(axis=1), "top_contributor": codes[top],
                       "top_contribution": c[np.arange(len(top)), top]})
    return df.iloc[1:].reset_index(drop=True)


def basket_volatility(panel: Panel, industry: dict[str, str],
                      baskets: dict[str, list[str]] | None = None,
                      sessions_per_year: float = 242.0) -> pd.DataFrame:
    """Annualised volatility of equal-weighted daily returns of each basket (own bars; a bar
    with an unknown return is skipped), plus 'rest' = every stock in no basket."""
    baskets = baskets or DEFAULT_BASKETS
    adj = panel.adj_close
    prev = pd.DataFrame(adj).ffill().shift(1).to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        r = adj / prev - 1.0
    r[~panel.ret_ok] = np.nan
    # a stock's first bar and bars in the no-limit window (IPO pops) are not ordinary returns
    r[panel.session_no <= 5] = np.nan
    ind = np.array([industry.get(str(c), "unknown") for c in panel.codes])
    rows = []
    used = np.zeros(len(ind), dtype=bool)
    groups = list(baskets.items())
    for name, members in groups:
        cols = np.isin(ind, members)
        used |= cols
        rows.append((name, cols))
    rows.append(("rest", ~used))
    rows.append(("board", np.ones(len(ind), dtype=bool)))
    out = []
    for name, cols in rows:
        sub = r[:, cols]
        cnt = np.isfinite(sub).sum(axis=1)
        br = np.where(cnt > 0, np.nansum(sub, axis=1) / np.maximum(cnt, 1), np.nan)
        br = br[np.isfinite(br)]
        vol = float(np.std(br, ddof=1) * math.sqrt(sessions_per_year)) if len(br) > 1 \
            else float("nan")
        out.append({"basket": name, "n_stocks": int(cols.sum()), "sessions": len(br),
                    "ann_vol": vol,
                    "industries": ",".join(baskets.get(name, [])) if name in baskets else name})
    return pd.DataFrame(out)
