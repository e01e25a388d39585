"""baostock adapter: the second source for unadjusted daily bars and adjustment factors.

baostock answers with a ResultData object whose `get_data()` frame holds every field as a
string ('' when missing); `error_code` '0' means success. Column names were read from baostock
0.9.4's source and demos (see `written_for`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import pandas as pd

from kechuang.data.adapters import specs
from kechuang.data.adapters.akshare import factors_from_cumulative
from kechuang.data.adapters.base import (
    Adapter,
    BanError,
    Call,
    DatasetInfo,
    Request,
    TransientError,
    as_date,
    as_float,
    blank,
    check_complete,
    empty,
    require,
)

K_FIELDS = "date,code,open,high,low,close,preclose,volume,amount,tradestatus"
K_COLS = tuple(K_FIELDS.split(","))
ADJ_COLS = ("code", "dividOperateDate", "backAdjustFactor")


def bs_code(code: str) -> str:
    return f"sh.{code}"


class BaostockAdapter(Adapter):
    library = "baostock"
    written_for = "0.9.4"
    datasets: ClassVar[Mapping[str, DatasetInfo]] = {
        "bars": DatasetInfo("bars", "bars_daily", ("query_history_k_data_plus",), "code",
                            site="baostock.com"),
        "adjustments": DatasetInfo("adjustments", "adjustments", ("query_adjust_factor",),
                                   "code", site="baostock.com"),
    }

    def default_call(self) -> Call:
        bs = require("baostock")
        state = {"logged_in": False}

        def check(function: str, rs: Any) -> None:
            code, msg = str(getattr(rs, "error_code", "0")), str(getattr(rs, "error_msg", ""))
            if code == "0":
                return
            if "登录" in msg or "login" in msg.lower():
                state["logged_in"] = False
                raise TransientError(f"baostock {function}: {msg} ({code})")
            if "限" in msg or "频" in msg:  # 访问频率/次数受限
                raise BanError(f"baostock {function}: {msg} ({code})")
            raise TransientError(f"baostock {function}: {msg} ({code})")

        def call(function: str, kwargs: dict[str, Any]) -> Any:
            if not state["logged_in"]:
                check("login", bs.login())
                state["logged_in"] = True
            rs = getattr(bs, function)(**kwargs)
            check(function, rs)
            # Page through with next()/get_row_data() (2,000 rows a page): the library's own
            # get_data() joins pages with DataFrame.append, which pandas 2 removed.
            rows = []
            while str(rs.error_code) == "0" and rs.next():
                rows.append(rs.get_row_data())
            check(function, rs)
            if not rows:
                return pd.DataFrame()
            return pd.DataFrame(rows, columns=list(rs.fields))

        return call

    def requests_bars(self, code: str, start: dt.date, end: dt.date) -> list[Request]:
        return [Request("bars", code, "query_history_k_data_plus",
                        {"code": bs_code(code), "fields": K_FIELDS,
                         "start_date": start.isoformat(), "end_date": end.isoformat(),
                         "frequency": "d", "adjustflag": "3"},  # 3 = unadjusted
                        final=end < dt.date.today())]

    def normalize_bars(self, code: str, raws: list[Any], start: dt.date,
                       end: dt.date) -> pd.DataFrame:
        raw = raws[0]
        if blank(raw):
            return empty(specs.BAR_COLS)
        raw = self.expect(raw, "query_history_k_data_plus", K_COLS)
        # Suspended sessions (tradestatus 0) repeat the pre-close with zero volume: not bars.
        raw = raw[raw["tradestatus"].astype(str) != "0"]
        out = pd.DataFrame({
            "code": raw["code"].astype(str).str.slice(-6), "date": as_date(raw["date"]),
            "open": as_float(raw["open"]), "high": as_float(raw["high"]),
            "low": as_float(raw["low"]), "close": as_float(raw["close"]),
            "pre_close": as_float(raw["preclose"]),
            "volume": as_float(raw["volume"]),  # shares
            "amount": as_float(raw["amount"])})
        check_complete(out, ("code", "date", "open", "high", "low", "close", "volume"),
                       library=self.library, function="query_history_k_data_plus")
        return out[(out["date"] >= start) & (out["date"] <= end)]

    def requests_adjustments(self, code: str, start: dt.date, end: dt.date) -> list[Request]:
        # The whole history: a factor is the ratio to the previous cumulative factor.
        return [Request("adjustments", code, "query_adjust_factor",
                        {"code": bs_code(code), "start_date": "2019-01-01",
                         "end_date": end.isoformat()}, final=end < dt.date.today())]

    def normalize_adjustments(self, code: str, raws: list[Any], start: dt.date,
                              end: dt.date) -> pd.DataFrame:
        raw = raws[0]
        if blank(raw):
            return empty(specs.ADJ_COLS)
        raw = self.expect(raw, "query_adjust_factor", ADJ_COLS)
        f = pd.DataFrame({"ex_date": as_date(raw["dividOperateDate"]),
                          "hfq": as_float(raw["backAdjustFactor"])})
        check_complete(f, ("ex_date", "hfq"), library=self.library,
                       function="query_adjust_factor")
        return factors_from_cumulative(code, f, start, end)
