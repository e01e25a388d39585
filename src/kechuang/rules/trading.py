"""STAR trading rules (star-market-reference.md section 1): price limits, the no-limit window
after listing, lot sizes and T+1. Pure functions on numbers and numpy arrays."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from kechuang.rules.schedule import DatedSchedule, Step

STAR_OPEN = dt.date(2019, 7, 22)  # first STAR listings

# Daily limit ±20% of the previous close (section 1).
PRICE_LIMIT = DatedSchedule(
    "price_limit", [Step(STAR_OPEN, 0.20, "section 1: ±20% of the previous close")],
    unit="fraction of previous close",
)
# No limit on the first 5 sessions, listing day included (section 1, "含上市首日").
NO_LIMIT_SESSIONS = DatedSchedule(
    "no_limit_sessions", [Step(STAR_OPEN, 5, "section 1: first 5 sessions incl. listing day")],
    unit="sessions",
)
# Limit orders: >= 200 shares, then 1-share steps, at most 100,000 per order (section 1).
MIN_LOT = DatedSchedule("min_lot", [Step(STAR_OPEN, 200, "section 1: 200-share minimum")],
                        unit="shares")
LOT_STEP = DatedSchedule("lot_step", [Step(STAR_OPEN, 1, "section 1: 1-share steps above 200")],
                         unit="shares")
MAX_LIMIT_ORDER = DatedSchedule(
    "max_limit_order", [Step(STAR_OPEN, 100_000, "section 1: max 100,000 shares per order")],
    unit="shares",
)
# T+1: shares bought on T are sellable from T+1 (section 1, Settlement).
SETTLEMENT_LAG = DatedSchedule("settlement_lag", [Step(STAR_OPEN, 1, "section 1: T+1")],
                               unit="sessions")
TICK = DatedSchedule("tick", [Step(STAR_OPEN, 0.01, "section 1: 0.01 CNY tick")], unit="CNY")


def round_price(x: float) -> float:
    """Round half up to 0.01 CNY, on the decimal value (binary float would round 1.005 down)."""
    return float(Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def round_price_array(x: np.ndarray) -> np.ndarray:
    """Vectorised half-up rounding to 0.01; the 1e-9 nudge absorbs binary representation error."""
    a = np.asarray(x, dtype=np.float64)
    return np.floor(a * 100.0 + 0.5 + 1e-9) / 100.0


def limit_prices(prev_close: float, date: dt.date | str) -> tuple[float, float]:
    """(limit-down, limit-up) for a session: prev_close x (1 ± limit), rounded to 0.01."""
    lim = PRICE_LIMIT.at(date)
    return round_price(prev_close * (1 - lim)), round_price(prev_close * (1 + lim))


def limit_price_arrays(prev_close: np.ndarray, sessions: np.ndarray) -> tuple[np.ndarray,
                                                                              np.ndarray]:
    lim = PRICE_LIMIT.to_array(sessions).astype(np.float64)
    pc = np.asarray(prev_close, dtype=np.float64)
    return round_price_array(pc * (1 - lim)), round_price_array(pc * (1 + lim))


def has_limit(session_number: int, date: dt.date | str) -> bool:
    """session_number counts sessions since listing, the listing day being 1."""
    return session_number > NO_LIMIT_SESSIONS.at(date)


def has_limit_array(session_number: np.ndarray, sessions: np.ndarray) -> np.ndarray:
    return np.asarray(session_number) > NO_LIMIT_SESSIONS.to_array(sessions)


def valid_order_size(shares: int, position: int, side: str, date: dt.date | str) -> bool:
    """Limit-order size rule: buys >= 200 in 1-share steps; a sell is either >= 200 or the whole
    remaining position when that is under 200 (odd lot sold in one order)."""
    if shares <= 0 or shares > MAX_LIMIT_ORDER.at(date):
        return False
    min_lot, step = MIN_LOT.at(date), LOT_STEP.at(date)
    if side == "sell" and shares == position and position < min_lot:
        return True
    if side == "sell" and shares > position:
        return False
    return shares >= min_lot and (shares - min_lot) % step == 0


def round_order_size(desired: int, position: int, side: str, date: dt.date | str) -> int:
    """Largest valid size not above `desired` (0 if none). A sell that would leave an odd lot
    under 200 behind is allowed; the odd lot itself is sold whole."""
    min_lot, step = MIN_LOT.at(date), LOT_STEP.at(date)
    desired = min(desired, MAX_LIMIT_ORDER.at(date))
    if side == "sell":
        desired = min(desired, position)
        if position < min_lot:
            return position if desired >= position and position > 0 else 0
    if desired < min_lot:
        return 0
    return min_lot + ((desired - min_lot) // step) * step
