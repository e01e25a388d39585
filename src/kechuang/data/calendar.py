"""The XSHG trading calendar, wrapped once (exchange_calendars). Everything that counts sessions
goes through here: n-th session after listing, T+1, sessions per year, index review dates."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import numpy as np

from kechuang.core.dates import parse_date

FIRST = "2000-01-04"  # early enough for the CSI 300 back-history in the bundled data


@lru_cache(maxsize=1)
def _calendar() -> Any:
    import warnings

    import exchange_calendars as xc  # heavy: imported on first use

    with warnings.catch_warnings():  # the library's own pandas deprecation notices
        warnings.simplefilter("ignore")
        return xc.get_calendar("XSHG", start=FIRST)


@lru_cache(maxsize=1)
def sessions_array() -> np.ndarray:
    """All XSHG sessions known to exchange_calendars, as sorted datetime64[D]."""
    idx = _calendar().sessions  # tz-naive DatetimeIndex of session labels
    return np.asarray(idx.strftime("%Y-%m-%d").to_numpy(dtype=str), dtype="datetime64[D]")


def last_known_session() -> dt.date:
    return _to_date(sessions_array()[-1])


def _to_date(d: np.datetime64) -> dt.date:
    return dt.date.fromisoformat(str(d.astype("datetime64[D]")))


def _check_range(d: np.datetime64) -> None:
    arr = sessions_array()
    if d < arr[0] or d > arr[-1]:
        from kechuang.core.errors import DateRangeError

        raise DateRangeError(f"{d} is outside the XSHG calendar ({arr[0]} .. {arr[-1]})")


def is_session(date: dt.date | str) -> bool:
    d = np.datetime64(parse_date(date), "D")
    arr = sessions_array()
    i = int(np.searchsorted(arr, d))
    return i < len(arr) and arr[i] == d


def sessions(start: dt.date | str, end: dt.date | str) -> np.ndarray:
    s, e = np.datetime64(parse_date(start), "D"), np.datetime64(parse_date(end), "D")
    arr = sessions_array()
    return arr[np.searchsorted(arr, s): np.searchsorted(arr, e, side="right")]


def session_offset(date: dt.date | str, n: int) -> dt.date:
    """The session n sessions after `date` (n may be negative). `date` need not be a session:
    offset 0 is then the next session on or after it."""
    d = np.datetime64(parse_date(date), "D")
    _check_range(d)
    arr = sessions_array()
    i = int(np.searchsorted(arr, d))
    j = i + n
    if not 0 <= j < len(arr):
        from kechuang.core.errors import DateRangeError

        raise DateRangeError(f"{n} sessions from {date} is outside the XSHG calendar")
    return _to_date(arr[j])


def nth_session_after_listing(list_date: dt.date | str, n: int) -> dt.date:
    """The n-th session of a listing, the listing day being session 1 (architecture decision 11)."""
    if n < 1:
        raise ValueError("n counts from 1 (the listing day)")
    return session_offset(list_date, n - 1)


def session_number(list_date: dt.date | str, dates: np.ndarray) -> np.ndarray:
    """For each date, its session number since listing (listing day = 1; before listing <= 0)."""
    arr = sessions_array()
    start = int(np.searchsorted(arr, np.datetime64(parse_date(list_date), "D")))
    pos = np.searchsorted(arr, np.asarray(dates).astype("datetime64[D]"))
    return (pos - start + 1).astype(np.int64)


def settlement_date(trade_date: dt.date | str, lag: int = 1) -> dt.date:
    """First session on which shares bought on `trade_date` can be sold. The lag is T+1 on STAR
    (star-market-reference.md section 1; rules.trading.SETTLEMENT_LAG holds it as a schedule)."""
    return session_offset(trade_date, lag)


def sessions_per_year(year: int) -> int:
    return len(sessions(dt.date(year, 1, 1), dt.date(year, 12, 31)))


def mean_sessions_per_year(start_year: int = 2010, end_year: int = 2024) -> float:
    """Annualisation factor for reports (China convention, about 242)."""
    return float(np.mean([sessions_per_year(y) for y in range(start_year, end_year + 1)]))


def second_friday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    first_friday = first + dt.timedelta(days=(4 - first.weekday()) % 7)
    return first_friday + dt.timedelta(days=7)


def index_review_dates(start_year: int, end_year: int) -> list[dt.date]:
    """Effective dates of STAR index quarterly reviews: the session after the second Friday of
    March, June, September and December (star-market-reference.md section 6.1)."""
    out = []
    for y in range(start_year, end_year + 1):
        for m in (3, 6, 9, 12):
            out.append(session_offset(second_friday(y, m) + dt.timedelta(days=1), 0))
    return out
