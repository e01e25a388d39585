"""Sweeps on a Ray cluster (the optional ``ray`` extra: ``pip install 'kechuang[ray]'``).

The same work as ``engines.sweep.run_sweep``, spread over Ray workers:

1. the kernel arrays (prices, rule arrays, the ragged layout) are built once on the driver and
   put into Ray's object store once (``ray.put``); workers on the same node map them without a
   copy, other nodes fetch them once;
2. the parameter grid is cut into chunks; each chunk is one task that calls the plain
   ``engines.sweep.sweep_chunk`` the local backend uses, with numba limited to the CPUs Ray
   gave the task;
3. the chunks' statistics are put back in grid order, so the result is the array the local
   backend returns, identical value for value.

What is shipped to workers: the arrays (once), the grid chunks and the name of the chunk
function; workers import ``kechuang`` themselves, so every node needs the same kechuang, numba
and numpy installed (or a ``runtime_env`` that provides them)."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from kechuang.core.errors import StarError, ValidationError
from kechuang.engines import backtest as eng
from kechuang.engines import sweep as local
from kechuang.rules.fees import Commission

INSTALL_HINT = "the Ray backend needs the ray extra: pip install 'kechuang[ray]'"


def _ray(local: bool = False) -> Any:
    if local and "ray" not in sys.modules:
        # A new single-machine instance keeps its services on loopback instead of the
        # machine's network address; Ray reads this when it is first imported.
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
    except ImportError:
        raise StarError(INSTALL_HINT) from None
    return ray


def _chunk_task(kind: int, grid: np.ndarray, arrays: dict[str, Any], init_cash: float,
                next_open: bool, threads: int) -> np.ndarray:
    """Body of one Ray task: the local chunk function with numba on the task's CPUs."""
    import numba

    numba.set_num_threads(max(1, min(threads, int(numba.config.NUMBA_NUM_THREADS))))  # type: ignore[attr-defined]
    return local.sweep_chunk(kind, grid, arrays, init_cash, next_open)


def _reachable(address: str, timeout: float = 3.0) -> None:
    """Fail fast on a HOST:PORT nobody listens on (ray.init would retry for minutes)."""
    import socket

    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise ValidationError(f"Ray address {address!r}; expected 'auto', HOST:PORT or "
                              f"ray://HOST:PORT")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as e:
        raise StarError(f"cannot reach Ray at {address}: {e.strerror or e}") from None


def connect(address: str | None = None, runtime_env: dict[str, Any] | None = None) -> bool:
    """Connect to the cluster at `address` ('auto', 'host:6379' or 'ray://host:10001'). With
    None, Ray's own default: the cluster in RAY_ADDRESS or one started on this machine with
    `ray start`, else a new local instance. Returns True when this call initialised Ray (the
    caller then shuts it down); an already initialised Ray is used as it is."""
    ray = _ray(local=address in (None, "local") and not os.environ.get("RAY_ADDRESS"))
    if address and address not in ("auto", "local"):
        _reachable(address)
    if ray.is_initialized():
        return False
    kw: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False}
    if runtime_env:
        kw["runtime_env"] = runtime_env
    try:
        ray.init(address=address, **kw)
    except (ConnectionError, RuntimeError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StarError(f"cannot connect to Ray at {address or 'a new local instance'}: "
                        f"{first}") from None
    return True


def run_sweep(kind: int, grid: np.ndarray, m: eng.MarketArrays, rules: str = "star",
              fill: str = "close", commission: Commission | None = None,
              init_cash: float = 1_000_000.0, chunk: int | None = None,
              progress: Callable[[int, int], None] | None = None,
              address: str | None = None, cpus_per_task: int = 1,
              runtime_env: dict[str, Any] | None = None) -> np.ndarray:
    """All combinations of `grid` (n x 3 kernel parameters) over every column of `m`, as Ray
    tasks; returns the (n x n_columns x N_STATS) array of ``engines.sweep.run_sweep``.

    `chunk` is the number of combinations per task (default: the grid cut into one task per
    task slot of the cluster, CPUs / cpus_per_task); `cpus_per_task` is the numba threads each
    task uses."""
    if cpus_per_task < 1:
        raise ValidationError(f"cpus_per_task={cpus_per_task}; expected at least 1")
    if chunk is not None and chunk < 1:
        raise ValidationError(f"chunk={chunk}; expected at least 1")
    next_open = eng._check_fill(fill)
    arrays = local.prepare(m, rules, commission)
    ray = _ray()
    started = connect(address, runtime_env)
    try:
        return run_arrays(kind, grid, arrays, init_cash, next_open, chunk, progress,
                          cpus_per_task)
    finally:
        if started:
            ray.shutdown()


def run_arrays(kind: int, grid: np.ndarray, arrays: dict[str, Any], init_cash: float,
               next_open: bool, chunk: int | None = None,
               progress: Callable[[int, int], None] | None = None, cpus_per_task: int = 1
               ) -> np.ndarray:
    """The distributed part on prepared kernel arrays (``engines.sweep.prepare``), Ray being
    connected: one ``ray.put`` of the arrays, one task per chunk of the grid, results in grid
    order."""
    ray = _ray()
    if not ray.is_initialized():
        raise StarError("Ray is not initialised; call engines.sweep_ray.connect(address) first")
    n = len(grid)
    grid = np.ascontiguousarray(grid, dtype=np.float64)
    if chunk is None:
        # one task per task slot: each task builds its columns' inputs (prefix sums,
        # corporate-action marks) over every bar, about 0.1 s per task at 25M bars, so four
        # tasks per slot cost W8 about 1 s a call (Ray 2 workers 1.63x one worker; 1.78x with
        # one task per slot). Strided chunks keep the slots' work even.
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        chunk = max(1, math.ceil(n / max(1, cpus // cpus_per_task)))
    task = ray.remote(num_cpus=cpus_per_task, max_retries=2)(_chunk_task)
    ref = ray.put(arrays)  # once; every task gets the same object
    # Chunks take every n_chunks-th combination rather than a contiguous run: neighbouring
    # combinations cost alike (e.g. short MA windows cross often), so strided chunks even out
    # the work per task and the workers finish together.
    n_chunks = math.ceil(n / chunk)
    members = [np.arange(j, n, n_chunks) for j in range(n_chunks)]
    pending = {task.remote(kind, grid[idx], ref, init_cash, next_open, cpus_per_task): idx
               for idx in members}
    out = np.zeros((n, len(arrays["offsets"]) - 1, len(local.ko.STAT_FIELDS)))
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for r in ready:
            idx = pending.pop(r)
            out[idx] = ray.get(r)
            done += len(idx)
            if progress:
                progress(done, n)
    del ref
    return out
