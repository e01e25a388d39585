"""STAR listing standards 1-5, the red-chip and weighted-voting-rights tests, and the sci-tech
growth tier's entry and exit tests, as pure dated rules (no pandas, no I/O).

Every threshold cites star-market-reference.md. Amounts are CNY. Net profit is always the
**lower of net profit before and after non-recurring items** (section 4); the checker needs both
figures and names the one that is missing. Each test answers `met`, `not_met` or `missing`
(a field the test needs was not given), with the numbers compared.

Simplifications, stated once here:
- Non-financial conditions (state approval of main products, a large market, milestones, Phase II
  approval, a clear technological advantage, fast-growing revenue with leading self-developed
  technology) are yes/no inputs the user asserts; the checker does not judge them.
- A red-chip issuer must pass the red-chip test (art. 2.1.3) and a WVR issuer the WVR test
  (art. 2.1.4) instead of standards 1-5; an issuer that is both must pass both.
- "Other conditions" of section 4 (share capital, float, years of operation) are not checked.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from kechuang.core.errors import DateRangeError, ValidationError
from kechuang.rules.schedule import DatedSchedule, Step

# First STAR trading day (section 10 counts and section 0 code blocks start here). The listing
# rules themselves were issued earlier in 2019; the checker answers from this date on.
BOARD_OPEN = dt.date(2019, 7, 22)
# star-market-reference.md section 5: 2025-06-18 CSRC opinions extend standard 5 to AI,
# commercial aerospace and the low-altitude economy.
STD5_EXTENSION_FROM = dt.date(2025, 6, 18)
# star-market-reference.md section 5: final growth-tier rules of 2025-07-13; existing
# unprofitable companies joined that day, new ones join on their listing day.
GROWTH_TIER_FROM = dt.date(2025, 7, 13)
# star-market-reference.md section 4: the CSRC cut the bar for red chips already listed
# overseas from RMB 200 bn to 20 bn "in April 2020". The day (2020-04-30, CSRC announcement
# [2020] No. 26) is not in the reference; it is our reading and the only dated step here that is.
RED_CHIP_OVERSEAS_CUT = dt.date(2020, 4, 30)

M = 1e6
BN = 1e9
_S4 = "star-market-reference.md section 4"
_S5 = "star-market-reference.md section 5"


def _fixed(name: str, value: float, source: str = _S4) -> DatedSchedule[float]:
    return DatedSchedule(name, [Step(BOARD_OPEN, value, source)], unit="CNY")


# Standard thresholds (section 4 table, arts. 2.1.2-2.1.4). Unchanged since the board opened.
STD1_MV = _fixed("std1_market_value", 1 * BN)
STD1_CUM_PROFIT = _fixed("std1_two_year_profit", 50 * M)
STD1_REVENUE = _fixed("std1_revenue", 100 * M)
STD2_MV = _fixed("std2_market_value", 1.5 * BN)
STD2_REVENUE = _fixed("std2_revenue", 200 * M)
STD2_RD_SHARE = DatedSchedule("std2_rd_share", [Step(BOARD_OPEN, 0.15, _S4)], unit="fraction")
STD3_MV = _fixed("std3_market_value", 2 * BN)
STD3_REVENUE = _fixed("std3_revenue", 300 * M)
STD3_CFO = _fixed("std3_three_year_cfo", 100 * M)
STD4_MV = _fixed("std4_market_value", 3 * BN)
STD4_REVENUE = _fixed("std4_revenue", 300 * M)
STD5_MV = _fixed("std5_market_value", 4 * BN)
RED_CHIP_MV_HIGH = _fixed("red_chip_market_value", 10 * BN)
RED_CHIP_MV_LOW = _fixed("red_chip_market_value_with_revenue", 5 * BN)
RED_CHIP_REVENUE = _fixed("red_chip_revenue", 500 * M)
RED_CHIP_OVERSEAS_MV = DatedSchedule("red_chip_overseas_market_value", [
    Step(BOARD_OPEN, 200 * BN, _S4 + " (2018 State Council pilot)"),
    Step(RED_CHIP_OVERSEAS_CUT, 20 * BN, _S4 + " (CSRC, April 2020)"),
], unit="CNY")
WVR_MV_HIGH = _fixed("wvr_market_value", 10 * BN)
WVR_MV_LOW = _fixed("wvr_market_value_with_revenue", 5 * BN)
WVR_REVENUE = _fixed("wvr_revenue", 500 * M)
# Growth-tier exit for new companies = the standard 1 profit tests (section 5).
TIER_EXIT_CUM_PROFIT = DatedSchedule("tier_exit_two_year_profit",
                                     [Step(GROWTH_TIER_FROM, 50 * M, _S5)], unit="CNY")
TIER_EXIT_REVENUE = DatedSchedule("tier_exit_revenue", [Step(GROWTH_TIER_FROM, 100 * M, _S5)],
                                  unit="CNY")

# Industries of standard 5. Pharma needs a Phase II approval, the others a clear technological
# advantage (section 4). AI, commercial aerospace and the low-altitude economy only from
# 2025-06-18 (section 5, measure 3).
PHARMA = "pharma"
EXTENDED_INDUSTRIES: tuple[str, ...] = ("ai", "commercial_aerospace", "low_altitude")
_NONE: tuple[str, ...] = ()
STD5_EXTENDED: DatedSchedule[tuple[str, ...]] = DatedSchedule("std5_extended_industries", [
    Step(BOARD_OPEN, _NONE, _S4),
    Step(STD5_EXTENSION_FROM, EXTENDED_INDUSTRIES, _S5 + " measure 3"),
])
INDUSTRY_ALIASES = {
    "pharma": PHARMA, "pharmaceutical": PHARMA, "biopharma": PHARMA, "drug": PHARMA,
    "医药": PHARMA, "生物医药": PHARMA, "创新药": PHARMA, "生物制药": PHARMA, "化学制药": PHARMA,
    "ai": "ai", "artificial_intelligence": "ai", "人工智能": "ai",
    "commercial_aerospace": "commercial_aerospace", "aerospace": "commercial_aerospace",
    "commercial_rocket": "commercial_aerospace", "商业航天": "commercial_aerospace",
    "low_altitude": "low_altitude", "low_altitude_economy": "low_altitude",
    "低空经济": "low_altitude",
}


def normalize_industry(industry: str) -> str:
    key = industry.strip().lower().replace("-", "_").replace(" ", "_")
    return INDUSTRY_ALIASES.get(key, key)


# -- inputs -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    """A company's figures for the checker. Amounts in CNY; None = not given.

    net_profit / net_profit_deducted: (last year, year before), before and after non-recurring
    items. revenue: last year. revenue_3y, rd_3y (研发投入, incl. capitalised R&D), cfo_3y:
    cumulative over the last three years."""

    market_value: float | None = None
    net_profit: tuple[float, float] | None = None
    net_profit_deducted: tuple[float, float] | None = None
    revenue: float | None = None
    revenue_3y: float | None = None
    rd_3y: float | None = None
    cfo_3y: float | None = None
    industry: str | None = None
    product_approval: bool | None = None  # main products state-approved, large market, milestones
    phase2_approved: bool | None = None  # pharma: a core product approved for Phase II trials
    tech_advantage: bool | None = None  # non-pharma: clear technological advantage
    red_chip: bool = False
    listed_overseas: bool = False
    fast_growth_leading_tech: bool | None = None  # red chip not listed overseas
    wvr: bool = False

    def __post_init__(self) -> None:
        for name in ("market_value", "revenue", "revenue_3y", "rd_3y", "cfo_3y"):
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise ValidationError(f"{name} {v} is not a finite number", column=name)
        for name in ("market_value", "revenue", "revenue_3y", "rd_3y"):
            v = getattr(self, name)
            if v is not None and v < 0:
                raise ValidationError(f"{name} {v:,.0f} is negative", column=name)
        for name in ("net_profit", "net_profit_deducted"):
            v = getattr(self, name)
            if v is not None and (len(v) != 2 or not all(math.isfinite(x) for x in v)):
                raise ValidationError(f"{name} needs two finite numbers (last year, year "
                                      f"before), got {v!r}", column=name)
        if (self.revenue is not None and self.revenue_3y is not None
                and self.revenue > self.revenue_3y):
            raise ValidationError(f"revenue {self.revenue:,.0f} exceeds the three-year total "
                                  f"revenue_3y {self.revenue_3y:,.0f}", column="revenue_3y")

    def profit(self, i: int) -> float | None:
        """Lower of before/after non-recurring net profit of year i (0 = last year)."""
        if self.net_profit is None or self.net_profit_deducted is None:
            return None
        return min(self.net_profit[i], self.net_profit_deducted[i])


_FLOAT = ("market_value", "revenue", "revenue_3y", "rd_3y", "cfo_3y")
_PAIR = ("net_profit", "net_profit_deducted")
_BOOL = ("product_approval", "phase2_approved", "tech_advantage", "red_chip", "listed_overseas",
         "fast_growth_leading_tech", "wvr")


def figures_from_mapping(data: Mapping[str, Any], where: str = "figures") -> Figures:
    """Figures from a JSON/YAML-like mapping; unknown keys and bad types raise one-line errors."""
    known = {f.name for f in fields(Figures)}
    kw: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ValidationError(f"unknown field {key!r} (expected {', '.join(sorted(known))})",
                                  path=where)
        if value is None:
            continue
        if key in _FLOAT:
            kw[key] = _number(value, key, where)
        elif key in _PAIR:
            if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
                raise ValidationError(f"{key} must be a list of two numbers [last year, year "
                                      "before]", path=where, column=key)
            kw[key] = (_number(value[0], key, where), _number(value[1], key, where))
        elif key in _BOOL:
            if not isinstance(value, bool):
                raise ValidationError(f"{key} must be true or false, got {value!r}",
                                      path=where, column=key)
            kw[key] = value
        else:
            kw[key] = str(value)
    return Figures(**kw)


_UNITS = (("trn", 1e12), ("bn", 1e9), ("亿", 1e8), ("万", 1e4), ("m", 1e6), ("b", 1e9))


def parse_amount(value: str | float, what: str = "amount") -> float:
    """CNY amount from a number or text with a unit: '1.5bn', '300m', '15亿', '5000万', '2e9'."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    s = str(value).strip().replace(",", "").replace("_", "")
    for suffix, mult in _UNITS:
        if s.lower().endswith(suffix):
            try:
                return float(s[: -len(suffix)]) * mult
            except ValueError:
                break
    try:
        return float(s)
    except ValueError:
        raise ValidationError(f"{what} {value!r} is not an amount (e.g. 1.5bn, 300m, 15亿, "
                              "2e9)", column=what) from None


def _number(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"{key} must be a number, got {value!r}", path=where, column=key)
    try:
        return parse_amount(value, key)
    except ValidationError:
        raise ValidationError(f"{key} must be a number, got {value!r}", path=where,
                              column=key) from None


# -- outputs ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Comparison:
    field: str
    value: float | bool | str
    op: str  # ">=", ">", "==", "in", "not in"
    threshold: float | bool | str
    ok: bool

    def text(self) -> str:
        def fmt(x: float | bool | str) -> str:
            if isinstance(x, (bool, str)):
                return str(x)
            return f"{x:.2%}" if abs(x) < 1 and x != 0 and "share" in self.field else f"{x:,.0f}"
        return f"{self.field} {fmt(self.value)} {self.op} {fmt(self.threshold)}: " + (
            "yes" if self.ok else "no")


@dataclass(frozen=True)
class TestResult:
    test: str
    status: str  # met | not_met | missing | not_applicable
    reason: str
    comparisons: tuple[Comparison, ...] = ()
    missing: tuple[str, ...] = ()
    source: str = _S4

    @property
    def met(self) -> bool | None:
        return {"met": True, "not_met": False}.get(self.status)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["comparisons"] = [asdict(c) for c in self.comparisons]
        d["missing"] = list(self.missing)
        return d


@dataclass(frozen=True)
class ListingCheck:
    date: dt.date
    results: tuple[TestResult, ...]
    eligible: bool | None
    route: str  # which tests decide eligibility
    notes: tuple[str, ...] = field(default_factory=tuple)

    def result(self, test: str) -> TestResult:
        for r in self.results:
            if r.test == test:
                return r
        raise KeyError(test)

    @property
    def met(self) -> list[str]:
        return [r.test for r in self.results if r.status == "met"]

    def to_dict(self) -> dict[str, Any]:
        return {"date": str(self.date), "eligible": self.eligible, "route": self.route,
                "met": self.met, "results": [r.to_dict() for r in self.results],
                "notes": list(self.notes)}


# -- three-valued evaluation --------------------------------------------------------------------

class _Eval:
    """Collects comparisons and missing fields; conditions are True, False or None (missing)."""

    def __init__(self) -> None:
        self.comparisons: list[Comparison] = []
        self.missing: list[str] = []

    def need(self, name: str, value: Any) -> bool:
        if value is None:
            if name not in self.missing:
                self.missing.append(name)
            return False
        return True

    def ge(self, name: str, value: float | None, threshold: float, strict: bool = False
           ) -> bool | None:
        if not self.need(name, value):
            return None
        assert value is not None
        ok = value > threshold if strict else value >= threshold
        self.comparisons.append(Comparison(name, value, ">" if strict else ">=", threshold, ok))
        return ok

    def true(self, name: str, value: bool | None) -> bool | None:
        if not self.need(name, value):
            return None
        self.comparisons.append(Comparison(name, bool(value), "==", True, bool(value)))
        return bool(value)

    def profit(self, f: Figures, i: int) -> float | None:
        ok = self.need("net_profit", f.net_profit)
        ok = self.need("net_profit_deducted", f.net_profit_deducted) and ok
        return f.profit(i) if ok else None


def _and(*xs: bool | None) -> bool | None:
    if any(x is False for x in xs):
        return False
    return None if any(x is None for x in xs) else True


def _or(*xs: bool | None) -> bool | None:
    if any(x is True for x in xs):
        return True
    return None if any(x is None for x in xs) else False


def _result(test: str, outcome: bool | None, ev: _Eval, what: str, source: str = _S4
            ) -> TestResult:
    failed = [c.text() for c in ev.comparisons if not c.ok]
    if outcome is True:
        status, reason = "met", what
    elif outcome is False:
        status, reason = "not_met", "; ".join(failed) or what
    else:
        status = "missing"
        reason = "cannot decide: missing " + ", ".join(ev.missing)
    missing = tuple(ev.missing) if outcome is None else ()
    return TestResult(test, status, reason, tuple(ev.comparisons), missing, source)


def _lazy_or(*branches: Callable[[], bool | None]) -> bool | None:
    """Evaluate alternatives in order, stopping at the first that holds (so a met first branch
    does not list the second branch's fields as missing)."""
    seen: list[bool | None] = []
    for b in branches:
        v = b()
        if v is True:
            return True
        seen.append(v)
    return _or(*seen)


# -- the tests ----------------------------------------------------------------------------------

def _check_date(on: dt.date) -> None:
    if on < BOARD_OPEN:
        raise DateRangeError(f"date {on} is before the STAR Market opened ({BOARD_OPEN})")


def standard_1(f: Figures, on: dt.date) -> TestResult:
    """MV >= 1 bn and (profit > 0 both years, cumulative >= 50 m; or last-year profit > 0 and
    revenue >= 100 m). star-market-reference.md section 4."""
    _check_date(on)
    ev = _Eval()
    mv = ev.ge("market_value", f.market_value, STD1_MV.at(on))

    def branch_a() -> bool | None:
        p0, p1 = ev.profit(f, 0), ev.profit(f, 1)
        if p0 is None or p1 is None:
            return None
        return _and(ev.ge("net_profit_lower_last_year", p0, 0, strict=True),
                    ev.ge("net_profit_lower_year_before", p1, 0, strict=True),
                    ev.ge("net_profit_lower_two_years", p0 + p1, STD1_CUM_PROFIT.at(on)))

    def branch_b() -> bool | None:
        p0 = ev.profit(f, 0)
        pos = None if p0 is None else ev.ge("net_profit_lower_last_year", p0, 0, strict=True)
        if pos is False:
            return False
        return _and(pos, ev.ge("revenue", f.revenue, STD1_REVENUE.at(on)))

    out = _and(mv, _lazy_or(branch_a, branch_b)) if mv is not False else False
    return _result("standard_1", out, ev, "market value and profit tests met")


def standard_2(f: Figures, on: dt.date) -> TestResult:
    """MV >= 1.5 bn, last-year revenue >= 200 m, 3-year R&D >= 15% of 3-year revenue (section 4)."""
    _check_date(on)
    ev = _Eval()
    mv = ev.ge("market_value", f.market_value, STD2_MV.at(on))
    rev = ev.ge("revenue", f.revenue, STD2_REVENUE.at(on))
    share: bool | None = None
    if ev.need("rd_3y", f.rd_3y) & ev.need("revenue_3y", f.revenue_3y):
        assert f.rd_3y is not None and f.revenue_3y is not None
        ratio = f.rd_3y / f.revenue_3y if f.revenue_3y > 0 else math.inf
        share = ev.ge("rd_share_3y", ratio, STD2_RD_SHARE.at(on))
    return _result("standard_2", _and(mv, rev, share), ev,
                   "market value, revenue and R&D share tests met")


def standard_3(f: Figures, on: dt.date) -> TestResult:
    """MV >= 2 bn, last-year revenue >= 300 m, 3-year operating cash flow >= 100 m (section 4)."""
    _check_date(on)
    ev = _Eval()
    out = _and(ev.ge("market_value", f.market_value, STD3_MV.at(on)),
               ev.ge("revenue", f.revenue, STD3_REVENUE.at(on)),
               ev.ge("cfo_3y", f.cfo_3y, STD3_CFO.at(on)))
    return _result("standard_3", out, ev, "market value, revenue and cash-flow tests met")


def standard_4(f: Figures, on: dt.date) -> TestResult:
    """MV >= 3 bn and last-year revenue >= 300 m (section 4)."""
    _check_date(on)
    ev = _Eval()
    out = _and(ev.ge("market_value", f.market_value, STD4_MV.at(on)),
               ev.ge("revenue", f.revenue, STD4_REVENUE.at(on)))
    return _result("standard_4", out, ev, "market value and revenue tests met")


def standard_5(f: Figures, on: dt.date) -> TestResult:
    """MV >= 4 bn; approved main products with a large market and milestones; pharma: a core
    product approved for Phase II, others: a clear technological advantage. AI, commercial
    aerospace and low-altitude economy firms only from 2025-06-18 (sections 4 and 5)."""
    _check_date(on)
    ev = _Eval()
    mv = ev.ge("market_value", f.market_value, STD5_MV.at(on))
    industry_ok: bool | None = None
    specific: bool | None = None
    if ev.need("industry", f.industry):
        assert f.industry is not None
        ind = normalize_industry(f.industry)
        allowed = STD5_EXTENDED.at(on)
        if ind in EXTENDED_INDUSTRIES:
            industry_ok = ind in allowed
            when = (f"extended since {STD5_EXTENSION_FROM}" if allowed
                    else f"open only from {STD5_EXTENSION_FROM}")
            ev.comparisons.append(Comparison("industry", ind, "in",
                                             f"standard-5 fields on {on} ({when})", industry_ok))
        else:
            industry_ok = True
        specific = (ev.true("phase2_approved", f.phase2_approved) if ind == PHARMA
                    else ev.true("tech_advantage", f.tech_advantage))
    approval = ev.true("product_approval", f.product_approval)
    out = _and(mv, industry_ok, approval, specific)
    source = _S4 + "; " + _S5 if on >= STD5_EXTENSION_FROM else _S4
    return _result("standard_5", out, ev, "market value and technology tests met", source)


def _two_way(f: Figures, on: dt.date, high: DatedSchedule[float],
             low: DatedSchedule[float], revenue: DatedSchedule[float],
             extra: bool | None, ev: _Eval) -> bool | None:
    a = ev.ge("market_value", f.market_value, high.at(on))
    if a is True:
        return _and(True, extra)
    b = _and(ev.ge("market_value", f.market_value, low.at(on)) if a is False else None,
             ev.ge("revenue", f.revenue, revenue.at(on)))
    return _and(_or(a, b), extra)


def red_chip_test(f: Figures, on: dt.date) -> TestResult:
    """Art. 2.1.3 (section 4): listed overseas: MV >= 200 bn (20 bn from April 2020); not listed
    overseas: fast-growing revenue with leading technology and MV >= 10 bn, or >= 5 bn plus
    last-year revenue >= 500 m."""
    _check_date(on)
    ev = _Eval()
    if not f.red_chip:
        return TestResult("red_chip", "not_applicable", "not a red-chip issuer")
    if f.listed_overseas:
        out = ev.ge("market_value", f.market_value, RED_CHIP_OVERSEAS_MV.at(on))
        src = RED_CHIP_OVERSEAS_MV.step_at(on)
        return _result("red_chip", out, ev, "overseas-listed red-chip market value test met",
                       src.source if src else _S4)
    growth = ev.true("fast_growth_leading_tech", f.fast_growth_leading_tech)
    out = _two_way(f, on, RED_CHIP_MV_HIGH, RED_CHIP_MV_LOW, RED_CHIP_REVENUE,
                   growth, ev)
    return _result("red_chip", out, ev, "red-chip market value / revenue tests met")


def wvr_test(f: Figures, on: dt.date) -> TestResult:
    """Art. 2.1.4 (section 4): MV >= 10 bn, or >= 5 bn plus last-year revenue >= 500 m."""
    _check_date(on)
    if not f.wvr:
        return TestResult("wvr", "not_applicable", "no weighted voting rights")
    ev = _Eval()
    out = _two_way(f, on, WVR_MV_HIGH, WVR_MV_LOW, WVR_REVENUE, True, ev)
    return _result("wvr", out, ev, "WVR market value / revenue tests met")


STANDARDS: dict[str, Callable[[Figures, dt.date], TestResult]] = {
    "standard_1": standard_1, "standard_2": standard_2, "standard_3": standard_3,
    "standard_4": standard_4, "standard_5": standard_5, "red_chip": red_chip_test,
    "wvr": wvr_test,
}


def check_listing(f: Figures, on: dt.date) -> ListingCheck:
    """All tests on date `on`, and whether the issuer qualifies (see the module docstring)."""
    _check_date(on)
    results = tuple(fn(f, on) for fn in STANDARDS.values())
    by = {r.test: r for r in results}
    notes: list[str] = ["net profit = lower of before/after non-recurring items "
                        "(star-market-reference.md section 4)"]
    if f.red_chip or f.wvr:
        decisive = [t for t, flag in (("red_chip", f.red_chip), ("wvr", f.wvr)) if flag]
        eligible = _and(*(by[t].met for t in decisive))
        route = " and ".join(decisive)
    else:
        eligible = _or(*(by[f"standard_{i}"].met for i in range(1, 6)))
        route = "any of standards 1-5"
    if on >= STD5_EXTENSION_FROM:
        notes.append("standard 5 open to AI, commercial aerospace and low-altitude economy "
                     "since 2025-06-18 (section 5)")
    return ListingCheck(on, results, eligible, route, tuple(notes))


def require(result: TestResult) -> TestResult:
    """Raise if a test could not be decided, naming the missing fields (strict callers)."""
    if result.status == "missing":
        raise ValidationError(f"{result.test}: missing field(s) {', '.join(result.missing)}",
                              column=result.missing[0])
    return result


# -- sci-tech growth tier (section 5) -----------------------------------------------------------

@dataclass(frozen=True)
class YearProfit:
    """One audited fiscal year: net profit before and after non-recurring items (CNY)."""

    year: int
    net_profit: float
    net_profit_deducted: float

    @property
    def lower(self) -> float:
        return min(self.net_profit, self.net_profit_deducted)


def growth_tier_entry(on: dt.date, list_date: dt.date, profit_at_listing: YearProfit,
                      since_listing: Sequence[YearProfit] = ()) -> TestResult:
    """Entry into the growth tier (section 5): there is no extra threshold. Companies
    unprofitable when they listed enter: existing ones (listed before 2025-07-13) on 2025-07-13
    if still unprofitable since listing, new ones on their listing day. `profit_at_listing` is the
    last audited year before listing; `since_listing` the audited years after it."""
    _check_date(on)
    ev = _Eval()
    if on < GROWTH_TIER_FROM:
        return TestResult("growth_tier_entry", "not_met",
                          f"the growth tier exists from {GROWTH_TIER_FROM}", (), (), _S5)
    if list_date > on:
        return TestResult("growth_tier_entry", "not_met", f"not listed on {on} "
                          f"(lists {list_date})", (), (), _S5)
    unprofitable = profit_at_listing.lower <= 0
    ev.comparisons.append(Comparison(f"net_profit_lower_FY{profit_at_listing.year}",
                                     profit_at_listing.lower, "<=", 0, unprofitable))
    if not unprofitable:
        return _result("growth_tier_entry", False, ev, "", _S5)
    existing = list_date < GROWTH_TIER_FROM
    # Existing companies joined on 2025-07-13 if not profitable in any year closed before then
    # (later years are for the exit test).
    later = [y for y in since_listing if y.year > profit_at_listing.year and
             dt.date(y.year, 12, 31) < min(on, GROWTH_TIER_FROM)]
    profitable = [y for y in later if y.lower > 0]
    if existing and profitable:
        y = profitable[0]
        ev.comparisons.append(Comparison(f"net_profit_lower_FY{y.year}", y.lower, "<=", 0,
                                         False))
        return TestResult("growth_tier_entry", "not_met",
                          f"profitable in FY{y.year} after listing, before the tier opened",
                          tuple(ev.comparisons), (), _S5)
    when = GROWTH_TIER_FROM if existing else list_date
    kind = "existing company" if existing else "new company"
    return TestResult("growth_tier_entry", "met", f"{kind}, unprofitable at listing: enters on "
                      f"{when}", tuple(ev.comparisons), (), _S5)


def growth_tier_exit_new(last_two: tuple[YearProfit, YearProfit], revenue: float | None,
                         on: dt.date) -> TestResult:
    """Exit for companies that entered on listing (section 5): standard 1's profit tests,
    net profit > 0 in both of the last two years and cumulative >= 50 m, or last-year net profit
    > 0 and revenue >= 100 m (lower of before/after non-recurring). `last_two` = (last year,
    year before)."""
    _check_date(on)
    if revenue is not None and revenue < 0:
        raise ValidationError(f"revenue {revenue:,.0f} is negative", column="revenue")
    ev = _Eval()
    if on < GROWTH_TIER_FROM:
        return TestResult("growth_tier_exit_new", "not_met",
                          f"the growth tier exists from {GROWTH_TIER_FROM}", (), (), _S5)
    p0, p1 = last_two[0].lower, last_two[1].lower
    a = _and(ev.ge("net_profit_lower_last_year", p0, 0, strict=True),
             ev.ge("net_profit_lower_year_before", p1, 0, strict=True),
             ev.ge("net_profit_lower_two_years", p0 + p1, TIER_EXIT_CUM_PROFIT.at(on)))
    out: bool | None = True
    if a is not True:
        b = _and(p0 > 0, ev.ge("revenue", revenue, TIER_EXIT_REVENUE.at(on)))
        out = b
    return _result("growth_tier_exit_new", out, ev, "standard 1 profit tests met: leaves the "
                   "tier", _S5)


def growth_tier_exit_existing(since_listing: Sequence[YearProfit], on: dt.date) -> TestResult:
    """Exit for companies that joined on 2025-07-13 (section 5): the first profitable fiscal
    year after listing (lower of before/after non-recurring > 0), the same test that removes U.
    Only years whose year end is before `on` count (an audited report must exist)."""
    _check_date(on)
    if on < GROWTH_TIER_FROM:
        return TestResult("growth_tier_exit_existing", "not_met",
                          f"the growth tier exists from {GROWTH_TIER_FROM}", (), (), _S5)
    ev = _Eval()
    years = sorted((y for y in since_listing if dt.date(y.year, 12, 31) < on),
                   key=lambda y: y.year)
    if not years:
        ev.need("since_listing", None)
        return _result("growth_tier_exit_existing", None, ev, "", _S5)
    for y in years:
        if ev.ge(f"net_profit_lower_FY{y.year}", y.lower, 0, strict=True):
            return _result("growth_tier_exit_existing", True, ev,
                           f"first profitable year FY{y.year}: leaves the tier (U removed)",
                           _S5)
    return _result("growth_tier_exit_existing", False, ev, "", _S5)
