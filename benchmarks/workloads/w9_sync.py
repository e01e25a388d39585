"""W9 sync: the store-side cost of `kechuang sync bars` (network excluded). The bundled raw bars
after 2025-04-01 (about 20,000 rows, 587 codes) are removed from a copy of the store and synced
back through the real Fetcher/adapter path, the library call replaced by an in-process answer
in akshare 1.19.5's `stock_zh_a_hist` format built from the bundled bars. Side by side: the
same rows as ONE `ingest_frame` call (one transaction, no per-batch commits, no cross-check).
Each run gets a fresh copy (untimed). Results are checked equal."""

from __future__ import annotations

import datetime as dt
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from kechuang.data.ingest import ingest_bundled, ingest_frame
from kechuang.data.store import open_store
from kechuang.data.sync import SyncConfig, sync

CUT = "2025-04-01"
UNTIL = "2025-05-23"


def _answers(store: Path) -> dict[str, pd.DataFrame]:
    """Per code, the frame stock_zh_a_hist would return for CUT..UNTIL."""
    with open_store(store) as s:
        b = s.query("SELECT code, date, open, high, low, close, pre_close, volume, amount "
                    "FROM bars_daily WHERE source = 'raw' AND date >= ? ORDER BY code, date",
                    [CUT])
    b["date"] = pd.to_datetime(b["date"]).dt.date
    pre = b["pre_close"].fillna(b.groupby("code")["close"].shift(1)).fillna(b["open"])
    out = pd.DataFrame({
        "日期": b["date"], "股票代码": b["code"], "开盘": b["open"], "收盘": b["close"],
        "最高": b["high"], "最低": b["low"],
        "成交量": np.round(b["volume"] / 100).astype("int64"), "成交额": b["amount"],
        "振幅": ((b["high"] - b["low"]) / pre * 100).round(2),
        "涨跌幅": ((b["close"] - pre) / pre * 100).round(2),
        "涨跌额": (b["close"] - pre).round(2), "换手率": 0.0})
    return {str(c): g.reset_index(drop=True) for c, g in out.groupby("股票代码")}


def _strip(src: Path, dst: Path) -> int:
    shutil.copy(src, dst)
    con = duckdb.connect(str(dst))
    n = con.execute("SELECT count(*) FROM bars_daily WHERE source = 'raw' AND date > ?",
                    [CUT]).fetchone()
    con.execute("DELETE FROM bars_daily WHERE source = 'raw' AND date > ?", [CUT])
    con.close()
    return int(n[0]) if n else 0


def _rows(store: Path) -> pd.DataFrame:
    with open_store(store) as s:
        return s.query("SELECT code, date, open, high, low, close FROM bars_daily WHERE "
                       "source = 'raw' AND date > ? ORDER BY code, date", [CUT])


def run() -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="w9_"))
    try:
        base = tmp / "bundled.duckdb"
        ingest_bundled(base)
        answers = _answers(base)

        def call(function: str, kw: dict[str, Any]) -> pd.DataFrame:
            return answers.get(kw["symbol"], pd.DataFrame()).copy()

        want = _rows(base)
        times: dict[str, list[float]] = {"sync": [], "one_ingest_frame": []}
        report: dict[str, Any] = {}
        for i in range(3):
            dst = tmp / f"sync{i}.duckdb"
            removed = _strip(base, dst)
            t = time.perf_counter()
            rep = sync("bars", since="2025-01-01", until=UNTIL, store_path=dst, call=call,
                       config=SyncConfig(rate=1e9, batch_size=25), cache_dir=False)
            times["sync"].append(time.perf_counter() - t)
            report = rep.as_dict()
            pd.testing.assert_frame_equal(_rows(dst), want)
            assert report["rows_written"] == removed
            one = tmp / f"one{i}.duckdb"
            _strip(base, one)
            frame = pd.concat(answers.values(), ignore_index=True)
            t = time.perf_counter()
            rows = pd.DataFrame({
                "code": frame["股票代码"], "date": frame["日期"], "open": frame["开盘"],
                "high": frame["最高"], "low": frame["最低"], "close": frame["收盘"],
                "pre_close": frame["收盘"] - frame["涨跌额"],
                "volume": frame["成交量"] * 100.0, "amount": frame["成交额"]})
            rows = rows[rows["date"] > dt.date.fromisoformat(CUT)]
            ingest_frame(rows, "bars", "w9 one frame", "w9", one)
            times["one_ingest_frame"].append(time.perf_counter() - t)
            pd.testing.assert_frame_equal(_rows(one), want)
        med = {k: statistics.median(v) for k, v in times.items()}
        return {"rows": report["rows_written"], "codes": report["units_done"],
                "batches": report["batches"], "requests": report["requests"],
                "median_s": med, "runs": 3,
                "sync_rows_per_s": round(report["rows_written"] / med["sync"]),
                "sync_s_per_batch": round(med["sync"] / report["batches"], 3),
                "note": "network excluded; at the default 0.5 requests/s the same sync spends "
                        f"{report['requests'] / 0.5 / 60:.1f} min waiting on the rate limit"}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
