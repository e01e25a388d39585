"""The Ray sweep backend on a local Ray instance (2 CPUs): the same table as the local backend,
value for value; and a clear error when Ray is not installed."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import ray  # the ray extra: `make test` installs it

import kechuang as kc
from kechuang.core.errors import StarError, ValidationError
from kechuang.data import synthetic as sy
from kechuang.engines import backtest as eng
from kechuang.engines import sweep as local
from kechuang.engines import sweep_ray


@pytest.fixture(scope="module")
def ray_local() -> Iterator[None]:
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


def test_ray_sweep_equals_local_on_store(ray_local: None, bundled_store: Path) -> None:
    codes = ["688981", "688111", "688008", "688012", "688036", "688599"]
    grid = {"fast": [5, 10, 20], "slow": [30, 60]}
    kw = dict(grid=grid, codes=codes, start="2021-01-04", end="2023-12-29", db=bundled_store)
    seen: list[int] = []
    a = kc.sweep("ma_cross", **kw)
    b = kc.sweep("ma_cross", backend="ray", progress=lambda d, n: seen.append(d), **kw)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 6 * len(codes) and seen[-1] == 6
    assert (a["n_fills"] > 0).any()


def test_ray_chunks_equal_local_on_synthetic(ray_local: None) -> None:
    m = sy.generate(40, 400, seed=7)
    px = m.bars.pivot(index="date", columns="code", values="close")
    arrays = eng.from_frame(px)
    grid = np.array([[f, s, 0.0] for f in (5, 10, 15) for s in (20, 40, 60)], dtype=np.float64)
    want = local.run_sweep(0, grid, arrays, "none", init_cash=1e6)
    for chunk in (1, 4, None):
        got = sweep_ray.run_sweep(0, grid, arrays, "none", init_cash=1e6, chunk=chunk)
        assert np.array_equal(want, got, equal_nan=True), chunk


def test_backend_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError, match="backend"):
        kc.sweep("ma_cross", grid={"fast": [5]}, prices=np.ones((80, 1)), backend="spark")
    prices = pd.DataFrame({"688981": np.linspace(10, 20, 80)},
                          index=pd.bdate_range("2024-01-02", periods=80))
    with pytest.raises(ValidationError, match="column strategies"):
        kc.sweep("dca", grid={"amount": [1000.0, 2000.0]}, prices=prices, backend="ray")
    monkeypatch.setitem(sys.modules, "ray", None)  # as if the extra were not installed
    with pytest.raises(StarError, match=r"pip install 'kechuang\[ray\]'"):
        sweep_ray.run_sweep(0, np.array([[5.0, 20.0, 0.0]]),
                            eng.from_frame(np.linspace(10, 20, 80)), "none")



def test_cli_sweep_backend_ray(ray_local: None, bundled_store: Path) -> None:
    from typer.testing import CliRunner

    from kechuang.cli.main import app

    args = ["sweep", "ma_cross", "-c", "688005", "-c", "688008", "-g", "fast=5:15:5",
            "-g", "slow=30,60", "--db", str(bundled_store), "--json"]
    run = CliRunner()
    loc = run.invoke(app, args)
    r = run.invoke(app, [*args, "--backend", "ray"])
    assert loc.exit_code == 0 and r.exit_code == 0, r.output
    assert json.loads(r.output) == json.loads(loc.output) and len(json.loads(r.output)) == 12
    bad = run.invoke(app, [*args, "--backend", "dask"])
    assert bad.exit_code != 0 and "backend='dask'" in str(bad.exception)


def test_unreachable_address_fails_fast() -> None:
    import socket
    import time

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    t = time.perf_counter()
    with pytest.raises(StarError, match="cannot reach Ray"):
        sweep_ray.connect(f"127.0.0.1:{port}")
    assert time.perf_counter() - t < 10
    with pytest.raises(ValidationError, match="HOST:PORT"):
        sweep_ray.connect("nonsense")


def test_ray_sweep_on_synthetic_store_with_star_rules(ray_local: None, tmp_path: Path) -> None:
    market = sy.generate(30, 500, seed=3)
    db = tmp_path / "syn.duckdb"
    sy.ingest(market, db)
    codes = list(market.securities["code"])
    kw = dict(grid={"band": [0.02, 0.05], "max_units": [5]}, codes=codes, db=db, unit=200)
    a = kc.sweep("grid", **kw)
    b = kc.sweep("grid", backend="ray", **kw)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 2 * len(codes) and (a["n_fills"] > 0).sum() > 10
