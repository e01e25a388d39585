"""W2 parameter sweep (benchmarks.md): W1 over fast 5..50 step 5 x slow 20..200 step 20, all 100
pairs kept (fast >= slow included): 34,700 backtests. Unit: backtests/s.

kechuang runs every (pair, stock) task in parallel inside numba and keeps one statistics row
per task (no bars x combinations frame). vectorbt gets the usual broadcast: MA indicators for the
100 pairs, entries/exits and one from_signals portfolio over 34,700 columns. Results are checked
against the plain reference (all 34,700 for kechuang, vectorbt's too). Peak memory of the
kechuang sweep is measured in a fresh process (VmHWM), imports and data loading included."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.run import time_call
from benchmarks.workloads import bt_common as bc

FAST = list(range(5, 55, 5))
SLOW = list(range(20, 220, 20))

_MEM_SCRIPT = """
import json, resource, sys
sys.path.insert(0, {root!r})
import numpy as np
from benchmarks.workloads import bt_common as bc
from benchmarks.workloads.w2_ma_sweep import FAST, SLOW
bars = bc.load()
arrays = bc.kernel_arrays(bars, "none")
grid = np.array([[f, s, 0.0] for f in FAST for s in SLOW])
bc.run_kechuang(0, grid, arrays)
# VmHWM belongs to this process's own address space; ru_maxrss would also count the parent's
# image forked before exec
hwm = next(int(line.split()[1]) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(json.dumps({{"peak_rss_mb": hwm / 1024,
                  "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


def peak_memory_mb() -> float:
    """Peak RSS of a fresh process that loads the data and runs the sweep once. Run twice and
    the second kept: the first may compile the kernels (LLVM's memory is not the sweep's)
    when the numba cache is cold."""
    peaks = []
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", _MEM_SCRIPT.format(root=str(bc.ROOT))],
                             capture_output=True, text=True, check=True)
        peaks.append(float(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]))
    return peaks[-1]


def run(engines: str | list[str] | None = None, dump: str | Path | None = None) -> dict[str, Any]:
    want = bc.engines_wanted(engines, ("kechuang", "vectorbt"))
    bars = bc.load()
    n_codes = len(bars.codes)
    pairs = [(f, s) for f in FAST for s in SLOW]
    ref = [[bc.ref_ma(bars.column(k), f, s) for k in range(n_codes)] for f, s in pairs]
    ref_final = np.array([[r[0] for r in row] for row in ref]).reshape(-1)
    ref_fills = np.array([[r[1] for r in row] for row in ref]).reshape(-1)
    ties = np.array([[r[2] for r in row] for row in ref]).reshape(-1)
    n_bt = len(pairs) * n_codes
    out: dict[str, Any] = {"backtests": n_bt, "bar_backtests": int(len(pairs) * bars.n_bars),
                           "threads": bc.threads(), "engines": {}}
    results: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    if "kechuang" in want:
        arrays = bc.kernel_arrays(bars, "none")
        grid = np.array([[f, s, 0.0] for f, s in pairs])

        def kc() -> np.ndarray:
            return bc.run_kechuang(0, grid, arrays)

        st = kc()
        final, fills = st[..., 0].reshape(-1), st[..., 1].reshape(-1).astype(np.int64)
        results["kechuang"] = (final, fills)
        t = time_call(kc)
        out["engines"]["kechuang"] = t | {
            "backtests_per_s": n_bt / t["median_s"],
            "check": bc.compare("kechuang", final, fills, ref_final, ref_fills, ties),
            "peak_rss_mb_fresh_process_warm_cache": round(peak_memory_mb(), 1)}
    if "vectorbt" in want:
        close = bars.padded()

        def vb() -> tuple[np.ndarray, np.ndarray]:
            return bc.vbt_ma(close, FAST, SLOW)

        final, fills = vb()
        results["vectorbt"] = (final, fills)
        t = time_call(vb, min_calls=3, min_seconds=0.0)
        out["engines"]["vectorbt"] = t | {
            "backtests_per_s": n_bt / t["median_s"],
            "check": bc.compare("vectorbt", final, fills, ref_final, ref_fills, ties)}
    if "kechuang" in out["engines"] and "vectorbt" in out["engines"]:
        out["ratio_kechuang_vs_vectorbt"] = bc.ratio(
            out["engines"]["kechuang"]["backtests_per_s"],
            out["engines"]["vectorbt"]["backtests_per_s"])
    for name, (final, fills) in results.items():
        bc.dump(dump, "W2", name, {
            "code": np.tile(np.array(bars.codes), len(pairs)),
            "fast": np.repeat([p[0] for p in pairs], n_codes),
            "slow": np.repeat([p[1] for p in pairs], n_codes),
            "final_value": final, "n_fills": fills})
    return out
