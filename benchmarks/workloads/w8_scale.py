"""W8 scale (benchmarks.md): a deterministic synthetic market (kechuang.data.synthetic, seed 8)
at 1x, 10x and 100x the sample's 247,725 bars (100x: 5,385 stocks x 5,000 XSHG sessions, about
24.8M bars), stored as a Hive-partitioned Parquet folder (bars_daily/year=YYYY, the layout of
Store.export_parquet; 5,385 stocks do not fit in the 2,000 STAR codes, so this market stays in
Parquet instead of the store).

At each size, every measurement runs in a fresh Python process, so its peak RSS (ru_maxrss,
data loading included) belongs to that measurement alone:

- W4 breadth out of core: ``api.scale.breadth_parquet`` streams the year partitions with
  per-stock state carried across; in memory: the whole long table loaded, then
  ``kernels.breadth.simple_breadth_long``. Results checked equal (SHA-256 of the table).
- W2-style sweep (fast 5..50 step 5 x slow 20..200 step 20, 100 pairs, frictionless, 1,000,000
  cash, each stock on its own bars): the local backend (``engines.sweep.sweep_chunk`` on
  prepared arrays, numba with 1 thread, then 2 threads) and the Ray backend
  (``engines.sweep_ray.run_arrays``: one ray.put of the arrays per call, grid chunks as tasks)
  on a local Ray instance with 1 CPU, then 2 CPUs (one numba thread per task). Results checked
  equal across the four (SHA-256 of final values and fill counts). For Ray the timed call
  includes shipping the arrays into the object store; the driver's peak RSS and the largest
  worker peak RSS are both reported. RSS counts the shared object-store pages a process has
  touched (every call puts a new copy, so it adds up over calls); the private memory of the
  driver and of each worker after the runs is reported beside it.

The machine is shared (2 cores, other jobs running): each measurement records the 1-minute
load average at its start and end.

Protocol as for the other workloads: setup untimed, one warm-up, then at least 3 timed calls
until 1 s has elapsed, median reported. Sizes can be limited with W8_SIZES=1x,10x; the Parquet
data are cached in W8_DATA (default: the system temp folder)."""

from __future__ import annotations

import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_BARS = 247_725
SEED = 8
SIZES: dict[str, tuple[int, int]] = {  # stocks, sessions
    "1x": (329, 819),
    "10x": (1036, 2600),
    "100x": (5385, 5000),
}
FIRST_DAY_SHARE = 0.85  # most stocks listed from the first session, the rest staggered
FAST = list(range(5, 55, 5))
SLOW = list(range(20, 220, 20))
CASH = 1_000_000.0
SWEEPS = (("local", 1), ("local", 2), ("ray", 1), ("ray", 2))


def _params() -> Any:
    from kechuang.data.synthetic import SyntheticParams

    return SyntheticParams(first_day_share=FIRST_DAY_SHARE)


def data_dir(size: str) -> Path:
    base = Path(os.environ.get("W8_DATA", Path(tempfile.gettempdir()) / "kechuang-w8"))
    return base / f"{size}-seed{SEED}"


def _digest(*arrays: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _private_mb() -> float:
    """Current private (unshared) memory: RSS without shared pages such as Ray's object
    store mappings (Linux /proc/self/smaps_rollup); NaN elsewhere."""
    try:
        text = Path("/proc/self/smaps_rollup").read_text()
    except OSError:
        return float("nan")
    kb = sum(int(line.split()[1]) for line in text.splitlines()
             if line.startswith(("Private_Clean:", "Private_Dirty:")))
    return kb / 1024


# ------------------------------------------------------------------------------------------
# Child processes (one measurement each)
# ------------------------------------------------------------------------------------------

def _load_dense(folder: Path) -> Any:
    """MarketArrays (sessions x stocks, NaN = no bar) read partition by partition."""
    from kechuang.data.partitions import iter_bars
    from kechuang.engines.backtest import MarketArrays

    index: dict[str, int] = {}
    parts = []
    for _, df in iter_bars(folder):
        codes, inv = np.unique(df["code"].to_numpy(), return_inverse=True)
        g = np.array([index.setdefault(c, len(index)) for c in codes], dtype=np.int64)
        d = df["date"].to_numpy().astype("datetime64[D]")
        parts.append((g[inv], d, df["close"].to_numpy(np.float64)))
    sessions = np.unique(np.concatenate([p[1] for p in parts]))
    close = np.full((len(sessions), len(index)), np.nan)
    for a, d, c in parts:
        close[np.searchsorted(sessions, d), a] = c
    codes_sorted = sorted(index, key=index.__getitem__)
    return MarketArrays(codes_sorted, sessions, close, close)


def _child_gen(folder: Path, n: int, t: int) -> dict[str, Any]:
    from kechuang.data.synthetic import write_parquet

    t0 = time.perf_counter()
    counts = write_parquet(folder, n, t, seed=SEED, params=_params())
    counts["seconds"] = round(time.perf_counter() - t0, 1)
    (folder / "done.json").write_text(json.dumps(counts))
    return counts


def _child_breadth(folder: Path, mode: str) -> dict[str, Any]:
    from benchmarks.run import time_call
    from kechuang.api.scale import breadth_parquet

    if mode == "ooc":
        def fn() -> Any:
            return breadth_parquet(folder)
    else:
        import pandas as pd

        from kechuang.data.partitions import iter_bars
        from kechuang.engines.breadth_stream import memory_breadth

        frame = pd.concat([df for _, df in iter_bars(folder)], ignore_index=True)

        def fn() -> Any:
            return memory_breadth(frame)
    table = fn()
    rows = int(table.attrs["rows"]) if mode == "ooc" else len(frame)
    t = time_call(fn)
    num = table.drop(columns="date").to_numpy(dtype=np.float64)
    return t | {"rows_in": rows, "rows_per_s": rows / t["median_s"], "dates": len(table),
                "digest": _digest(np.nan_to_num(num, nan=-1.0)),
                "peak_rss_mb": round(_peak_mb(), 1)}


def _child_sweep(folder: Path, backend: str, workers: int) -> dict[str, Any]:
    from benchmarks.run import time_call
    from kechuang.engines import sweep as local

    m = _load_dense(folder)
    arrays = local.prepare(m, "none")
    grid = np.array([[f, s, 0.0] for f in FAST for s in SLOW])
    n_bars = int(np.isfinite(m.close).sum())
    del m
    extra: dict[str, Any] = {}
    if backend == "local":
        def fn() -> np.ndarray:
            return local.sweep_chunk(0, grid, arrays, CASH, False)
    else:
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only
        import ray

        from kechuang.engines import sweep_ray

        ray.init(address="local", num_cpus=workers, include_dashboard=False,
                 log_to_driver=False)

        def fn() -> np.ndarray:
            return sweep_ray.run_arrays(0, grid, arrays, CASH, False)
    st = fn()
    t = time_call(fn)
    if backend == "ray":
        import ray

        def rss() -> tuple[int, float, float]:
            return os.getpid(), _peak_mb(), _private_mb()

        probe = ray.remote(num_cpus=1)(rss)
        seen = {p: (a, b) for p, a, b in ray.get([probe.remote() for _ in range(8 * workers)])}
        extra["worker_peak_rss_mb_max"] = round(max(a for a, _ in seen.values()), 1)
        extra["worker_private_mb_max_after"] = round(max(b for _, b in seen.values()), 1)
        extra["workers_seen"] = len(seen)
        extra["driver_private_mb_after"] = round(_private_mb(), 1)
        ray.shutdown()
    n_bt = st.shape[0] * st.shape[1]
    return t | extra | {
        "backtests": n_bt, "bar_backtests": n_bars * len(grid),
        "backtests_per_s": n_bt / t["median_s"],
        "bar_backtests_per_s": n_bars * len(grid) / t["median_s"],
        "digest": _digest(st[..., 0], st[..., 1]), "peak_rss_mb": round(_peak_mb(), 1)}


def child(argv: list[str]) -> None:
    task, folder = argv[0], Path(argv[1])
    load0 = os.getloadavg()[0]
    if task == "gen":
        out = _child_gen(folder, int(argv[2]), int(argv[3]))
    elif task == "breadth":
        out = _child_breadth(folder, argv[2])
    else:
        out = _child_sweep(folder, argv[2], int(argv[3]))
    out["loadavg_1m_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    print("W8RESULT " + json.dumps(out))


# ------------------------------------------------------------------------------------------
# Parent
# ------------------------------------------------------------------------------------------

def _spawn(args: list[str], threads: int | None = None) -> dict[str, Any]:
    env = dict(os.environ)
    if threads is not None:
        env["NUMBA_NUM_THREADS"] = str(threads)
    script = (f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
              "from benchmarks.workloads.w8_scale import child; child(sys.argv[1:])")
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        raise RuntimeError(f"W8 child {args} failed: {out.stderr.strip()[-2000:]}")
    line = next(x for x in reversed(out.stdout.splitlines()) if x.startswith("W8RESULT "))
    return dict(json.loads(line.removeprefix("W8RESULT ")))


def ensure_data(size: str) -> dict[str, Any]:
    folder = data_dir(size)
    done = folder / "done.json"
    if done.exists():
        return dict(json.loads(done.read_text()))
    n, t = SIZES[size]
    return _spawn(["gen", str(folder), str(n), str(t)])


def run() -> dict[str, Any]:
    sizes = [s.strip() for s in os.environ.get("W8_SIZES", ",".join(SIZES)).split(",") if s]
    out: dict[str, Any] = {"seed": SEED, "sample_bars": SAMPLE_BARS, "sizes": {}, "table": []}
    for size in sizes:
        n, t = SIZES[size]
        data = ensure_data(size)
        folder = str(data_dir(size))
        res: dict[str, Any] = {"stocks": n, "sessions": t, "bars": data["bars"],
                               "scale": round(data["bars"] / SAMPLE_BARS, 2),
                               "generate_s": data.get("seconds")}
        res["breadth_ooc"] = _spawn(["breadth", folder, "ooc"])
        res["breadth_memory"] = _spawn(["breadth", folder, "memory"])
        res["breadth_equal"] = res["breadth_ooc"]["digest"] == res["breadth_memory"]["digest"]
        for backend, k in SWEEPS:
            res[f"sweep_{backend}_{k}"] = _spawn(["sweep", folder, backend, str(k)],
                                                 threads=k if backend == "local" else 1)
        digests = {res[f"sweep_{b}_{k}"]["digest"] for b, k in SWEEPS}
        res["sweeps_equal"] = len(digests) == 1
        res["ray2_vs_ray1"] = round(res["sweep_ray_1"]["median_s"]
                                    / res["sweep_ray_2"]["median_s"], 2)
        res["ray2_vs_local1"] = round(res["sweep_local_1"]["median_s"]
                                      / res["sweep_ray_2"]["median_s"], 2)
        out["sizes"][size] = res
        row = {"size": size, "bars": data["bars"],
               "breadth_ooc_s": round(res["breadth_ooc"]["median_s"], 3),
               "breadth_ooc_rss_mb": res["breadth_ooc"]["peak_rss_mb"],
               "breadth_mem_s": round(res["breadth_memory"]["median_s"], 3),
               "breadth_mem_rss_mb": res["breadth_memory"]["peak_rss_mb"]}
        for b, k in SWEEPS:
            r = res[f"sweep_{b}_{k}"]
            row[f"sweep_{b}{k}_s"] = round(r["median_s"], 3)
            row[f"sweep_{b}{k}_rss_mb"] = r["peak_rss_mb"]
        out["table"].append(row)
    base = out["sizes"].get("1x")
    if base:
        growth = {}
        for size, res in out["sizes"].items():
            k = res["bars"] / base["bars"]
            growth[size] = {
                "bars_ratio": round(k, 2),
                "breadth_ooc_time_ratio": round(res["breadth_ooc"]["median_s"]
                                                / base["breadth_ooc"]["median_s"], 2),
                "sweep_local_2_time_ratio": round(res["sweep_local_2"]["median_s"]
                                                  / base["sweep_local_2"]["median_s"], 2),
                "sweep_ray_2_time_ratio": round(res["sweep_ray_2"]["median_s"]
                                                / base["sweep_ray_2"]["median_s"], 2)}
        out["growth_vs_1x"] = growth
    return out
