"""A deterministic synthetic STAR-like market for scale tests and benchmarks.

``generate(n_stocks, n_sessions, seed)`` builds N stocks over the last T XSHG sessions ending on
`end`, session by session, vectorised across stocks, from one ``numpy.random.PCG64(seed)``
stream, so the same arguments always give the same bars. It has:

- staggered listings: a share of the stocks lists on the first session, the rest on random
  later sessions; a few delist;
- the first 5 sessions after listing without a price limit (star-market-reference.md section 1;
  rules.trading.NO_LIMIT_SESSIONS), with large listing-day moves and unlimited moves after;
- afterwards every price inside the ±20% limit of the previous close, rounded half up to 0.01
  (section 1; rules.trading.PRICE_LIMIT), with limit-up and limit-down closes on purpose;
- suspensions (sessions without a bar), so per-stock quantities must skip gaps.

No ex-rights events are generated: ingesting the bars flags nothing as ``ex_rights_gap``.

The rule values are the STAR values from the rules layer. Windows that start before the board
opened (2019-07-22; a 5,000-session window must) apply the first scheduled value to the
earlier sessions: a stated projection for synthetic data, not a claim about history.

Two ways out: ``ingest(market, store_path)`` stores the securities and bars through the normal
ingest path (kinds 'securities' and 'bars', source 'raw'); that needs valid 688xxx/689xxx codes,
of which there are 2,000. Larger markets (the 5,000-stock benchmark) are written by
``write_parquet`` as a Hive-partitioned ``bars_daily/year=YYYY/`` folder, the layout of
``Store.export_parquet``, and are read from there (e.g. by the out-of-core breadth)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from kechuang.core.errors import ValidationError
from kechuang.rules.trading import NO_LIMIT_SESSIONS, PRICE_LIMIT, round_price_array

MAX_STAR_CODES = 2000  # 688000..688999 and 689000..689999
DEFAULT_END = "2025-12-31"
SOURCE = "raw"
INDUSTRIES = ("semiconductors", "software", "biomedicine", "new energy", "high-end equipment",
              "new materials")


@dataclass(frozen=True)
class SyntheticParams:
    """Shape of the synthetic market (defaults give roughly real STAR behaviour)."""

    first_day_share: float = 0.3  # stocks listed on the first session of the window
    delist_prob: float = 0.02  # chance that a stock delists within the window
    suspend_prob: float = 0.002  # chance per listed session that a suspension starts
    suspend_mean: float = 4.0  # mean suspension length, sessions
    limit_up_prob: float = 0.008  # chance per limited session of a forced limit-up close
    limit_down_prob: float = 0.006  # chance per limited session of a forced limit-down close
    vol_low: float = 0.015  # daily volatility of a stock drawn uniformly in [low, high]
    vol_high: float = 0.04
    ipo_low: float = 8.0  # issue price range, CNY
    ipo_high: float = 80.0


@dataclass
class SyntheticMarket:
    """Securities and daily bars of a synthetic market (long format, sorted by code, date)."""

    securities: pd.DataFrame  # code, name, list_date, delist_date, industry
    bars: pd.DataFrame  # code, date, open, high, low, close, pre_close, volume, amount
    sessions: np.ndarray  # datetime64[D] window
    seed: int

    @property
    def n_bars(self) -> int:
        return len(self.bars)


def synthetic_codes(n: int) -> list[str]:
    """Valid STAR codes (688000.., then 689000..) while they last, else 'Z' + 7 digits."""
    if n <= MAX_STAR_CODES:
        return [f"{688000 + i}" for i in range(n)]
    return [f"Z{i:07d}" for i in range(n)]


def window(n_sessions: int, end: str | dt.date = DEFAULT_END) -> np.ndarray:
    """The last `n_sessions` XSHG sessions ending on or before `end`."""
    from kechuang.data.calendar import sessions_array

    arr = sessions_array()
    stop = int(np.searchsorted(arr, np.datetime64(str(end), "D"), side="right"))
    if n_sessions < 1 or n_sessions > stop:
        raise ValidationError(f"n_sessions={n_sessions}: the XSHG calendar has {stop} sessions "
                              f"up to {end}")
    return arr[stop - n_sessions: stop]


def _dated(schedule: object, sessions: np.ndarray) -> np.ndarray:
    """A rules schedule per session; sessions before its first step take the first value
    (the projection described in the module docstring)."""
    from kechuang.rules.schedule import DatedSchedule

    assert isinstance(schedule, DatedSchedule)
    first = np.datetime64(schedule.steps[0].effective_from, "D")
    d = np.maximum(sessions.astype("datetime64[D]"), first)
    return np.asarray(schedule.to_array(d))


def _sessions_blocks(sessions: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) session index ranges of each calendar year."""
    years = sessions.astype("datetime64[Y]").astype(np.int64)
    cut = np.nonzero(np.diff(years))[0] + 1
    bounds = [0, *cut.tolist(), len(sessions)]
    return list(itertools.pairwise(bounds))


def iter_years(n_stocks: int, n_sessions: int, seed: int = 0, end: str | dt.date = DEFAULT_END,
               params: SyntheticParams | None = None
               ) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield (year, bars of that year) in session order; the whole market is never held.
    Also usable for markets too large for memory. `securities(...)` gives the matching rows."""
    sessions = window(n_sessions, end)
    sec, state = _setup(n_stocks, sessions, seed, params or SyntheticParams())
    codes = np.asarray(sec["code"], dtype=object)
    for lo, hi in _sessions_blocks(sessions):
        block = state.run(lo, hi)
        yield int(str(sessions[lo])[:4]), _long(block, codes, sessions[lo:hi])


def securities(n_stocks: int, n_sessions: int, seed: int = 0, end: str | dt.date = DEFAULT_END,
               params: SyntheticParams | None = None) -> pd.DataFrame:
    sessions = window(n_sessions, end)
    sec, _ = _setup(n_stocks, sessions, seed, params or SyntheticParams())
    return sec


def generate(n_stocks: int, n_sessions: int, seed: int = 0, end: str | dt.date = DEFAULT_END,
             params: SyntheticParams | None = None) -> SyntheticMarket:
    """The whole synthetic market in memory (see the module docstring)."""
    p = params or SyntheticParams()
    sessions = window(n_sessions, end)
    sec = securities(n_stocks, n_sessions, seed, end, p)
    parts = [df for _, df in iter_years(n_stocks, n_sessions, seed, end, p)]
    bars = pd.concat(parts, ignore_index=True).sort_values(["code", "date"], kind="stable")
    return SyntheticMarket(sec, bars.reset_index(drop=True), sessions, seed)


class _State:
    """Per-stock state carried from session to session."""

    def __init__(self, sessions: np.ndarray, list_idx: np.ndarray, delist_idx: np.ndarray,
                 ipo: np.ndarray, vol: np.ndarray, rng: np.random.Generator,
                 p: SyntheticParams) -> None:
        self.sessions = sessions
        self.list_idx = list_idx
        self.delist_idx = delist_idx
        self.vol = vol
        self.rng = rng
        self.p = p
        self.prev = ipo.copy()  # previous own close (the issue price before listing)
        self.n_own = np.zeros(len(ipo), dtype=np.int64)  # own bars so far
        self.suspended_until = np.full(len(ipo), -1, dtype=np.int64)
        self.limit = _dated(PRICE_LIMIT, sessions).astype(np.float64)
        self.free_sessions = _dated(NO_LIMIT_SESSIONS, sessions).astype(np.int64)

    def run(self, lo: int, hi: int) -> dict[str, np.ndarray]:
        n = len(self.prev)
        shape = (hi - lo, n)
        out = {k: np.full(shape, np.nan) for k in ("open", "high", "low", "close", "pre_close",
                                                   "volume")}
        rng, p = self.rng, self.p
        for t in range(lo, hi):
            # every draw is made for every stock, so the stream does not depend on the state
            z = rng.standard_normal((5, n))
            u = rng.random((4, n))
            listed = (t >= self.list_idx) & (t < self.delist_idx)
            starts = listed & (self.suspended_until < t) & (self.n_own > 0) \
                & (u[0] < p.suspend_prob)
            length = 1 + np.floor(-np.log1p(-u[1]) * p.suspend_mean).astype(np.int64)
            self.suspended_until = np.where(starts, t + length - 1, self.suspended_until)
            trade = listed & (self.suspended_until < t)
            # session number since listing, listing day = 1, counted on the calendar
            # (architecture decision 11), as the ingest flags and the engines count it
            sno = t - self.list_idx + 1
            free = sno <= self.free_sessions[t]
            prev = self.prev
            vol = self.vol
            r = 0.0003 + vol * z[0]
            pop = np.clip(0.2 + 0.6 * np.abs(z[1]) + 0.1 * z[2], -0.3, 1.8)  # log return
            r = np.where(sno == 1, pop, r)  # listing-day move
            r = np.where(free & (sno > 1), 0.12 * z[1], r)
            lim = self.limit[t]
            up = round_price_array(prev * (1 + lim))
            dn = np.maximum(round_price_array(prev * (1 - lim)), 0.01)
            close = np.maximum(round_price_array(prev * np.exp(r)), 0.01)
            force_up = ~free & (u[2] < p.limit_up_prob)
            force_dn = ~free & ~force_up & (u[2] > 1 - p.limit_down_prob)
            close = np.where(force_up, up, np.where(force_dn, dn, close))
            close = np.where(free, close, np.clip(close, dn, up))
            open_ = np.maximum(round_price_array(prev * np.exp(0.5 * vol * z[3] + 0.5 * r)), 0.01)
            open_ = np.where(free, open_, np.clip(open_, dn, up))
            hi_ = round_price_array(np.maximum(open_, close) * (1 + 0.5 * vol * np.abs(z[4])))
            lo_ = np.maximum(round_price_array(np.minimum(open_, close)
                                               * (1 - 0.5 * vol * u[3])), 0.01)
            hi_ = np.where(free, hi_, np.minimum(hi_, up))
            lo_ = np.where(free, lo_, np.maximum(lo_, dn))
            volume = np.floor(np.exp(11.0 + 0.8 * z[2] + 2.0 * np.minimum(np.abs(r), 1.0))) * 100
            i = t - lo
            for k, v in (("open", open_), ("high", hi_), ("low", lo_), ("close", close),
                         ("pre_close", prev), ("volume", volume)):
                out[k][i] = np.where(trade, v, np.nan)
            self.prev = np.where(trade, close, prev)
            self.n_own = self.n_own + trade
        return out


def _setup(n_stocks: int, sessions: np.ndarray, seed: int, p: SyntheticParams
           ) -> tuple[pd.DataFrame, _State]:
    if n_stocks < 1:
        raise ValidationError(f"n_stocks={n_stocks}; expected at least 1")
    rng = np.random.Generator(np.random.PCG64(seed))
    T = len(sessions)
    first = rng.random(n_stocks) < p.first_day_share
    list_idx = np.where(first, 0, rng.integers(0, max(1, int(T * 0.9)), n_stocks))
    delist = rng.random(n_stocks) < p.delist_prob
    span = T - list_idx
    delist_at = list_idx + np.maximum(6, (rng.random(n_stocks) * span).astype(np.int64))
    delist_idx = np.where(delist & (delist_at < T), delist_at, T + 1)
    ipo = round_price_array(rng.uniform(p.ipo_low, p.ipo_high, n_stocks))
    vol = rng.uniform(p.vol_low, p.vol_high, n_stocks)
    industry = rng.integers(0, len(INDUSTRIES), n_stocks)
    codes = synthetic_codes(n_stocks)
    # delisting date: the session after the last bar
    delist_date = [pd.Timestamp(sessions[d]).date() if d < T else None for d in delist_idx]
    sec = pd.DataFrame({
        "code": codes,
        "name": [f"SYN{c[-4:]}" for c in codes],
        "list_date": pd.to_datetime(sessions[list_idx]).date,
        "delist_date": pd.array(delist_date, dtype=object),
        "industry": np.asarray(INDUSTRIES, dtype=object)[industry],
    })
    return sec, _State(sessions, list_idx, delist_idx, ipo, vol, rng, p)


def _long(block: dict[str, np.ndarray], codes: np.ndarray, sessions: np.ndarray
          ) -> pd.DataFrame:
    have = np.isfinite(block["close"]).T  # (N, T_block): code-major order
    a, t = np.nonzero(have)
    cols = {k: v.T[a, t] for k, v in block.items()}
    df = pd.DataFrame({"code": codes[a], "date": sessions[t].astype("datetime64[s]"),
                       **{k: cols[k] for k in ("open", "high", "low", "close", "pre_close",
                                               "volume")}})
    df["amount"] = np.round(df["volume"] * (df["open"] + df["close"]) / 2.0, 2)
    return df


def write_parquet(directory: str | Path, n_stocks: int, n_sessions: int, seed: int = 0,
                  end: str | dt.date = DEFAULT_END, params: SyntheticParams | None = None
                  ) -> dict[str, int]:
    """Write the market as ``directory/bars_daily/year=YYYY/data.parquet`` (the layout of
    Store.export_parquet, columns of the bars_daily table) and ``directory/securities/``,
    one year at a time. Returns {'bars': rows, 'securities': rows, 'years': partitions}."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root = Path(directory)
    sec = securities(n_stocks, n_sessions, seed, end, params)
    (root / "securities").mkdir(parents=True, exist_ok=True)
    sec.assign(list_date=pd.to_datetime(sec["list_date"]),
               delist_date=pd.to_datetime(sec["delist_date"])).to_parquet(
        root / "securities" / "data.parquet", index=False)
    n = years = 0
    for year, df in iter_years(n_stocks, n_sessions, seed, end, params):
        part = root / "bars_daily" / f"year={year}"
        part.mkdir(parents=True, exist_ok=True)
        df = df.assign(source=SOURCE, adjustment="none", origin="synthetic")
        df["date"] = df["date"].astype("datetime64[s]").dt.date
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), part / "data.parquet")
        n += len(df)
        years += 1
    return {"bars": n, "securities": len(sec), "years": years}


def ingest(market: SyntheticMarket, store_path: str | Path) -> dict[str, int]:
    """Store the market through the normal ingest path: its securities (kind 'securities') and
    bars (kind 'bars', source 'raw') are checked and upserted in one transaction. Needs valid
    STAR codes, so at most 2,000 stocks (larger markets: `write_parquet`)."""
    from kechuang.data.ingest import Item, run
    from kechuang.data.inputs import USER_SPECS

    if len(market.securities) > MAX_STAR_CODES:
        raise ValidationError(f"{len(market.securities)} stocks do not fit in the "
                              f"{MAX_STAR_CODES} STAR codes; use write_parquet for the market")
    sec = market.securities.drop(columns=[]).copy()
    sec["list_date"] = pd.to_datetime(sec["list_date"])
    sec["delist_date"] = pd.to_datetime(sec["delist_date"])
    bars = market.bars.copy()
    label = f"synthetic seed={market.seed}"
    items = [Item("synthetic_securities", Path("<synthetic_securities>"), USER_SPECS["securities"],
                  label, None, "synthetic market securities", sec),
             Item("synthetic_bars", Path("<synthetic_bars>"), USER_SPECS["bars"], label, None,
                  "synthetic market daily bars", bars)]
    return dict(run(items, store_path).rows)
