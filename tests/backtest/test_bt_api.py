"""kc.backtest / kc.sweep on the bundled store, bad input, the CLI, and the statistics checked
against empyrical-reloaded on the same return series."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import kechuang as kc
from kechuang.analytics import performance as perf
from kechuang.core.errors import StarError


def test_ma_crossover_on_raw_bars_with_signals_on_adjusted(bundled_store: Path) -> None:
    res = kc.backtest("ma_cross", ["688005", "688036"], "2020-01-01", "2025-05-23",
                      fast=10, slow=50, db=bundled_store)
    s = res.stats
    assert s["sessions"] == len(res.equity) and s["n_fills"] > 10
    assert set(res.fees) == {"commission", "stamp_duty", "transfer", "handling", "regulatory"}
    assert res.fees["stamp_duty"] > 0 and res.fees["commission"] > 0
    # every fill is at the raw close of that date
    o = res.orders[res.orders["filled"] > 0]
    from kechuang.data.store import open_store

    with open_store(bundled_store) as st:
        raw = st.query("SELECT code, date, close FROM bars_daily WHERE source='raw' AND "
                       "code IN ('688005', '688036')")
    raw["date"] = pd.to_datetime(raw["date"])
    j = o.merge(raw, on=["code", "date"])
    assert len(j) == len(o) and np.allclose(j["price"], j["close"])
    assert (o["filled"] >= 200).all() | (o["side"] == "sell").all()
    # per-account equity sums to the reported equity; cash never negative
    assert np.allclose(res.columns.sum(axis=1), res.equity)
    assert (res.cash >= 0).all()
    assert -1 <= s["beta"] <= 3 and np.isfinite(s["information_ratio"])


def test_bonus_issue_gap_is_no_fake_return(bundled_store: Path) -> None:
    # 688005: 10-for-4.8 bonus issue on 2025-03-06 (raw close drops about a third); a holder
    # gets the bonus shares, so the equity moves with the market, not -33%
    res = kc.backtest("rebalance", start="2025-02-20", end="2025-03-20", db=bundled_store,
                      weights={"688005": 0.9}, cash=0.1, schedule="once")
    r = res.equity.pct_change()
    assert abs(r.loc["2025-03-06"]) < 0.12
    pos = res.positions["688005"]
    assert pos.loc["2025-03-06"] > pos.loc["2025-03-05"] * 1.4
    assert res.stats["corporate_actions_cash"] >= 0


def test_dca_and_core_satellite_on_bundled_etfs(bundled_store: Path) -> None:
    d = kc.backtest("dca", ["588000"], "2021-01-01", "2024-12-31", amount=2000.0,
                    db=bundled_store)
    assert d.stats["initial_cash"] == 0 and d.stats["contributed"] == 2000.0 * 48
    assert np.isfinite(d.stats["money_weighted_return"])
    assert np.isfinite(d.stats["time_weighted_return"])
    cs = kc.backtest("core_satellite", start="2023-07-01", db=bundled_store)
    assert cs.correlation is not None and cs.correlation.shape == (4, 4)
    assert cs.stats["interest"] > 0  # the cash reserve earns the CGB 3m yield
    assert (cs.cash / cs.equity).iloc[-1] == pytest.approx(0.15, abs=0.06)


def test_sweep_table_matches_single_backtests(bundled_store: Path) -> None:
    codes = ["688005", "688036", "688981"]
    table = kc.sweep("ma_cross", {"fast": [5, 10], "slow": [30, 60]}, codes, "2021-01-01",
                     "2024-12-31", db=bundled_store)
    assert len(table) == 4 * 3
    assert {"fast", "slow", "code", "sharpe", "max_drawdown", "final_value"} <= set(table)
    single = kc.backtest("ma_cross", codes, "2021-01-01", "2024-12-31", fast=10, slow=30,
                         db=bundled_store)
    sub = table[(table["fast"] == 10) & (table["slow"] == 30)].set_index("code")
    last = single.columns.iloc[-1]
    np.testing.assert_allclose(sub.loc[codes, "final_value"], last[codes], rtol=1e-12)
    fills = single.orders[single.orders["filled"] > 0].groupby("code").size()
    np.testing.assert_array_equal(sub.loc[codes, "n_fills"], fills.reindex(codes).fillna(0))


def test_price_matrix_input_frictionless() -> None:
    rng = np.random.default_rng(7)
    px = 10 * np.exp(np.cumsum(rng.normal(0, 0.02, (300, 3)), axis=0))
    res = kc.backtest("ma_cross", prices=px, fast=5, slow=20)
    assert res.rules == "none" and res.fees["commission"] == 0
    idx = pd.bdate_range("2021-01-04", periods=300)
    df = pd.DataFrame(px, index=idx, columns=["a", "b", "c"])
    table = kc.sweep("grid", {"band": [0.01, 0.03]}, prices=df, rules="none", unit=1)
    assert len(table) == 6 and (table["n_fills"] > 0).all()


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"strategy": "nope", "codes": ["688005"]}, "unknown strategy 'nope'"),
    ({"strategy": "ma_cross", "codes": ["688005"], "speed": 3}, "no parameter 'speed'"),
    ({"strategy": "ma_cross", "codes": ["688005"], "start": "2025-05-01", "slow": 60},
     "longer than the history"),
    ({"strategy": "ma_cross", "codes": ["688005"], "start": "2025-03-01", "end": "2025-02-01"},
     "after end"),
    ({"strategy": "ma_cross", "codes": ["688005"], "start": "2030-01-01"}, "outside the data"),
    ({"strategy": "ma_cross", "codes": ["688999"]}, "688999"),
    ({"strategy": "dca", "codes": ["588000"], "amount": -100}, "amount=-100"),
    ({"strategy": "rebalance", "weights": {"588000": 0.5, "518880": 0.3}}, "not 1"),
    ({"strategy": "rebalance", "weights": {"588000": 1.2, "518880": -0.2}}, ">= 0"),
    ({"strategy": "ma_cross", "codes": ["688005"], "rules": "loose"}, "rules='loose'"),
])
def test_bad_input_gives_one_line_error(bundled_store: Path, kwargs: dict,
                                        needle: str) -> None:
    with pytest.raises(StarError) as e:
        kc.backtest(db=bundled_store, **kwargs)
    assert needle in str(e.value) and "\n" not in str(e.value)


def test_cli_backtest_and_sweep(bundled_store: Path, tmp_path: Path) -> None:
    from kechuang.cli.main import app

    run = CliRunner()
    r = run.invoke(app, ["backtest", "grid", "-c", "688005", "--start", "2023-01-01",
                         "-p", "band=0.03", "--db", str(bundled_store), "--json",
                         "--out", str(tmp_path / "exp")])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["params"]["band"] == 0.03 and "sharpe" in out["stats"]
    assert (tmp_path / "exp" / "orders.csv").exists()
    r = run.invoke(app, ["sweep", "ma_cross", "-c", "688005", "-g", "fast=5:15:5",
                         "-g", "slow=30,60", "--db", str(bundled_store), "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert sorted({(x["fast"], x["slow"]) for x in rows}) == [
        (5, 30), (5, 60), (10, 30), (10, 60), (15, 30), (15, 60)]


def test_grid_spec_parsing() -> None:
    from kechuang.api.backtest import parse_grid

    assert parse_grid(["fast=5:50:5"])["fast"] == list(range(5, 55, 5))
    assert parse_grid(["band=0.01:0.03:0.01"])["band"] == [0.01, 0.02, 0.03]
    assert parse_grid(["slow=20,40"]) == {"slow": [20, 40]}
    with pytest.raises(StarError):
        parse_grid(["fast"])


def test_statistics_match_empyrical() -> None:
    import empyrical  # empyrical-reloaded, in the test extra

    rng = np.random.default_rng(3)
    idx = pd.bdate_range("2021-01-04", periods=600)
    r = pd.Series(rng.normal(0.0006, 0.02, 600), index=idx)
    b = pd.Series(0.6 * r.to_numpy() + rng.normal(0.0002, 0.01, 600), index=idx)
    p = 242.0
    equity = 1e6 * (1 + r).cumprod()  # the first return is against the initial 1e6
    bench = 100 * (1 + b).cumprod()
    s = perf.summarize(equity, None, 1e6, bench, periods=p)
    assert s["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r, annualization=p), rel=1e-9)
    assert s["sortino"] == pytest.approx(empyrical.sortino_ratio(r, annualization=p), rel=1e-9)
    assert s["volatility"] == pytest.approx(empyrical.annual_volatility(r, annualization=p),
                                            rel=1e-9)
    assert s["cagr"] == pytest.approx(empyrical.annual_return(r, annualization=p), rel=1e-9)
    assert s["max_drawdown"] == pytest.approx(-empyrical.max_drawdown(r), rel=1e-9)
    assert s["calmar"] == pytest.approx(empyrical.calmar_ratio(r, annualization=p), rel=1e-9)
    # the benchmark's first return needs the level before the window: compare on the rest
    alpha, beta = empyrical.alpha_beta(r.iloc[1:], b.iloc[1:], annualization=p)
    assert s["beta"] == pytest.approx(beta, rel=1e-9)
    assert s["alpha"] == pytest.approx(alpha, rel=1e-9)
    te = np.std((r - b).iloc[1:], ddof=1) * np.sqrt(p)
    assert s["tracking_error"] == pytest.approx(te, rel=1e-9)
    # the sweep's online accumulators give the same figures as the full series
    acc = np.array([equity.iloc[-1], 0, len(r), r.sum(), (r**2).sum(), (r[r < 0] ** 2).sum(),
                    s["max_drawdown"], 0, 0, 0, 0, 0, 0])
    st = perf.sweep_stats(acc, 1e6, p)
    assert float(st["sharpe"]) == pytest.approx(s["sharpe"], rel=1e-9)
    assert float(st["sortino"]) == pytest.approx(s["sortino"], rel=1e-9)
    assert float(st["cagr"]) == pytest.approx(s["cagr"], rel=1e-9)


def test_money_weighted_return_is_the_irr() -> None:
    dates = np.array(["2020-01-01", "2021-01-01", "2022-01-01"], dtype="datetime64[D]")
    irr = perf.xirr(dates, np.array([-1000.0, -1000.0, 2310.0]))
    years = (dates - dates[0]).astype(np.int64) / 365.0
    npv = -1000 / (1 + irr) ** years[0] - 1000 / (1 + irr) ** years[1] \
        + 2310 / (1 + irr) ** years[2]
    assert abs(npv) < 1e-6 and irr == pytest.approx(0.1, abs=0.002)


def test_sweep_of_an_allocation_strategy(bundled_store: Path) -> None:
    table = kc.sweep("dca", {"amount": [1000.0, 3000.0]}, ["588000"], "2021-01-01",
                     "2023-12-29", db=bundled_store)
    assert list(table["amount"]) == [1000.0, 3000.0]
    assert table.loc[1, "contributed"] == pytest.approx(3 * table.loc[0, "contributed"])
    single = kc.backtest("dca", ["588000"], "2021-01-01", "2023-12-29", amount=3000.0,
                         db=bundled_store)
    assert table.loc[1, "final_value"] == pytest.approx(single.stats["final_value"])
