"""Breadth kernels against their slow twins, and hand-computed golden cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.engines.breadth import Panel, compute_breadth
from kechuang.kernels.breadth import breadth_panel, mcclellan, simple_breadth_long


# ---------------------------------------------------------------- slow twins
def slow_breadth(adj, close, high, up, down, ok, ret_ok, member, windows, hl_w, hl_min):
    n_t, n_s = adj.shape
    counts = np.zeros((n_t, 11), dtype=np.int64)
    mac = np.zeros((n_t, len(windows), 2), dtype=np.int64)
    hl = np.zeros((n_t, 3), dtype=np.int64)
    streak = np.zeros((n_t, n_s), dtype=np.int64)
    for j in range(n_s):
        own: list[float] = []
        run = 0
        for t in range(n_t):
            x = adj[t, j]
            if math.isnan(x):
                continue
            prev = own[-1] if own else None
            own.append(x)
            is_up = bool(ok[t, j]) and close[t, j] >= up[t, j] - 1e-6
            run = run + 1 if is_up else 0
            streak[t, j] = run
            if not member[t, j]:
                continue
            counts[t, 10] += 1
            if ret_ok[t, j] and prev is not None:
                counts[t, 0] += 1
                counts[t, 1 if x > prev else 2 if x < prev else 3] += 1
            if ok[t, j]:
                counts[t, 4] += is_up
                counts[t, 5] += close[t, j] <= down[t, j] + 1e-6
                if high[t, j] >= up[t, j] - 1e-6:
                    counts[t, 6] += 1
                    counts[t, 7] += not is_up
            counts[t, 8] = max(counts[t, 8], run)
            counts[t, 9] += run >= 2
            for k, w in enumerate(windows):
                if len(own) >= w:
                    ma = sum(own[-w:]) / w
                    mac[t, k, 0] += 1
                    mac[t, k, 1] += (x - ma) > 1e-9 * abs(ma)
            if len(own) >= hl_min:
                win = own[-hl_w:]
                hl[t, 0] += 1
                hl[t, 1] += x >= max(win)
                hl[t, 2] += x <= min(win)
    return counts, mac, streak, hl


def slow_mcclellan(adv, dec, ratio):
    net = [((a - d) / (a + d) * 1000 if a + d else 0.0) if ratio else float(a - d)
           for a, d in zip(adv, dec, strict=True)]
    e19 = e39 = net[0]
    osc, summ, total = [], [], 0.0
    for i, v in enumerate(net):
        if i:
            e19 += 0.1 * (v - e19)
            e39 += 0.05 * (v - e39)
        osc.append(e19 - e39)
        total += e19 - e39
        summ.append(total)
    return np.array(net), np.array(osc), np.array(summ)


def random_panel(seed: int, n_t: int, n_s: int):
    rng = np.random.default_rng(seed)
    ret = rng.choice([-0.2, -0.05, 0.0, 0.0, 0.01, 0.05, 0.2], size=(n_t, n_s))
    raw = np.round(10 * np.cumprod(1 + ret, axis=0), 2)
    raw[rng.random((n_t, n_s)) < 0.15] = np.nan  # gaps: not listed / suspended
    high = raw + rng.choice([0.0, 0.0, 0.5], size=raw.shape)
    prev = np.vstack([np.full((1, n_s), np.nan), raw[:-1]])
    up = np.round(prev * 1.2, 2)
    down = np.round(prev * 0.8, 2)
    ok = (rng.random((n_t, n_s)) < 0.8) & np.isfinite(prev) & np.isfinite(raw)
    ret_ok = rng.random((n_t, n_s)) < 0.95
    member = rng.random((n_t, n_s)) < 0.8
    return raw, high, up, down, ok, ret_ok, member


@settings(max_examples=40, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), n_t=st.integers(1, 40), n_s=st.integers(1, 6),
       hl_min=st.integers(1, 8))
def test_breadth_kernel_matches_slow_twin(seed, n_t, n_s, hl_min):
    raw, high, up, down, ok, ret_ok, member = random_panel(seed, n_t, n_s)
    windows = np.array([2, 5, 10], dtype=np.int64)
    fast = breadth_panel(raw, raw, high, up, down, ok, ret_ok, member, windows, 7, hl_min)
    slow = slow_breadth(raw, raw, high, up, down, ok, ret_ok, member, [2, 5, 10], 7, hl_min)
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_array_equal(a, b)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60), ratio=st.booleans())
def test_mcclellan_matches_slow_twin(seed, n, ratio):
    rng = np.random.default_rng(seed)
    adv = rng.integers(0, 50, n)
    dec = rng.integers(0, 50, n)
    for a, b in zip(mcclellan(adv, dec, ratio), slow_mcclellan(adv, dec, ratio), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-9)


def test_simple_breadth_long_matches_panel_formulas():
    rng = np.random.default_rng(7)
    rows = []
    for c in range(5):
        n = int(rng.integers(1, 90))
        start = int(rng.integers(0, 30))
        close = np.round(10 * np.cumprod(1 + rng.normal(0, 0.05, n)), 2)
        rows += [(c, start + i, close[i]) for i in range(n)]
    code = np.array([r[0] for r in rows])
    date = np.array([r[1] for r in rows])
    close = np.array([r[2] for r in rows])
    out = simple_breadth_long(code, date, close, 130)
    # slow twin: per date, loop over stocks
    exp = np.zeros_like(out)
    for c in range(5):
        sel = code == c
        d, x = date[sel], close[sel]
        for k in range(len(x)):
            if k >= 1:
                p = x[k - 1]
                exp[d[k], 0] += 1
                exp[d[k], 1 + (0 if x[k] > p else 1 if x[k] < p else 2)] += 1
                exp[d[k], 4] += x[k] >= p * 1.2 - 0.005
                exp[d[k], 5] += x[k] <= p * 0.8 + 0.005
            for col, w in ((6, 20), (8, 60)):
                if k >= w - 1:
                    ma = x[k - w + 1:k + 1].mean()
                    exp[d[k], col] += 1
                    exp[d[k], col + 1] += (x[k] - ma) > 1e-9 * abs(ma)
    np.testing.assert_array_equal(out, exp)


# ---------------------------------------------------------------- golden cases
def golden_panel() -> Panel:
    """Stock A lists on session 0 (IPO 10.00); B trades throughout; C has an ex-rights day.

    A: day 3 (session 3 after listing) closes +20% at the rounded limit price: NOT a limit-up
    (no limit in the first 5 sessions). A's session 7 closes at the limit: counted. B touches the
    limit-up intraday on day 4 and closes below: a broken limit. C's day 5 is an ex-rights bar
    (10-for-10 bonus: raw close halves): not a limit-down, and its adjusted close is flat.
    """
    dates = np.arange(np.datetime64("2021-03-01"), np.datetime64("2021-03-09"))
    a = [12.00, 12.60, 15.12, 15.00, 15.10, 15.20, 18.24, 18.00]
    b = [20.00, 20.00, 20.50, 21.00, 24.00, 22.00, 22.00, 21.00]
    b_high = [20.5, 20.5, 21.0, 21.5, 25.20, 22.5, 22.5, 21.5]
    c = [30.00, 30.00, 30.00, 30.00, 30.00, 15.00, 15.30, 15.30]
    close = np.array([a, b, c]).T
    high = close.copy()
    high[:, 1] = b_high
    pre = np.vstack([np.full(3, np.nan), close[:-1]])
    pre[0, 0] = 10.00              # A's listing day: the exchange pre-close is the IPO price
    pre[5, 2] = 15.00              # C's exchange pre-close on the ex-date (ex-rights)
    adj = close.copy()
    adj[5:, 2] = close[5:, 2] * 2  # backward-adjusted by the bonus factor 2
    session_no = np.array([[i + 1, i + 100, i + 100] for i in range(8)], dtype=np.int64)
    exr = np.zeros((8, 3), dtype=bool)
    exr[5, 2] = True
    return Panel(dates, np.array(["688901", "688902", "688903"]), adj, close, high, pre,
                 session_no, exr, np.ones((8, 3), dtype=bool))


def test_golden_limit_up_day3_not_counted_and_broken_limit():
    res = compute_breadth(golden_panel(), ma_windows=(2,), hl_window=3, hl_min_history=2)
    t = res.table
    # day index 2 = A's 3rd session: 15.12 = round(12.60 x 1.2) but inside the no-limit window
    assert t.loc[2, "limit_up"] == 0
    # day index 6 = A's 7th session: 18.24 = round(15.20 x 1.2) -> counted
    assert t.loc[6, "limit_up"] == 1
    assert res.streak[6, 0] == 1 and t.loc[6, "max_streak"] == 1
    # day index 4: B touches 25.20 = round(21.00 x 1.2) intraday and closes 24.00
    assert t.loc[4, "touched_limit_up"] == 1 and t.loc[4, "broken_limit"] == 1
    assert t.loc[4, "broken_rate"] == 1.0
    # day index 5: C's ex-rights bar (raw -50%) is neither a limit-down nor a decline
    assert t.loc[5, "limit_down"] == 0
    assert (t.loc[5, "advancers"], t.loc[5, "decliners"], t.loc[5, "unchanged"]) == (1, 1, 1)
    # day 0: only A is new (no previous close) -> B and C count, unchanged... A is excluded
    assert t.loc[0, "n_valid"] == 0 and t.loc[1, "n_valid"] == 3
    # A/D line and ladder
    assert list(t["ad_line"]) == list(np.cumsum(t["advancers"] - t["decliners"]))
    lad = res.ladder("2021-03-07")
    assert list(lad["code"]) == ["688901"] and list(lad["streak"]) == [1]


def test_golden_two_day_ladder():
    p = golden_panel()
    # make A close at the limit again on its 8th session: 18.24 x 1.2 = 21.888 -> 21.89
    p.close[7, 0] = p.adj_close[7, 0] = p.high[7, 0] = 21.89
    p.limit_ref[7, 0] = 18.24
    res = compute_breadth(p, ma_windows=(2,), hl_window=3, hl_min_history=2)
    assert res.table.loc[7, "limit_up"] == 1 and res.table.loc[7, "max_streak"] == 2
    assert res.table.loc[7, "n_streak_2plus"] == 1


def test_member_mask_and_bad_shapes():
    p = golden_panel()
    member = np.zeros((8, 3), dtype=bool)
    member[:, 1] = True
    res = compute_breadth(p, member, ma_windows=(2,), hl_window=3, hl_min_history=2)
    assert res.table["n_members"].max() == 1
    with pytest.raises(ValueError):
        compute_breadth(p, member[:, :2])
