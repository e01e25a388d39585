"""The order kernels against their pure-Python twins on random inputs, and the invariants
(cash never negative, cash + positions x price = equity, fees >= 0, no fill on a bar a rule
forbids, T+1 and lot rules never violated) as property tests."""

from __future__ import annotations

import numpy as np
import pytest
from bt_twins import twin_column, twin_portfolio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kechuang.kernels import orders as ko

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def market(seed: int, n: int, locks: bool) -> dict[str, np.ndarray]:
    """A random walk with exchange-style limit prices; some closes locked at a limit."""
    rng = np.random.default_rng(seed)
    close = np.empty(n)
    up = np.full(n, np.nan)
    dn = np.full(n, np.nan)
    prev = rng.uniform(5, 150)
    for i in range(n):
        r = rng.normal(0, 0.05)
        c = round(prev * (1 + max(min(r, 0.2), -0.2)), 2)
        if i >= 5:  # first 5 sessions: no limit
            up[i] = np.floor(prev * 1.2 * 100 + 0.5) / 100
            dn[i] = np.floor(prev * 0.8 * 100 + 0.5) / 100
            if locks and rng.random() < 0.15:
                c = up[i] if rng.random() < 0.5 else dn[i]
        close[i] = max(c, 0.01)
        prev = close[i]
    open_ = np.round(close * rng.uniform(0.97, 1.03, n), 2)
    return {"close": close, "open": open_, "up": up, "dn": dn}


def fee_table(n: int, star: bool) -> np.ndarray:
    rates = np.zeros((n, 4))
    if star:
        rates[: n // 2] = (0.001, 0.00002, 0.0000487, 0.00002)
        rates[n // 2:] = (0.0005, 0.00001, 0.0000341, 0.00002)
    return rates


def run_kernel_column(kind: int, params: tuple[float, float, float], m: dict[str, np.ndarray],
                      star: bool, t1: int, next_open: bool, cash: float,
                      div: np.ndarray | None = None, bonus: np.ndarray | None = None
                      ) -> tuple:
    n = len(m["close"])
    z = np.zeros(n)
    nan = np.full(n, np.nan)
    return ko.columns_run(
        kind, np.array(params, dtype=np.float64), m["close"], m["close"], m["open"],
        np.arange(n, dtype=np.int64), np.array([0, n], dtype=np.int64),
        m["up"] if star else nan, m["dn"] if star else nan,
        z if div is None else div, z if bonus is None else bonus, fee_table(n, star), star,
        0.00025 if star else 0.0, 5.0 if star else 0.0, 200 if star else 1, 1, t1, cash,
        next_open)


def twin_col(kind: int, params: tuple[float, float, float], m: dict[str, np.ndarray],
             star: bool, t1: int, next_open: bool, cash: float) -> dict[str, list]:
    n = len(m["close"])
    z = np.zeros(n)
    nan = np.full(n, np.nan)
    return twin_column(kind, params, m["close"], m["close"], m["open"], np.arange(n),
                       m["up"] if star else nan, m["dn"] if star else nan, z, z,
                       fee_table(n, star), star, 0.00025 if star else 0.0,
                       5.0 if star else 0.0, 200 if star else 1, 1, t1, cash, next_open)


def check_invariants(out: tuple, m: dict[str, np.ndarray], star: bool, t1: int,
                     next_open: bool) -> None:
    equity, cash, pos, _side, _req, fill, _price, fees, _reason, _corp, stats = out
    assert (cash >= -1e-6).all()
    assert np.allclose(cash + pos * m["close"], equity, rtol=1e-12, atol=1e-6)
    assert (fees >= 0).all()
    px = m["open"] if next_open else m["close"]
    buys, sells = fill > 0, fill < 0
    if star:
        assert not (buys & (px >= m["up"] - 1e-9)).any()
        assert not (sells & (px <= m["dn"] + 1e-9)).any()
        prev_pos = np.concatenate([[0], pos[:-1]])
        odd = sells & (-fill < 200)
        assert (-fill[odd] == prev_pos[odd]).all()  # odd lots only as the whole balance
        assert (fill[buys] >= 200).all()
    if t1:
        # a bar's buy is never sold the same bar
        assert not ((fill > 0) & (fill < 0)).any()
    assert stats[0, 1] == np.count_nonzero(fill)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(20, 90), star=st.booleans(),
       next_open=st.booleans(), fast=st.integers(2, 6), extra=st.integers(1, 10),
       locks=st.booleans())
def test_ma_column_matches_twin(seed: int, n: int, star: bool, next_open: bool, fast: int,
                                extra: int, locks: bool) -> None:
    m = market(seed, n, locks)
    params = (float(fast), float(fast + extra), 0.0)
    cash = 200_000.0
    out = run_kernel_column(0, params, m, star, int(star), next_open, cash)
    tw = twin_col(0, params, m, star, int(star), next_open, cash)
    np.testing.assert_allclose(out[0], tw["equity"], rtol=1e-10, atol=1e-6)
    np.testing.assert_allclose(out[1], tw["cash"], rtol=1e-10, atol=1e-6)
    np.testing.assert_array_equal(out[2], tw["pos"])
    np.testing.assert_array_equal(out[5], tw["fill"])
    np.testing.assert_array_equal(out[8], tw["reason"])
    np.testing.assert_allclose(out[7], np.array(tw["fees"]), atol=1e-9)
    check_invariants(out, m, star, int(star), next_open)


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(20, 90), star=st.booleans(),
       next_open=st.booleans(), band=st.sampled_from([0.01, 0.02, 0.05]),
       unit=st.sampled_from([1, 150, 200, 350]), max_units=st.integers(1, 5),
       locks=st.booleans())
def test_grid_column_matches_twin(seed: int, n: int, star: bool, next_open: bool, band: float,
                                  unit: int, max_units: int, locks: bool) -> None:
    m = market(seed, n, locks)
    params = (band, float(unit), float(max_units))
    cash = 60_000.0
    out = run_kernel_column(1, params, m, star, int(star), next_open, cash)
    tw = twin_col(1, params, m, star, int(star), next_open, cash)
    np.testing.assert_allclose(out[0], tw["equity"], rtol=1e-10, atol=1e-6)
    np.testing.assert_array_equal(out[2], tw["pos"])
    np.testing.assert_array_equal(out[5], tw["fill"])
    np.testing.assert_array_equal(out[8], tw["reason"])
    check_invariants(out, m, star, int(star), next_open)


@pytest.mark.parametrize(("kind", "grid"), [
    (0, [[f, s, 0.0] for f in (3, 5, 8) for s in (10, 20)]),
    (1, [[b, u, m] for b in (0.01, 0.03) for u in (200, 300) for m in (2, 5)]),
])
@pytest.mark.parametrize("star", [True, False])
def test_sweep_equals_single_runs(kind: int, grid: list, star: bool) -> None:
    """The parallel sweep (no per-bar records, fast paths for bars that cannot trade) gives
    each (combination, column) the statistics of a recorded single run, corporate actions
    included."""
    ms = [market(s, 120 + 10 * s, True) for s in range(3)]
    close = np.concatenate([m["close"] for m in ms])
    open_ = np.concatenate([m["open"] for m in ms])
    up = np.concatenate([m["up"] for m in ms])
    dn = np.concatenate([m["dn"] for m in ms])
    offsets = np.cumsum([0] + [len(m["close"]) for m in ms]).astype(np.int64)
    sess = np.concatenate([np.arange(len(m["close"])) for m in ms]).astype(np.int64)
    n = len(close)
    rng = np.random.default_rng(11)
    div = np.where(rng.random(n) < 0.03, 0.2, 0.0)
    bonus = np.where(rng.random(n) < 0.01, 0.4, 0.0)
    if not star:
        up = dn = np.full(n, np.nan)
    rates = fee_table(200, star)
    g = np.array(grid, dtype=np.float64)
    args = (close, close, open_, sess, offsets, up, dn, div, bonus, rates, True,
            0.00025 if star else 0.0, 5.0 if star else 0.0, 200 if star else 1, 1, int(star),
            300_000.0, False)
    swept = ko.sweep_run(kind, g, *args)
    # grouping columns into balanced runs for the threads changes no result
    for n_groups in (1, 2, 5):
        np.testing.assert_array_equal(ko.sweep_run(kind, g, *args, n_groups), swept)
    for k in range(len(g)):
        single = ko.columns_run(kind, g[k], *args)
        np.testing.assert_allclose(swept[k], single[-1], rtol=1e-12)
        for c in range(3):
            hi = offsets[c + 1]
            assert swept[k, c, 0] == pytest.approx(single[0][hi - 1])
    assert swept[..., 1].sum() > 0


@SETTINGS
@given(seed=st.integers(0, 10_000), T=st.integers(5, 40), A=st.integers(1, 4),
       star=st.booleans(), dca=st.booleans(), every=st.integers(1, 10))
def test_portfolio_matches_twin(seed: int, T: int, A: int, star: bool, dca: bool,
                                every: int) -> None:
    rng = np.random.default_rng(seed)
    cols = [market(seed + a, T, True) for a in range(A)]
    close = np.stack([c["close"] for c in cols], axis=1)
    close[rng.random((T, A)) < 0.05] = np.nan  # suspensions
    nan = np.full((T, A), np.nan)
    up = np.stack([c["up"] for c in cols], axis=1) if star else nan
    dn = np.stack([c["dn"] for c in cols], axis=1) if star else nan
    w = rng.dirichlet(np.ones(A)) * 0.9
    target = np.tile(w, (T, 1))
    rebalance = np.zeros(T, dtype=np.bool_)
    buy_value = np.zeros((T, A))
    inflow = np.zeros(T)
    if dca:
        buy_value[::every, 0] = 20_000.0
        inflow[::every] = 20_000.0
    else:
        rebalance[::every] = True
    cash_rate = np.full(T, 0.0001)
    lot = np.full(A, 200 if star else 1, dtype=np.int64)
    step = np.ones(A, dtype=np.int64)
    t1 = np.full(A, int(star), dtype=np.int64)
    stamp = np.ones(A, dtype=np.bool_)
    rates = fee_table(T, star)
    comm, cmin = (0.00025, 5.0) if star else (0.0, 0.0)
    init = 0.0 if dca else 500_000.0
    out = ko.portfolio_run(close, close, up, dn, np.zeros((T, A)), np.zeros((T, A)), rates,
                           stamp, comm, cmin, lot, step, t1, target, rebalance, 0.0,
                           buy_value, inflow, cash_rate, init, False)
    tw = twin_portfolio(close, up, dn, rates, stamp, comm, cmin, lot, step, t1, target,
                        rebalance, buy_value, inflow, cash_rate, init)
    equity, cash, pos, _req, fill, _price, fees, reason, _corp, _interest = out
    np.testing.assert_allclose(equity, tw["equity"], rtol=1e-10, atol=1e-6)
    np.testing.assert_allclose(cash, tw["cash"], rtol=1e-10, atol=1e-6)
    np.testing.assert_array_equal(pos, np.array(tw["pos"]))
    np.testing.assert_array_equal(fill, np.array(tw["fill"]))
    np.testing.assert_array_equal(reason, np.array(tw["reason"]))
    # invariants
    assert (cash >= -1e-6).all() and (fees >= 0).all()
    last = np.copy(close)
    for t in range(1, T):
        last[t] = np.where(np.isnan(last[t]), last[t - 1], last[t])
    np.testing.assert_allclose(cash + np.nansum(pos * last, axis=1), equity, atol=1e-6)
    assert not ((fill != 0) & np.isnan(close)).any()
    if star:
        assert not ((fill > 0) & (close >= up - 1e-9)).any()
        assert not ((fill < 0) & (close <= dn + 1e-9)).any()


@SETTINGS
@given(lens=st.lists(st.integers(0, 50), min_size=0, max_size=12), n=st.integers(1, 6))
def test_balanced_groups_cover_columns_in_order(lens: list, n: int) -> None:
    """Groups are consecutive runs that cover every column once; each holds about
    total / n bars (off by at most one column's bars from its share)."""
    offsets = np.cumsum([0, *lens]).astype(np.int64)
    b = ko.balanced_groups(offsets, n)
    assert b[0] == 0 and b[-1] == len(lens)
    assert np.all(np.diff(b) >= 0)
    assert len(b) - 1 == max(1, min(n, len(lens)))
    share = offsets[-1] / (len(b) - 1)
    biggest = max(lens, default=0)
    for g in range(len(b) - 1):
        bars = offsets[b[g + 1]] - offsets[b[g]]
        assert abs(bars - share) <= 2 * biggest + 1
