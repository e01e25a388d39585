"""W3 grid trading, frictionless (benchmarks.md): reference = last trade price (first close
before any trade); buy 1 unit when close <= ref x 0.98 and position < 10, sell 1 unit when
close >= ref x 1.02 and position > 0; at most one trade per bar, at the close. Unit: bars/s.

Engines: kechuang (grid column kernel), vectorbt (from_order_func with a numba order function;
with 1,000,000 cash every 1-unit order fills, so the order function may move the reference when
it places the order), backtrader (one Cerebro per stock, cheat-on-close; timed on a subset)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.run import time_call
from benchmarks.workloads import bt_common as bc

BAND, UNIT, MAX_UNITS = 0.02, 1, 10


def run(engines: str | list[str] | None = None, dump: str | Path | None = None,
        bt_codes: int = 25) -> dict[str, Any]:
    want = bc.engines_wanted(engines, ("kechuang", "vectorbt", "backtrader"))
    bars = bc.load()
    lens = np.diff(bars.offsets)
    ref = [bc.ref_grid(bars.column(k), BAND, UNIT, MAX_UNITS) for k in range(len(bars.codes))]
    ref_final = np.array([r[0] for r in ref])
    ref_fills = np.array([r[1] for r in ref])
    ties = np.array([r[2] for r in ref])
    out: dict[str, Any] = {"bars": bars.n_bars, "stocks": len(bars.codes),
                           "threads": bc.threads(), "engines": {}}
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "kechuang" in want:
        arrays = bc.kernel_arrays(bars, "none")
        grid = np.array([[BAND, UNIT, MAX_UNITS]], dtype=np.float64)

        def kc() -> np.ndarray:
            return bc.run_kechuang(1, grid, arrays)

        st = kc()[0]
        results["kechuang"] = (st[:, 0], st[:, 1].astype(np.int64))
        t = time_call(kc)
        out["engines"]["kechuang"] = t | {"bars_per_s": bars.n_bars / t["median_s"],
                                          "check": bc.compare("kechuang", st[:, 0], st[:, 1],
                                                              ref_final, ref_fills, ties)}
    if "vectorbt" in want:
        close = bars.padded()

        def vb() -> tuple[np.ndarray, np.ndarray]:
            return bc.vbt_grid(close, lens, BAND, UNIT, MAX_UNITS)

        final, fills = vb()
        results["vectorbt"] = (final, fills)
        t = time_call(vb)
        out["engines"]["vectorbt"] = t | {"bars_per_s": bars.n_bars / t["median_s"],
                                          "check": bc.compare("vectorbt", final, fills,
                                                              ref_final, ref_fills, ties)}
    if "backtrader" in want:
        k = min(bt_codes, len(bars.codes))
        series = [bars.column(i) for i in range(k)]
        n_sub = int(lens[:k].sum())

        def btr() -> tuple[np.ndarray, np.ndarray]:
            return bc.bt_run(series, "grid", {"band": BAND, "unit": UNIT,
                                              "max_units": MAX_UNITS})

        final, fills = btr()
        results["backtrader"] = (final, fills)
        t = time_call(btr, min_calls=1, min_seconds=0.0)
        out["engines"]["backtrader"] = t | {
            "bars_per_s": n_sub / t["median_s"], "stocks_timed": k,
            "check": bc.compare("backtrader", final, fills, ref_final[:k], ref_fills[:k],
                                ties[:k])}
    kcs = out["engines"].get("kechuang", {}).get("bars_per_s")
    for name, e in out["engines"].items():
        if name != "kechuang" and kcs:
            out[f"ratio_kechuang_vs_{name}"] = bc.ratio(kcs, e["bars_per_s"])
    for name, (final, fills) in results.items():
        bc.dump(dump, "W3", name, {"code": bars.codes[: len(final)], "band": BAND,
                                   "unit": UNIT, "max_units": MAX_UNITS,
                                   "final_value": final, "n_fills": fills})
    return out
