"""AKShare adapter: STAR security list, unadjusted daily bars with the exchange pre-close,
adjustment factors, share capital history, financial statements, index levels and CSIndex
constituent weights.

Column names and dtypes below were read from akshare 1.19.5's source (see `written_for`); the
recorded-format fixtures in tests/sync/fixtures/ were taken from the same version."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from kechuang.data.adapters import specs
from kechuang.data.adapters.base import (
    Adapter,
    Call,
    DatasetInfo,
    Request,
    as_date,
    as_float,
    blank,
    check_complete,
    empty,
    ymd,
)
from kechuang.data.calendar import sessions_array

# The STAR indices the sync keeps current (star-market-reference.md sections 6.1 and 6.2:
# STAR 50, STAR 100, STAR 200 and the STAR Composite).
STAR_INDICES = ("000688", "000698", "000699", "000680")

CSINDEX_WEIGHTS_URL = ("https://oss-ch.csindex.com.cn/static/html/csindex/public/uploads/file/"
                       "autofile/closeweight/{}closeweight.xls")

# stock_zh_a_hist (Eastmoney kline): 成交量 is in lots of 100 shares, 成交额 in CNY.
HIST_COLS = ("日期", "股票代码", "开盘", "收盘", "最高", "最低", "成交量", "成交额", "涨跌额")
# stock_zh_a_daily(adjust="hfq-factor") (Sina): date (datetime64), hfq_factor (str).
HFQ_COLS = ("date", "hfq_factor")
# stock_share_change_cninfo (CNINFO p_stock2215): share counts in 10k shares (万股).
SHARE_COLS = ("证券代码", "变动日期", "公告日期", "总股本", "已流通股份")
# stock_info_sh_name_code(symbol="科创板") (SSE list).
LIST_COLS = ("证券代码", "证券简称", "上市日期")
# Eastmoney F10 statements by report period: raw Eastmoney field names, amounts in CNY.
PROFIT_COLS = ("REPORT_DATE", "TOTAL_OPERATE_INCOME", "PARENT_NETPROFIT",
               "DEDUCT_PARENT_NETPROFIT", "RESEARCH_EXPENSE", "OPERATE_PROFIT", "BASIC_EPS")
CASH_COLS = ("REPORT_DATE", "NETCASH_OPERATE", "NETCASH_INVEST", "NETCASH_FINANCE")
# stock_zh_index_hist_csindex (CSIndex index-perf).
INDEX_HIST_COLS = ("日期", "指数代码", "开盘", "最高", "最低", "收盘")
# index_stock_cons_weight_csindex (CSIndex closeweight.xls): 权重 in percent.
WEIGHT_COLS = ("日期", "指数代码", "成分券代码", "成分券名称", "权重")

LOT = 100  # Eastmoney volumes are in lots of 100 shares


def next_session_on_or_after(dates: pd.Series) -> pd.Series:
    """Map calendar dates to the first XSHG session on or after each (a change recorded on a
    weekend takes effect on the next session)."""
    arr = sessions_array()
    d = pd.to_datetime(pd.Series(dates)).to_numpy(dtype="datetime64[D]")
    idx = np.searchsorted(arr, d)
    ok = idx < len(arr)
    out = np.full(len(d), np.datetime64("NaT"), dtype="datetime64[D]")
    out[ok] = arr[idx[ok]]
    return pd.Series(pd.to_datetime(out)).dt.date


class AkshareAdapter(Adapter):
    library = "akshare"
    written_for = "1.19.5"
    datasets: ClassVar[Mapping[str, DatasetInfo]] = {
        "securities": DatasetInfo("securities", "securities", ("stock_info_sh_name_code",),
                                  "none", empty_ok=False, site="sse.com.cn"),
        "bars": DatasetInfo("bars", "bars_daily", ("stock_zh_a_hist",), "code",
                            site="eastmoney.com"),
        "adjustments": DatasetInfo("adjustments", "adjustments", ("stock_zh_a_daily",), "code",
                                   site="sina.com.cn"),
        "shares": DatasetInfo("shares", "shares", ("stock_share_change_cninfo",), "code",
                              site="cninfo.com.cn"),
        "financials": DatasetInfo("financials", "financials",
                                  ("stock_profit_sheet_by_report_em",
                                   "stock_cash_flow_sheet_by_report_em"), "code",
                                  site="eastmoney.com"),
        "index-levels": DatasetInfo("index-levels", "index_levels",
                                    ("stock_zh_index_hist_csindex",), "index",
                                    site="csindex.com.cn"),
        "index-weights": DatasetInfo("index-weights", "index_weights_reported",
                                     ("index_stock_cons_weight_csindex",), "index",
                                     empty_ok=False, site="csindex.com.cn"),
    }

    timeout = 30.0  # seconds per socket operation

    def default_call(self) -> Call:
        import socket

        # Most AKShare functions call requests without a timeout, so a stalled server would
        # hang the sync; the process-wide socket default (if none is set) bounds every call.
        if socket.getdefaulttimeout() is None:
            socket.setdefaulttimeout(self.timeout)
        return super().default_call()

    # -- securities ------------------------------------------------------------------------
    def requests_securities(self, key: str, start: dt.date, end: dt.date) -> list[Request]:
        return [Request("securities", "", "stock_info_sh_name_code", {"symbol": "科创板"})]

    def normalize_securities(self, key: str, raws: list[Any], start: dt.date,
                             end: dt.date) -> pd.DataFrame:
        raw = self.expect(raws[0], "stock_info_sh_name_code", LIST_COLS)
        out = pd.DataFrame({"code": raw["证券代码"].astype(str).str.zfill(6),
                            "name": raw["证券简称"].astype(str).str.strip(),
                            "list_date": as_date(raw["上市日期"])})
        check_complete(out, specs.SECURITIES_COLS, library=self.library,
                       function="stock_info_sh_name_code")
        return out[out["code"].str.match(r"^68[89]\d{3}$")]

    # -- bars ------------------------------------------------------------------------------
    def requests_bars(self, code: str, start: dt.date, end: dt.date) -> list[Request]:
        return [Request("bars", code, "stock_zh_a_hist",
                        {"symbol": code, "period": "daily", "start_date": ymd(start),
                         "end_date": ymd(end), "adjust": ""}, final=end < dt.date.today())]

    def normalize_bars(self, code: str, raws: list[Any], start: dt.date,
                       end: dt.date) -> pd.DataFrame:
        raw = raws[0]
        if blank(raw):
            return empty(specs.BAR_COLS)  # the function's own "no data in range" answer
        raw = self.expect(raw, "stock_zh_a_hist", HIST_COLS)
        close = as_float(raw["收盘"])
        # Exchange pre-close = close - change (涨跌额 is quoted against the exchange's
        # ex-rights pre-close, and against the offer price on the listing day).
        pre = (close - as_float(raw["涨跌额"])).round(2)
        out = pd.DataFrame({
            "code": raw["股票代码"].astype(str).str.zfill(6), "date": as_date(raw["日期"]),
            "open": as_float(raw["开盘"]), "high": as_float(raw["最高"]),
            "low": as_float(raw["最低"]), "close": close, "pre_close": pre,
            "volume": as_float(raw["成交量"]) * LOT, "amount": as_float(raw["成交额"])})
        # pre_close and amount may be missing on a line; prices, volume and keys may not.
        check_complete(out, ("code", "date", "open", "high", "low", "close", "volume"),
                       library=self.library, function="stock_zh_a_hist")
        return out[(out["date"] >= start) & (out["date"] <= end)]

    # -- adjustment factors ----------------------------------------------------------------
    def requests_adjustments(self, code: str, start: dt.date, end: dt.date) -> list[Request]:
        return [Request("adjustments", code, "stock_zh_a_daily",
                        {"symbol": f"sh{code}", "adjust": "hfq-factor"})]

    def normalize_adjustments(self, code: str, raws: list[Any], start: dt.date,
                              end: dt.date) -> pd.DataFrame:
        raw = self.expect(raws[0], "stock_zh_a_daily", HFQ_COLS)
        f = pd.DataFrame({"ex_date": as_date(raw["date"]), "hfq": as_float(raw["hfq_factor"])})
        check_complete(f, ("ex_date", "hfq"), library=self.library, function="stock_zh_a_daily")
        return factors_from_cumulative(code, f, start, end)

    # -- share capital ---------------------------------------------------------------------
    def requests_shares(self, code: str, start: dt.date, end: dt.date) -> list[Request]:
        return [Request("shares", code, "stock_share_change_cninfo",
                        {"symbol": code, "start_date": ymd(start), "end_date": ymd(end)},
                        final=end < dt.date.today())]

    def normalize_shares(self, code: str, raws: list[Any], start: dt.date,
                         end: dt.date) -> pd.DataFrame:
        raw = raws[0]
        if blank(raw):
            return empty(specs.SHARES_COLS)
        raw = self.expect(raw, "stock_share_change_cninfo", SHARE_COLS)
        changed = as_date(raw["变动日期"])
        out = pd.DataFrame({
            "code": raw["证券代码"].astype(str).str.zfill(6),
            "changed": changed, "announced": as_date(raw["公告日期"]),
            "total_shares": (as_float(raw["总股本"]) * 1e4).round(),  # 万股 -> shares
            "float_shares": (as_float(raw["已流通股份"]) * 1e4).round()})
        check_complete(out, ("code", "changed", "total_shares"), library=self.library,
                       function="stock_share_change_cninfo")
        out["float_shares"] = out["float_shares"].fillna(0.0)
        out["date"] = next_session_on_or_after(out["changed"])
        # Several changes effective on one session: the last recorded one holds.
        out = out.sort_values(["date", "changed", "announced"], kind="stable")
        out = out.drop_duplicates(["code", "date"], keep="last")
        out = out[(out["changed"] >= start) & (out["changed"] <= end)]
        return out[list(specs.SHARES_COLS)]

    # -- financial statements --------------------------------------------------------------
    def requests_financials(self, code: str, start: dt.date, end: dt.date) -> list[Request]:
        return [Request("financials", code, "stock_profit_sheet_by_report_em",
                        {"symbol": f"SH{code}"}),
                Request("financials", code, "stock_cash_flow_sheet_by_report_em",
                        {"symbol": f"SH{code}"})]

    def normalize_financials(self, code: str, raws: list[Any], start: dt.date,
                             end: dt.date) -> pd.DataFrame:
        profit = self.expect(raws[0], "stock_profit_sheet_by_report_em", PROFIT_COLS)
        cash = self.expect(raws[1], "stock_cash_flow_sheet_by_report_em", CASH_COLS)
        p = pd.DataFrame({
            "period_end": as_date(profit["REPORT_DATE"]),
            "revenue": as_float(profit["TOTAL_OPERATE_INCOME"]),
            "net_profit": as_float(profit["PARENT_NETPROFIT"]),
            "net_profit_deducted": as_float(profit["DEDUCT_PARENT_NETPROFIT"]),
            "rd_expense": as_float(profit["RESEARCH_EXPENSE"]),
            "operating_profit": as_float(profit["OPERATE_PROFIT"]),
            "eps_basic": as_float(profit["BASIC_EPS"])})
        c = pd.DataFrame({"period_end": as_date(cash["REPORT_DATE"]),
                          "cfo": as_float(cash["NETCASH_OPERATE"]),
                          "cfi": as_float(cash["NETCASH_INVEST"]),
                          "cff": as_float(cash["NETCASH_FINANCE"])})
        check_complete(p, ("period_end",), library=self.library,
                       function="stock_profit_sheet_by_report_em")
        check_complete(c, ("period_end",), library=self.library,
                       function="stock_cash_flow_sheet_by_report_em")
        p = p.drop_duplicates("period_end")
        c = c.drop_duplicates("period_end")
        out = p.merge(c, on="period_end", how="outer")
        out["code"] = code
        # Total R&D investment (expensed + capitalised) is not in these statements; it stays
        # NULL rather than being guessed from the expensed part.
        out["rd_investment"] = np.nan
        out = out[(out["period_end"] >= start) & (out["period_end"] <= end)]
        return out[list(specs.FIN_COLS)].sort_values("period_end")

    # -- index levels and weights ----------------------------------------------------------
    def requests_index_levels(self, index: str, start: dt.date, end: dt.date) -> list[Request]:
        return [Request("index-levels", index, "stock_zh_index_hist_csindex",
                        {"symbol": index, "start_date": ymd(start), "end_date": ymd(end)},
                        final=end < dt.date.today())]

    def normalize_index_levels(self, index: str, raws: list[Any], start: dt.date,
                               end: dt.date) -> pd.DataFrame:
        raw = raws[0]
        if blank(raw):
            return empty(specs.INDEX_COLS)
        raw = self.expect(raw, "stock_zh_index_hist_csindex", INDEX_HIST_COLS)
        out = pd.DataFrame({
            "index_code": raw["指数代码"].astype(str).str.zfill(6),
            "date": as_date(raw["日期"]), "open": as_float(raw["开盘"]),
            "high": as_float(raw["最高"]), "low": as_float(raw["最低"]),
            "close": as_float(raw["收盘"]),
            # CSIndex quotes volume in its own unit (not shares); left empty rather than
            # mixed with the bundled share volumes.
            "volume": np.nan})
        check_complete(out, ("index_code", "date", "close"), library=self.library,
                       function="stock_zh_index_hist_csindex")
        return out[(out["date"] >= start) & (out["date"] <= end)]

    def requests_index_weights(self, index: str, start: dt.date, end: dt.date
                               ) -> list[Request]:
        return [Request("index-weights", index, "index_stock_cons_weight_csindex",
                        {"symbol": index})]

    def normalize_index_weights(self, index: str, raws: list[Any], start: dt.date,
                                end: dt.date) -> pd.DataFrame:
        raw = self.expect(raws[0], "index_stock_cons_weight_csindex", WEIGHT_COLS)
        out = pd.DataFrame({
            "index_code": raw["指数代码"].astype(str).str.zfill(6),
            "reported_on": as_date(raw["日期"]),
            "code": raw["成分券代码"].astype(str).str.zfill(6),
            "name": raw["成分券名称"].astype(str), "weight_pct": as_float(raw["权重"])})
        check_complete(out, specs.WEIGHT_COLS, library=self.library,
                       function="index_stock_cons_weight_csindex")
        return out


def factors_from_cumulative(code: str, f: pd.DataFrame, start: dt.date,
                            end: dt.date) -> pd.DataFrame:
    """Cumulative backward factors at their ex-dates (columns ex_date, hfq) -> per-event
    factors in the store's sense, prev_close / exchange pre_close = hfq[i] / hfq[i-1], with the
    cumulative factor 1 before the first event. Placeholder rows (Sina's 1900-01-01, a ratio of 1)
    carry no event and are dropped."""
    f = f.dropna().sort_values("ex_date").drop_duplicates("ex_date", keep="last")
    prev = f["hfq"].shift(1).fillna(1.0)
    out = pd.DataFrame({"code": code, "ex_date": f["ex_date"], "factor": f["hfq"] / prev})
    out = out[(out["ex_date"] >= dt.date(1990, 12, 19)) & ((out["factor"] - 1).abs() > 1e-9)]
    return out[(out["ex_date"] >= start) & (out["ex_date"] <= end)]
