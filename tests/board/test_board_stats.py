"""Financial statistics, bonds, screens and the early-company checker table. Bundled data for
what it supports; the clearly labelled synthetic files in tests/board/samples/ for R&D and
issue-level bonds (no such real data is bundled)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from kechuang.analytics import screens as sc
from kechuang.analytics.figures import INSUFFICIENT
from kechuang.analytics.listing_table import summary
from kechuang.api import board
from kechuang.core.errors import UnknownCodeError, ValidationError
from kechuang.data.bundled import datasets_dir

SAMPLES = Path(__file__).parent / "samples"


def _fig(sections, key):
    for s in sections:
        if s.has(key):
            return s.get(key)
    raise KeyError(key)


def test_bundled_financial_stats(bundled_store: Path) -> None:
    secs = board.financial_stats(bundled_store)
    wide = pd.read_csv(datasets_dir() / "financials" / "star_fin_summary_wide_fy2016_2020.csv",
                       dtype={"code": str})
    fy19 = wide[wide.report_date == "2019-12-31"]
    assert _fig(secs, "fy2019_companies").value == 164
    assert _fig(secs, "fy2019_revenue_total").value == pytest.approx(
        fy19.revenue_main.sum() * 1e4 / 1e9, abs=1e-3)
    # financials README: median FY2019 overseas share of classified revenue 5.9% (156 codes).
    med = _fig(secs, "fy2019_overseas_share_median")
    assert med.value == 5.9 and "156 companies" in med.note
    # No R&D lines in the bundled statements: a gap, not a number.
    rd = secs[2]
    assert not rd.figures and "no statements with this R&D line" in rd.gaps[0].reason


def test_rd_stats_on_sample_file(store_copy: Path) -> None:
    board.ingest_financials(SAMPLES / "sample_financials_rd.csv", store_copy)
    secs = board.financial_stats(store_copy)
    # FY2022 R&D investment 300 + 80 + 50 + 90 = 520 m; net profit 150 - 20 + 50 - 80 = 100 m.
    assert _fig(secs, "fy2022_rd_total").value == 0.52
    assert _fig(secs, "fy2022_rd_to_net_profit").value == 5.2
    # FY2021 like for like (688001, 688002): (250 + 70) / (200 + 60) - 1 = 23.1%.
    assert _fig(secs, "fy2021_rd_yoy").value == 23.1
    # FY2021-2023 > 20% every year: 688002 (28.0, 26.7, 22.5%); 688001 has exactly 20.0% twice.
    high = _fig(secs, "rd_intensity_above_20pct_3y")
    assert high.value == 1 and "688002" in high.note
    # CAGR: 688001 (320/250)^.5-1 = 13.14%, 688002 (90/70)^.5-1 = 13.39% -> median 13.3%.
    assert _fig(secs, "rd_cagr_3y_median").value == 13.3
    # 研发费用 is kept apart, never substituted.
    exp = board.financial_stats(store_copy, measure="rd_expense")
    assert _fig(exp, "fy2022_rd_total").value == 0.35  # 220 + 80 + 50 (688004 has none)
    with pytest.raises(ValidationError, match="unknown R&D measure"):
        board.financial_stats(store_copy, measure="rd")


def test_financials_negative_revenue_rejected(store_copy: Path) -> None:
    with pytest.raises(ValidationError, match=r"row 1, column 'revenue'.*negative"):
        board.ingest_financials(SAMPLES / "sample_financials_bad_revenue.csv", store_copy)


def test_bond_stats_on_sample_file(store_copy: Path) -> None:
    board.ingest_bonds(SAMPLES / "sample_bonds.csv", store_copy)
    secs = board.bond_stats("2025-12-31", store_copy)
    # Known issuer types (sample rows): SOE 20 + 15 + 10 + 14.99 = 59.99 of 94.99 (亿) = 63.2%.
    assert _fig(secs, "soe_share_of_amount").value == 63.2
    elig = {b["bond_id"] for b in _fig(secs, "market_making_eligible").value}
    assert {"S00001", "S00002", "S00005"} <= elig and "S00006" not in elig  # 14.99 < 15
    # Before the (approximate) Aug 2025 step the bar is 2 bn: S00002 (15) drops out.
    mid = {b["bond_id"] for b in _fig(board.bond_stats("2025-07-31", store_copy),
                                      "market_making_eligible").value}
    assert "S00002" not in mid and "S00001" in mid
    by_venue = _fig(secs, "bonds_by_venue").value
    assert by_venue["interbank"] == {"bonds": 1, "amount_cny_bn": 3.0}


def test_reported_aggregates_are_never_summed(bundled_store: Path) -> None:
    secs = board.bond_stats(None, bundled_store)
    rows = _fig(secs, "reported_aggregates").value
    assert len(rows) == 38
    latest = _fig(secs, "latest_all_market_amount")
    assert latest.value == 17213.28 and latest.as_of == "2025-12-18"
    soe = _fig(secs, "reported_soe_share")  # 49.90 + 36.18 from one report and window
    assert soe.value == 86.08 and soe.as_of == "2025-07-03"


@pytest.mark.parametrize(("name", "match"), [
    ("sample_bonds_bad_rating.csv", r"row 1, column 'rating': 'AAA\+' is not"),
    ("sample_bonds_bad_amount.csv", r"row 2, column 'amount_cny_100m'.*not a positive"),
])
def test_bad_bond_files(store_copy: Path, name: str, match: str) -> None:
    with pytest.raises(ValidationError, match=match):
        board.ingest_bonds(SAMPLES / name, store_copy)


def test_bond_amount_in_wrong_unit(store_copy: Path, tmp_path: Path) -> None:
    p = tmp_path / "yuan.csv"
    p.write_text("bond_code,issuer,issuer_type,issue_date,amount_cny_100m,tenor_years,rating,"
                 "venue\nX1,Issuer,private,2025-01-10,1500000000,3,AAA,SSE\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="implausibly large"):
        board.ingest_bonds(p, store_copy)


@pytest.mark.parametrize(("flows", "stage"), [
    ((-1, -1, 1), "introduction"), ((1, -1, 1), "growth"), ((1, -1, -1), "mature"),
    ((-1, -1, -1), "shake-out"), ((1, 1, 1), "shake-out"), ((1, 1, -1), "shake-out"),
    ((-1, 1, 1), "decline"), ((-1, 1, -1), "decline")])
def test_dickinson_table(flows: tuple[int, int, int], stage: str) -> None:
    assert sc.dickinson_stage(*(f * 100.0 for f in flows), revenue=1000.0) == stage


def test_dickinson_edge_cases() -> None:
    assert sc.dickinson_stage(5.0, -100.0, 100.0, revenue=1000.0).startswith("not defined")
    assert sc.dickinson_stage(100.0, None, 100.0) == INSUFFICIENT


def test_screens_bundled_say_insufficient_data(bundled_store: Path) -> None:
    out = board.screens("2020-12-31", bundled_store, codes=["688001", "688981"])
    r = out.set_index("code").loc["688001"]
    # Hand check: MV 2020-12-31 from shares / FY2019 revenue (published by 2020-04-30).
    wide = pd.read_csv(datasets_dir() / "financials" / "star_fin_summary_wide_fy2016_2020.csv",
                       dtype={"code": str})
    rev = wide[(wide.code == "688001") & (wide.report_date == "2019-12-31")].revenue_main.item()
    raw = pd.read_csv(datasets_dir() / "shares" / "star_mv_shares_daily_2019_2022.csv.gz",
                      dtype={"code": str})
    mv = raw[(raw.code == "688001") & (raw.date == "2020-12-31")].total_mv.item()
    assert r["ps"] == round(mv / (rev * 1e4), 2)
    for col in ("price_to_rd", "rd_intensity_pct", "lifecycle", "patents", "order_backlog"):
        assert r[col] == INSUFFICIENT
    assert out.set_index("code").loc["688981", "fiscal_year"] == "FY2019"
    with pytest.raises(UnknownCodeError):
        board.screens("2020-12-31", bundled_store, codes=["688999"])


def test_screens_with_sample_statements_and_extras(store_copy: Path, tmp_path: Path) -> None:
    board.ingest_financials(SAMPLES / "sample_financials_rd.csv", store_copy)
    extras = tmp_path / "extras.csv"
    extras.write_text("code,patents,invention_patents,order_backlog,backlog_source\n"
                      "688001,200,150,5e8,2024 annual report p.12\n688002,40,10,3e8,\n",
                      encoding="utf-8")
    out = board.screens("2024-06-28", store_copy, codes=["688001", "688002", "688004"],
                        extras=extras).set_index("code")
    assert out.loc["688001", "lifecycle"] == "mature"  # FY2023: CFO +, CFI -, CFF -
    assert out.loc["688002", "lifecycle"] == "growth"
    assert out.loc["688004", "lifecycle"] == "shake-out"
    assert out.loc["688001", "rd_intensity_pct"] == 20.0
    assert out.loc["688001", "invention_patent_share_pct"] == 75.0
    assert out.loc["688001", "order_backlog"] == "traceable"
    assert out.loc["688002", "order_backlog"] == "claimed, no source given"
    assert out.loc["688004", "patents"] == INSUFFICIENT
    # No share data in 2024 for these codes: valuation says so instead of a number.
    assert (out["ps"] == INSUFFICIENT).all() and (out["valuation_match"] == INSUFFICIENT).all()


def test_early_companies_through_checker(bundled_store: Path) -> None:
    t = board.listing_table(bundled_store).set_index("code")
    assert len(t) == 164
    # 688001 华兴源创: IPO price 24.26 (listing-day exchange pre-close) x 401 m shares = 9.73 bn;
    # FY2018 revenue 1,005 m: standards 1 and 4 met; standard 2 undecidable (no R&D in data).
    r = t.loc["688001"]
    assert (r.ipo_mv_bn, r.fy, r.standard_1, r.standard_4, r.standard_2) == \
        (9.73, 2018, "yes", "yes", "?")
    assert t.loc["688004", "standard_4"] == "no"  # IPO market value 1.63 bn < 3 bn
    s = summary(t.reset_index())
    assert s["standard_1"]["yes"] >= 140 and s["red_chip"] == {"-": 164}


def test_tushare_export_converted_and_loaded(store_copy: Path) -> None:
    frame = board.convert_export(SAMPLES / "sample_tushare_export.csv", "tushare")
    assert frame["period_end"].tolist() == ["2022-12-31", "2023-12-31"]  # interim row dropped
    assert frame["code"].tolist() == ["688005", "688005"]
    board.ingest_export(SAMPLES / "sample_tushare_export.csv", "tushare", store_copy)
    secs = board.financial_stats(store_copy)
    assert _fig(secs, "fy2023_rd_total").value == 0.185
    assert _fig(secs, "fy2023_rd_yoy").value == 15.6  # 185 / 160 - 1
    exp = board.financial_stats(store_copy, measure="rd_expense")
    assert _fig(exp, "fy2023_rd_total").value == 0.17
    with pytest.raises(ValidationError, match="unknown vendor"):
        board.convert_export(SAMPLES / "sample_tushare_export.csv", "wind")
    with pytest.raises(ValidationError, match="missing column 'ts_code'"):
        board.convert_export(SAMPLES / "sample_bonds.csv", "tushare")
