"""STAR 50 rebuilt from the bundled store: invariants, fidelity, review simulation, attribution,
breadth on the real board, and the error cases."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from kechuang.api import index as ai
from kechuang.core.errors import DateRangeError, MissingDataError, StarError, UnknownCodeError
from kechuang.data.store import open_store
from kechuang.engines.attribution import session_attribution


@pytest.fixture(scope="module")
def star50(bundled_store):
    return ai.index("000688", db=bundled_store)


@pytest.fixture(scope="module")
def board(bundled_store):
    return ai.breadth("board", start="2021-01-04", end="2022-01-14", db=bundled_store)


def test_star50_structure(star50):
    lv = star50.levels
    assert lv["date"].iloc[0] == pd.Timestamp("2019-12-31") and lv["level"].iloc[0] == 1000.0
    # 50 constituents from the live date on (the back-history has the launch list's members
    # that were already listed)
    live = lv[lv["date"] >= pd.Timestamp("2020-07-23")]
    assert (live["n_constituents"] == 50).all()
    daily = star50.weights.groupby("date")["weight"].sum()
    np.testing.assert_allclose(daily.to_numpy(), 1.0, rtol=1e-9)
    assert any("free-float" in n for n in star50.notes)


def test_reviews_respect_caps_and_factors(star50):
    reviews = [r for r in star50.reviews if r["kind"] == "review"]
    assert [r["effective_date"] for r in reviews][:2] == [dt.date(2020, 9, 14),
                                                          dt.date(2020, 12, 14)]
    for r in star50.reviews:
        t = r["table"]
        assert t["weight"].max() <= 0.10 + 1e-9
        assert t["weight"].nlargest(5).sum() <= 0.40 + 1e-8
        assert ((t["weight_factor"] > 0) & (t["weight_factor"] <= 1.0)).all()
        assert t["inclusion_factor"].between(0.01, 1.0).all()
        assert len(r["entrants"]) == len(r["leavers"]) or r["kind"] == "launch"
        if r["kind"] == "review":
            assert r["cutoff"] < r["effective_date"]


def test_level_continuous_across_reviews(star50):
    # on a review day the index move equals the members' weighted price moves: the divisor
    # change absorbs the constituent swap (attribution contributions add up exactly)
    for r in star50.reviews[1:]:
        d = pd.Timestamp(r["effective_date"])
        a = session_attribution(star50, d, {})
        assert a["sum_of_contributions"] == pytest.approx(a["index_return"], abs=1e-12)


def test_fidelity_against_official(star50, bundled_store):
    f = ai.fidelity("000688", db=bundled_store, result=star50)
    full, live = f["full"], f["live"]
    assert full["from"] == "2020-01-02" and full["to"] == "2022-01-14"
    assert live["from"] == "2020-07-23"
    # the rebuilt index tracks the official series closely (float shares as free-float proxy)
    assert full["return_corr"] > 0.98 and live["return_corr"] > 0.97
    assert full["tracking_error_ann"] < 0.06
    assert abs(full["end_level_gap"]) < 0.15
    assert 0.8 < f["member_mv_check"]["ratio_median"] < 1.2


def test_review_simulation(bundled_store):
    r = ai.review("000688", as_of="2021-11-30", db=bundled_store)
    assert r["next_review"] == dt.date(2021, 12, 13)
    assert r["cutoff_used"] == dt.date(2021, 10, 29)
    t = r["table"]
    assert len(t) == 50 and t["code"].is_unique
    assert set(r["entrants"]) == set(t.loc[t["status"] == "enters", "code"])
    assert len(r["entrants"]) == len(r["leavers"])
    assert t["weight"].sum() == pytest.approx(1.0)
    assert t["weight"].max() <= 0.10 + 1e-9


def test_attribution_day_and_few_fell(star50, bundled_store):
    days = ai.attribution_days(min_return=0.04, max_fell=2, result=star50, db=bundled_store)
    assert len(days) > 0
    d = days["date"].iloc[0]
    a = ai.attribution(d, result=star50, db=bundled_store)
    assert a["n_fell"] <= 2 and a["index_return"] >= 0.04
    assert a["sum_of_contributions"] == pytest.approx(a["index_return"], abs=1e-12)
    assert a["sectors"]["contribution"].sum() == pytest.approx(a["index_return"], abs=1e-12)
    assert a["headline"].startswith(f"{a['n_fell']} of {a['n_constituents']}")
    assert a["official_return"] is not None and abs(a["official_return"]) < 0.25


def test_sector_volatility(bundled_store):
    v = ai.sector_volatility(end="2022-01-14", db=bundled_store).set_index("basket")
    assert {"semiconductors", "rest", "board"} <= set(v.index)
    assert (v["ann_vol"] > 0.05).all() and (v["ann_vol"] < 1.5).all()


def test_board_breadth_invariants(board, bundled_store):
    t = board.table
    assert t["date"].iloc[0] == pd.Timestamp("2021-01-04")
    assert (t["advancers"] + t["decliners"] + t["unchanged"] == t["n_valid"]).all()
    assert (t["broken_limit"] <= t["touched_limit_up"]).all()
    assert (t["limit_up"] <= t["touched_limit_up"]).all()
    # limit-ups never come from the no-limit window or an ex-rights bar
    res = board.result
    p = res.panel
    up = res.streak > 0
    assert not (up & (p.session_no <= 5)).any()
    assert not (up & p.exrights).any()
    # a stock on day 1-5 that closed +20% or more exists in the sample and is not counted
    with open_store(bundled_store) as s:
        n = s.scalar("SELECT count(*) FROM bars_daily b JOIN securities s USING (code) "
                     "WHERE b.source = 'raw' AND b.date > s.list_date AND "
                     "b.date <= s.list_date + INTERVAL 7 DAY AND b.close >= "
                     "round(b.pre_close * 1.2, 2)")
    assert n > 0


def test_breadth_of_index_members_and_sector(bundled_store):
    b = ai.breadth("000688", start="2021-06-01", end="2021-06-30", db=bundled_store)
    assert (b.table["n_members"] == 50).all()
    s = ai.breadth("sector:半导体", start="2021-06-01", end="2021-06-30", db=bundled_store)
    assert (s.table["n_members"] > 20).all()


def test_errors(bundled_store):
    with pytest.raises(UnknownCodeError, match="unknown index"):
        ai.index("000999", db=bundled_store)
    with pytest.raises(DateRangeError, match="base date"):
        ai.index("000688", start="2019-06-28", db=bundled_store)
    with pytest.raises(MissingDataError, match=r"share counts .* end 2022-01-14"):
        ai.index("000688", end="2022-06-30", db=bundled_store)
    with pytest.raises(StarError, match="no members"):
        ai.breadth(["688981"], start="2020-01-02", end="2020-03-31", db=bundled_store)
    with pytest.raises(DateRangeError):
        ai.breadth("board", start="2020-01-25", end="2020-01-31", db=bundled_store)
    with pytest.raises(DateRangeError):
        ai.attribution("2030-01-02", db=bundled_store)


def test_ah_ranking_bounds(bundled_store):
    # the store has no A-share total for A+H companies: ranking them on the total count
    # (upper bound) makes SMIC (688981, listed 2020-07-16) a fast entrant at the Dec 2020
    # review; on tradable A shares (lower bound, default) it is not in the top five then
    hi = ai.index("000688", end="2021-01-29", db=bundled_store, ah_ranking="total")
    lo = ai.index("000688", end="2021-01-29", db=bundled_store)
    dec_hi = next(r for r in hi.reviews if str(r["effective_date"]) == "2020-12-14")
    dec_lo = next(r for r in lo.reviews if str(r["effective_date"]) == "2020-12-14")
    assert "688981" in dec_hi["entrants"] and "688981" not in dec_lo["entrants"]
    with pytest.raises(StarError, match="ah_ranking"):
        ai.index("000688", db=bundled_store, ah_ranking="h")


def test_other_indices_same_machinery(bundled_store):
    with pytest.raises(StarError, match="no eligible securities"):
        ai.index("star100", db=bundled_store)
    s100 = ai.index("000698", start="2021-06-15", db=bundled_store)
    assert (s100.levels["n_constituents"] == 100).all()
    assert s100.levels["level"].iloc[0] == 1000.0
    comp = ai.index("000680", start="2021-06-15", db=bundled_store)
    assert comp.levels["n_constituents"].iloc[0] > 100
    t = comp.reviews[0]["table"]
    assert (t["weight_factor"] == 1.0).all() and (t["inclusion_factor"] == 1.0).all()
