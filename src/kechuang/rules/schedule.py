"""A dated schedule: a value that changes on known dates (star-market-reference.md: "Store every
rule parameter with an effective_from date, not as a constant")."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

T = TypeVar("T")


@dataclass(frozen=True)
class Step(Generic[T]):
    effective_from: dt.date
    value: T
    source: str  # section of star-market-reference.md the value comes from


class DatedSchedule(Generic[T]):
    """Steps sorted by date; `.at(d)` is the value of the last step on or before d."""

    def __init__(self, name: str, steps: Sequence[Step[T]], unit: str = "") -> None:
        if not steps:
            raise ValueError(f"schedule {name} has no steps")
        ordered = sorted(steps, key=lambda s: s.effective_from)
        dates = [s.effective_from for s in ordered]
        if len(set(dates)) != len(dates):
            raise ValueError(f"schedule {name} has two steps on one date")
        self.name, self.unit, self.steps = name, unit, tuple(ordered)
        self._starts = np.array(dates, dtype="datetime64[D]")

    def step_at(self, date: dt.date | str) -> Step[T] | None:
        d = np.datetime64(date, "D")
        i = int(np.searchsorted(self._starts, d, side="right")) - 1
        return self.steps[i] if i >= 0 else None

    def at(self, date: dt.date | str) -> T:
        step = self.step_at(date)
        if step is None:
            raise ValueError(f"{self.name} has no value before {self.steps[0].effective_from}")
        return step.value

    def to_array(self, sessions: np.ndarray) -> np.ndarray:
        """Value for each session (datetime64 array), vectorised for the kernels."""
        d = np.asarray(sessions).astype("datetime64[D]")
        idx = np.searchsorted(self._starts, d, side="right") - 1
        if (idx < 0).any():
            raise ValueError(f"{self.name} has no value before {self.steps[0].effective_from}")
        values = np.array([s.value for s in self.steps])
        return values[idx]

    def change_dates(self) -> list[dt.date]:
        return [s.effective_from for s in self.steps[1:]]

    def __repr__(self) -> str:
        body = ", ".join(f"{s.effective_from}: {s.value}" for s in self.steps)
        return f"DatedSchedule({self.name}: {body})"
