"""Hand-computed golden cases, one per rule (docs/architecture.md, "Backtest semantics")."""

from __future__ import annotations

import numpy as np
import pytest

from kechuang.data.calendar import sessions as xshg
from kechuang.engines import backtest as eng
from kechuang.kernels import orders as ko
from kechuang.strategies import DCA, Rebalance
from kechuang.strategies.library import Plan

CODE = "688001"


def market(start: str, closes: list[float], list_date: str | None = "2019-07-22",
           factor: dict[int, float] | None = None, gap: list[int] | None = None,
           fund: bool = False, code: str = CODE) -> eng.MarketArrays:
    sess = xshg(start, "2026-12-31")[: len(closes)]
    close = np.array(closes, dtype=np.float64)[:, None]
    f = np.full_like(close, np.nan)
    for i, v in (factor or {}).items():
        f[i, 0] = v
    g = np.zeros_like(close, dtype=np.bool_)
    for i in gap or []:
        g[i, 0] = True
    ld = np.array([np.datetime64(list_date) if list_date else np.datetime64("NaT")],
                  dtype="datetime64[D]")
    return eng.MarketArrays([code], sess, close, close.copy(), None, None, f, g, ld,
                            np.array([fund]), None)


def plan(T: int, weights: dict[int, float] | None = None,
         buys: dict[int, float] | None = None, cash: float = 1_000_000.0) -> Plan:
    tw = np.full((T, 1), np.nan)
    rb = np.zeros(T, dtype=np.bool_)
    for i, w in (weights or {}).items():
        tw[i, 0] = w
        rb[i] = True
    bv = np.zeros((T, 1))
    for i, v in (buys or {}).items():
        bv[i, 0] = v
    return Plan(tw, rb, 0.0, bv, np.zeros(T), cash)


STRAT = Rebalance(weights={CODE: 1.0})


def test_buy_blocked_at_locked_limit_up_but_sell_allowed() -> None:
    # session 2 closes locked at limit-up (10.00 x 1.2 = 12.00): the buy is blocked and, being
    # a target, retried and filled on session 3 (decision 5)
    m = market("2024-03-01", [10.0, 10.0, 12.0, 12.5, 15.0, 15.0])
    res = eng.run_portfolio(STRAT, m, plan=plan(6, {2: 0.5, 4: 0.0}))
    o = res.orders
    assert list(o["reason"]) == ["limit", "ok", "ok"]
    assert o.loc[0, "filled"] == 0 and o.loc[0, "side"] == "buy"
    assert o.loc[1, "filled"] > 0 and o.loc[1, "price"] == 12.5
    # session 4 closes at limit-up (12.50 x 1.2 = 15.00): selling there is allowed
    assert o.loc[2, "side"] == "sell" and o.loc[2, "price"] == 15.0
    assert o.loc[2, "filled"] == o.loc[1, "filled"]
    assert res.blocked == {"limit": 1}


def test_sell_blocked_at_locked_limit_down() -> None:
    m = market("2024-03-01", [10.0, 10.0, 8.0, 8.5])
    res = eng.run_portfolio(STRAT, m, plan=plan(4, {0: 0.5, 2: 0.0}))
    o = res.orders
    assert list(o["reason"]) == ["ok", "limit", "ok"]
    assert o.loc[1, "filled"] == 0 and o.loc[2, "price"] == 8.5


def test_plus_35_percent_on_listing_day_3_is_not_a_limit() -> None:
    # listed 2024-03-01; session 3 closes +35%; the buy there fills (no limit in the first 5
    # sessions, listing day included); session 6 has limits again
    m = market("2024-03-01", [30.0, 31.0, 41.85, 42.0, 43.0, 44.0], list_date="2024-03-01")
    r = eng.prepare_rules(m, "star")
    assert np.isnan(r.lim_up[:5, 0]).all()
    assert r.lim_up[5, 0] == pytest.approx(51.6)  # 43.00 x 1.2
    res = eng.run_portfolio(STRAT, m, plan=plan(6, {2: 0.5}))
    assert res.orders.loc[0, "reason"] == "ok" and res.orders.loc[0, "price"] == 41.85


@pytest.mark.parametrize(("day", "stamp", "handling"), [("2023-08-25", 50.00, 2.44),
                                                        ("2023-08-28", 25.00, 1.71)])
def test_stamp_duty_before_and_after_2023_08_28(day: str, stamp: float,
                                               handling: float) -> None:
    # buy 1,000 shares at 50 one session before `day`, sell them at 50 on `day`: value 50,000
    sess = xshg("2023-08-01", day)
    start = str(sess[-2])
    m = market(start, [50.0, 50.0])
    res = eng.run_portfolio(STRAT, m, plan=plan(2, {1: 0.0}, {0: 50_000.0 + 20.0},
                                                cash=60_000.0))
    sell = res.orders[res.orders["side"] == "sell"].iloc[0]
    assert str(sell["date"].date()) == day and sell["filled"] == 1000
    assert sell["stamp_duty"] == stamp  # 0.1% before, 0.05% from 2023-08-28
    assert sell["commission"] == 12.50  # 0.025%
    assert sell["transfer"] == 0.50  # 0.001% since 2022-04-29
    assert sell["handling"] == handling  # 0.00487% -> 0.00341%, rounded half up
    assert sell["regulatory"] == 1.00
    buy = res.orders[res.orders["side"] == "buy"].iloc[0]
    assert buy["stamp_duty"] == 0.0  # stamp duty on sells only


def test_250_share_position_sold_as_one_order_of_250() -> None:
    m = market("2024-03-01", [20.0, 20.0, 20.0])
    res = eng.run_portfolio(STRAT, m, plan=plan(3, {2: 0.0}, {0: 250 * 20.0 + 10}))
    o = res.orders
    assert list(o["filled"]) == [250, 250] and list(o["side"]) == ["buy", "sell"]
    assert res.positions.iloc[-1, 0] == 0


def test_odd_lot_and_lot_rules_in_the_sizing_helpers() -> None:
    assert ko.size_sell(250, 250, 250, 200, 1) == (250, ko.OK)  # whole position
    assert ko.size_sell(100, 250, 250, 200, 1) == (0, ko.R_LOT)  # 100 of 250: invalid
    assert ko.size_sell(150, 150, 150, 200, 1) == (150, ko.OK)  # odd lot sold whole
    assert ko.lot_round(199, 200, 1) == 0 and ko.lot_round(201, 200, 1) == 201


def test_t1_trim() -> None:
    # 500 held, 300 of them bought this session: a sell of 500 is trimmed to the 200 sellable
    # shares and the rest is recorded as blocked by T+1 (decision 6)
    assert ko.size_sell(500, 500, 200, 200, 1) == (200, ko.R_T1)
    # only 150 sellable: the whole available odd balance may go in one order
    assert ko.size_sell(500, 500, 150, 200, 1) == (150, ko.R_T1)
    assert ko.size_sell(500, 500, 0, 200, 1) == (0, ko.R_T1)


def test_dca_inflow_not_prefunded() -> None:
    # a fund at 1.000: 10,000 CNY on the first session of each month, bought in 100-unit lots
    m = market("2024-01-02", [1.0] * 70, fund=True, code="588000", list_date=None)
    res = eng.run_portfolio(DCA(amount=10_000.0), m)
    assert res.stats["initial_cash"] == 0.0
    months = np.unique(m.sessions.astype("datetime64[M]"))
    assert res.flows.sum() == 10_000.0 * len(months)
    assert res.flows.iloc[0] == 10_000.0
    buys = res.orders[res.orders["filled"] > 0]
    assert len(buys) == len(months)
    # month 1: 10,000 - 5 CNY minimum commission - other fees leaves room for 9,900 units;
    # the ~95 CNY left over stays in cash, so later months afford the full 10,000 units
    assert list(buys["filled"]) == [9900] + [10_000] * (len(months) - 1)
    spent = (buys["value"] + buys[list(ko.FEE_KINDS)].sum(axis=1)).sum()
    assert res.cash.iloc[-1] == pytest.approx(res.flows.sum() - spent
                                              + res.stats["interest"], abs=1e-6)
    assert (res.cash >= 0).all()


def test_cash_dividend_and_bonus_issue_on_held_position() -> None:
    # 333 shares bought at 30.00; cash dividend factor 1.02 on session 2 (prev close 30.00:
    # 333 x (30 - 30/1.02) = 195.88 CNY); 10-for-4.8 bonus (factor 1.48) on session 4:
    # floor(333 x 0.48) = 159 new shares, 0.84 share paid at the ex-rights reference price
    # 30.00 / 1.48. Session 4's raw close 20.27 is an ex-rights gap, not a -32% return.
    m = market("2024-03-01", [30.0, 30.0, 29.41, 30.0, 20.27, 20.3], factor={2: 1.02, 4: 1.48},
               gap=[4])
    r = eng.prepare_rules(m, "star")
    assert np.isnan(r.lim_up[4, 0]) and np.isnan(r.lim_dn[4, 0])  # gap bar: never a limit hit
    res = eng.run_portfolio(STRAT, m, plan=plan(6, {}, {0: 333 * 30.0 + 10}, cash=20_000.0))
    assert res.positions.iloc[0, 0] == 333
    assert res.stats["corporate_actions_cash"] == pytest.approx(
        333 * (30 - 30 / 1.02) + 0.84 * 30 / 1.48, abs=0.006)
    assert res.positions.iloc[4, 0] == 333 + 159
    eq = res.equity.to_numpy()
    assert eq[4] / eq[3] - 1 == pytest.approx((492 * 20.27 + 0.84 * 30 / 1.48 - 333 * 30)
                                              / eq[3], abs=1e-9)
    assert abs(eq[4] / eq[3] - 1) < 0.01


def test_order_above_the_per_order_maximum_is_flagged_not_split() -> None:
    # 150,000 shares in one order: above the 100,000-share maximum for limit orders
    m = market("2024-03-01", [5.0, 5.0])
    res = eng.run_portfolio(STRAT, m, plan=plan(2, {}, {0: 150_000 * 5.0},
                                                cash=800_000.0))
    o = res.orders
    assert list(o["filled"]) == [150_000] and bool(o.loc[0, "above_max_order"])
    assert o.loc[0, "commission"] == 187.50  # fees linear in the value, one fill


def test_dividend_tax_is_configurable() -> None:
    m = market("2024-03-01", [30.0, 30.0, 29.41], factor={2: 1.02})
    p = plan(3, {}, {0: 333 * 30.0 + 10}, cash=20_000.0)
    gross = eng.run_portfolio(STRAT, m, plan=p).stats["corporate_actions_cash"]
    net = eng.run_portfolio(STRAT, m, plan=p, dividend_tax=0.2).stats["corporate_actions_cash"]
    assert gross == pytest.approx(333 * (30 - 30 / 1.02), abs=0.005)
    assert net == pytest.approx(0.8 * gross, abs=0.01)
