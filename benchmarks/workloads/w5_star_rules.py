"""W5 STAR rules on (benchmarks.md): W1 and W3 again with rules="star" (limits by direction,
none in the first 5 sessions after listing, T+1, 200-share lots with odd-lot sell-all, dated
commission / stamp duty / transfer / handling / regulatory fees), against the frictionless run
of the same kernel in the same process. Reports the cost of realism as time(star) /
time(frictionless).

The grid uses 200-share units in both runs here (1-unit orders are all below the STAR minimum
lot, which would make the rules run trivially cheap). The STAR results are checked against the
slow pure-Python twin of the kernel (tests/backtest/bt_twins.py) on `check_codes` stocks."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.run import time_call
from benchmarks.workloads import bt_common as bc

CASES = {"W1_ma": (0, (10.0, 50.0, 0.0)), "W3_grid_200": (1, (0.02, 200.0, 10.0))}


def _twin_check(kind: int, params: tuple[float, float, float], arrays: dict[str, Any],
                st: np.ndarray, n: int) -> dict[str, int]:
    sys.path.insert(0, str(bc.ROOT / "tests" / "backtest"))
    from bt_twins import twin_column

    off = arrays["offsets"]
    equal = 0
    for c in range(n):
        lo, hi = off[c], off[c + 1]
        sl = slice(lo, hi)
        tw = twin_column(kind, params, arrays["sig"][sl], arrays["close"][sl],
                         arrays["open_"][sl], arrays["sess"][sl], arrays["lim_up"][sl],
                         arrays["lim_dn"][sl], arrays["div_cash"][sl], arrays["bonus"][sl],
                         arrays["fee_rates"], arrays["stamp_on"], arrays["comm_rate"],
                         arrays["comm_min"], arrays["min_lot"], arrays["step"], arrays["t1"],
                         bc.CASH, False)
        fills = int(np.count_nonzero(tw["fill"]))
        equal += int(np.isclose(tw["equity"][-1], st[c, 0], rtol=1e-9) and fills == st[c, 1])
    return {"checked": n, "equal": equal}


def run(engines: str | list[str] | None = None, dump: str | Path | None = None,
        check_codes: int = 40) -> dict[str, Any]:
    want = bc.engines_wanted(engines, ("kechuang",))
    out: dict[str, Any] = {"threads": bc.threads()}
    if "kechuang" not in want:
        return out | {"note": "W5 compares kechuang with itself (rules on vs off)"}
    bars = bc.load()
    arrays = {r: bc.kernel_arrays(bars, r) for r in ("none", "star")}
    out["bars"] = bars.n_bars
    for name, (kind, params) in CASES.items():
        grid = np.array([params])
        res: dict[str, Any] = {}
        stats = {}
        for rules in ("none", "star"):
            a = arrays[rules]

            def call(a: dict[str, Any] = a, kind: int = kind, grid: np.ndarray = grid
                     ) -> np.ndarray:
                return bc.run_kechuang(kind, grid, a)

            stats[rules] = call()[0]
            t = time_call(call)
            res[rules] = t | {"bars_per_s": bars.n_bars / t["median_s"],
                              "fills": int(stats[rules][:, 1].sum()),
                              "blocked": int(stats[rules][:, 12].sum())}
        res["check_star_vs_twin"] = _twin_check(kind, params, arrays["star"], stats["star"],
                                                min(check_codes, len(bars.codes)))
        res["star_over_frictionless_time"] = round(res["star"]["median_s"]
                                                   / res["none"]["median_s"], 2)
        out[name] = res
        for rules in ("none", "star"):
            bc.dump(dump, f"W5_{name}_{rules}", "kechuang", {
                "code": bars.codes, "p0": params[0], "p1": params[1], "p2": params[2],
                "final_value": stats[rules][:, 0],
                "n_fills": stats[rules][:, 1].astype(np.int64)})
    return out
