"""A stand-in for the AKShare and baostock libraries that answers from a store, in the exact
column names and dtypes of akshare 1.19.5 / baostock 0.9.4 under pandas 3.1.1 (read from their
source; the recorded-format fixtures in fixtures/*.json hold the same columns and dtypes, and
test_sync_adapters.py checks both agree). No network: values are the bundled real data."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kechuang.data.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"
AKSHARE_VERSION = "1.19.5"
_BARS: dict[str, dict[str, pd.DataFrame]] = {}  # store path -> code -> raw bars
BAOSTOCK_VERSION = "0.9.4"


def _d(s: str) -> dt.date:
    return dt.date(int(s[:4]), int(s[4:6]), int(s[6:8])) if "-" not in s else \
        dt.date.fromisoformat(s)


class Vendor:
    """`vendor(function, kwargs)` -> the raw frame the library would return."""

    def __init__(self, store: Path) -> None:
        self.store = store
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def bars(self, code: str) -> pd.DataFrame:
        key = str(self.store)
        if key not in _BARS:
            with open_store(self.store) as s:
                b = s.query("SELECT code, date, open, high, low, close, pre_close, volume, "
                            "amount FROM bars_daily WHERE source = 'raw' ORDER BY code, date")
            b["date"] = pd.to_datetime(b["date"]).dt.date
            b["prev"] = b.groupby("code")["close"].shift(1)
            b["pre"] = b["pre_close"].fillna(b["prev"])
            _BARS[key] = {str(c): g.reset_index(drop=True) for c, g in b.groupby("code")}
        return _BARS[key].get(code, _BARS[key][next(iter(_BARS[key]))].iloc[:0])

    def __call__(self, function: str, kwargs: dict[str, Any]) -> Any:
        with self._lock:
            self.calls.append((function, dict(kwargs)))
        return getattr(self, function)(**kwargs)

    # -- akshare -----------------------------------------------------------------------------
    def stock_zh_a_hist(self, symbol: str, period: str, start_date: str, end_date: str,
                        adjust: str) -> pd.DataFrame:
        assert period == "daily" and adjust == ""
        b = self.bars(symbol)
        b = b[(b["date"] >= _d(start_date)) & (b["date"] <= _d(end_date))]
        if b.empty:
            return pd.DataFrame()  # what the function returns for an empty kline list
        pre = b["pre"].fillna(b["open"])
        out = pd.DataFrame({
            "日期": b["date"].to_numpy(), "股票代码": symbol,
            "开盘": b["open"].to_numpy(), "收盘": b["close"].to_numpy(),
            "最高": b["high"].to_numpy(), "最低": b["low"].to_numpy(),
            "成交量": np.round(b["volume"].to_numpy() / 100).astype("int64"),
            "成交额": b["amount"].to_numpy().astype(float),
            "振幅": np.round((b["high"] - b["low"]).to_numpy() / pre.to_numpy() * 100, 2),
            "涨跌幅": np.round((b["close"] - pre).to_numpy() / pre.to_numpy() * 100, 2),
            "涨跌额": np.round((b["close"] - pre).to_numpy(), 2),
            "换手率": np.full(len(b), 1.23)})
        return out.reset_index(drop=True)

    def _factors(self, code: str) -> pd.DataFrame:
        with open_store(self.store) as s:
            a = s.query("SELECT ex_date, factor FROM adjustments WHERE code = ? AND factor IS "
                        "NOT NULL AND method <> 'estimated' ORDER BY ex_date", [code])
        a["ex_date"] = pd.to_datetime(a["ex_date"]).dt.date
        a["hfq"] = a["factor"].cumprod()
        return a

    def stock_zh_a_daily(self, symbol: str, adjust: str) -> pd.DataFrame:
        assert adjust == "hfq-factor"
        a = self._factors(symbol[2:])
        dates = [dt.date(1900, 1, 1), *a["ex_date"]][::-1]  # Sina lists newest first
        vals = ["1.0", *[f"{v:.15f}" for v in a["hfq"]]][::-1]
        return pd.DataFrame({"date": pd.to_datetime(pd.Series(dates).astype(str)),
                             "hfq_factor": pd.Series(vals, dtype="str")})

    # -- baostock ----------------------------------------------------------------------------
    def query_history_k_data_plus(self, code: str, fields: str, start_date: str, end_date: str,
                                  frequency: str, adjustflag: str) -> pd.DataFrame:
        assert frequency == "d" and adjustflag == "3"
        b = self.bars(code[3:])
        b = b[(b["date"] >= _d(start_date)) & (b["date"] <= _d(end_date))]
        if b.empty:
            return pd.DataFrame()
        cols = fields.split(",")
        out = pd.DataFrame({
            "date": [d.isoformat() for d in b["date"]], "code": code,
            "open": [f"{v:.4f}" for v in b["open"]], "high": [f"{v:.4f}" for v in b["high"]],
            "low": [f"{v:.4f}" for v in b["low"]], "close": [f"{v:.4f}" for v in b["close"]],
            "preclose": [f"{v:.4f}" if v == v else "" for v in b["pre"]],
            "volume": [f"{round(v)}" for v in b["volume"]],
            "amount": [f"{v:.4f}" for v in b["amount"]], "tradestatus": "1"})
        return out[cols].reset_index(drop=True).astype("str")

    def query_adjust_factor(self, code: str, start_date: str, end_date: str) -> pd.DataFrame:
        a = self._factors(code[3:])
        a = a[a["ex_date"] <= _d(end_date)]
        if a.empty:
            return pd.DataFrame()
        return pd.DataFrame({"code": code, "dividOperateDate": [d.isoformat() for d in
                                                                a["ex_date"]],
                             "foreAdjustFactor": [f"{v / a['hfq'].iloc[-1]:.6f}" for v in
                                                  a["hfq"]],
                             "backAdjustFactor": [f"{v:.6f}" for v in a["hfq"]],
                             "adjustFactor": [f"{v:.6f}" for v in a["hfq"]]}).astype("str")


# -- recorded-format fixtures ----------------------------------------------------------------
def load_fixture(name: str) -> tuple[dict[str, Any], pd.DataFrame]:
    """A fixture file -> (its metadata, the frame with the recorded columns and dtypes)."""
    meta = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    cols: list[str] = meta["columns"]
    data: dict[str, Any] = {}
    for i, c in enumerate(cols):
        vals = [r[i] for r in meta["rows"]]
        kind = meta["dtypes"][c]
        if kind == "date":  # object column of datetime.date
            data[c] = pd.Series([_d(v) if v else None for v in vals], dtype=object)
        elif kind.startswith("datetime64"):
            data[c] = pd.to_datetime(pd.Series(vals))
        elif kind == "object":
            data[c] = pd.Series(vals, dtype=object)
        else:
            data[c] = pd.Series([np.nan if v is None else v for v in vals]).astype(kind)
    return meta, pd.DataFrame(data, columns=cols)


def dtype_record(frame: pd.DataFrame) -> dict[str, str]:
    out = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype == object and len(s.dropna()) and isinstance(s.dropna().iloc[0], dt.date):
            out[str(c)] = "date"
        else:
            out[str(c)] = str(s.dtype)
    return out


Fault = Callable[[str, dict[str, Any], int], Any]
