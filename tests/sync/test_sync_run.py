"""The sync end to end on a copy of the bundled store: bars removed from the copy are fetched
back through a stand-in that answers in the libraries' exact format from the bundled store.
Incremental planning, batches, cross-check flags, a ban mid-sync with resume, a kill -9
mid-sync, and the other datasets on their recorded-format fixtures."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from kechuang.core.errors import DateRangeError, StarError, UnknownCodeError
from kechuang.data import sync as sy
from kechuang.data.adapters.base import SchemaDriftError, SourceError
from kechuang.data.store import open_store

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from sync_vendor import Vendor, load_fixture  # noqa: E402

CUT = "2025-04-01"  # raw bars after this date are removed from the copy for N_CODES codes
UNTIL = "2025-05-23"  # the bundled raw history ends here
N_CODES = 30
FAST = sy.SyncConfig(rate=1e6, batch_size=10, backoff_base=0.001, backoff_cap=0.01)


class FakeClock:
    def __init__(self) -> None:
        self.t = 1_750_000_000.0

    def now(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def pick_codes(store: Path, n: int = N_CODES) -> list[str]:
    with open_store(store) as s:
        df = s.query("SELECT code FROM bars_daily WHERE source = 'raw' AND date = ? "
                     "ORDER BY code", [UNTIL])
    codes = list(df["code"])
    return codes[:: max(1, len(codes) // n)][:n]


def remove_bars(store: Path, codes: list[str], after: str = CUT) -> int:
    con = duckdb.connect(str(store))
    inlist = ", ".join(f"'{c}'" for c in codes)
    n = con.execute(f"SELECT count(*) FROM bars_daily WHERE source = 'raw' AND date > ? AND "
                    f"code IN ({inlist})", [after]).fetchone()[0]
    con.execute(f"DELETE FROM bars_daily WHERE source = 'raw' AND date > ? AND code IN "
                f"({inlist})", [after])
    con.close()
    return int(n)


def bars(store: Path, codes: list[str], source: str = "raw") -> pd.DataFrame:
    with open_store(store) as s:
        inlist = ", ".join(f"'{c}'" for c in codes)
        return s.query(f"SELECT code, date, open, high, low, close, volume FROM bars_daily "
                       f"WHERE source = '{source}' AND date > DATE '{CUT}' AND code IN "
                       f"({inlist}) ORDER BY code, date")


@pytest.fixture
def lacking(bundled_store: Path, store_copy: Path) -> tuple[Path, list[str], int]:
    codes = pick_codes(bundled_store)
    n = remove_bars(store_copy, codes)
    assert n > 1000
    return store_copy, codes, n


def test_sync_fetches_only_what_is_missing(bundled_store: Path, lacking: Any,
                                          tmp_path: Path) -> None:
    store, codes, n = lacking
    v = Vendor(bundled_store)
    seen: list[tuple[str, int, int]] = []
    rep = sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                  call=v, config=FAST, cache_dir=tmp_path / "cache",
                  progress=lambda cur, done, total, c: seen.append((cur, done, total)))
    assert rep.complete and rep.planned == N_CODES and rep.counts.batches == 3
    assert rep.counts.rows_written == n and rep.counts.flags == 0
    # one request per code, starting at the last stored session (one overlapping bar each)
    assert len(v.calls) == N_CODES and rep.counts.rows_skipped == N_CODES
    assert {c[1]["start_date"] for c in v.calls} == {CUT.replace("-", "")}
    assert seen[0] == (codes[0], 0, N_CODES) and seen[-1] == ("done", N_CODES, N_CODES)
    got, want = bars(store, codes), bars(bundled_store, codes)
    pd.testing.assert_frame_equal(got.drop(columns="volume"), want.drop(columns="volume"))
    assert ((got["volume"] - want["volume"]).abs() <= 50).all()  # lots of 100 -> shares
    with open_store(store) as s:
        origin = s.query("SELECT DISTINCT origin FROM bars_daily WHERE source = 'raw' AND "
                         f"date > DATE '{CUT}' AND code = '{codes[0]}'")
        ds = s.scalar("SELECT count(*) FROM datasets WHERE name LIKE 'sync bars %'")
    assert list(origin["origin"]) == ["akshare:stock_zh_a_hist"] and ds == 3
    # nothing lacking any more: the next run plans nothing and calls nothing
    v2 = Vendor(bundled_store)
    rep2 = sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                   call=v2, config=FAST, cache_dir=tmp_path / "cache")
    assert rep2.planned == 0 and v2.calls == [] and rep2.complete
    # the raw cache: the same rows lost again come back without a download
    remove_bars(store, codes)
    v3 = Vendor(bundled_store)
    rep3 = sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                   call=v3, config=FAST, cache_dir=tmp_path / "cache")
    assert v3.calls == [] and rep3.counts.cached == N_CODES and rep3.counts.rows_written == n


def tampered(v: Vendor, code: str, changes: dict[dt.date, float]) -> Any:
    """The stand-in, with the prices of `code` on some days multiplied by a factor."""
    def call(fn: str, kw: dict[str, Any]) -> Any:
        out = v(fn, kw)
        if out.empty or kw.get("symbol", kw.get("code", ""))[-6:] != code:
            return out
        dcol, cols = (("日期", ["开盘", "收盘", "最高", "最低"]) if fn == "stock_zh_a_hist"
                      else ("date", ["open", "high", "low", "close"]))
        for day, factor in changes.items():
            hit = [(str(x)[:10] == day.isoformat()) for x in out[dcol]]
            for c in cols:
                vals = pd.to_numeric(out.loc[hit, c]) * factor
                out.loc[hit, c] = vals if fn == "stock_zh_a_hist" else \
                    [f"{x:.4f}" for x in vals]
        return out
    return call


def test_disagreements_are_flagged_not_overwritten(bundled_store: Path, lacking: Any) -> None:
    store, codes, _ = lacking
    v = Vendor(bundled_store)
    code = codes[3]
    overlap = dt.date.fromisoformat(CUT)  # the last stored session, fetched again
    with open_store(store) as s:
        before = s.query("SELECT * FROM bars_daily WHERE code = ? AND date = ? AND source = "
                         "'raw'", [code, overlap])
    # the second source first (exact), then the primary with two bad bars
    rep_b = sy.sync("bars-baostock", since="2025-05-01", until=UNTIL, codes=codes[:5],
                    store_path=store, call=v, config=FAST, cache_dir=False)
    assert rep_b.counts.rows_written > 0 and rep_b.counts.flags == 0
    new_day = dt.date(2025, 5, 20)
    rep = sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                  call=tampered(v, code, {overlap: 1.05, new_day: 0.9}), config=FAST,
                  cache_dir=False)
    assert rep.counts.flags == 2
    with open_store(store) as s:
        after = s.query("SELECT * FROM bars_daily WHERE code = ? AND date = ? AND source = "
                        "'raw'", [code, overlap])
        flags = s.query("SELECT * FROM bar_flags WHERE kind IN ('source_mismatch', "
                        "'second_source_mismatch') ORDER BY date")
    pd.testing.assert_frame_equal(before, after)  # the stored bar is kept
    assert list(flags["kind"]) == ["source_mismatch", "second_source_mismatch"]
    assert list(flags["code"]) == [code, code]
    assert flags["value"].iloc[0] == pytest.approx(1.05, rel=1e-3)
    assert "close" in flags["detail"].iloc[0] and "kept the stored bar" in flags["detail"].iloc[0]
    assert flags["value"].iloc[1] == pytest.approx(0.9, rel=1e-3)
    rep_v = sy.verify(store)
    kinds = {r["kind"]: r["n"] for r in rep_v["by_kind"]}
    assert kinds == {"source_mismatch": 1, "second_source_mismatch": 1}
    assert rep_v["pairs_compared"] == rep_b.counts.rows_written
    assert rep_v["new_disagreements"] == 1  # the bad new bar, again, from the stored pair


class Banned(Exception):
    def __init__(self) -> None:
        self.response = type("R", (), {"status_code": 429})()
        super().__init__("429 Too Many Requests")


def test_ban_mid_sync_then_resume(bundled_store: Path, lacking: Any, tmp_path: Path) -> None:
    store, codes, n = lacking
    v = Vendor(bundled_store)
    state = {"served": 0, "banned": True}

    def call(fn: str, kw: dict[str, Any]) -> Any:
        if state["banned"] and state["served"] >= 13:
            raise Banned()
        state["served"] += 1
        return v(fn, kw)

    cfg = sy.SyncConfig(rate=5, batch_size=5, ban_threshold=3, ban_cooldown=900,
                        max_retries=8)
    clock = FakeClock()
    with pytest.raises(sy.CircuitOpenError) as e:
        sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                call=call, config=cfg, clock=clock, rng=random.Random(0),
                cache_dir=tmp_path / "cache")
    assert "13 of 30 units committed" in str(e.value) and "Retry after" in str(e.value)
    want = bars(bundled_store, codes)
    got = bars(store, codes)
    per_code = got.groupby("code").size()
    full = want.groupby("code").size()
    # whole units only: a code has all of its rows or none
    assert (per_code == full[per_code.index]).all() and len(per_code) == 13
    # too early: stops at once and says when
    with pytest.raises(sy.CircuitOpenError, match="not retrying before"):
        sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                call=call, config=cfg, clock=clock, cache_dir=tmp_path / "cache")
    # a ban is per site: AKShare's Sina functions still run
    other = sy.sync("adjustments", since="2019-01-01", until=UNTIL, codes=codes[:1],
                    store_path=store, call=v, config=cfg, clock=clock,
                    cache_dir=tmp_path / "cache")
    assert other.complete and "eastmoney.com" in str(e.value)
    clock.t = e.value.retry_at + 1
    state["banned"] = False
    rep = sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                  call=call, config=cfg, clock=clock, cache_dir=tmp_path / "cache")
    assert rep.complete and rep.planned == N_CODES - 13
    got = bars(store, codes)
    assert len(got) == len(want) == n
    assert not got.duplicated(["code", "date"]).any()
    pd.testing.assert_frame_equal(got[["code", "date", "close"]], want[["code", "date", "close"]])
    # each code was downloaded once in total
    assert state["served"] == N_CODES


KILL_SCRIPT = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from sync_vendor import Vendor
from kechuang.data import sync as sy
bundled, store, codes = sys.argv[2], sys.argv[3], sys.argv[4].split(",")
v = Vendor(bundled)
def call(fn, kw):
    time.sleep(0.02)
    return v(fn, kw)
def committed(n):
    print("COMMIT", n, flush=True)
sy.sync("bars", since="2025-01-01", until="2025-05-23", codes=codes, store_path=store,
        call=call, config=sy.SyncConfig(rate=1e6, batch_size=3), cache_dir=False,
        on_commit=committed)
print("DONE", flush=True)
"""


@pytest.mark.parametrize("delay", [0.02, 0.3])  # while fetching / while committing
def test_kill_9_mid_sync_leaves_whole_batches(bundled_store: Path, lacking: Any,
                                              delay: float) -> None:
    store, codes, n = lacking
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(HERE), str(bundled_store),
                             str(store), ",".join(codes)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("COMMIT 3"):
            time.sleep(delay)  # a batch fetches for ~0.06 s, then commits for ~0.5 s
            os.kill(proc.pid, signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    want = bars(bundled_store, codes)
    got = bars(store, codes)  # the store opens and reads after the kill
    per_code = got.groupby("code").size()
    full = want.groupby("code").size()
    assert (per_code == full[per_code.index]).all()  # no half unit
    assert len(per_code) % 3 == 0 and 9 <= len(per_code) < N_CODES  # whole batches only
    rep = sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                  call=Vendor(bundled_store), config=FAST, cache_dir=False)
    assert rep.complete and rep.planned == N_CODES - len(per_code)
    got = bars(store, codes)
    assert len(got) == n and not got.duplicated(["code", "date"]).any()


def test_adjustments_fill_gaps_and_flag_disagreements(bundled_store: Path, store_copy: Path
                                                      ) -> None:
    with open_store(bundled_store) as s:
        known = s.query("SELECT code, ex_date, factor FROM adjustments WHERE method <> "
                        "'estimated' AND factor IS NOT NULL ORDER BY code, ex_date")
    codes = sorted(set(known["code"]))[:12]
    gone = known[known["code"].isin(codes[:6])]
    con = duckdb.connect(str(store_copy))
    con.execute("DELETE FROM adjustments WHERE code IN (" + ", ".join(
        f"'{c}'" for c in codes[:6]) + ")")
    con.close()
    v = Vendor(bundled_store)
    wrong_code = codes[8]

    def call(fn: str, kw: dict[str, Any]) -> Any:
        out = v(fn, kw)
        if kw["symbol"] == f"sh{wrong_code}":
            out = out.copy()
            out.loc[0, "hfq_factor"] = f"{float(out.loc[0, 'hfq_factor']) * 1.01:.15f}"
        return out

    rep = sy.sync("adjustments", since="2019-01-01", until=UNTIL, codes=codes,
                  store_path=store_copy, call=call, config=FAST, cache_dir=False)
    assert rep.counts.rows_written == len(gone) and rep.counts.flags == 1
    with open_store(store_copy) as s:
        back = s.query("SELECT code, ex_date, factor, method, source FROM adjustments WHERE "
                       "method <> 'estimated' AND code IN (" + ", ".join(
                           f"'{c}'" for c in codes[:6]) + ") ORDER BY code, ex_date")
        flag = s.query("SELECT * FROM bar_flags WHERE kind = 'factor_mismatch'")
    pd.testing.assert_series_equal(back["factor"], gone["factor"].reset_index(drop=True),
                                   rtol=1e-9)
    assert set(back["source"]) == {"akshare"} and set(back["method"]) == {"source"}
    assert list(flag["code"]) == [wrong_code] and flag["value"].iloc[0] == pytest.approx(1.01)


def fixture_call(**renames: dict[str, Any]) -> Any:
    frames = {}
    for p in sorted((HERE / "fixtures").glob("akshare_*.json")):
        meta, frame = load_fixture(p.stem)
        frames[meta["function"]] = frame

    def call(fn: str, kw: dict[str, Any]) -> Any:
        out = frames[fn].copy()
        for col, value in renames.get(fn, {}).items():
            out[col] = value(out, kw) if callable(value) else value
        return out

    return call


def test_other_datasets_write_only_what_the_store_lacks(bundled_store: Path, store_copy: Path
                                                        ) -> None:
    con = duckdb.connect(str(store_copy))
    con.execute("DELETE FROM shares WHERE code = '688981'")
    con.execute("DELETE FROM financials WHERE code = '688111' AND period_end = '2019-12-31'")
    con.close()
    with open_store(store_copy) as s:
        known = set(s.query("SELECT code FROM securities")["code"])
    fresh = next(f"688{i:03d}" for i in range(1000) if f"688{i:03d}" not in known)
    new_code = {"stock_info_sh_name_code": {
        "证券代码": lambda f, kw: ["688001", "688111", "688981", fresh]},
        "index_stock_cons_weight_csindex": {
        "日期": lambda f, kw: [dt.date(2025, 5, 23)] * len(f),
        "指数代码": lambda f, kw: kw["symbol"]},
        "stock_zh_index_hist_csindex": {"指数代码": lambda f, kw: kw["symbol"]}}
    call = fixture_call(**new_code)
    kw: dict[str, Any] = {"until": UNTIL, "store_path": store_copy, "call": call,
                          "config": FAST, "cache_dir": False}
    r = sy.sync("securities", since="2019-01-01", **kw)
    assert r.counts.rows_written == 1 and r.counts.rows_skipped == 3
    r = sy.sync("shares", since="2020-01-01", codes=["688981"], **kw)
    assert r.counts.rows_written == 4
    r = sy.sync("financials", since="2016-01-01", codes=["688111"], **kw)
    assert r.counts.rows_written == 1 and r.counts.rows_skipped == 1
    r = sy.sync("index-levels", since="2025-05-19", indices=["000688", "000698"], **kw)
    # 000688 is bundled up to 2026: not even requested
    assert r.planned == 1 and r.counts.rows_written == 5
    r = sy.sync("index-weights", since="2025-05-19", indices=["000688"], **kw)
    assert r.counts.rows_written == 10
    with open_store(store_copy) as s:
        sec = s.query("SELECT * FROM securities WHERE code = ?", [fresh])
        sh = s.query("SELECT date, total_shares, float_shares, source FROM shares WHERE code = "
                     "'688981' ORDER BY date")
        fin = s.query("SELECT * FROM financials WHERE code = '688111' AND period_end = "
                      "'2019-12-31'")
        lv = s.query("SELECT * FROM index_levels WHERE index_code = '000698'")
        w = s.query("SELECT * FROM index_weights_reported WHERE reported_on = '2025-05-23' "
                    "ORDER BY rank")
    with open_store(bundled_store) as s:
        daily = s.query("SELECT date, total_shares FROM shares WHERE code = '688981' AND date "
                        "IN ('2020-07-17', '2020-07-21', '2020-07-24', '2020-07-29') ORDER BY "
                        "date")
    assert sec["source"].iloc[0] == "akshare" and sec["status"].iloc[0] == "L"
    # the change events agree with the bundled daily share counts on the same sessions
    assert list(sh["date"]) == list(daily["date"])
    assert (sh["total_shares"] - daily["total_shares"]).abs().max() < 1
    assert fin["revenue"].iloc[0] == pytest.approx(1_579_520_000)
    assert fin["source"].iloc[0] == "akshare" and pd.isna(fin["rd_investment"].iloc[0])
    assert len(lv) == 5 and set(lv["source"]) == {"akshare"}
    assert list(w["rank"]) == list(range(1, 11)) and w["code"].iloc[0] == "688981"


def test_empty_answers(bundled_store: Path, store_copy: Path) -> None:
    empty_call = lambda fn, kw: pd.DataFrame()  # noqa: E731
    with pytest.raises(SourceError, match="no rows for securities"):
        sy.sync("securities", since="2019-01-01", until=UNTIL, store_path=store_copy,
                call=empty_call, config=FAST, cache_dir=False)
    codes = pick_codes(bundled_store, 3)
    remove_bars(store_copy, codes)
    rep = sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store_copy,
                  call=empty_call, config=FAST, cache_dir=False)
    assert rep.complete and rep.counts.rows_written == 0 and rep.counts.units == 3


def test_an_error_keeps_the_whole_units_before_it(bundled_store: Path, lacking: Any) -> None:
    store, codes, _ = lacking
    v = Vendor(bundled_store)

    def call(fn: str, kw: dict[str, Any]) -> Any:
        out = v(fn, kw)
        return out.rename(columns={"收盘": "close"}) if kw["symbol"] == codes[6] else out

    with pytest.raises(SchemaDriftError, match="'收盘'"):
        sy.sync("bars", since="2025-01-01", until=UNTIL, codes=codes, store_path=store,
                call=call, config=sy.SyncConfig(rate=1e6, batch_size=5), cache_dir=False)
    got = bars(store, codes).groupby("code").size()
    want = bars(bundled_store, codes).groupby("code").size()
    assert list(got.index) == codes[:6] and (got == want[got.index]).all()


def test_bad_requests(store_copy: Path) -> None:
    with pytest.raises(StarError, match="unknown dataset"):
        sy.sync("ticks", since="2025-01-01", store_path=store_copy)
    with pytest.raises(DateRangeError):
        sy.sync("bars", since="2025-06-01", until="2025-05-01", store_path=store_copy)
    with pytest.raises(StarError, match="not 6 digits"):
        sy.sync("index-levels", since="2025-01-01", indices=["STAR50"], store_path=store_copy)
    with pytest.raises(UnknownCodeError, match="688000"):
        sy.sync("bars", since="2025-01-01", codes=["688000"], store_path=store_copy,
                call=lambda f, k: None, cache_dir=False)


def test_plan_continues_share_history_and_skips_finished_codes(store_copy: Path) -> None:
    with open_store(store_copy) as s:
        last = s.query("SELECT code, max(date) AS d FROM shares GROUP BY 1 ORDER BY 1")
        raw_last = s.query("SELECT code, max(date) AS d FROM bars_daily WHERE source = 'raw' "
                           "GROUP BY 1 ORDER BY 1")
        code = str(last["code"].iloc[0])
        units = sy.plan(sy.DATASETS["shares"], s, dt.date(2025, 1, 1), dt.date(2025, 5, 23),
                        [code])
        done = raw_last[pd.to_datetime(raw_last["d"]).dt.date == dt.date(2025, 5, 23)]
        bars_units = sy.plan(sy.DATASETS["bars"], s, dt.date(2025, 1, 1),
                             dt.date(2025, 5, 23), list(done["code"][:5]))
        base_units = sy.plan(sy.DATASETS["bars-baostock"], s, dt.date(2025, 5, 1),
                             dt.date(2025, 5, 23), list(done["code"][:5]))
    # shares resume the day after the last stored count, even before --since
    assert units == [sy.Unit(code, pd.Timestamp(last["d"].iloc[0]).date()
                             + dt.timedelta(days=1), dt.date(2025, 5, 23))]
    assert bars_units == []  # already complete to the last session
    assert [u.start for u in base_units] == [dt.date(2025, 5, 1)] * 5  # nothing of that series
