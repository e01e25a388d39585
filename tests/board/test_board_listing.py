"""Listing-standard checker: one case on each side of every threshold of standards 1-5, the
red-chip and WVR tests and the growth-tier tests (star-market-reference.md sections 4 and 5).
Figures are hand-made company profiles; amounts in CNY."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.core.errors import DateRangeError, ValidationError
from kechuang.rules import listing as L
from kechuang.rules.listing import BN, Figures, M, YearProfit

D = dt.date(2024, 6, 28)
EPS = 1.0  # one yuan below / at a threshold

# A profitable company that meets standard 1 by both branches with room to spare.
PROFITABLE = Figures(market_value=1 * BN, net_profit=(40 * M, 20 * M),
                     net_profit_deducted=(30 * M, 20 * M), revenue=100 * M)


def status(fn, f: Figures, on: dt.date = D) -> str:
    return fn(f, on).status


# -- standard 1 ---------------------------------------------------------------------------------

def test_std1_market_value_threshold() -> None:
    assert status(L.standard_1, PROFITABLE) == "met"
    r = L.standard_1(replace(PROFITABLE, market_value=1 * BN - EPS), D)
    assert r.status == "not_met" and "market_value" in r.reason


def test_std1_branch_a_cumulative_profit_uses_lower_of_two() -> None:
    # Before non-recurring: 40 m + 20 m = 60 m >= 50 m, but the lower figures give 30 + 20 = 50 m.
    f = replace(PROFITABLE, revenue=50 * M)  # branch b fails on revenue
    assert status(L.standard_1, f) == "met"
    below = replace(f, net_profit_deducted=(30 * M - EPS, 20 * M))  # 50 m - 1 by the lower figure
    r = L.standard_1(below, D)
    assert r.status == "not_met"
    cum = [c for c in r.comparisons if c.field == "net_profit_lower_two_years"]
    assert cum and cum[0].value == 50 * M - EPS and not cum[0].ok
    # The same company judged on profit before non-recurring items alone would pass (60 m).
    assert below.net_profit is not None and sum(below.net_profit) >= 50 * M


def test_std1_branch_a_each_year_positive() -> None:
    f = Figures(market_value=2 * BN, net_profit=(80 * M, 0.0), net_profit_deducted=(80 * M, 0.0),
                revenue=50 * M)
    assert status(L.standard_1, f) == "not_met"  # year before not > 0, revenue < 100 m
    f2 = replace(f, net_profit=(80 * M, 1.0), net_profit_deducted=(80 * M, 1.0))
    assert status(L.standard_1, f2) == "met"


def test_std1_branch_b_revenue_and_last_year_profit() -> None:
    base = Figures(market_value=1 * BN, net_profit=(1 * M, -30 * M),
                   net_profit_deducted=(1 * M, -30 * M), revenue=100 * M)
    assert status(L.standard_1, base) == "met"
    assert status(L.standard_1, replace(base, revenue=100 * M - EPS)) == "not_met"
    # Positive before non-recurring items, negative after: the lower figure decides -> fails.
    lower_neg = replace(base, net_profit=(5 * M, -30 * M), net_profit_deducted=(-1.0, -30 * M))
    assert status(L.standard_1, lower_neg) == "not_met"


# -- standards 2-5 ------------------------------------------------------------------------------

STD2 = Figures(market_value=1.5 * BN, revenue=200 * M, revenue_3y=500 * M, rd_3y=75 * M)


@pytest.mark.parametrize("change", [{"market_value": 1.5 * BN - EPS}, {"revenue": 200 * M - EPS},
                                    {"rd_3y": 75 * M - EPS}])
def test_std2_each_threshold(change: dict) -> None:
    assert status(L.standard_2, STD2) == "met"
    assert status(L.standard_2, replace(STD2, **change)) == "not_met"


STD3 = Figures(market_value=2 * BN, revenue=300 * M, cfo_3y=100 * M)


@pytest.mark.parametrize("change", [{"market_value": 2 * BN - EPS}, {"revenue": 300 * M - EPS},
                                    {"cfo_3y": 100 * M - EPS}])
def test_std3_each_threshold(change: dict) -> None:
    assert status(L.standard_3, STD3) == "met"
    assert status(L.standard_3, replace(STD3, **change)) == "not_met"


STD4 = Figures(market_value=3 * BN, revenue=300 * M)


@pytest.mark.parametrize("change", [{"market_value": 3 * BN - EPS}, {"revenue": 300 * M - EPS}])
def test_std4_each_threshold(change: dict) -> None:
    assert status(L.standard_4, STD4) == "met"
    assert status(L.standard_4, replace(STD4, **change)) == "not_met"


STD5_PHARMA = Figures(market_value=4 * BN, industry="pharma", product_approval=True,
                      phase2_approved=True, revenue=0.0)


@pytest.mark.parametrize("change", [{"market_value": 4 * BN - EPS}, {"phase2_approved": False},
                                    {"product_approval": False}])
def test_std5_pharma_each_condition(change: dict) -> None:
    assert status(L.standard_5, STD5_PHARMA) == "met"
    assert status(L.standard_5, replace(STD5_PHARMA, **change)) == "not_met"


def test_std5_non_pharma_needs_tech_advantage_not_phase2() -> None:
    f = Figures(market_value=5 * BN, industry="semiconductor", product_approval=True,
                tech_advantage=True)
    assert status(L.standard_5, f) == "met"
    assert status(L.standard_5, replace(f, tech_advantage=False)) == "not_met"


@pytest.mark.parametrize("industry", ["ai", "commercial_aerospace", "low_altitude", "人工智能"])
def test_std5_extension_is_dated(industry: str) -> None:
    f = Figures(market_value=5 * BN, industry=industry, product_approval=True,
                tech_advantage=True)
    before = L.standard_5(f, dt.date(2025, 6, 17))
    assert before.status == "not_met" and "2025-06-18" in before.reason
    assert status(L.standard_5, f, dt.date(2025, 6, 18)) == "met"


# -- red chip and WVR ---------------------------------------------------------------------------

def test_red_chip_not_listed_overseas_both_branches() -> None:
    f = Figures(market_value=10 * BN, red_chip=True, fast_growth_leading_tech=True)
    assert status(L.red_chip_test, f) == "met"
    low = replace(f, market_value=10 * BN - EPS)
    assert status(L.red_chip_test, replace(low, revenue=500 * M)) == "met"  # 5 bn + 500 m
    assert status(L.red_chip_test, replace(low, revenue=500 * M - EPS)) == "not_met"
    assert status(L.red_chip_test, replace(f, market_value=5 * BN - EPS, revenue=900 * M)) \
        == "not_met"
    assert status(L.red_chip_test, replace(f, fast_growth_leading_tech=False)) == "not_met"


def test_red_chip_listed_overseas_bar_cut_in_april_2020() -> None:
    f = Figures(market_value=20 * BN, red_chip=True, listed_overseas=True)
    assert status(L.red_chip_test, f, dt.date(2020, 4, 29)) == "not_met"  # 200 bn bar
    assert status(L.red_chip_test, f, dt.date(2020, 7, 1)) == "met"  # 20 bn bar
    assert status(L.red_chip_test, replace(f, market_value=20 * BN - EPS),
                  dt.date(2020, 7, 1)) == "not_met"
    assert status(L.red_chip_test, replace(f, market_value=200 * BN),
                  dt.date(2019, 8, 1)) == "met"


def test_wvr_both_branches() -> None:
    f = Figures(market_value=10 * BN, wvr=True)
    assert status(L.wvr_test, f) == "met"
    assert status(L.wvr_test, replace(f, market_value=10 * BN - EPS, revenue=500 * M)) == "met"
    assert status(L.wvr_test, replace(f, market_value=10 * BN - EPS,
                                      revenue=500 * M - EPS)) == "not_met"
    assert status(L.wvr_test, replace(f, market_value=5 * BN - EPS, revenue=1 * BN)) == "not_met"
    assert status(L.wvr_test, replace(f, wvr=False)) == "not_applicable"


def test_check_listing_routes() -> None:
    c = L.check_listing(STD4, D)
    assert c.eligible is True and c.met == ["standard_4"] and c.route == "any of standards 1-5"
    # A WVR issuer meeting standard 4 but not the WVR test is not eligible.
    w = L.check_listing(replace(STD4, wvr=True), D)
    assert w.result("standard_4").met and w.eligible is False and w.route == "wvr"
    assert L.check_listing(replace(STD4, market_value=1.0), D).eligible is False


# -- missing fields and errors ------------------------------------------------------------------

def test_missing_field_is_named() -> None:
    r = L.standard_2(Figures(market_value=2 * BN, revenue=300 * M, revenue_3y=900 * M), D)
    assert r.status == "missing" and r.missing == ("rd_3y",) and "rd_3y" in r.reason
    r1 = L.standard_1(Figures(market_value=2 * BN, net_profit=(60 * M, 10 * M)), D)
    assert r1.status == "missing" and "net_profit_deducted" in r1.missing
    with pytest.raises(ValidationError, match="rd_3y"):
        L.require(r)
    # A failed market-value test decides the standard even with fields missing.
    assert L.standard_3(Figures(market_value=1 * BN), D).status == "not_met"


def test_errors() -> None:
    with pytest.raises(ValidationError, match=r"revenue .* is negative"):
        Figures(revenue=-1.0)
    with pytest.raises(DateRangeError, match="2019-07-22"):
        L.check_listing(STD4, dt.date(2019, 7, 21))
    with pytest.raises(ValidationError, match="unknown field 'profit'"):
        L.figures_from_mapping({"profit": 1})
    with pytest.raises(ValidationError, match="two numbers"):
        L.figures_from_mapping({"net_profit": 5})
    f = L.figures_from_mapping({"market_value": "3e9", "revenue": 3e8, "wvr": False})
    assert L.check_listing(f, D).eligible is True


# -- growth tier --------------------------------------------------------------------------------

LOSS = YearProfit(2024, -50 * M, -60 * M)


def test_tier_entry_existing_and_new() -> None:
    on = dt.date(2025, 8, 1)
    r = L.growth_tier_entry(on, dt.date(2021, 3, 1), YearProfit(2020, -1 * M, -2 * M),
                            [YearProfit(2021, -5 * M, -6 * M), YearProfit(2024, -1.0, -1.0)])
    assert r.status == "met" and "2025-07-13" in r.reason
    # Profitable once since listing (lower-of-two > 0): U removed before the tier, no entry.
    r2 = L.growth_tier_entry(on, dt.date(2021, 3, 1), YearProfit(2020, -1 * M, -2 * M),
                             [YearProfit(2023, 3 * M, 1.0)])
    assert r2.status == "not_met" and "FY2023" in r2.reason
    # Profitable before non-recurring but not after at listing -> unprofitable -> enters.
    r3 = L.growth_tier_entry(on, dt.date(2025, 7, 20), YearProfit(2024, 5 * M, -1.0))
    assert r3.status == "met" and "2025-07-20" in r3.reason
    assert L.growth_tier_entry(on, dt.date(2025, 7, 20), YearProfit(2024, 5 * M, 1.0)).status \
        == "not_met"
    assert L.growth_tier_entry(dt.date(2025, 7, 12), dt.date(2021, 3, 1), LOSS).status \
        == "not_met"


def test_tier_exit_new_company_is_standard_1_profit_test() -> None:
    on = dt.date(2027, 5, 1)
    two = (YearProfit(2026, 30 * M, 30 * M), YearProfit(2025, 20 * M, 20 * M))
    assert L.growth_tier_exit_new(two, 10 * M, on).status == "met"
    short = (YearProfit(2026, 30 * M, 30 * M - EPS), YearProfit(2025, 20 * M, 20 * M))
    assert L.growth_tier_exit_new(short, 10 * M, on).status == "not_met"
    assert L.growth_tier_exit_new(short, 100 * M, on).status == "met"  # second branch
    assert L.growth_tier_exit_new(short, 100 * M - EPS, on).status == "not_met"
    # China Daily's "net profit >= 100 m" reading is not used (section 5 discrepancy):
    tiny = (YearProfit(2026, 1.0, 1.0), YearProfit(2025, -9 * M, -9 * M))
    assert L.growth_tier_exit_new(tiny, 100 * M, on).status == "met"
    with pytest.raises(ValidationError, match="negative"):
        L.growth_tier_exit_new(two, -1.0, on)


def test_tier_entry_ignores_years_closed_after_launch() -> None:
    # FY2025 closes after 2025-07-13: it cannot stop entry; it is the exit test's business.
    years = [YearProfit(2024, -5 * M, -6 * M), YearProfit(2025, 20 * M, 15 * M)]
    on = dt.date(2026, 5, 10)
    r = L.growth_tier_entry(on, dt.date(2021, 3, 1), YearProfit(2020, -1 * M, -1 * M), years)
    assert r.status == "met"
    assert L.growth_tier_exit_existing(years, on).status == "met"


def test_tier_exit_existing_first_profitable_year() -> None:
    on = dt.date(2026, 5, 1)
    assert L.growth_tier_exit_existing([YearProfit(2025, 1.0, 1.0)], on).status == "met"
    assert L.growth_tier_exit_existing([YearProfit(2025, 1.0, 0.0)], on).status == "not_met"
    # FY2026 is not over on 2026-05-01: it cannot count.
    assert L.growth_tier_exit_existing([YearProfit(2026, 9.0, 9.0)], on).status == "missing"


def test_growth_tier_api_errors() -> None:
    from kechuang.api import board

    with pytest.raises(ValidationError, match="no fiscal year ending before list_date"):
        board.growth_tier("2026-01-05", "2025-08-01", [{"year": 2025, "net_profit": -1,
                                                        "net_profit_deducted": -1}])
    with pytest.raises(ValidationError, match="lacks 'net_profit_deducted'"):
        board.growth_tier("2026-01-05", "2025-08-01", [{"year": 2024, "net_profit": -1}])


# -- properties ---------------------------------------------------------------------------------

money = st.floats(min_value=0, max_value=2e10, allow_nan=False)
profit = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(mv=money, extra=money, rev=money, p=st.tuples(profit, profit), q=st.tuples(profit, profit))
def test_more_market_value_never_hurts_and_lower_of_two_is_symmetric(
        mv: float, extra: float, rev: float, p: tuple[float, float],
        q: tuple[float, float]) -> None:
    f = Figures(market_value=mv, revenue=rev, net_profit=p, net_profit_deducted=q,
                revenue_3y=rev * 3, rd_3y=rev * 0.5, cfo_3y=rev / 2)
    richer = replace(f, market_value=mv + extra)
    for test in ("standard_1", "standard_2", "standard_3", "standard_4"):
        a, b = L.STANDARDS[test](f, D).status, L.STANDARDS[test](richer, D).status
        assert not (a == "met" and b == "not_met"), test
    swapped = replace(f, net_profit=q, net_profit_deducted=p)
    assert L.standard_1(f, D).status == L.standard_1(swapped, D).status
