"""Fees and taxes on SSE trades as dated schedules (star-market-reference.md section 2).
Rates are fractions of traded value. Commission is broker-specific: the default below is the
common online-retail level, configurable per backtest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kechuang.rules.schedule import DatedSchedule, Step

EPOCH = dt.date(2008, 9, 19)  # stamp duty seller-only since 2008-09-19 (section 2)

# Stamp duty, seller only: 0.1% to 2023-08-27, 0.05% from 2023-08-28 (section 2).
STAMP_DUTY_SELL = DatedSchedule(
    "stamp_duty_sell",
    [
        Step(EPOCH, 0.001, "section 2: 0.1% seller-only since 2008-09-19"),
        Step(dt.date(2023, 8, 28), 0.0005, "section 2: halved to 0.05% on 2023-08-28"),
    ],
    unit="fraction of value",
)

# Transfer fee (过户费, CSDC), both sides: 0.002% to 2022-04-28, 0.001% from 2022-04-29 (section 2).
TRANSFER_FEE = DatedSchedule(
    "transfer_fee",
    [
        Step(EPOCH, 0.00002, "section 2: 0.002% before the 2022-04-29 cut"),
        Step(dt.date(2022, 4, 29), 0.00001, "section 2: cut to 0.001% on 2022-04-29"),
    ],
    unit="fraction of value",
)

# Exchange handling fee (经手费), both sides: 0.00487% to 2023-08-27, 0.00341% from 2023-08-28.
HANDLING_FEE = DatedSchedule(
    "handling_fee",
    [
        Step(EPOCH, 0.0000487, "section 2: 0.00487% before the 2023-08-28 cut"),
        Step(dt.date(2023, 8, 28), 0.0000341, "section 2: cut to 0.00341% on 2023-08-28"),
    ],
    unit="fraction of value",
)

# Securities regulatory fee (证管费), both sides: 0.002% (section 2, broker fee tables ⚠️).
REGULATORY_FEE = DatedSchedule(
    "regulatory_fee",
    [Step(EPOCH, 0.00002, "section 2: 0.002% (broker fee tables, secondary)")],
    unit="fraction of value",
)


@dataclass(frozen=True)
class Commission:
    """Broker commission: negotiated, capped at 0.3%; online retail often 0.025% with a 5 CNY
    minimum per order (section 2; section 11 item 8: make it configurable)."""

    rate: float = 0.00025
    minimum: float = 5.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.rate <= 0.003:
            raise ValueError(f"commission rate {self.rate} outside [0, 0.3%] (section 2 cap)")
        if self.minimum < 0:
            raise ValueError(f"commission minimum {self.minimum} is negative")


ALL_FEE_SCHEDULES = (STAMP_DUTY_SELL, TRANSFER_FEE, HANDLING_FEE, REGULATORY_FEE)
