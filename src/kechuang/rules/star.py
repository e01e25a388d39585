"""All STAR rule values in force on a date, for `kechuang rules --date D` and reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kechuang.rules import fees, trading
from kechuang.rules.schedule import DatedSchedule

SCHEDULES: tuple[DatedSchedule[Any], ...] = (
    trading.PRICE_LIMIT,
    trading.NO_LIMIT_SESSIONS,
    trading.MIN_LOT,
    trading.LOT_STEP,
    trading.MAX_LIMIT_ORDER,
    trading.SETTLEMENT_LAG,
    trading.TICK,
    *fees.ALL_FEE_SCHEDULES,
)


def rules_at(date: dt.date | str, commission: fees.Commission | None = None) -> dict[str, Any]:
    """Every rule value in force on `date`, with its unit and the reference section it cites."""
    c = commission or fees.Commission()
    out: dict[str, Any] = {"date": str(date)}
    for s in SCHEDULES:
        step = s.step_at(date)
        if step is None:
            continue
        out[s.name] = {"value": step.value, "unit": s.unit, "since": str(step.effective_from),
                       "source": step.source}
    out["commission_rate"] = {"value": c.rate, "unit": "fraction of value",
                              "since": None, "source": "section 2: configurable default"}
    out["commission_minimum"] = {"value": c.minimum, "unit": "CNY per order",
                                 "since": None, "source": "section 2: configurable default"}
    return out
