"""W1 MA crossover, frictionless (benchmarks.md): one account per stock, 1,000,000 cash, SMA 10
and SMA 50 over own bars, all-in long-only, fills at the signal bar's close. Unit: bars/s.

Engines: kechuang (the numba column kernel through engines.sweep.sweep_chunk), vectorbt
(from_signals on the own-bars matrix) and backtrader (one Cerebro per stock, cheat-on-close;
timed on the first `bt_codes` stocks and reported in bars/s, since a full run takes minutes).
Each engine's results are checked against the project's plain reference before timing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.run import time_call
from benchmarks.workloads import bt_common as bc

FAST, SLOW = 10, 50


def run(engines: str | list[str] | None = None, dump: str | Path | None = None,
        bt_codes: int = 25) -> dict[str, Any]:
    want = bc.engines_wanted(engines, ("kechuang", "vectorbt", "backtrader"))
    bars = bc.load()
    lens = np.diff(bars.offsets)
    ref = [bc.ref_ma(bars.column(k), FAST, SLOW) for k in range(len(bars.codes))]
    ref_final = np.array([r[0] for r in ref])
    ref_fills = np.array([r[1] for r in ref])
    ties = np.array([r[2] for r in ref])
    out: dict[str, Any] = {"bars": bars.n_bars, "stocks": len(bars.codes),
                           "threads": bc.threads(), "engines": {}}
    grid = np.array([[FAST, SLOW, 0.0]])
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "kechuang" in want:
        arrays = bc.kernel_arrays(bars, "none")

        def kc() -> np.ndarray:
            return bc.run_kechuang(0, grid, arrays)

        st = kc()[0]
        results["kechuang"] = (st[:, 0], st[:, 1].astype(np.int64))
        t = time_call(kc)
        out["engines"]["kechuang"] = t | {"bars_per_s": bars.n_bars / t["median_s"],
                                          "check": bc.compare("kechuang", st[:, 0],
                                                              st[:, 1], ref_final, ref_fills,
                                                              ties)}
    if "vectorbt" in want:
        close = bars.padded()

        def vb() -> tuple[np.ndarray, np.ndarray]:
            return bc.vbt_ma(close, [FAST], [SLOW])

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
            return bc.bt_run(series, "ma", {"fast": FAST, "slow": SLOW})

        final, fills = btr()
        t = time_call(btr, min_calls=1, min_seconds=0.0)
        out["engines"]["backtrader"] = t | {
            "bars_per_s": n_sub / t["median_s"], "stocks_timed": k,
            "check": bc.compare("backtrader", final, fills, ref_final[:k], ref_fills[:k],
                                ties[:k])}
        results["backtrader"] = (final, fills)
    kcs = out["engines"].get("kechuang", {}).get("bars_per_s")
    for name, e in out["engines"].items():
        if name != "kechuang" and kcs:
            out[f"ratio_kechuang_vs_{name}"] = bc.ratio(kcs, e["bars_per_s"])
    for name, (final, fills) in results.items():
        n = len(final)
        bc.dump(dump, "W1", name, {"code": bars.codes[:n], "fast": FAST, "slow": SLOW,
                                   "final_value": final, "n_fills": fills})
    return out
