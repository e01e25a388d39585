"""Each adapter dataset on recorded-format fixtures (exact vendor columns and dtypes, library
version noted in the fixture), passed through an injected call. No network, no akshare or
baostock import."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kechuang.core.errors import StarError
from kechuang.data.adapters import get_adapter
from kechuang.data.adapters.base import (
    MissingLibraryError,
    SchemaDriftError,
    TransientError,
    require,
)
from kechuang.data.store import open_store

sys.path.insert(0, str(Path(__file__).parent))
from sync_vendor import AKSHARE_VERSION, BAOSTOCK_VERSION, Vendor, dtype_record, load_fixture

LO, HI = dt.date(2000, 1, 1), dt.date(2030, 12, 31)


def fixture_call(*names: str):
    frames = {}
    for n in names:
        meta, frame = load_fixture(n)
        frames[meta["function"]] = frame
    return lambda function, kwargs: frames[function].copy()


def test_fixture_versions_match_adapters() -> None:
    ak, bs = get_adapter("akshare", call=lambda f, k: None), get_adapter("baostock",
                                                                        call=lambda f, k: None)
    assert ak.written_for == AKSHARE_VERSION and bs.written_for == BAOSTOCK_VERSION
    for p in sorted((Path(__file__).parent / "fixtures").glob("*.json")):
        meta, frame = load_fixture(p.stem)
        lib = get_adapter(meta["library"], call=lambda f, k: None)
        assert meta["library_version"] == lib.written_for, p.name
        assert list(frame.columns) == meta["columns"]
        assert dtype_record(frame) == meta["dtypes"], p.name
        # every library function an adapter calls has a fixture
    funcs = {load_fixture(p.stem)[0]["function"]
             for p in (Path(__file__).parent / "fixtures").glob("*.json")}
    for adapter in (ak, bs):
        for info in adapter.datasets.values():
            assert set(info.functions) <= funcs, info


def test_vendor_stand_in_has_the_recorded_format(bundled_store: Path) -> None:
    v = Vendor(bundled_store)
    for name in ("akshare_stock_zh_a_hist", "akshare_stock_zh_a_daily_hfq_factor",
                 "baostock_query_history_k_data_plus", "baostock_query_adjust_factor"):
        meta, fixture = load_fixture(name)
        live = v(meta["function"], meta["kwargs"])
        assert list(live.columns) == meta["columns"], name
        assert dtype_record(live) == meta["dtypes"], name
        pd.testing.assert_frame_equal(live.reset_index(drop=True), fixture, check_dtype=False,
                                      check_exact=False, rtol=1e-12)


def test_akshare_bars_match_the_bundled_raw_bars(bundled_store: Path) -> None:
    _, raw = load_fixture("akshare_stock_zh_a_hist")
    ak = get_adapter("akshare", call=lambda f, k: raw.copy())
    out = ak.fetch("bars", "688981", dt.date(2025, 5, 19), dt.date(2025, 5, 23))
    assert list(out.columns) == ["code", "date", "open", "high", "low", "close", "pre_close",
                                 "volume", "amount"]
    assert out["date"].min() == dt.date(2025, 5, 19) and len(out) == 5
    with open_store(bundled_store) as s:
        ref = s.query("SELECT date, open, close, volume, amount FROM bars_daily WHERE code = "
                      "'688981' AND source = 'raw' AND date BETWEEN '2025-05-19' AND "
                      "'2025-05-23' ORDER BY date")
    np.testing.assert_allclose(out["close"], ref["close"])
    np.testing.assert_allclose(out["open"], ref["open"])
    # lots of 100 back to shares: within half a lot of the exchange volume
    assert (abs(out["volume"].to_numpy() - ref["volume"].to_numpy()) <= 50).all()
    # exchange pre-close = close - change = previous close here (no ex-rights in the window)
    np.testing.assert_allclose(out["pre_close"].iloc[1:], ref["close"].iloc[:-1])
    assert out["code"].map(type).eq(str).all() and out["date"].map(type).eq(dt.date).all()


def test_baostock_bars_and_factors(bundled_store: Path) -> None:
    _, raw = load_fixture("baostock_query_history_k_data_plus")
    bs = get_adapter("baostock", call=lambda f, k: raw.copy())
    out = bs.fetch("bars", "688981", LO, HI)
    assert out["close"].dtype == np.float64 and len(out) == 6
    with open_store(bundled_store) as s:
        ref = s.query("SELECT volume FROM bars_daily WHERE code = '688981' AND source = 'raw' "
                      "AND date BETWEEN '2025-05-16' AND '2025-05-23' ORDER BY date")
    np.testing.assert_array_equal(out["volume"], ref["volume"])  # baostock: shares

    meta, fac = load_fixture("baostock_query_adjust_factor")
    code = meta["kwargs"]["code"][3:]
    bs = get_adapter("baostock", call=lambda f, k: fac.copy())
    got = bs.fetch("adjustments", code, LO, HI)
    with open_store(bundled_store) as s:
        ref = s.query("SELECT ex_date, factor FROM adjustments WHERE code = ? AND method <> "
                      "'estimated' AND factor IS NOT NULL ORDER BY ex_date", [code])
    np.testing.assert_allclose(got["factor"], ref["factor"], rtol=1e-5)


def test_akshare_factors_from_sina_cumulative(bundled_store: Path) -> None:
    meta, raw = load_fixture("akshare_stock_zh_a_daily_hfq_factor")
    code = meta["kwargs"]["symbol"][2:]
    ak = get_adapter("akshare", call=lambda f, k: raw.copy())
    got = ak.fetch("adjustments", code, LO, HI)
    with open_store(bundled_store) as s:
        ref = s.query("SELECT ex_date, factor FROM adjustments WHERE code = ? AND method <> "
                      "'estimated' AND factor IS NOT NULL ORDER BY ex_date", [code])
    assert list(got["ex_date"]) == list(pd.to_datetime(ref["ex_date"]).dt.date)
    np.testing.assert_allclose(got["factor"], ref["factor"], rtol=1e-9)
    assert dt.date(1900, 1, 1) not in set(got["ex_date"])


def test_akshare_other_datasets() -> None:
    ak = get_adapter("akshare", call=fixture_call(
        "akshare_stock_info_sh_name_code", "akshare_stock_share_change_cninfo",
        "akshare_stock_profit_sheet_by_report_em", "akshare_stock_cash_flow_sheet_by_report_em",
        "akshare_stock_zh_index_hist_csindex", "akshare_index_stock_cons_weight_csindex"))
    sec = ak.fetch("securities", "", LO, HI)
    assert set(sec["code"]) == {"688001", "688111", "688981", "689009"}
    sh = ak.fetch("shares", "688981", LO, HI)
    assert sh["total_shares"].iloc[0] == 7415475343  # 万股 back to shares, exact
    assert all(isinstance(d, dt.date) for d in sh["date"])
    fin = ak.fetch("financials", "688111", LO, HI)
    row = fin[fin["period_end"] == dt.date(2019, 12, 31)].iloc[0]
    assert row["revenue"] == pytest.approx(1_579_520_000) and row["rd_investment"] != \
        row["rd_investment"]  # NaN: not in these statements
    assert row["net_profit_deducted"] == pytest.approx(314_530_000)
    lv = ak.fetch("index-levels", "000688", LO, HI)
    assert len(lv) == 5 and lv["index_code"].eq("000688").all() and lv["volume"].isna().all()
    w = ak.fetch("index-weights", "000688", LO, HI)
    assert w["weight_pct"].iloc[0] == pytest.approx(13.41) and w["code"].iloc[0] == "688981"


def test_changed_column_names_the_column_and_version() -> None:
    _, raw = load_fixture("akshare_stock_zh_a_hist")
    ak = get_adapter("akshare", call=lambda f, k: raw.rename(columns={"收盘": "close"}),
                     version="9.9.9")
    with pytest.raises(SchemaDriftError) as e:
        ak.fetch("bars", "688981", LO, HI)
    msg = str(e.value)
    assert "'收盘'" in msg and "akshare 9.9.9" in msg and "1.19.5" in msg and "\n" not in msg


def test_truncated_and_empty_payloads() -> None:
    _, raw = load_fixture("akshare_stock_zh_a_hist")
    cut = raw.copy()
    cut.loc[cut.index[-1], ["最高", "最低"]] = np.nan  # a kline line cut off mid-way
    ak = get_adapter("akshare", call=lambda f, k: cut)
    with pytest.raises(TransientError, match="truncated"):
        ak.fetch("bars", "688981", LO, HI)
    ak = get_adapter("akshare", call=lambda f, k: pd.DataFrame())
    assert ak.fetch("bars", "688981", LO, HI).empty  # the library's "no rows in range"
    ak = get_adapter("akshare", call=lambda f, k: "<html>captcha</html>")
    with pytest.raises(TransientError, match="not a table"):
        ak.fetch("bars", "688981", LO, HI)


def test_missing_library_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "akshare", None)  # import akshare -> ImportError
    with pytest.raises(MissingLibraryError) as e:
        require("akshare")
    assert str(e.value) == ("akshare is not installed; install it with: "
                            "pip install 'kechuang[akshare]'")
    with pytest.raises(MissingLibraryError):
        get_adapter("akshare").fetch("bars", "688981", LO, HI)
    with pytest.raises(StarError, match="no dataset"):
        get_adapter("baostock", call=lambda f, k: None).fetch("shares", "688981", LO, HI)


@pytest.mark.parametrize("name, dataset, key", [
    ("akshare_stock_zh_a_hist", "bars", "688981"),
    ("akshare_stock_zh_a_daily_hfq_factor", "adjustments", "688001"),
    ("akshare_stock_share_change_cninfo", "shares", "688981"),
    ("akshare_stock_zh_index_hist_csindex", "index-levels", "000688"),
    ("akshare_index_stock_cons_weight_csindex", "index-weights", "000688"),
    ("akshare_stock_info_sh_name_code", "securities", ""),
    ("baostock_query_history_k_data_plus", "bars", "688981"),
    ("baostock_query_adjust_factor", "adjustments", "688001"),
])
def test_pandas2_object_text_columns_give_the_same_rows(name: str, dataset: str,
                                                        key: str) -> None:
    """Under pandas 2 the libraries return text as object columns, under pandas 3 as str."""
    meta, frame = load_fixture(name)
    as_object = frame.astype({c: object for c, t in meta["dtypes"].items() if t == "str"})
    a = get_adapter(meta["library"], call=lambda f, k: frame.copy())
    b = get_adapter(meta["library"], call=lambda f, k: as_object.copy())
    pd.testing.assert_frame_equal(a.fetch(dataset, key, LO, HI), b.fetch(dataset, key, LO, HI),
                                  check_dtype=False)
    assert meta["pandas_version"] == "3.1.1"


class FakeResult:
    """Shaped like baostock's ResultData: error_code/error_msg, fields, next(), get_row_data(),
    pages of `per_page` rows."""

    def __init__(self, fields: list[str], rows: list[list[str]], per_page: int = 2,
                 error: tuple[str, str] = ("0", "success")) -> None:
        self.fields, self._rows, self.per_page = fields, rows, per_page
        self.error_code, self.error_msg = error
        self._i = 0
        self.pages = 0

    def next(self) -> bool:
        if self._i >= len(self._rows):
            return False
        if self._i % self.per_page == 0:
            self.pages += 1
        return True

    def get_row_data(self) -> list[str]:
        row = self._rows[self._i]
        self._i += 1
        return row


def test_baostock_default_call_pages_and_maps_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    meta, frame = load_fixture("baostock_query_history_k_data_plus")
    rows = frame.astype(str).to_numpy().tolist()
    results: list[FakeResult] = []
    logins: list[int] = []

    class FakeBaostock:
        @staticmethod
        def login() -> FakeResult:
            logins.append(1)
            return FakeResult([], [])

        @staticmethod
        def query_history_k_data_plus(**kw: object) -> FakeResult:
            assert kw == meta["kwargs"]
            results.append(FakeResult(meta["columns"], rows, per_page=4))
            return results[-1]

        @staticmethod
        def query_adjust_factor(**kw: object) -> FakeResult:
            return FakeResult([], [], error=("10001001", "访问频率受限"))

    monkeypatch.setitem(sys.modules, "baostock", FakeBaostock)
    bs = get_adapter("baostock")
    out = bs.fetch("bars", "688981", dt.date(2025, 5, 16), dt.date(2025, 5, 23))
    assert len(out) == len(rows) == 6 and results[0].pages == 2 and len(logins) == 1
    bs.fetch("bars", "688981", dt.date(2025, 5, 16), dt.date(2025, 5, 23))
    assert len(logins) == 1  # logged in once per adapter
    from kechuang.data.adapters.base import BanError

    with pytest.raises(BanError, match="访问频率受限"):
        bs.fetch("adjustments", "688981", LO, dt.date(2025, 5, 23))


def test_akshare_default_call_uses_the_module(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import types

    _, frame = load_fixture("akshare_stock_zh_a_hist")
    seen: list[dict[str, object]] = []

    def stock_zh_a_hist(**kw: object) -> pd.DataFrame:
        seen.append(kw)
        return frame.copy()

    fake = types.ModuleType("akshare")
    fake.stock_zh_a_hist = stock_zh_a_hist  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "akshare", fake)
    old = socket.getdefaulttimeout()
    try:
        socket.setdefaulttimeout(None)
        out = get_adapter("akshare").fetch("bars", "688981", dt.date(2025, 5, 16),
                                           dt.date(2025, 5, 23))
        assert socket.getdefaulttimeout() == 30.0
    finally:
        socket.setdefaulttimeout(old)
    assert len(out) == 6 and seen == [{"symbol": "688981", "period": "daily",
                                       "start_date": "20250516", "end_date": "20250523",
                                       "adjust": ""}]
