"""The unit of board statistics: a figure with its as-of date and dataset, and a gap (what the
data cannot support). Census, financial and bond statistics return sections of these; reports and
the CLI print them as they are, so no figure travels without its date and source."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

INSUFFICIENT = "insufficient data"


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    value: Any  # a number, a mapping (category -> number) or a list of records
    as_of: str  # date (or period) the figure describes
    dataset: str  # dataset name(s) and source the figure is computed from
    unit: str = ""
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "value": self.value, "unit": self.unit,
                "as_of": self.as_of, "dataset": self.dataset, "note": self.note}


@dataclass(frozen=True)
class Gap:
    item: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"item": self.item, "reason": self.reason}


@dataclass
class Section:
    title: str
    figures: list[Figure] = field(default_factory=list)
    gaps: list[Gap] = field(default_factory=list)

    def add(self, *args: Any, **kw: Any) -> Figure:
        f = Figure(*args, **kw)
        self.figures.append(f)
        return f

    def gap(self, item: str, reason: str) -> None:
        self.gaps.append(Gap(item, reason))

    def get(self, key: str) -> Figure:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)

    def has(self, key: str) -> bool:
        return any(f.key == key for f in self.figures)

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "figures": [f.to_dict() for f in self.figures],
                "gaps": [g.to_dict() for g in self.gaps]}


def fmt_value(v: Any, unit: str = "") -> str:
    """Human text of a figure value; None becomes 'insufficient data', never a number."""
    if v is None:
        return INSUFFICIENT
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if unit == "%":
            return f"{v:.1f}%"
        if unit.startswith("CNY"):
            return f"{v:,.2f}"
        return f"{v:,.2f}" if abs(v) < 1e6 else f"{v:,.0f}"
    if isinstance(v, dict):
        return "; ".join(f"{k}: {fmt_value(x, unit)}" for k, x in v.items())
    if isinstance(v, list):
        return f"{len(v)} rows"
    return str(v)
