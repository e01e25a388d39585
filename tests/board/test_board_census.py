"""Census golden tests on the bundled store. Expected values were checked by hand against the
bundled CSVs (read here independently with pandas where practical) and sit next to the SSE
figures of star-market-reference.md section 10; the code is not tuned to them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from kechuang.analytics import census as C
from kechuang.api import board
from kechuang.core.errors import DateRangeError, ValidationError
from kechuang.data.bundled import datasets_dir

MASTER = datasets_dir() / "star_master" / "star_stock_basic.csv"


@pytest.mark.parametrize(("as_of", "expected", "sse"), [
    ("2024-11-05", 577, 577),  # China Daily: 577 companies (section 10, IPO proceeds row)
    ("2024-12-31", 581, 581),  # SSE: 581 companies at 2024-12-31
    ("2025-06-12", 588, 588),  # Securities Times via SSE: 588 at 2025-06-12
    ("2025-07-22", 589, 589),  # Xinhua/CLS: 589 companies at 2025-07-22
])
def test_listed_counts_match_sse(bundled_store: Path, as_of: str, expected: int, sse: int) -> None:
    sec = board.census(as_of, db=bundled_store)
    f = sec.get("listed_companies")
    assert f.value == expected == sse
    assert f.as_of == as_of and "star_master" in f.dataset
    # Independent count from the CSV itself.
    m = pd.read_csv(MASTER, dtype=str, keep_default_na=False)
    t = pd.Timestamp(as_of)
    ld, dd = pd.to_datetime(m.list_date), pd.to_datetime(m.delist_date.replace("", None))
    assert int(((ld <= t) & (dd.isna() | (dd > t))).sum()) == expected


def test_marks_at_snapshot(bundled_store: Path) -> None:
    sec = board.census("2026-03-04", db=bundled_store)
    assert sec.get("marks").value == {"U (unprofitable)": 39, "W (weighted voting rights)": 9,
                                      "CDR (D)": 1}
    assert sec.get("listed_companies").value == 604


def test_u_marks_when_growth_tier_launched(bundled_store: Path) -> None:
    # SSE: 32 companies still unprofitable joined the growth tier on 2025-07-13 (section 10).
    sec = board.census("2025-07-13", db=bundled_store)
    assert sec.get("marks").value["U (unprofitable)"] == 32
    assert sec.get("growth_tier").value == 32
    assert not board.census("2025-07-12", db=bundled_store).has("growth_tier")


def test_u_removals_and_st_dated(bundled_store: Path) -> None:
    sec = board.census("2026-03-04", db=bundled_store)
    rem = {r["code"]: r["date"] for r in sec.get("u_removals").value}
    assert rem == {"688351": "2025-03-31", "688506": "2025-04-03", "688520": "2025-04-29"}
    st = sec.get("st_events").value
    assert {"code": "688287", "name": "*ST观典", "date": "2025-04-30"} in st
    assert sec.get("st_labels").value == {"ST": 4, "*ST": 2}
    early = board.census("2025-04-01", db=bundled_store)
    assert [r["code"] for r in early.get("u_removals").value] == ["688351"]


def test_clusters_at_sse_date(bundled_store: Path) -> None:
    # SSE 2025-06-12: IC 119, biomedicine 113, high-end equipment 127. By label (checked with a
    # group-by of the master): 半导体 106; 医疗保健 56 + 生物制药 32 + 化学制药 22 = 110;
    # 专用机械 60 + 电器仪表 21 + 机械基件 12 + 航空 12 + 运输设备 8 + 机床制造 5
    # + 工程机械 1 = 119.
    v = board.census("2025-06-12", db=bundled_store).get("clusters").value
    assert (v["integrated circuits"], v["biomedicine"], v["high-end equipment"]) == (106, 110, 119)
    assert sum(v.values()) == 588


def test_market_value_only_where_share_data_cover_the_board(bundled_store: Path) -> None:
    sec = board.census("2020-12-31", db=bundled_store)
    mv = sec.get("total_market_value")
    raw = pd.read_csv(datasets_dir() / "shares" / "star_mv_shares_daily_2019_2022.csv.gz",
                      dtype={"code": str})
    day = raw[(raw.date == "2020-12-31") & raw.flag.isna()]
    assert mv.value == pytest.approx(day.total_mv.sum() / 1e12, abs=1e-4)
    assert mv.as_of == "2020-12-31" and "ganlei333" in mv.dataset
    # 689009's share file stops on 2021-11-05: no board total afterwards, and the gap says why.
    late = board.census("2021-12-31", db=bundled_store)
    assert not late.has("total_market_value")
    assert any("689009" in g.reason for g in late.gaps)
    # 2025: only the 50 STAR 50 members have share data.
    assert any("50 of 588" in g.reason for g in board.census("2025-06-12",
                                                              db=bundled_store).gaps)


def test_before_name_history_u_is_a_lower_bound(bundled_store: Path) -> None:
    sec = board.census("2021-12-31", db=bundled_store)
    assert not sec.has("marks")
    assert sec.get("marks_u_lower_bound").value == 14
    assert sec.get("marks_structural").value == {"W (weighted voting rights)": 4, "CDR (D)": 1}
    assert any("U count" in g.item for g in sec.gaps)


def test_census_errors(bundled_store: Path, tmp_path: Path) -> None:
    with pytest.raises(DateRangeError, match="before the STAR Market opened"):
        board.census("2019-07-21", db=bundled_store)
    with pytest.raises(DateRangeError, match="after the company master"):
        board.census("2026-03-05", db=bundled_store)
    bad = tmp_path / "map.csv"
    bad.write_text("industry_label,cluster\n半导体,chips\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="'chips' is not a cluster"):
        board.census("2025-06-12", db=bundled_store, mapping=bad)


def test_mapping_is_overridable(bundled_store: Path, tmp_path: Path) -> None:
    over = tmp_path / "over.csv"
    over.write_text("code,cluster\n688001,ic\n", encoding="utf-8")  # 华兴源创: 专用机械 -> IC
    v = board.census("2025-06-12", db=bundled_store, overrides=over).get("clusters").value
    assert v["integrated circuits"] == 107 and v["high-end equipment"] == 118


def test_shipped_mapping_covers_every_label() -> None:
    m = C.load_cluster_mapping()
    labels = set(pd.read_csv(MASTER, dtype=str, keep_default_na=False).industry_tushare) - {""}
    assert labels <= set(m.industry_label)
    assert set(m.cluster) <= set(C.CLUSTERS)


def test_names_at_prefers_stable_names() -> None:
    nh = pd.DataFrame({"code": ["688041", "688041"], "name": ["海光信息-U", "XD海光信"],
                       "status": ["L", "L"],
                       "first_seen": [dt.date(2024, 6, 20), dt.date(2026, 1, 29)],
                       "last_seen": [dt.date(2026, 3, 4), dt.date(2026, 1, 30)]})
    assert C.names_at(nh, dt.date(2026, 1, 29)).name.tolist() == ["海光信息-U"]


def test_comparison_with_sse_figures(bundled_store: Path) -> None:
    rows = {(r["metric"], r["sse_as_of"]): r for r in board.comparison(bundled_store)}
    for d in ("2024-11-05", "2024-12-31", "2025-06-12", "2025-07-22"):
        assert rows[("Listed companies", d)]["explanation"] == "agrees"
    assert rows[("Listed companies", "2025-11 (day not given)")]["ours"] == "592 .. 593"
    assert rows[("Integrated-circuit companies", "2025-06-12")]["ours"] == "106"
    # 35 ever marked U in the names + 5 early companies loss-making before and after
    # non-recurring items in their last pre-listing year and never seen with U (688126,
    # 688177, 688185, 688313, 688521: they dropped U before the name history starts).
    assert rows[("Unprofitable when they listed", "2025-06-12")]["ours"] == ">= 40"
    assert rows[("Growth tier at launch (still unprofitable)", "2025-07-13")]["ours"] == "32"
    assert rows[("Total market value", "2025-06-12")]["ours"] == "not available"
    assert all(r["explanation"] for r in rows.values())


def test_user_share_counts_give_market_value(store_copy: Path, tmp_path: Path) -> None:
    # Share counts for every company listed on 2024-06-28 (made-up counts, 1e8 shares each),
    # valued at that day's raw close: the census then reports a board total.
    from kechuang.data.ingest import ingest_file
    from kechuang.data.store import open_store

    with open_store(store_copy) as s:
        codes = s.query("SELECT code FROM securities WHERE list_date <= DATE '2024-06-28' AND "
                        "(delist_date IS NULL OR delist_date > DATE '2024-06-28')")["code"]
        closes = s.query("SELECT sum(close) AS c, count(*) AS n FROM bars_daily "
                         "WHERE source = 'raw' AND date = DATE '2024-06-28'")
    f = tmp_path / "shares.csv"
    f.write_text("code,date,total_shares,float_shares\n" + "".join(
        f"{c},2024-06-28,100000000,50000000\n" for c in codes), encoding="utf-8")
    ingest_file(f, "shares", store_copy)
    sec = board.census("2024-06-28", db=store_copy)
    assert int(closes["n"].iloc[0]) == len(codes) == 573  # every listed code has a raw bar
    assert sec.get("total_market_value").value == pytest.approx(
        float(closes["c"].iloc[0]) * 1e8 / 1e12, abs=1e-4)
    assert sec.get("total_market_value").as_of == "2024-06-28"
