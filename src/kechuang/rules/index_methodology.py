"""STAR index methodologies as data (star-market-reference.md sections 6.1 and 6.2).

An `IndexSpec` holds every parameter of one index; the index engine reads nothing else. Values
the reference marks as unverified (⚠️ / ❓) are listed in `IndexSpec.unverified` and shown in
the engine's output. Pure: no pandas, no I/O.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field

import numpy as np

from kechuang.rules.schedule import DatedSchedule, Step


@dataclass(frozen=True)
class Seasoning:
    """Minimum listing age for eligibility, in months.

    STAR 50 (section 6.1): originally > 6 months, switching to > 12 months once 100-150
    securities had 12 months of history; 12 months in any case from the 2025-03-17 revision.
    `switch_count` is the count that triggers the switch (100: the low end of the range, ⚠️).
    """

    months: DatedSchedule[int]
    long_months: int = 12
    switch_count: int | None = None

    def at(self, date: dt.date, n_listed_long: int) -> int:
        m = self.months.at(date)
        if self.switch_count is not None and n_listed_long >= self.switch_count:
            return max(m, self.long_months)
        return m


@dataclass(frozen=True)
class IndexSpec:
    code: str
    name: str
    n_constituents: int | None          # None: every eligible security (Composite)
    base_date: dt.date
    base_value: float
    live_date: dt.date
    weighting: str                      # 'free_float' (banded) or 'total_mv'
    seasoning: Seasoning
    fast_entry_top: int                 # top-N by average daily total MV since listing...
    fast_entry_months: int              # ...listed more than this many months
    liquidity_drop: float               # drop the bottom fraction by average daily trading value
    ranking_sessions: int               # averaging window (sessions to the cut-off)
    rank_offset: int                    # ranks skipped (STAR 100: ranks 51-150 -> 50)
    entrant_buffer: int | None          # candidates in the top N enter first
    incumbent_buffer: int | None        # incumbents in the top N are kept
    max_turnover: float                 # fraction of constituents changed per review
    single_cap: float | None
    top5_cap: float | None
    review_months: tuple[int, ...] = (3, 6, 9, 12)
    cutoff_month_offset: int = 2        # cut-off: last session of the month 2 months before
    launch_cutoff: dt.date | None = None
    exclude_st: bool = True
    unverified: tuple[str, ...] = field(default_factory=tuple)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> dict[str, object]:
        return {"code": self.code, "name": self.name, "n_constituents": self.n_constituents,
                "base_date": str(self.base_date), "base_value": self.base_value,
                "live_date": str(self.live_date), "weighting": self.weighting,
                "single_cap": self.single_cap, "top5_cap": self.top5_cap,
                "entrant_buffer": self.entrant_buffer,
                "incumbent_buffer": self.incumbent_buffer, "max_turnover": self.max_turnover,
                "liquidity_drop": self.liquidity_drop, "fast_entry_top": self.fast_entry_top,
                "fast_entry_months": self.fast_entry_months,
                "unverified": list(self.unverified), "notes": list(self.notes)}


_D = dt.date
STAR_OPEN = _D(2019, 7, 22)
REVISION_2025 = _D(2025, 3, 17)  # section 6.2: STAR 100/200 seasoning aligned to 12 months

STAR50 = IndexSpec(
    code="000688", name="STAR 50", n_constituents=50,
    base_date=_D(2019, 12, 31), base_value=1000.0,             # section 6.1 Base
    live_date=_D(2020, 7, 23),                                 # section 6.1 Launch
    weighting="free_float",                                    # section 6.1 Weighting
    seasoning=Seasoning(DatedSchedule("star50_seasoning", [
        Step(STAR_OPEN, 6, "section 6.1 Seasoning: originally > 6 months"),
        Step(REVISION_2025, 12, "section 6.1 Seasoning: now 12 months (SSE 2025-02-27)")],
        unit="months"), long_months=12, switch_count=100),
    fast_entry_top=5, fast_entry_months=3,                     # section 6.1 Fast entry
    liquidity_drop=0.10,                                       # section 6.1 Selection (❓)
    ranking_sessions=250,
    rank_offset=0,
    entrant_buffer=40, incumbent_buffer=60,                    # section 6.1 Review buffer
    max_turnover=0.10,                                         # section 6.1 Review (≤ ~10%)
    single_cap=0.10, top5_cap=0.40,                            # section 6.1 Caps
    launch_cutoff=_D(2020, 5, 29),                             # section 6.1: data to end May 2020
    unverified=(
        "seasoning switch 6 -> 12 months at 100 securities with 12 months' history "
        "(reference: 100-150; date not verified)",
        "fast entry wording from a copy of the methodology; the top-3 / 1-month committee "
        "route is not modelled",
        "liquidity screen: bottom 10% by average daily trading value (cut not found verbatim)",
        "ranking window: average over the 250 sessions to the cut-off (or since listing)",
        "free-float banding table is a public re-implementation of the CSI rule",
        "exclusions other than *ST (violations, operating problems) are not modelled",
    ),
    notes=("float (tradable A) shares stand in for free-float shares",
           "back-history 2019-12-31..2020-07-22 uses the launch list (data to 2020-05-29); "
           "a launch member not yet listed on the base date joins at the live date"),
)

STAR100 = IndexSpec(
    code="000698", name="STAR 100", n_constituents=100,
    base_date=_D(2019, 12, 31), base_value=1000.0,             # section 6.2 (❓ base)
    live_date=_D(2023, 8, 7),                                  # section 6.2
    weighting="free_float",
    seasoning=Seasoning(DatedSchedule("star100_seasoning", [
        Step(STAR_OPEN, 6, "section 6.2: 6 months before the 2025 revision"),
        Step(REVISION_2025, 12, "section 6.2: 12 months from 2025-03-17")], unit="months")),
    fast_entry_top=0, fast_entry_months=3,
    liquidity_drop=0.10, ranking_sessions=250,
    rank_offset=50,                                            # section 6.2: ranks ~51-150
    entrant_buffer=None, incumbent_buffer=None, max_turnover=0.10,
    single_cap=0.10, top5_cap=0.40,                            # section 6.2 (⚠️ Morningstar)
    unverified=("base date/value probably 2019-12-31 = 1000 (not verified)",
                "ranks ~51-150 outside STAR 50 (Morningstar)",
                "10% / 40% caps (Morningstar)", "buffer rules not published here"),
)

STAR200 = IndexSpec(
    code="000699", name="STAR 200", n_constituents=200,
    base_date=_D(2019, 12, 31), base_value=1000.0,
    live_date=_D(2024, 8, 1),                                  # section 6.2: Aug 2024
    weighting="free_float",
    seasoning=STAR100.seasoning,
    fast_entry_top=0, fast_entry_months=3,
    liquidity_drop=0.10, ranking_sessions=250,
    rank_offset=150,                                           # section 6.2: ranks ~151-350
    entrant_buffer=None, incumbent_buffer=None, max_turnover=0.10,
    single_cap=0.10, top5_cap=0.40,
    unverified=("base date/value not verified", "ranks ~151-350 (Morningstar)",
                "caps and buffers as STAR 100 (not verified)", "live day in Aug 2024 not known"),
)

COMPOSITE = IndexSpec(
    code="000680", name="STAR Composite", n_constituents=None,
    base_date=_D(2019, 12, 31), base_value=1000.0,
    live_date=_D(2025, 1, 20),                                 # section 6.2
    weighting="total_mv",                                      # section 6.2: total MV weighted
    seasoning=Seasoning(DatedSchedule("composite_seasoning", [
        Step(STAR_OPEN, 12, "section 6.2: others after 1 year")], unit="months")),
    fast_entry_top=10, fast_entry_months=3,                    # section 6.2: top 10 after 3 m
    liquidity_drop=0.0, ranking_sessions=250, rank_offset=0,
    entrant_buffer=None, incumbent_buffer=None, max_turnover=1.0,
    single_cap=None, top5_cap=None,
    unverified=("base date/value not verified",
                "official series includes dividends; this engine computes the price version "
                "(code 000681 ❓)",
                "risk-warned stocks leave after the 2nd Friday of the following month: "
                "modelled at the next review only"),
)

SPECS: dict[str, IndexSpec] = {s.code: s for s in (STAR50, STAR100, STAR200, COMPOSITE)}
ALIASES = {"star50": "000688", "star 50": "000688", "kc50": "000688",
           "star100": "000698", "star 100": "000698", "star200": "000699",
           "star 200": "000699", "composite": "000680", "star composite": "000680"}


def band_factor(ratio: float) -> float:
    """CSI free-float banding (分级靠档), section 6.1: <= 15% rounded up to the next whole
    percent; (15, 20] -> 20%; (20, 30] -> 30%; ... (70, 80] -> 80%; > 80% -> 100%."""
    if not ratio > 0:
        return 0.0
    pct = ratio * 100.0
    eps = 1e-9  # a ratio of exactly 30% stays in (20, 30], not in the next band
    if pct <= 15 + eps:
        return min(math.ceil(pct - eps), 15) / 100.0
    if pct <= 20 + eps:
        return 0.20
    if pct > 80 + eps:
        return 1.0
    return math.ceil((pct - eps) / 10.0) / 10.0


def band_factor_array(ratio: np.ndarray) -> np.ndarray:
    return np.array([band_factor(float(r)) for r in np.asarray(ratio, dtype=float).ravel()]
                    ).reshape(np.shape(ratio))


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(d.day, last))
