"""Index kernels: capping, banding and the divisor, against slow twins and hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.engines.index import select, structure_date
from kechuang.kernels.index import cap_weights, chain_levels
from kechuang.rules.index_methodology import STAR50, add_months, band_factor


# ---------------------------------------------------------------- slow twins
def slow_cap(weights, single, top, top_n=5):
    w = [x / sum(weights) for x in weights]
    for _ in range(1000):
        if single > 0:
            capped: set[int] = set()
            while True:
                over = [i for i, x in enumerate(w) if x > single + 1e-12]
                if not over:
                    break
                excess = sum(w[i] - single for i in over)
                for i in over:
                    w[i] = single
                    capped.add(i)
                free = sum(x for i, x in enumerate(w) if i not in capped)
                if free <= 1e-12:
                    break
                w = [x if i in capped else x * (free + excess) / free for i, x in enumerate(w)]
        if top <= 0 or top_n >= len(w):
            break
        order = sorted(range(len(w)), key=lambda i: (-w[i], i))[:top_n]
        s = sum(w[i] for i in order)
        if s <= top + 1e-10:
            break
        w = [x * top / s if i in order else x * (1 - top) / (1 - s) for i, x in enumerate(w)]
    return np.array(w)


def slow_levels(price, ref, qty, base):
    level, div = [base], [sum(q * p for q, p in zip(qty[0], price[0], strict=True)) / base]
    for t in range(1, len(price)):
        d = sum(q * r for q, r in zip(qty[t], ref[t], strict=True)) / level[-1]
        div.append(d)
        level.append(sum(q * p for q, p in zip(qty[t], price[t], strict=True)) / d)
    return np.array(level), np.array(div)


# ---------------------------------------------------------------- capping
def test_cap_single_constituent_over_10pct():
    # one at 20%, twenty at 4%: the 10% excess goes to the twenty in proportion -> 4.5% each
    w = cap_weights(np.array([0.20] + [0.04] * 20), 0.10, 0.40, 5)
    np.testing.assert_allclose(w, [0.10] + [0.045] * 20, rtol=1e-12)


def test_cap_top_five_over_40pct():
    # five at 9.6% (48%) and thirteen at 4%: top five scaled to 8% each, the rest to 60%/13
    w = cap_weights(np.array([0.096] * 5 + [0.04] * 13), 0.10, 0.40, 5)
    np.testing.assert_allclose(w, [0.08] * 5 + [0.6 / 13] * 13, rtol=1e-12)


def test_cap_both_caps():
    # 30% + 4 x 9% + 34 x 1%: single cap water-fills to five at 10% (50%) and 34 at 0.5/34;
    # then the top five (50%) are cut to 40%: 8% each, the 34 share 60%
    w = cap_weights(np.array([0.30] + [0.09] * 4 + [0.01] * 34), 0.10, 0.40, 5)
    np.testing.assert_allclose(w, [0.08] * 5 + [0.6 / 34] * 34, rtol=1e-10)


def test_cap_no_binding_cap_is_identity():
    raw = np.array([5.0, 4.0, 3.0] + [1.0] * 88)
    np.testing.assert_allclose(cap_weights(raw, 0.10, 0.40, 5), raw / raw.sum())


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.floats(0.01, 100.0), min_size=20, max_size=60))
def test_cap_matches_slow_twin_and_holds(ws):
    raw = np.array(ws)
    fast = cap_weights(raw, 0.10, 0.40, 5)
    np.testing.assert_allclose(fast, slow_cap(list(raw), 0.10, 0.40), rtol=1e-9, atol=1e-12)
    assert abs(fast.sum() - 1) < 1e-9
    assert fast.max() <= 0.10 + 1e-9
    assert np.sort(fast)[-5:].sum() <= 0.40 + 1e-8


# ---------------------------------------------------------------- banding
@pytest.mark.parametrize("ratio,factor", [
    (0.005, 0.01), (0.12, 0.12), (0.123, 0.13), (0.15, 0.15), (0.1501, 0.20), (0.20, 0.20),
    (0.2001, 0.30), (0.30, 0.30), (0.3001, 0.40), (0.40, 0.40), (0.50, 0.50), (0.5001, 0.60),
    (0.60, 0.60), (0.70, 0.70), (0.7001, 0.80), (0.80, 0.80), (0.8001, 1.00), (1.0, 1.0),
    (0.0, 0.0)])
def test_band_edges(ratio, factor):
    assert band_factor(ratio) == pytest.approx(factor, abs=1e-12)


# ---------------------------------------------------------------- divisor
def test_divisor_keeps_level_on_a_swap():
    # A 10 x 100 and B 20 x 50: M0 = 2000, base 1000 -> divisor 2. Day 1: A 11 -> 1050.
    # Day 2: B is replaced by C (40 x 30) at unchanged prices: level stays 1050, divisor
    # becomes 2300 / 1050. Day 3: C 44 -> 1050 x 2420 / 2300.
    price = np.array([[10.0, 20.0, 40.0], [11.0, 20.0, 40.0], [11.0, 20.0, 40.0],
                      [11.0, 20.0, 44.0]])
    ref = np.vstack([price[:1], price[:-1]])
    qty = np.array([[100.0, 50.0, 0.0], [100.0, 50.0, 0.0], [100.0, 0.0, 30.0],
                    [100.0, 0.0, 30.0]])
    level, div, mcap = chain_levels(price, ref, qty, 1000.0)
    np.testing.assert_allclose(level, [1000.0, 1050.0, 1050.0, 1050.0 * 2420 / 2300])
    np.testing.assert_allclose(div, [2.0, 2.0, 2300 / 1050, 2300 / 1050])
    np.testing.assert_allclose(mcap, [2000.0, 2100.0, 2300.0, 2420.0])


def test_bonus_issue_neutral_dividend_not():
    # 10-for-10 bonus: price halves, quantity doubles, the move is measured from the
    # ex-rights pre-close (prev / 2) -> level unchanged. A cash dividend lowers the price and
    # is not neutralised (price index).
    price = np.array([[20.0], [10.0], [9.8]])
    ref = np.array([[20.0], [10.0], [10.0]])
    qty = np.array([[100.0], [200.0], [200.0]])
    level, _, _ = chain_levels(price, ref, qty, 1000.0)
    np.testing.assert_allclose(level, [1000.0, 1000.0, 980.0])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), n_t=st.integers(1, 30), n_s=st.integers(1, 8))
def test_chain_levels_matches_slow_twin(seed, n_t, n_s):
    rng = np.random.default_rng(seed)
    price = rng.uniform(5, 50, (n_t, n_s))
    ref = np.vstack([price[:1], price[:-1]]) * rng.choice([1.0, 1.0, 0.5], (n_t, n_s))
    qty = rng.choice([0.0, 1.0, 3.0], (n_t, n_s)) * 100
    qty[:, 0] = 100.0  # at least one constituent
    lv, dv, _ = chain_levels(price, ref, qty, 1000.0)
    slv, sdv = slow_levels(price, ref, qty, 1000.0)
    np.testing.assert_allclose(lv, slv, rtol=1e-10)
    np.testing.assert_allclose(dv, sdv, rtol=1e-10)


# ---------------------------------------------------------------- selection rules
def test_buffer_rules_and_turnover():
    # 80 ranked securities (index = rank - 1); incumbents hold ranks 1..45 and 56..60.
    order = np.arange(80)
    incumbents = list(range(45)) + list(range(55, 60))
    sel = select(STAR50, order, incumbents)
    # incumbents in the top 60 stay: no candidate ranked 46..55 is in the top 40, so none
    # enters; the list is unchanged
    assert sorted(sel.members) == sorted(incumbents) and not sel.entrants
    # incumbents ranked 61+ must leave; candidates in the top 40 enter first
    incumbents = list(range(5, 50)) + list(range(60, 65))
    sel = select(STAR50, order, incumbents)
    assert sorted(sel.entrants) == [0, 1, 2, 3, 4]
    assert sorted(sel.leavers) == [60, 61, 62, 63, 64]
    assert len(sel.members) == 50


def test_turnover_limit_caps_optional_entrants():
    # all incumbents ranked 31..80 except ten in 61..70: ten must leave; the top-40
    # candidates (ranks 1..30) would all like to enter, but only as many as must leave + fill
    order = np.arange(100)
    incumbents = list(range(30, 60)) + list(range(60, 70)) + list(range(70, 80))
    sel = select(STAR50, order, incumbents)
    assert len(sel.members) == 50
    assert len(sel.leavers) == len(sel.entrants) == 20  # ranks 61..80 are out of the buffer


def test_structure_dates_and_months():
    import datetime as dt

    assert structure_date(dt.date(2020, 12, 14)) == dt.date(2020, 9, 30)
    assert structure_date(dt.date(2021, 3, 15)) == dt.date(2020, 12, 31)
    assert structure_date(dt.date(2020, 7, 23)) == dt.date(2020, 6, 30)
    assert add_months(dt.date(2020, 8, 31), -6) == dt.date(2020, 2, 29)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), n_t=st.integers(1, 40), n_s=st.integers(1, 6))
def test_window_means_and_ffill_match_pandas(seed, n_t, n_s):
    import pandas as pd

    from kechuang.kernels.index import ffill_rows, window_means

    rng = np.random.default_rng(seed)
    close = rng.uniform(5, 50, (n_t, n_s))
    close[rng.random((n_t, n_s)) < 0.3] = np.nan
    shares = rng.uniform(1e6, 1e8, (n_t, n_s))
    shares[rng.random((n_t, n_s)) < 0.1] = np.nan
    amount = rng.uniform(1e5, 1e7, (n_t, n_s))
    lo = int(rng.integers(0, n_t))
    mv, amt, rec = window_means(close, shares, amount, lo, n_t - 1, 3)
    c = pd.DataFrame(close[lo:])
    exp_mv = (c * shares[lo:]).mean()  # skipna: rows with a close and a share count
    exp_amt = pd.DataFrame(np.where(np.isfinite(close[lo:]), amount[lo:], np.nan)).mean()
    np.testing.assert_allclose(mv, exp_mv.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(amt, exp_amt.to_numpy(), rtol=1e-12)
    np.testing.assert_array_equal(rec, np.isfinite(close[max(lo, n_t - 3):]).any(axis=0))
    np.testing.assert_array_equal(ffill_rows(close), pd.DataFrame(close).ffill().to_numpy())
