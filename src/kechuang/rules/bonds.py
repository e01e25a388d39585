"""Sci-tech bond rules (star-market-reference.md section 8): benchmark market-making
eligibility on SSE. Pure values, dated."""

from __future__ import annotations

import datetime as dt

from kechuang.rules.schedule import DatedSchedule, Step

_S8 = "star-market-reference.md section 8"
# Exchange bond market-making started in February 2023 (SSE-CSI market-making indices launched
# 2023-02-06). The minimum issue size for sci-tech bonds was lowered from RMB 2 bn to 1.5 bn;
# the reference dates the 1.5 bn figure only by its first report (China Post Securities,
# August 2025), so the step is placed on 2025-08-01 and is approximate.
MARKET_MAKING_FROM = dt.date(2023, 2, 6)
MM_MIN_AMOUNT: DatedSchedule[float] = DatedSchedule("mm_min_issue_size", [
    Step(MARKET_MAKING_FROM, 2.0e9, _S8 + " (lowered from 2 bn; start date of 2 bn assumed)"),
    Step(dt.date(2025, 8, 1), 1.5e9, _S8 + " (China Post Securities, Aug 2025; date approx.)"),
], unit="CNY")
MM_RATING = "AAA"  # issuer rating, section 8
SCI_TECH_MM_WEIGHT = 1.2  # weight in SSE's market-maker evaluation, section 8


def market_making_eligible(amount: float, rating: str | None, on: dt.date) -> bool | None:
    """Benchmark market-making eligibility of one bond on `on`; None before the system began."""
    if on < MARKET_MAKING_FROM:
        return None
    return amount >= MM_MIN_AMOUNT.at(on) and rating == MM_RATING
