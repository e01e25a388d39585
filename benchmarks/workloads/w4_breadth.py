"""W4 market breadth (benchmarks.md): per date, stocks with a previous own close, advancers,
decliners, unchanged, limit-up (close >= prev x 1.2 - 0.005), limit-down (close <= prev x 0.8 +
0.005), stocks with MA20 / MA60 defined and the percentage above each, from the long table
(code, date, close) of the forward-adjusted STAR bars (star_daily, 247,725 rows, 819 dates).

Engines side by side in one process: kechuang's numba kernel
(kernels.breadth.simple_breadth_long), a plain numpy reference, pandas, polars and DuckDB SQL.
"Above the MA" means above by more than 1e-9 relative in every engine (ties count as equal,
docs/architecture.md decision 8). Setup (reading the CSV, building each engine's container) is
untimed; each timed call returns a numpy array.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from benchmarks.run import time_call
from kechuang.data.bundled import datasets_dir

CSV = datasets_dir() / "star_daily" / "star_daily_qfq.csv.gz"
COLS = ["date", "n_valid", "advancers", "decliners", "unchanged", "limit_up", "limit_down",
        "n_ma20", "pct_above_ma20", "n_ma60", "pct_above_ma60"]
REL = 1e-9


def load() -> pd.DataFrame:
    df = pd.read_csv(CSV, usecols=["code", "date", "close"], dtype={"code": str})
    return df.sort_values(["code", "date"], kind="mergesort").reset_index(drop=True)


def _finish(counts: np.ndarray) -> np.ndarray:
    """int counts [n_valid, adv, dec, unch, lu, ld, n20, above20, n60, above60] -> the 10
    numeric output columns (percentages as float)."""
    c = counts.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p20 = np.where(c[:, 6] > 0, 100.0 * c[:, 7] / c[:, 6], np.nan)
        p60 = np.where(c[:, 8] > 0, 100.0 * c[:, 9] / c[:, 8], np.nan)
    return np.column_stack([c[:, :6], c[:, 6], p20, c[:, 8], p60])


# ------------------------------------------------------------------ engines
def ours(code_idx: np.ndarray, date_idx: np.ndarray, close: np.ndarray, n_dates: int
         ) -> np.ndarray:
    from kechuang.kernels.breadth import simple_breadth_long

    return _finish(simple_breadth_long(code_idx, date_idx, close, n_dates))


def numpy_ref(code_idx: np.ndarray, date_idx: np.ndarray, close: np.ndarray, n_dates: int
              ) -> np.ndarray:
    n = len(close)
    first = np.r_[True, code_idx[1:] != code_idx[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    k = np.arange(n) - start  # position within the stock's own bars
    prev = np.r_[np.nan, close[:-1]]
    valid = k >= 1
    out = np.zeros((n_dates, 10), dtype=np.int64)

    def add(col: int, mask: np.ndarray) -> None:
        out[:, col] = np.bincount(date_idx[mask], minlength=n_dates)

    add(0, valid)
    add(1, valid & (close > prev))
    add(2, valid & (close < prev))
    add(3, valid & (close == prev))
    add(4, valid & (close >= prev * 1.2 - 0.005))
    add(5, valid & (close <= prev * 0.8 + 0.005))
    for col, w in ((6, 20), (8, 60)):
        ma = np.full(n, np.nan)
        ok = k >= w - 1
        idx = np.nonzero(ok)[0]
        win = close[idx[:, None] - np.arange(w)[None, :]]
        ma[idx] = win.sum(axis=1) / w
        add(col, ok)
        add(col + 1, ok & (close - ma > REL * np.abs(ma)))
    return _finish(out)


def pandas_engine(df: pd.DataFrame, n_dates: int) -> np.ndarray:
    g = df.groupby("code", sort=False)["close"]
    prev = g.shift(1)
    c = df["close"]
    ma20 = g.rolling(20, min_periods=20).mean().reset_index(level=0, drop=True)
    ma60 = g.rolling(60, min_periods=60).mean().reset_index(level=0, drop=True)
    valid = prev.notna()
    t = pd.DataFrame({
        "date": df["date"], "n_valid": valid, "adv": valid & (c > prev),
        "dec": valid & (c < prev), "unch": valid & (c == prev),
        "lu": valid & (c >= prev * 1.2 - 0.005), "ld": valid & (c <= prev * 0.8 + 0.005),
        "n20": ma20.notna(), "a20": (c - ma20) > REL * ma20.abs(),
        "n60": ma60.notna(), "a60": (c - ma60) > REL * ma60.abs()})
    s = t.groupby("date", sort=True).sum()
    return _finish(s.to_numpy(dtype=np.int64))


def polars_engine(pl: Any, frame: Any) -> np.ndarray:
    c, prev = pl.col("close"), pl.col("close").shift(1).over("code")
    ma20 = pl.col("close").rolling_mean(20).over("code")
    ma60 = pl.col("close").rolling_mean(60).over("code")
    valid = pl.col("prev").is_not_null()
    out = (frame.with_columns(prev.alias("prev"), ma20.alias("ma20"), ma60.alias("ma60"))
           .group_by("date").agg(
               pl.col("prev").is_not_null().sum().alias("n_valid"),
               (valid & (c > pl.col("prev"))).sum().alias("adv"),
               (valid & (c < pl.col("prev"))).sum().alias("dec"),
               (valid & (c == pl.col("prev"))).sum().alias("unch"),
               (valid & (c >= pl.col("prev") * 1.2 - 0.005)).sum().alias("lu"),
               (valid & (c <= pl.col("prev") * 0.8 + 0.005)).sum().alias("ld"),
               pl.col("ma20").is_not_null().sum().alias("n20"),
               ((c - pl.col("ma20")) > REL * pl.col("ma20").abs()).fill_null(False).sum()
               .alias("a20"),
               pl.col("ma60").is_not_null().sum().alias("n60"),
               ((c - pl.col("ma60")) > REL * pl.col("ma60").abs()).fill_null(False).sum()
               .alias("a60"))
           .sort("date"))
    return _finish(out.drop("date").to_numpy().astype(np.int64))


DUCKDB_SQL = """
WITH w AS (
  SELECT date, close,
         lag(close) OVER (PARTITION BY code ORDER BY date) AS prev,
         CASE WHEN count(*) OVER w20 = 20 THEN avg(close) OVER w20 END AS ma20,
         CASE WHEN count(*) OVER w60 = 60 THEN avg(close) OVER w60 END AS ma60
  FROM bars
  WINDOW w20 AS (PARTITION BY code ORDER BY date ROWS BETWEEN 19 PRECEDING AND CURRENT ROW),
         w60 AS (PARTITION BY code ORDER BY date ROWS BETWEEN 59 PRECEDING AND CURRENT ROW))
SELECT date,
  count(prev), count_if(close > prev), count_if(close < prev), count_if(close = prev),
  count_if(close >= prev * 1.2 - 0.005), count_if(close <= prev * 0.8 + 0.005),
  count(ma20), count_if(close - ma20 > 1e-9 * abs(ma20)),
  count(ma60), count_if(close - ma60 > 1e-9 * abs(ma60))
FROM w GROUP BY date ORDER BY date
"""


def duckdb_engine(con: Any) -> np.ndarray:
    rows = con.execute(DUCKDB_SQL).fetchnumpy()
    arr = np.column_stack([rows[k] for k in list(rows)[1:]]).astype(np.int64)
    return _finish(arr)


def _compare(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    ints = [0, 1, 2, 3, 4, 5, 6, 8]
    int_diff = int((a[:, ints] != b[:, ints]).sum())
    pct = np.abs(np.nan_to_num(a[:, [7, 9]], nan=-1) - np.nan_to_num(b[:, [7, 9]], nan=-1))
    return {"int_cells_differing": int_diff, "pct_max_abs_diff": float(pct.max())}


def run(dump: Path | None = None, **_: Any) -> dict[str, Any]:
    import duckdb
    import polars as pl

    df = load()
    dates = np.sort(df["date"].unique())
    date_idx = np.searchsorted(dates, df["date"].to_numpy()).astype(np.int64)
    code_idx = pd.factorize(df["code"])[0].astype(np.int64)
    close = df["close"].to_numpy(dtype=np.float64)
    n_dates = len(dates)
    frame = pl.from_pandas(df)
    con = duckdb.connect()
    con.register("bars_df", df)
    con.execute("CREATE TABLE bars AS SELECT * FROM bars_df")

    engines = {
        "kechuang_numba": lambda: ours(code_idx, date_idx, close, n_dates),
        "numpy_reference": lambda: numpy_ref(code_idx, date_idx, close, n_dates),
        "pandas": lambda: pandas_engine(df, n_dates),
        "polars": lambda: polars_engine(pl, frame),
        "duckdb_sql": lambda: duckdb_engine(con),
    }
    ref = engines["numpy_reference"]()
    out: dict[str, Any] = {"rows": len(df), "dates": n_dates, "codes": int(code_idx.max() + 1),
                           "threads": {"numba": os.environ.get("NUMBA_NUM_THREADS", "default"),
                                       "polars": pl.thread_pool_size(),
                                       "duckdb": con.execute(
                                           "SELECT current_setting('threads')").fetchone()},
                           "engines": {}}
    results = {}
    for name, fn in engines.items():
        results[name] = fn()
        check = _compare(results[name], ref)
        if check["int_cells_differing"] or check["pct_max_abs_diff"] > 1e-9:
            raise AssertionError(f"W4 {name} disagrees with the numpy reference: {check}")
        t = time_call(fn)
        out["engines"][name] = {**t, "rows_per_s": len(df) / t["median_s"], "check": check}
    base = out["engines"]["kechuang_numba"]["median_s"]
    out["speedup_vs"] = {k: v["median_s"] / base for k, v in out["engines"].items()
                         if k != "kechuang_numba"}
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        table = pd.DataFrame(results["kechuang_numba"], columns=COLS[1:])
        for col in COLS[1:]:
            if not col.startswith("pct"):
                table[col] = table[col].astype(np.int64)
        table.insert(0, "date", dates)
        table.to_csv(dump / "breadth.csv", index=False)
        out["dumped"] = str(dump / "breadth.csv")
    return out
