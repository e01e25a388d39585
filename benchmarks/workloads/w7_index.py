"""W7 index (benchmarks.md): the whole STAR 50 history (base 2019-12-31 to the last session
the share counts support) with launch list, quarterly reviews (buffers, turnover), free-float
banding, 10% / 40% capping through weight factors and the divisor, from the bundled store.

Engines side by side: kechuang.engines.index.build (numpy + numba kernels) and a
straightforward pandas implementation of the same methodology written here (long frames,
groupby for the ranking averages, Series arithmetic for capping, a pivot for the daily levels).
Results are checked equal (levels to 1e-9 relative, the same members at every event, weights to
1e-9) before timing. Setup (building the store, loading arrays and the long frame) is untimed.
Unit: index-days/s.
"""

from __future__ import annotations

import datetime as dt
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.run import time_call


# ------------------------------------------------------------------ pandas implementation
def _band(r: float) -> float:
    """CSI free-float banding (star-market-reference.md section 6.1), written out."""
    p = r * 100.0
    if not p > 0:
        return 0.0
    if p <= 15 + 1e-9:
        return min(math.ceil(p - 1e-9), 15) / 100.0
    if p <= 20 + 1e-9:
        return 0.20
    if p > 80 + 1e-9:
        return 1.0
    return math.ceil((p - 1e-9) / 10.0) / 10.0


def _cap_pd(w: pd.Series, single: float, top: float, n_top: int = 5) -> pd.Series:
    w = w / w.sum()
    for _ in range(1000):
        capped = pd.Series(False, index=w.index)
        while True:
            over = w > single + 1e-12
            if not over.any():
                break
            excess = (w[over] - single).sum()
            w[over] = single
            capped |= over
            free = w[~capped].sum()
            if free <= 1e-12:
                break
            w[~capped] *= (free + excess) / free
        order = w.sort_values(ascending=False, kind="mergesort").index[:n_top]
        s = w[order].sum()
        if s <= top + 1e-10:
            break
        rest = 1.0 - s
        up, down = (1.0 - top) / rest, top / s
        w *= up
        w[order] = w[order] / up * down
    return w


def _add_months(d: dt.date, months: int) -> dt.date:
    from kechuang.rules.index_methodology import add_months

    return add_months(d, months)


def pandas_index(long: pd.DataFrame, sessions: pd.DatetimeIndex, info: pd.DataFrame,
                 spec: Any, end: dt.date) -> tuple[pd.Series, dict[str, list[str]],
                                                   pd.DataFrame]:
    from kechuang.engines.index import schedule, structure_date

    events = schedule(spec, spec.base_date, end)
    ses = sessions[sessions <= pd.Timestamp(end)]
    s0 = ses.get_loc(pd.Timestamp(spec.base_date))
    members: list[str] = []
    launch: list[str] = []
    per_event: list[tuple[pd.Timestamp, pd.Series]] = []
    member_lists: dict[str, list[str]] = {}
    shares_wide = long.pivot(index="date", columns="code", values=["total_shares",
                                                                   "float_shares"])
    for ev in events:
        eff = pd.Timestamp(ev.effective)
        p_eff = ses.get_loc(eff)
        if ev.kind in ("base", "review"):
            cut_ts = ses[ses <= pd.Timestamp(ev.cutoff)][-1]
            c = sessions.get_loc(cut_ts)
            win = long[(long["date"] >= sessions[max(0, c - spec.ranking_sessions + 1)])
                       & (long["date"] <= cut_ts)].copy()
            win["a_total"] = win["float_shares"].where(win["a_plus_h"], win["total_shares"])
            win["mv"] = win["close"] * win["a_total"]
            g = win.groupby("code").agg(avg_mv=("mv", "mean"), avg_amt=("amount", "mean"),
                                        last=("date", "max"))
            g = g.join(info)
            recent = sessions[max(0, c - 19)]
            g = g[(g["list_date"] <= cut_ts) & g["avg_mv"].notna() & (g["last"] >= recent)]
            cut_date = cut_ts.date()
            n_long = int((g["list_date"] < pd.Timestamp(
                _add_months(cut_date, -spec.seasoning.long_months))).sum())
            months = spec.seasoning.at(cut_date, n_long)
            seasoned = g["list_date"] < pd.Timestamp(_add_months(cut_date, -months))
            inc = members if ev.kind == "review" else []
            seasoned |= g.index.isin(inc)
            check = sessions[c + 10].date() if c + 10 < len(sessions) else \
                cut_date + dt.timedelta(days=14)
            top = g.sort_values(["avg_mv"], ascending=False, kind="mergesort").index[
                :spec.fast_entry_top]
            fast = g.index.isin(top) & (g["list_date"] < pd.Timestamp(
                _add_months(check, -spec.fast_entry_months)))
            elig = g[seasoned | fast]
            n_drop = math.floor(len(elig) * spec.liquidity_drop)
            elig = elig.reset_index().sort_values(["avg_amt", "code"], kind="mergesort")
            elig = elig.iloc[n_drop:]
            ranked = elig.sort_values(["avg_mv", "code"], ascending=[False, True],
                                      kind="mergesort")["code"].tolist()
            rank = {cd: i + 1 for i, cd in enumerate(ranked)}
            n = spec.n_constituents
            if not inc:
                chosen = ranked[:n]
            else:
                stay = [cd for cd in ranked if cd in set(inc) and rank[cd] <= 60]
                forced = len(inc) - len(stay)
                k = max(forced, math.floor(spec.max_turnover * n + 1e-9))
                prio = [cd for cd in ranked if cd not in set(inc) and rank[cd] <= 40][:k]
                if len(stay) + len(prio) > n:
                    stay = sorted(stay, key=rank.__getitem__)[:max(n - len(prio), 0)]
                chosen = stay + prio
                for cd in ranked:
                    if len(chosen) >= n:
                        break
                    if cd not in chosen:
                        chosen.append(cd)
            if ev.kind == "base":
                launch = chosen
                chosen = [cd for cd in chosen if info.loc[cd, "list_date"] <= eff]
            new = chosen
        elif ev.kind == "launch":
            new = launch
        else:
            new = members
        # shares at the quarter-end structure (first count for later listings)
        q_ts = ses[ses <= pd.Timestamp(structure_date(ev.effective))]
        last = ses[p_eff] if ev.kind == "base" else ses[p_eff - 1]
        q = q_ts[-1] if len(q_ts) and ev.effective != structure_date(ev.effective) else last
        q = min(q, last)
        sh = shares_wide.loc[q:last]
        tot = sh["total_shares"][new].bfill().iloc[0]
        flt = sh["float_shares"][new].bfill().iloc[0]
        ah = info.loc[new, "a_plus_h"]
        a_total = flt.where(ah, tot)
        incl = (flt / a_total).map(_band)
        adj = a_total * incl
        px = long[(long["date"] <= last) & long["code"].isin(new)]
        px = px.sort_values("date").groupby("code")["close"].last()[new]
        raw = px * adj
        capped = _cap_pd(raw.copy(), spec.single_cap, spec.top5_cap)
        f = capped / (raw / raw.sum())
        f = f / f.max()
        per_event.append((eff, adj * f))
        members = sorted(new)
        if ev.kind in ("launch", "review"):
            member_lists[str(ev.effective)] = sorted(new)
    # daily levels from a pivot of prices (last close carried over suspensions)
    price = long.pivot(index="date", columns="code", values="close").reindex(
        sessions).ffill().loc[ses[s0]:ses[-1]]
    bf = long.pivot(index="date", columns="code", values="bonus_factor").reindex(
        price.index).fillna(1.0)
    bf = bf.where(bf >= 1.05, 1.0)
    qty = pd.DataFrame(0.0, index=price.index, columns=price.columns)
    for i, (eff, q) in enumerate(per_event):
        stop = per_event[i + 1][0] if i + 1 < len(per_event) else None
        rows = (qty.index >= eff) & ((qty.index < stop) if stop is not None else True)
        qty.loc[rows, :] = 0.0
        qty.loc[rows, q.index] = (bf.loc[rows, q.index].cumprod()
                                  * q.to_numpy()[None, :]).to_numpy()
    ref = price.shift(1) / bf
    ref.iloc[0] = price.iloc[0]
    mcap = (qty * price.fillna(0)).sum(axis=1)
    base = (qty * ref.fillna(0)).sum(axis=1)
    ratio = mcap / base
    ratio.iloc[0] = 1.0
    level = spec.base_value * ratio.cumprod()
    w = (qty * price.fillna(0)).div(mcap, axis=0)
    weights = w.stack()
    weights = weights[weights > 0].rename("weight").reset_index()
    weights.columns = ["date", "code", "weight"]
    return level, member_lists, weights


# ------------------------------------------------------------------ runner
def run(dump: Path | None = None, **_: Any) -> dict[str, Any]:
    from kechuang.api.index import default_end, export_index, load_index_data
    from kechuang.data.ingest import ingest_bundled
    from kechuang.data.store import open_store
    from kechuang.engines.index import build
    from kechuang.rules.index_methodology import STAR50

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "w7.duckdb"
        ingest_bundled(db)
        with open_store(db) as st:
            data = load_index_data(st)
    end = default_end(data, STAR50)
    sessions = pd.DatetimeIndex(data.dates)
    t_n, c_n = data.close.shape
    rr, cc = np.nonzero(np.isfinite(data.close))
    long = pd.DataFrame({
        "code": data.codes[cc], "date": sessions[rr], "close": data.close[rr, cc],
        "amount": data.amount[rr, cc], "total_shares": data.total_shares[rr, cc],
        "float_shares": data.float_shares[rr, cc], "bonus_factor": data.bonus_factor[rr, cc],
        "a_plus_h": data.a_plus_h[cc]})
    info = pd.DataFrame({"list_date": pd.to_datetime(data.list_dates),
                         "a_plus_h": data.a_plus_h}, index=pd.Index(data.codes, name="code"))

    def ours() -> Any:
        return build(data, STAR50, None, end)

    def theirs() -> Any:
        return pandas_index(long, sessions, info, STAR50, end)

    res = ours()
    lv, members, weights = theirs()
    ol = res.levels.set_index("date")["level"]
    lv_diff = float((lv.reindex(ol.index) / ol - 1).abs().max())
    ours_members = {str(r["effective_date"]): sorted(r["members"]) for r in res.reviews
                    if r["kind"] in ("launch", "review")}
    same_members = ours_members == members
    wj = res.weights.merge(weights, on=["date", "code"], how="outer", suffixes=("", "_pd"))
    w_diff = float((wj["weight"] - wj["weight_pd"]).abs().max())
    if not (lv_diff < 1e-9 and same_members and w_diff < 1e-9 and len(wj) == len(weights)):
        raise AssertionError(f"W7 engines disagree: level {lv_diff}, members {same_members}, "
                             f"weights {w_diff}")
    n_days = len(res.levels)
    out: dict[str, Any] = {
        "index": STAR50.code, "from": str(res.levels["date"].iloc[0].date()),
        "to": str(end), "index_days": n_days, "events": len(res.reviews),
        "universe": {"sessions": t_n, "codes": c_n},
        "check": {"level_max_rel_diff": lv_diff, "members_equal": same_members,
                  "weight_max_abs_diff": w_diff}, "engines": {}}
    for name, fn in (("kechuang", ours), ("pandas", theirs)):
        t = time_call(fn)
        out["engines"][name] = {**t, "index_days_per_s": n_days / t["median_s"]}
    out["speedup_vs_pandas"] = (out["engines"]["pandas"]["median_s"]
                                / out["engines"]["kechuang"]["median_s"])
    if dump is not None:
        out["dumped"] = export_index(res, dump)
    return out
