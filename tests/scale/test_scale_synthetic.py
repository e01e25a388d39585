"""The synthetic market: deterministic by seed, STAR-like (staggered listings, suspensions,
limit hits, unlimited first 5 sessions) and storable through the normal ingest path."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kechuang.core.errors import ValidationError
from kechuang.core.ids import normalize_code
from kechuang.data import synthetic as sy
from kechuang.data.calendar import sessions_array
from kechuang.data.partitions import iter_bars
from kechuang.data.store import open_store
from kechuang.rules.trading import round_price_array


@pytest.fixture(scope="module")
def market() -> sy.SyntheticMarket:
    return sy.generate(150, 700, seed=11)


def test_same_seed_same_market_other_seed_differs(market: sy.SyntheticMarket) -> None:
    again = sy.generate(150, 700, seed=11)
    pd.testing.assert_frame_equal(market.bars, again.bars)
    pd.testing.assert_frame_equal(market.securities, again.securities)
    other = sy.generate(150, 700, seed=12)
    assert not market.bars["close"].head(1000).equals(other.bars["close"].head(1000))


def test_sessions_are_xshg_and_codes_are_star(market: sy.SyntheticMarket) -> None:
    assert np.isin(market.sessions, sessions_array()).all()
    assert len(market.sessions) == 700 and str(market.sessions[-1]) <= sy.DEFAULT_END
    dates = market.bars["date"].to_numpy().astype("datetime64[D]")
    assert np.isin(dates, market.sessions).all()
    for c in market.securities["code"]:
        assert normalize_code(c) == c and c.startswith(("688", "689"))
    assert sy.synthetic_codes(2001)[0].startswith("Z")


def _with_session_no(market: sy.SyntheticMarket) -> pd.DataFrame:
    b = market.bars.copy()
    pos = {d: i for i, d in enumerate(market.sessions)}
    lst = dict(zip(market.securities["code"], market.securities["list_date"], strict=True))
    b["t"] = [pos[d] for d in b["date"].to_numpy().astype("datetime64[D]")]
    b["t_list"] = [pos[np.datetime64(lst[c], "D")] for c in b["code"]]
    b["sno"] = b["t"] - b["t_list"] + 1
    return b


def test_structure_listings_suspensions_limits(market: sy.SyntheticMarket) -> None:
    b = _with_session_no(market)
    sec = market.securities
    # staggered listings: some on the first session, most later
    first = (pd.to_datetime(sec["list_date"]) == pd.Timestamp(market.sessions[0])).sum()
    assert 0 < first < len(sec) and sec["list_date"].nunique() > 50
    # each stock's first bar is its listing day; delisted stocks stop before the delist date
    firsts = b.groupby("code")["sno"].min()
    assert (firsts == 1).all()
    for code, dd in sec.dropna(subset=["delist_date"])[["code", "delist_date"]].itertuples(
            index=False):
        assert b.loc[b["code"] == code, "date"].max() < pd.Timestamp(dd)
    # suspensions: gaps inside a stock's life
    span = b.groupby("code")["t"].agg(["min", "max", "count"])
    assert ((span["max"] - span["min"] + 1) > span["count"]).sum() >= 5
    # pre_close is the previous own close
    prev = b.groupby("code")["close"].shift(1)
    has = prev.notna()
    assert np.array_equal(b.loc[has, "pre_close"].to_numpy(), prev[has].to_numpy())
    # price limit (±20%, rounded half up; star-market-reference.md section 1) after session 5
    lim = b["sno"] > 5
    up = round_price_array(b["pre_close"].to_numpy() * 1.2)
    dn = round_price_array(b["pre_close"].to_numpy() * 0.8)
    for col in ("open", "high", "low", "close"):
        v = b[col].to_numpy()
        assert (v[lim] <= up[lim] + 1e-9).all() and (v[lim] >= dn[lim] - 1e-9).all(), col
    assert (b["low"] <= b[["open", "close"]].min(axis=1)).all()
    assert (b["high"] >= b[["open", "close"]].max(axis=1)).all()
    assert (np.abs(b["close"] * 100 - np.round(b["close"] * 100)) < 1e-6).all()
    hit_up = (np.abs(b["close"].to_numpy() - up) < 1e-9) & lim
    hit_dn = (np.abs(b["close"].to_numpy() - dn) < 1e-9) & lim
    assert hit_up.sum() > 100 and hit_dn.sum() > 100
    # the first 5 sessions are unlimited and do move beyond ±20%
    move = (b["close"] / b["pre_close"] - 1).abs()
    assert (move[~lim] > 0.2).sum() > 30


def test_ingest_through_normal_path(market: sy.SyntheticMarket, tmp_path: Path) -> None:
    db = tmp_path / "syn.duckdb"
    rows = sy.ingest(market, db)
    assert rows == {"synthetic_securities": 150, "synthetic_bars": market.n_bars}
    with open_store(db) as st:
        assert st.scalar("SELECT count(*) FROM bars_daily WHERE source = 'raw'") == market.n_bars
        assert st.scalar("SELECT count(*) FROM securities") == 150
        # inside the limits after the no-limit window: nothing is taken for an ex-rights gap
        assert st.scalar("SELECT count(*) FROM bar_flags") == 0
        got = st.query("SELECT code, date, close FROM bars_daily ORDER BY code, date")
    assert np.array_equal(got["close"].to_numpy(), market.bars["close"].to_numpy())
    assert sy.ingest(market, db) == rows  # idempotent upsert


def test_parquet_matches_memory_and_errors(tmp_path: Path) -> None:
    counts = sy.write_parquet(tmp_path, 40, 600, seed=5)
    mem = sy.generate(40, 600, seed=5)
    assert counts["bars"] == mem.n_bars and counts["years"] >= 3
    parts = pd.concat([df for _, df in iter_bars(tmp_path, columns=("close", "open"))],
                      ignore_index=True).sort_values(["code", "date"], kind="stable")
    assert np.array_equal(parts["close"].to_numpy(), mem.bars["close"].to_numpy())
    with pytest.raises(ValidationError, match="n_sessions"):
        sy.generate(5, 10**6)
    with pytest.raises(ValidationError, match="STAR codes"):
        sy.ingest(sy.generate(2001, 3, seed=1), tmp_path / "x.duckdb")
