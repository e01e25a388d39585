"""W3 grid trading, frictionless (benchmarks.md): reference = last trade price (first close
before any trade); buy 1 unit when close <= ref x 0.98 and position < 10, sell 1 unit when
close >= ref x 1.02 and position > 0; at most one trade per bar, at the close. Unit: bars/s.

Engines: kechuang (grid column kernel), vectorbt (from_order_func with a numba order function;
with 1,000,000 cash every 1-unit order fills, so the order function may move the reference when
it places the order), backtrader (one Cerebro per stock, cheat-on-close; timed on a subset)."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.workloads import bt_common as bc

BAND, UNIT, MAX_UNITS = 0.02, 1, 10


def run(engines: str | list[str] | None = None, dump: str | Path | None = None,
        bt_codes: int = 25) -> dict[str, Any]:
    bars = bc.load()
    ref = [bc.ref_grid(bars.column(k), BAND, UNIT, MAX_UNITS) for k in range(len(bars.codes))]
    grid = np.array([[BAND, UNIT, MAX_UNITS]], dtype=np.float64)
    lens = np.diff(bars.offsets)
    return bc.column_workload(
        "W3", bars, ref, engines, {"band": BAND, "unit": UNIT, "max_units": MAX_UNITS},
        kechuang=lambda: partial(bc.run_kechuang, 1, grid, bc.kernel_arrays(bars, "none")),
        vectorbt=lambda close: bc.vbt_grid(close, lens, BAND, UNIT, MAX_UNITS),
        backtrader=lambda series: bc.bt_run(series, "grid", {"band": BAND, "unit": UNIT,
                                                              "max_units": MAX_UNITS}),
        bt_codes=bt_codes, dump_dir=dump)
