"""The one benchmark runner: `python benchmarks/run.py W6 [W1 ...]` (all workloads if none given).

Each workload is a module `benchmarks/workloads/w<N>_<name>.py` with a `run() -> dict` that
times the engines side by side in one process run, checks their results agree, and returns a
summary. The runner prints it as JSON and appends a dated section to benchmarks/RESULTS.md
when --record is given. Protocol: ../docs (benchmarks.md) - setup untimed, one warm-up, then at
least 3 timed calls repeating until 1 s has elapsed, median reported."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def time_call(fn: Callable[[], Any], min_calls: int = 3, min_seconds: float = 1.0
              ) -> dict[str, float]:
    """One warm-up, then >= min_calls timed calls until min_seconds elapsed; median seconds."""
    t0 = time.perf_counter()
    fn()
    warm = time.perf_counter() - t0
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_calls or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return {"warmup_s": warm, "median_s": statistics.median(times), "calls": len(times)}


def machine() -> dict[str, Any]:
    import numpy

    info: dict[str, Any] = {"python": platform.python_version(), "platform": platform.platform(),
                            "cpus": os.cpu_count(), "numpy": numpy.__version__}
    for mod in ("duckdb", "pandas", "numba", "pyarrow", "vectorbt", "backtrader", "polars",
                "ray"):
        with contextlib.suppress(Exception):
            info[mod] = importlib.import_module(mod).__version__
    with contextlib.suppress(Exception):
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in
                           Path("/proc/cpuinfo").read_text().splitlines()
                           if line.startswith("model name"))
    return info


def workloads() -> dict[str, str]:
    out = {}
    for p in sorted((HERE / "workloads").glob("w*_*.py")):
        out[p.stem.split("_")[0].upper()] = f"benchmarks.workloads.{p.stem}"
    return out


def _accepts_dump(fn: Callable[..., Any]) -> bool:
    return _accepts(fn, "dump")


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    import inspect

    params = inspect.signature(fn).parameters.values()
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("names", nargs="*", help="workloads, e.g. W6 (default: all)")
    ap.add_argument("--record", action="store_true", help="append results to RESULTS.md")
    ap.add_argument("--dump", metavar="DIR", type=Path, default=None,
                    help="workloads that support it write their result tables to DIR/<name>")
    ap.add_argument("--engines", default=None,
                    help="comma-separated engines for workloads that compare several, e.g. "
                         "kechuang,vectorbt (default: each workload's own list)")
    args = ap.parse_args()
    known = workloads()
    names = [n.upper() for n in args.names] or list(known)
    for n in names:
        if n not in known:
            sys.exit(f"error: unknown workload {n}; known: {', '.join(known)}")
    results = {"machine": machine(), "date": dt.datetime.now().isoformat(timespec="seconds")}
    for n in names:
        run_fn = importlib.import_module(known[n]).run
        opts: dict[str, Any] = {}
        if args.dump is not None and _accepts_dump(run_fn):
            opts["dump"] = args.dump / n.lower()
        if args.engines is not None and _accepts(run_fn, "engines"):
            opts["engines"] = args.engines
        results[n] = run_fn(**opts)
    print(json.dumps(results, indent=2, default=str))
    if args.record:
        with (HERE / "RESULTS.md").open("a", encoding="utf-8") as f:
            f.write(f"\n## {', '.join(names)} — {results['date']}\n\n")
            f.write(f"Command: `python benchmarks/run.py {' '.join(sys.argv[1:])}`\n\n")
            f.write("```json\n" + json.dumps(results, indent=2, default=str) + "\n```\n")


if __name__ == "__main__":
    main()
