"""The seeds' strategies: MA crossover, grid, DCA, target-weight rebalancing, core + satellite
and an equal-weight basket of STAR stocks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import Field, field_validator, model_validator

from kechuang.core.errors import ValidationError
from kechuang.strategies.base import Strategy

SCHEDULES = ("daily", "weekly", "monthly", "quarterly", "yearly", "once")


@dataclass
class Plan:
    """What an allocation strategy asks of the portfolio kernel, one row per session."""

    target_w: np.ndarray  # (T, A) target weights on rebalance sessions (NaN = 0)
    rebalance: np.ndarray  # (T,) bool
    band: float  # drift band (0 = none)
    buy_value: np.ndarray  # (T, A) CNY to invest (DCA)
    inflow: np.ndarray  # (T,) external cash added before trading
    init_cash: float


def schedule_mask(sessions: np.ndarray, schedule: str | int) -> np.ndarray:
    """First session of each period (or every N sessions when `schedule` is an int)."""
    d = np.asarray(sessions).astype("datetime64[D]")
    n = len(d)
    out = np.zeros(n, dtype=np.bool_)
    if n == 0:
        return out
    if isinstance(schedule, int) or str(schedule).isdigit():
        out[:: int(schedule)] = True
        return out
    if schedule == "daily":
        out[:] = True
        return out
    if schedule == "once":
        out[0] = True
        return out
    if schedule == "weekly":
        key = (d.astype("int64") + 3) // 7  # weeks starting Monday (1970-01-01 was a Thursday)
    elif schedule == "monthly":
        key = d.astype("datetime64[M]").astype("int64")
    elif schedule == "quarterly":
        key = d.astype("datetime64[M]").astype("int64") // 3
    elif schedule == "yearly":
        key = d.astype("datetime64[Y]").astype("int64")
    else:
        raise ValidationError(f"unknown schedule {schedule!r}; expected one of "
                              f"{', '.join(SCHEDULES)} or a number of sessions")
    out[0] = True
    out[1:] = key[1:] != key[:-1]
    return out


def _check_schedule(v: str | int) -> str | int:
    if isinstance(v, int):
        if v < 1:
            raise ValueError("must be a positive number of sessions")
        return v
    if v not in SCHEDULES and not str(v).isdigit():
        raise ValueError(f"expected one of {', '.join(SCHEDULES)} or a number of sessions")
    return int(v) if str(v).isdigit() else v


def _check_weights(weights: dict[str, float], cash: float, what: str) -> None:
    for k, w in weights.items():
        if not np.isfinite(w) or w < 0:
            raise ValueError(f"weight of {k} is {w}; weights must be >= 0")
    total = sum(weights.values()) + cash
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} sum to {sum(weights.values()):.6g} with cash {cash:.6g}: "
                         f"total {total:.6g}, not 1 (declare the remainder with cash=...)")


class MACrossover(Strategy):
    """SMA crossover, long-only, all-in: buy when the fast SMA crosses above the slow one,
    sell everything on the mirror cross (ties within 1e-9 relative do not cross)."""

    name: ClassVar[str] = "ma_cross"
    shape: ClassVar[str] = "columns"
    kind: ClassVar[int] = 0
    sweep_fields: ClassVar[tuple[str, ...]] = ("fast", "slow")
    fast: int = Field(10, ge=1, le=2000)
    slow: int = Field(50, ge=2, le=2000)
    cash: float = Field(1_000_000.0, gt=0)

    def kernel_params(self) -> tuple[float, float, float]:
        return float(self.fast), float(self.slow), 0.0

    def min_bars(self) -> int:
        return max(self.fast, self.slow) + 1


class Grid(Strategy):
    """Grid trading: buy `unit` shares when the price falls `band` below the reference (the last
    trade price, first close before any trade) and the position is under `max_units` units;
    sell `unit` when it rises `band` above. At most one trade per bar."""

    name: ClassVar[str] = "grid"
    shape: ClassVar[str] = "columns"
    kind: ClassVar[int] = 1
    sweep_fields: ClassVar[tuple[str, ...]] = ("band", "unit", "max_units")
    band: float = Field(0.02, gt=0, lt=1)
    unit: int = Field(200, ge=1)
    max_units: int = Field(10, ge=1)
    cash: float = Field(1_000_000.0, gt=0)

    def kernel_params(self) -> tuple[float, float, float]:
        return float(self.band), float(self.unit), float(self.max_units)

    def min_bars(self) -> int:
        return 2


class _Allocation(Strategy):
    def plan(self, sessions: np.ndarray, codes: list[str], listed: np.ndarray) -> Plan:
        raise NotImplementedError

    def universe(self) -> list[str] | None:
        """Codes the strategy names itself (None: the caller's selection)."""
        return None


class DCA(_Allocation):
    """Dollar-cost averaging: `amount` CNY added as a cash inflow (not pre-funded) and invested
    every `every` sessions, or on the first session of each month when `every` is 0; split
    equally across the selected codes. Targets persist until filled (decision 5)."""

    name: ClassVar[str] = "dca"
    sweep_fields: ClassVar[tuple[str, ...]] = ("amount", "every")
    amount: float = Field(1000.0, gt=0)
    every: int = Field(0, ge=0)
    cash: float = Field(0.0, ge=0)

    def plan(self, sessions: np.ndarray, codes: list[str], listed: np.ndarray) -> Plan:
        T, A = len(sessions), len(codes)
        when = schedule_mask(sessions, self.every if self.every > 0 else "monthly")
        inflow = np.where(when, self.amount, 0.0)
        buy = np.zeros((T, A))
        buy[when] = self.amount / A
        return Plan(np.full((T, A), np.nan), np.zeros(T, dtype=np.bool_), 0.0, buy, inflow,
                    self.cash)


class _Scheduled(_Allocation):
    """Target weights applied on `schedule` and, with `band` > 0, whenever a weight drifts
    more than `band` from its target; `cash` is the declared remainder. Subclasses declare
    the fields cash, schedule, band and capital themselves, after their own weights: field
    order is the order of the dashboard's form and of the fields an error message is
    matched against."""

    if TYPE_CHECKING:  # declared by each subclass (not here, so pydantic keeps their order)
        cash: float
        schedule: str | int
        band: float
        capital: float

    @field_validator("schedule", check_fields=False)
    @classmethod
    def _v_schedule(cls, v: str | int) -> str | int:
        return _check_schedule(v)

    def targets(self, codes: list[str], listed: np.ndarray) -> np.ndarray:
        """(T, A) target weights (T = len(listed))."""
        raise NotImplementedError

    def plan(self, sessions: np.ndarray, codes: list[str], listed: np.ndarray) -> Plan:
        T, A = len(sessions), len(codes)
        return Plan(self.targets(codes, listed), schedule_mask(sessions, self.schedule),
                    self.band, np.zeros((T, A)), np.zeros(T), self.capital)


def _fixed(weights: dict[str, float], codes: list[str], sessions: int) -> np.ndarray:
    return np.tile(np.array([weights.get(c, 0.0) for c in codes]), (sessions, 1))


class Rebalance(_Scheduled):
    """Target-weight rebalancing over any assets: `weights` (code -> weight) plus a declared
    `cash` remainder summing to 1; rebalanced on `schedule` and, with `band` > 0, whenever a
    weight drifts more than `band` from its target."""

    name: ClassVar[str] = "rebalance"
    sweep_fields: ClassVar[tuple[str, ...]] = ("band",)
    weights: dict[str, float]
    cash: float = Field(0.0, ge=0, lt=1)
    schedule: str | int = "monthly"
    band: float = Field(0.0, ge=0, lt=1)
    capital: float = Field(1_000_000.0, gt=0)

    @model_validator(mode="after")
    def _sum(self) -> Rebalance:
        if not self.weights:
            raise ValueError("weights is empty")
        _check_weights(self.weights, self.cash, "weights")
        return self

    def universe(self) -> list[str] | None:
        return list(self.weights)

    def targets(self, codes: list[str], listed: np.ndarray) -> np.ndarray:
        return _fixed(self.weights, codes, len(listed))


class CoreSatellite(_Scheduled):
    """Core + satellite allocation with a cash reserve: default core 510880 dividend ETF +
    511090 30-year CGB ETF, satellite 588000 STAR 50 ETF + 518880 gold, 15% cash earning the
    CGB 3-month yield (or held in `cash_code`, e.g. 511990); quarterly, or on a 5-point drift."""

    name: ClassVar[str] = "core_satellite"
    sweep_fields: ClassVar[tuple[str, ...]] = ("cash", "band")
    core: dict[str, float] = Field(default_factory=lambda: {"510880": 0.35, "511090": 0.25})
    satellite: dict[str, float] = Field(default_factory=lambda: {"588000": 0.15,
                                                                 "518880": 0.10})
    cash: float = Field(0.15, ge=0, lt=1)
    cash_code: str | None = None
    schedule: str | int = "quarterly"
    band: float = Field(0.05, ge=0, lt=1)
    capital: float = Field(1_000_000.0, gt=0)

    @model_validator(mode="after")
    def _sum(self) -> CoreSatellite:
        both = {**self.core, **self.satellite}
        if len(both) != len(self.core) + len(self.satellite):
            raise ValueError("a code is both core and satellite")
        _check_weights(both, self.cash, "core and satellite weights")
        return self

    def weights(self) -> dict[str, float]:
        w = {**self.core, **self.satellite}
        if self.cash_code:
            w[self.cash_code] = w.get(self.cash_code, 0.0) + self.cash
        return w

    def universe(self) -> list[str] | None:
        return list(self.weights())

    def targets(self, codes: list[str], listed: np.ndarray) -> np.ndarray:
        return _fixed(self.weights(), codes, len(listed))


class EqualWeight(_Scheduled):
    """Equal-weight basket of the selected STAR stocks, point in time: on each rebalance session
    every stock listed by then gets (1 - cash) / n."""

    name: ClassVar[str] = "equal_weight"
    sweep_fields: ClassVar[tuple[str, ...]] = ("band",)
    cash: float = Field(0.0, ge=0, lt=1)
    schedule: str | int = "monthly"
    band: float = Field(0.0, ge=0, lt=1)
    capital: float = Field(1_000_000.0, gt=0)

    def targets(self, codes: list[str], listed: np.ndarray) -> np.ndarray:
        n = listed.sum(axis=1, keepdims=True)
        return np.where(listed, (1.0 - self.cash) / np.maximum(n, 1), 0.0)
