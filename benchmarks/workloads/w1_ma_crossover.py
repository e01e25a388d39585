"""W1 MA crossover, frictionless (benchmarks.md): one account per stock, 1,000,000 cash, SMA 10
and SMA 50 over own bars, all-in long-only, fills at the signal bar's close. Unit: bars/s.

Engines: kechuang (the numba column kernel through engines.sweep.sweep_chunk), vectorbt
(from_signals on the own-bars matrix) and backtrader (one Cerebro per stock, cheat-on-close;
timed on the first `bt_codes` stocks and reported in bars/s, since a full run takes minutes).
Each engine's results are checked against the project's plain reference before timing."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.workloads import bt_common as bc

FAST, SLOW = 10, 50


def run(engines: str | list[str] | None = None, dump: str | Path | None = None,
        bt_codes: int = 25) -> dict[str, Any]:
    bars = bc.load()
    ref = [bc.ref_ma(bars.column(k), FAST, SLOW) for k in range(len(bars.codes))]
    grid = np.array([[FAST, SLOW, 0.0]])
    return bc.column_workload(
        "W1", bars, ref, engines, {"fast": FAST, "slow": SLOW},
        kechuang=lambda: partial(bc.run_kechuang, 0, grid, bc.kernel_arrays(bars, "none")),
        vectorbt=lambda close: bc.vbt_ma(close, [FAST], [SLOW]),
        backtrader=lambda series: bc.bt_run(series, "ma", {"fast": FAST, "slow": SLOW}),
        bt_codes=bt_codes, dump_dir=dump)
