"""Date parsing shared by every layer: one place that turns user input into a date."""

from __future__ import annotations

import datetime as dt

from kechuang.core.errors import DateRangeError


def parse_date(value: str | dt.date, *, what: str = "date") -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    s = str(value).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d", "%Y/%m/%d"):
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            continue
    raise DateRangeError(f"{what} {value!r} is not a date (expected YYYY-MM-DD)")


def parse_range(start: str | dt.date | None, end: str | dt.date | None) -> tuple[
        dt.date | None, dt.date | None]:
    s = parse_date(start, what="start") if start is not None else None
    e = parse_date(end, what="end") if end is not None else None
    if s and e and s > e:
        raise DateRangeError(f"start {s} is after end {e}")
    return s, e
