"""Index, breadth and attribution API: reads the store, builds arrays, calls the engines.

`index(...)` rebuilds an index (STAR 50 by default) from raw bars (bars_daily source 'raw') and
share counts (shares source 'ganlei333'); `review(...)` simulates the next review;
`breadth(...)` computes market breadth over a universe; `attribution(...)` splits an index
session's move into stock and sector contributions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kechuang.core.dates import parse_date
from kechuang.core.errors import DateRangeError, MissingDataError, StarError, UnknownCodeError
from kechuang.data.store import Store, open_store
from kechuang.engines import attribution as attr_engine
from kechuang.engines import index as idx_engine
from kechuang.engines.breadth import BreadthResult, Panel, compute_breadth
from kechuang.rules.index_methodology import ALIASES, SPECS, IndexSpec

SHARES_SOURCE = "ganlei333"
FREE_FLOAT_NOTE = "float (tradable A) shares stand in for free-float shares"


def get_spec(index: str) -> IndexSpec:
    key = str(index).strip().lower()
    code = ALIASES.get(key, key.split(".")[0])
    if code not in SPECS:
        raise UnknownCodeError(f"unknown index {index!r}; known: "
                               + ", ".join(f"{s.code} ({s.name})" for s in SPECS.values()))
    return SPECS[code]


def _d(x: Any) -> dt.date | None:
    return None if x is None else parse_date(x)


# ------------------------------------------------------------------ loading
def _pivot(df: pd.DataFrame, col: str, dates: pd.DatetimeIndex, codes: list[str]
           ) -> np.ndarray:
    p = df.pivot(index="date", columns="code", values=col)
    return p.reindex(index=dates, columns=codes).to_numpy(dtype=np.float64)


def load_index_data(store: Store, end: dt.date | None = None) -> idx_engine.IndexData:
    """All raw bars and share counts to `end` as (sessions x codes) arrays."""
    end_sql = str(end) if end else "9999-12-31"
    bars = store.query(
        "SELECT code, date, close, amount FROM bars_daily WHERE source = 'raw' AND date <= ? "
        "ORDER BY code, date", [end_sql])
    if bars.empty:
        raise MissingDataError("the store has no raw bars (bars_daily source 'raw'); "
                               "run `kechuang ingest --bundled`")
    sh = store.query(
        "SELECT code, date, total_shares, float_shares FROM shares WHERE source = ? "
        "AND date <= ?", [SHARES_SOURCE, end_sql])
    if sh.empty:
        raise MissingDataError(f"the store has no share counts from source '{SHARES_SOURCE}'")
    sec = store.query("SELECT code, list_date FROM securities")
    adj = store.query("SELECT code, ex_date AS date, factor FROM adjustments "
                      "WHERE factor IS NOT NULL AND ex_date <= ?", [end_sql])
    ah = store.query("SELECT DISTINCT code FROM bar_flags WHERE kind = "
                     "'one_day_total_share_glitch'")
    st = store.query("SELECT code, name, first_seen, last_seen FROM name_history "
                     "WHERE name LIKE '%ST%'")
    dates = pd.DatetimeIndex(sorted(bars["date"].unique()))
    codes = sorted(bars["code"].unique())
    lst = sec.set_index("code")["list_date"].reindex(codes)
    first_bar = bars.groupby("code")["date"].min().reindex(codes)
    list_dates = pd.to_datetime(lst.fillna(first_bar)).to_numpy().astype("datetime64[D]")
    bf = _pivot(adj, "factor", dates, codes)
    st_mask = np.zeros((len(dates), len(codes)), dtype=bool)
    col = {c: i for i, c in enumerate(codes)}
    for r in st.itertuples():
        if r.code in col:
            a, b = pd.Timestamp(str(r.first_seen)), pd.Timestamp(str(r.last_seen))
            st_mask[(dates >= a) & (dates <= b), col[str(r.code)]] = True
    return idx_engine.IndexData(
        dates=dates.to_numpy().astype("datetime64[D]"), codes=np.array(codes),
        list_dates=list_dates, close=_pivot(bars, "close", dates, codes),
        amount=_pivot(bars, "amount", dates, codes),
        total_shares=_pivot(sh, "total_shares", dates, codes),
        float_shares=_pivot(sh, "float_shares", dates, codes),
        bonus_factor=np.nan_to_num(bf, nan=1.0), st=st_mask,
        a_plus_h=np.isin(np.array(codes), ah["code"].to_numpy()),
        shares_end=pd.Timestamp(sh["date"].max()).date(), shares_source=SHARES_SOURCE)


def _names(store: Store) -> dict[str, str]:
    df = store.query("SELECT code, name, industry FROM securities")
    return dict(zip(df["code"], df["name"], strict=True))


def _industries(store: Store) -> dict[str, str]:
    df = store.query("SELECT code, industry FROM securities")
    return {c: (i if isinstance(i, str) else "unknown")
            for c, i in zip(df["code"], df["industry"], strict=True)}


# ------------------------------------------------------------------ index
def default_end(data: idx_engine.IndexData, spec: IndexSpec) -> dt.date:
    """Last session the data supports: before the first review whose cut-off or weight
    snapshot falls after the last share count."""
    last = dt.date.fromisoformat(str(data.dates[-1]))
    for d in idx_engine.index_review_dates(spec.base_date.year, last.year):
        if d > spec.base_date and idx_engine._cutoff(d) > data.shares_end:
            return dt.date.fromisoformat(str(data.dates[data.pos(d - dt.timedelta(days=1))]))
    return min(last, data.shares_end)


def index(code: str = "000688", start: Any = None, end: Any = None,
          db: str | Path | None = None, ah_ranking: str = "float") -> idx_engine.IndexResult:
    """Rebuild an index from raw bars and share counts. Default: STAR 50 from its base date to
    the last session the share counts support. `ah_ranking` ('float' or 'total'): the shares
    A+H companies are ranked on, since the store lacks their A-share totals."""
    spec = get_spec(code)
    s, e = _d(start), _d(end)
    if s is not None and s < spec.base_date:
        raise DateRangeError(f"{spec.name} starts on its base date {spec.base_date}; "
                             f"{s} is before it")
    with open_store(db) as st:
        data = load_index_data(st)
    data.ah_ranking = ah_ranking
    e = e or default_end(data, spec)
    return idx_engine.build(data, spec, s, e)


def export_index(res: idx_engine.IndexResult, out: str | Path) -> list[str]:
    """Write levels.csv (date, level incl. the base row), members.csv (review_date, code for the
    launch list and every review) and weights.csv (date, code, weight for every session)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lv = res.levels[["date", "level"]].copy()
    lv["date"] = lv["date"].dt.strftime("%Y-%m-%d")
    lv.to_csv(out / "levels.csv", index=False)
    kinds = ("launch", "review") if any(r["kind"] == "launch" for r in res.reviews) \
        else ("base", "review")
    rows = [(str(r["effective_date"]), c) for r in res.reviews if r["kind"] in kinds
            for c in sorted(r["members"])]
    pd.DataFrame(rows, columns=["review_date", "code"]).to_csv(out / "members.csv", index=False)
    w = res.weights.copy()
    w["date"] = w["date"].dt.strftime("%Y-%m-%d")
    w.sort_values(["date", "code"]).to_csv(out / "weights.csv", index=False)
    return [str(out / n) for n in ("levels.csv", "members.csv", "weights.csv")]


def review(code: str = "000688", as_of: Any = None, db: str | Path | None = None
           ) -> dict[str, Any]:
    """Expected changes at the next review from data as of `as_of` (default: the last session
    with share counts): entrants, leavers and new weight factors."""
    spec = get_spec(code)
    with open_store(db) as st:
        data = load_index_data(st)
        names = _names(st)
    d = _d(as_of) or data.shares_end
    if d < spec.base_date:
        raise DateRangeError(f"{spec.name} starts on its base date {spec.base_date}; "
                             f"{d} is before it")
    if d > data.shares_end:
        raise MissingDataError(f"share counts ({SHARES_SOURCE}) end {data.shares_end}; "
                               f"cannot simulate a review as of {d}")
    built = idx_engine.build(data, spec, None, d)
    members = built.members_on(built.levels["date"].iloc[-1])
    out = idx_engine.simulate_review(data, spec, members, d)
    out["table"].insert(1, "name", out["table"]["code"].map(names))
    out["notes"] = [FREE_FLOAT_NOTE, *spec.unverified]
    return out


def fidelity(code: str = "000688", db: str | Path | None = None,
             result: idx_engine.IndexResult | None = None) -> dict[str, Any]:
    """The rebuilt index against the official levels in `index_levels`."""
    spec = get_spec(code)
    res = result or index(code, db=db)
    with open_store(db) as st:
        off = st.query("SELECT date, close FROM index_levels WHERE index_code = ? "
                       "ORDER BY date", [spec.code])
        val = st.query("SELECT date, total_mv FROM index_valuation WHERE index_code = ? "
                       "AND total_mv IS NOT NULL ORDER BY date", [spec.code])
        mv = st.query("SELECT code, date, total_mv FROM shares WHERE source = ?",
                      [SHARES_SOURCE])
        shares_end = pd.Timestamp(str(st.scalar(
            "SELECT max(date) FROM shares WHERE source = ?", [SHARES_SOURCE]))).date()
    if off.empty:
        raise MissingDataError(f"no official levels for {spec.code} in index_levels")
    ours = res.levels.set_index("date")["level"]
    offs = off.set_index(pd.to_datetime(off["date"]))["close"]
    out: dict[str, Any] = {"index": spec.code, "notes": res.notes}
    build_end = ours.index[-1].date()
    data_end = min(build_end, shares_end)
    windows = {"full": (dt.date(2020, 1, 2), data_end),      # the comparison window
               "live": (spec.live_date, data_end),           # real-time series from launch
               "to_build_end": (dt.date(2020, 1, 2), build_end)}  # frozen shares after the end
    for k, (a, b) in windows.items():
        out[k] = idx_engine.tracking_stats(ours, offs, a, b, base=spec.base_date)
    # constituent-set check: sum of total MV of our members vs the vendor's weekly sum
    if not val.empty:
        w = res.weights
        mvp = mv.assign(date=pd.to_datetime(mv["date"]))
        ours_mv = (w.merge(mvp, on=["date", "code"]).groupby("date")["total_mv"].sum())
        v = val.assign(date=pd.to_datetime(val["date"])).set_index("date")["total_mv"]
        j = pd.concat([ours_mv.rename("ours"), v.rename("vendor")], axis=1).dropna()
        if len(j):
            ratio = j["ours"] / j["vendor"]
            out["member_mv_check"] = {
                "weeks": len(j), "ratio_median": float(ratio.median()),
                "ratio_min": float(ratio.min()), "ratio_max": float(ratio.max()),
                "note": "sum of total market value of the rebuilt members / the weekly sum over "
                        "the official members (index_valuation, Tushare weekly); 1.0 when the "
                        "sets agree"}
    return out


# ------------------------------------------------------------------ breadth
def load_panel(store: Store, start: dt.date | None, end: dt.date | None,
               warmup: int = 260) -> Panel:
    """Raw bars with adjustment factors and flags as a breadth panel. `warmup` sessions before
    `start` are loaded so moving averages and highs/lows are defined from `start`."""
    ses = pd.DatetimeIndex(pd.to_datetime(
        store.query("SELECT date FROM sessions ORDER BY date")["date"]))
    lo = ses[max(0, int(ses.searchsorted(pd.Timestamp(start))) - warmup)] if start else ses[0]
    hi = pd.Timestamp(end) if end else ses[-1]
    bars = store.query(
        "SELECT code, date, close, high, pre_close FROM bars_daily WHERE source = 'raw' "
        "AND date BETWEEN ? AND ? ORDER BY code, date", [lo.date(), hi.date()])
    if bars.empty:
        raise DateRangeError(f"no raw bars between {lo.date()} and {hi.date()}")
    adj = store.query("SELECT code, ex_date AS date, factor FROM adjustments "
                      "WHERE ex_date BETWEEN ? AND ?", [lo.date(), hi.date()])
    flags = store.query("SELECT code, date FROM bar_flags WHERE source = 'raw' AND "
                        "kind = 'ex_rights_gap' AND date BETWEEN ? AND ?", [lo.date(), hi.date()])
    sec = store.query("SELECT code, list_date FROM securities")
    dates = pd.DatetimeIndex(sorted(bars["date"].unique()))
    codes = sorted(bars["code"].unique())
    close = _pivot(bars, "close", dates, codes)
    high = _pivot(bars, "high", dates, codes)
    pre = _pivot(bars, "pre_close", dates, codes)
    # previous own raw close (for limits where the exchange pre-close is missing)
    prev_raw = pd.DataFrame(close).ffill().shift(1).to_numpy(copy=True)
    prev_raw[np.isnan(close)] = np.nan
    limit_ref = np.where(np.isfinite(pre), pre, prev_raw)
    factor = _pivot(adj.assign(factor=adj["factor"].fillna(-1.0)), "factor", dates, codes)
    exr = np.isfinite(factor)
    fl = flags.assign(v=1.0)
    exr |= np.isfinite(_pivot(fl, "v", dates, codes))
    # backward-adjusted closes: multiply by the running product of known factors; a bar whose
    # event factor is unknown has no known return
    f = np.where(np.isfinite(factor) & (factor > 0), factor, 1.0)
    cum = np.cumprod(f, axis=0)
    adj_close = close * cum
    ret_ok = ~(exr & ~(np.isfinite(factor) & (factor > 0)))
    lst = sec.set_index("code")["list_date"].reindex(codes)
    first_bar = bars.groupby("code")["date"].min().reindex(codes)
    ld = pd.to_datetime(lst.fillna(first_bar)).to_numpy().astype("datetime64[D]")
    all_ses = ses.to_numpy().astype("datetime64[D]")
    pos_list = np.searchsorted(all_ses, ld)
    pos_date = np.searchsorted(all_ses, dates.to_numpy().astype("datetime64[D]"))
    session_no = (pos_date[:, None] - pos_list[None, :] + 1).astype(np.int64)
    return Panel(dates.to_numpy().astype("datetime64[D]"), np.array(codes), adj_close, close,
                 high, limit_ref, session_no, exr, ret_ok)


@dataclass
class Breadth:
    table: pd.DataFrame
    result: BreadthResult
    universe: str
    notes: list[str]

    def ladder(self, date: Any) -> pd.DataFrame:
        return self.result.ladder(str(parse_date(date)))


def _universe_mask(store: Store, panel: Panel, universe: Any, db: Any) -> tuple[np.ndarray, str]:
    shape = panel.adj_close.shape
    if universe is None or (isinstance(universe, str) and universe.lower() in ("board", "all")):
        return np.ones(shape, dtype=bool), "board"
    if isinstance(universe, str) and universe.lower().startswith(("sector:", "industry:")):
        name = universe.split(":", 1)[1]
        ind = _industries(store)
        cols = np.array([ind.get(str(c)) == name for c in panel.codes])
        if not cols.any():
            known = sorted({v for v in ind.values() if v})
            raise StarError(f"no STAR securities in sector {name!r}; sectors: "
                            + ", ".join(known))
        return np.broadcast_to(cols, shape).copy(), f"sector {name}"
    is_index = isinstance(universe, str) and (
        universe.strip().lower() in ALIASES or universe.strip().split(".")[0] in SPECS
        or not universe.replace(",", "").strip().isdigit())
    if is_index:
        spec = get_spec(universe)
        end = dt.date.fromisoformat(str(panel.dates[-1]))
        data = load_index_data(store)
        built = idx_engine.build(data, spec, None, min(end, default_end(data, spec)))
        w = built.weights
        col = {str(c): i for i, c in enumerate(panel.codes)}
        row = {d: i for i, d in enumerate(pd.to_datetime(panel.dates))}
        mask = np.zeros(shape, dtype=bool)
        ri = w["date"].map(row)
        ci = w["code"].map(col)
        ok = ri.notna() & ci.notna()
        mask[ri[ok].astype(int), ci[ok].astype(int)] = True
        return mask, f"{spec.name} members (rebuilt)"
    codes = [c.strip() for c in universe.split(",")] if isinstance(universe, str) \
        else [str(c) for c in universe]
    from kechuang.core.ids import normalize_code
    codes = [normalize_code(c) for c in codes]
    known_codes = set(store.query("SELECT code FROM securities")["code"])
    missing = [c for c in codes if c not in known_codes]
    if missing:
        raise UnknownCodeError(f"unknown STAR code(s): {', '.join(missing[:5])}")
    label = "codes " + ",".join(codes[:5]) + (" ..." if len(codes) > 5 else "")
    return np.broadcast_to(np.isin(panel.codes, codes), shape).copy(), label


def breadth(universe: Any = "board", start: Any = None, end: Any = None,
            db: str | Path | None = None, ma_windows: tuple[int, ...] = (20, 60, 250),
            hl_window: int = 250, hl_min_history: int = 60) -> Breadth:
    """Daily breadth over a universe: 'board' (every STAR stock), an index ('000688': its
    rebuilt members each day), 'sector:<industry>', or a list of codes."""
    s, e = _d(start), _d(end)
    if s and e and s > e:
        raise DateRangeError(f"start {s} is after end {e}")
    with open_store(db) as st:
        panel = load_panel(st, s, e)
        mask, label = _universe_mask(st, panel, universe, db)
    res = compute_breadth(panel, mask, ma_windows, hl_window, hl_min_history)
    t = res.table
    if s:
        t = t[t["date"] >= pd.Timestamp(s)]
    if t.empty:
        raise DateRangeError(f"no sessions with data between {s} and {e}")
    if int(t["n_members"].sum()) == 0:
        raise StarError(f"the universe {label} has no members with bars between "
                        f"{t['date'].iloc[0].date()} and {t['date'].iloc[-1].date()}")
    t = t.reset_index(drop=True)
    notes = ["returns on adjusted closes (adjustments table); limits on raw closes vs the "
             "exchange pre-close (previous raw close where missing)",
             "first 5 sessions after listing and ex-rights sessions excluded from limit counts",
             f"new highs/lows over {hl_window} own sessions, from {hl_min_history} sessions "
             "of history", "McClellan oscillator ratio-adjusted: (A-D)/(A+D) x 1000"]
    return Breadth(t, res, label, notes)


# ------------------------------------------------------------------ attribution
def attribution(date: Any = None, code: str = "000688", db: str | Path | None = None,
                result: idx_engine.IndexResult | None = None) -> dict[str, Any]:
    """A session's index return split into stock and sector contributions (weight at the
    previous close x return), with how many constituents fell."""
    if date is None:
        raise StarError("give a session date (attribution --date D)")
    res = result or index(code, db=db)
    with open_store(db) as st:
        names = _names(st)
        ind = _industries(st)
        official = _official_returns(st, res.spec.code)
    lv = res.levels
    d = pd.Timestamp(parse_date(date))
    if d <= lv["date"].iloc[0] or d > lv["date"].iloc[-1]:
        raise DateRangeError(f"{d.date()} is outside the rebuilt {res.spec.name} "
                             f"({lv['date'].iloc[1].date()}..{lv['date'].iloc[-1].date()})")
    if d not in set(lv["date"]):
        raise DateRangeError(f"{d.date()} is not a session")
    out = attr_engine.session_attribution(res, d, ind)
    out["stocks"].insert(1, "name", out["stocks"]["code"].map(names))
    off = official.get(d)
    out["official_return"] = None if off is None or pd.isna(off) else float(off)
    return out


def _official_returns(store: Store, code: str) -> pd.Series:
    """Daily returns of the official series (index_levels), by date; empty if absent."""
    off = store.query("SELECT date, close FROM index_levels WHERE index_code = ? ORDER BY date",
                      [code])
    return pd.Series(off["close"].pct_change().to_numpy(), index=pd.to_datetime(off["date"]))


def attribution_days(code: str = "000688", min_return: float = 0.03, max_fell: int = 5,
                     db: str | Path | None = None,
                     result: idx_engine.IndexResult | None = None) -> pd.DataFrame:
    """Sessions where the rebuilt index rose at least `min_return` while at most `max_fell`
    constituents fell (the "+4% with only 2 of 50 down" pattern)."""
    res = result or index(code, db=db)
    with open_store(db) as st:
        official = _official_returns(st, res.spec.code)
    days = attr_engine.daily_summary(res)
    days.insert(2, "official_return", days["date"].map(official))
    return days[(days["index_return"] >= min_return) & (days["n_fell"] <= max_fell)
                ].reset_index(drop=True)


def sector_volatility(start: Any = None, end: Any = None, db: str | Path | None = None,
                      baskets: dict[str, list[str]] | None = None) -> pd.DataFrame:
    """Annualised volatility of equal-weighted sector baskets of STAR stocks (daily returns on
    adjusted closes, own bars)."""
    s, e = _d(start), _d(end)
    with open_store(db) as st:
        panel = load_panel(st, s, e, warmup=0)
        ind = _industries(st)
    return attr_engine.basket_volatility(panel, ind, baskets)
