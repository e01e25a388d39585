"""Dated STAR rules on both sides of every change date (star-market-reference.md sections 1-2)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kechuang.rules import fees, trading
from kechuang.rules.schedule import DatedSchedule, Step
from kechuang.rules.star import rules_at


@pytest.mark.parametrize(("schedule", "before", "after", "change"), [
    (fees.STAMP_DUTY_SELL, 0.001, 0.0005, dt.date(2023, 8, 28)),
    (fees.TRANSFER_FEE, 0.00002, 0.00001, dt.date(2022, 4, 29)),
    (fees.HANDLING_FEE, 0.0000487, 0.0000341, dt.date(2023, 8, 28)),
])
def test_fee_changes_on_their_dates(schedule: DatedSchedule[float], before: float, after: float,
                                    change: dt.date) -> None:
    assert schedule.at(change - dt.timedelta(days=1)) == before
    assert schedule.at(change) == after
    assert schedule.change_dates() == [change]


def test_stamp_duty_named_days() -> None:
    assert fees.STAMP_DUTY_SELL.at("2023-08-25") == 0.001  # last Friday at 0.1%
    assert fees.STAMP_DUTY_SELL.at("2023-08-28") == 0.0005
    assert fees.TRANSFER_FEE.at("2022-04-28") == 0.00002
    assert fees.TRANSFER_FEE.at("2022-04-29") == 0.00001


def test_to_array_matches_at() -> None:
    days = np.arange(np.datetime64("2022-01-01"), np.datetime64("2024-01-01"))
    for s in fees.ALL_FEE_SCHEDULES:
        arr = s.to_array(days)
        sample = days[::37]
        assert list(s.to_array(sample)) == [s.at(str(d)) for d in sample]
        assert arr.shape == days.shape


def test_schedule_refuses_dates_before_first_step_and_duplicate_steps() -> None:
    with pytest.raises(ValueError, match="no value before"):
        fees.STAMP_DUTY_SELL.at("2000-01-01")
    with pytest.raises(ValueError, match="two steps"):
        DatedSchedule("x", [Step(dt.date(2020, 1, 1), 1, "s"), Step(dt.date(2020, 1, 1), 2, "s")])


def test_limit_prices_rounded_half_up() -> None:
    assert trading.limit_prices(10.00, "2024-01-02") == (8.00, 12.00)
    # 10.03 x 1.2 = 12.036 -> 12.04; 10.03 x 0.8 = 8.024 -> 8.02
    assert trading.limit_prices(10.03, "2024-01-02") == (8.02, 12.04)
    # 0.5 cent cases round up: 12.5625 x 1.2 = 15.075 -> 15.08
    assert trading.limit_prices(12.5625, "2024-01-02")[1] == 15.08
    lo, hi = trading.limit_price_arrays(np.array([10.03, 12.5625]),
                                        np.array(["2024-01-02", "2024-01-02"], "datetime64[D]"))
    assert list(hi) == [12.04, 15.08] and list(lo) == [8.02, 10.05]


def test_no_limit_in_first_five_sessions_listing_day_included() -> None:
    assert [trading.has_limit(n, "2024-01-02") for n in (1, 5, 6)] == [False, False, True]
    sess = np.array(["2024-01-02"] * 3, "datetime64[D]")
    assert list(trading.has_limit_array(np.array([3, 5, 6]), sess)) == [False, False, True]


def test_lot_rules() -> None:
    d = "2024-01-02"
    assert not trading.valid_order_size(100, 0, "buy", d)
    assert trading.valid_order_size(200, 0, "buy", d)
    assert trading.valid_order_size(201, 0, "buy", d)  # 1-share steps above 200
    assert trading.valid_order_size(250, 250, "sell", d)
    assert trading.valid_order_size(150, 150, "sell", d)  # odd lot sold whole
    assert not trading.valid_order_size(100, 150, "sell", d)  # odd lot cannot be split
    assert not trading.valid_order_size(100_001, 0, "buy", d)
    assert trading.round_order_size(250, 250, "sell", d) == 250  # not 200 + 50
    assert trading.round_order_size(199, 0, "buy", d) == 0
    assert trading.round_order_size(150, 150, "sell", d) == 150
    assert trading.round_order_size(100, 150, "sell", d) == 0
    assert trading.round_order_size(10**6, 0, "buy", d) == 100_000


def test_commission_is_configurable_and_capped() -> None:
    assert fees.Commission().rate == 0.00025 and fees.Commission().minimum == 5.0
    assert fees.Commission(rate=0.0001, minimum=0).rate == 0.0001
    with pytest.raises(ValueError, match=r"0\.3%"):
        fees.Commission(rate=0.004)


def test_rules_at_reports_values_with_sources() -> None:
    before, after = rules_at("2023-08-27"), rules_at("2023-08-28")
    assert before["stamp_duty_sell"]["value"] == 0.001
    assert after["stamp_duty_sell"]["value"] == 0.0005
    assert "section 2" in after["stamp_duty_sell"]["source"]
    assert after["price_limit"]["value"] == 0.20
