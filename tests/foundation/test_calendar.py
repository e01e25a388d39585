"""XSHG calendar facts and the session arithmetic built on it."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from kechuang.core.dates import parse_date
from kechuang.core.errors import DateRangeError
from kechuang.data import calendar as cal


def test_national_day_2024_closed_and_eve_open() -> None:
    assert cal.is_session("2024-09-30")
    for day in range(1, 8):
        assert not cal.is_session(dt.date(2024, 10, day))
    assert cal.is_session("2024-10-08")


def test_weekend_closed() -> None:
    assert not cal.is_session("2024-09-28")  # a Saturday


def test_nth_session_after_listing_counts_listing_day() -> None:
    # STAR opened on Monday 2019-07-22; session 5 is Friday 2019-07-26, 6 is Monday 07-29.
    assert cal.nth_session_after_listing("2019-07-22", 1) == dt.date(2019, 7, 22)
    assert cal.nth_session_after_listing("2019-07-22", 5) == dt.date(2019, 7, 26)
    assert cal.nth_session_after_listing("2019-07-22", 6) == dt.date(2019, 7, 29)
    n = cal.session_number("2019-07-22", np.array(["2019-07-22", "2019-07-29"], "datetime64[D]"))
    assert list(n) == [1, 6]


def test_t_plus_one_skips_holidays() -> None:
    assert cal.settlement_date("2024-09-30") == dt.date(2024, 10, 8)
    assert cal.settlement_date("2024-01-02") == dt.date(2024, 1, 3)


def test_sessions_per_year() -> None:
    assert 235 <= cal.sessions_per_year(2023) <= 250
    assert 238 <= cal.mean_sessions_per_year() <= 246


def test_review_dates_are_the_session_after_the_second_friday() -> None:
    dates = cal.index_review_dates(2025, 2026)
    # The reference's cross-check: reviews effective after the closes of 2025-09-12 and
    # 2026-03-13 (star-market-reference.md section 6.1).
    assert dt.date(2025, 9, 15) in dates and dt.date(2026, 3, 16) in dates
    assert all(cal.is_session(d) for d in dates)
    assert cal.second_friday(2025, 9) == dt.date(2025, 9, 12)


def test_sessions_between_and_out_of_range() -> None:
    s = cal.sessions("2024-09-27", "2024-10-09")
    assert [str(x) for x in s] == ["2024-09-27", "2024-09-30", "2024-10-08", "2024-10-09"]
    with pytest.raises(DateRangeError):
        cal.session_offset("1990-01-01", 0)
    with pytest.raises(DateRangeError):
        parse_date("2024-02-30")
