"""Market breadth over any universe (star-market-reference.md section 7).

Input is a `Panel` of (sessions x stocks) arrays built by the API from the store; the engine
never opens the store. Conventions (docs/index.md, "Breadth"):

- advancers / decliners / unchanged compare the adjusted close with the stock's previous own
  adjusted close; day-1 listings (no previous close) and bars whose return is unknown are not
  counted (`n_valid`).
- limit-up / limit-down are detected on RAW closes against the limit price rounded to 0.01 from
  the exchange pre-close (the previous raw close where the exchange pre-close is missing),
  excluding the first sessions after listing (rules.trading.NO_LIMIT_SESSIONS: 5, section 1) and
  every session with an ex-rights event (bar_flags 'ex_rights_gap' or an adjustment ex-date).
- broken limit (炸板): high reached the limit-up price, close below it; the rate is
  broken / touched.
- moving averages, 250-session highs/lows use adjusted closes over the stock's own bars;
  a stock counts for highs/lows once it has `hl_min_history` own bars.
- McClellan oscillator: ratio-adjusted by default, because the board grew from 25 to ~600 names.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kechuang.core.errors import StarError
from kechuang.kernels.breadth import breadth_panel, mcclellan
from kechuang.rules.trading import NO_LIMIT_SESSIONS, PRICE_LIMIT, round_price_array


@dataclass
class Panel:
    """Aligned (T x N) arrays; NaN where a stock has no bar."""

    dates: np.ndarray          # datetime64[D], T
    codes: np.ndarray          # str, N
    adj_close: np.ndarray      # adjusted close (returns, MAs, highs/lows)
    close: np.ndarray          # raw close
    high: np.ndarray           # raw high
    limit_ref: np.ndarray      # exchange pre-close, else previous raw close (NaN on day 1)
    session_no: np.ndarray     # int64 session number since listing (listing day = 1)
    exrights: np.ndarray       # bool: ex-rights event on this bar
    ret_ok: np.ndarray         # bool: the bar's return is known

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.codes))
        for name in ("adj_close", "close", "high", "limit_ref", "session_no", "exrights",
                     "ret_ok"):
            if getattr(self, name).shape != shape:
                raise ValueError(f"panel field {name} has shape {getattr(self, name).shape}, "
                                 f"expected {shape}")


@dataclass
class BreadthResult:
    table: pd.DataFrame        # one row per session
    streak: np.ndarray         # (T x N) consecutive limit-up closes
    panel: Panel
    member: np.ndarray

    def ladder(self, date: str) -> pd.DataFrame:
        """Stocks on a consecutive limit-up run on `date` (连板梯队), longest first."""
        i = int(np.searchsorted(self.panel.dates, np.datetime64(date, "D")))
        if i >= len(self.panel.dates) or self.panel.dates[i] != np.datetime64(date, "D"):
            raise StarError(f"{date} is not a session of this breadth result")
        s = self.streak[i] * self.member[i]
        idx = np.nonzero(s > 0)[0]
        df = pd.DataFrame({"code": self.panel.codes[idx], "streak": s[idx]})
        return df.sort_values(["streak", "code"], ascending=[False, True]).reset_index(drop=True)


def limit_prices(panel: Panel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(limit-down, limit-up, limit_ok) for every cell: dated limit (rules.trading.PRICE_LIMIT,
    section 1) on the reference pre-close, rounded half up to 0.01."""
    lim = PRICE_LIMIT.to_array(panel.dates).astype(np.float64)[:, None]
    ref = panel.limit_ref
    down = round_price_array(np.where(np.isfinite(ref), ref * (1 - lim), 0.0))
    up = round_price_array(np.where(np.isfinite(ref), ref * (1 + lim), 0.0))
    no_limit = NO_LIMIT_SESSIONS.to_array(panel.dates).astype(np.int64)[:, None]
    ok = (panel.session_no > no_limit) & ~panel.exrights & np.isfinite(ref) \
        & np.isfinite(panel.close)
    return down, up, ok


def compute_breadth(panel: Panel, member: np.ndarray | None = None,
                    ma_windows: tuple[int, ...] = (20, 60, 250), hl_window: int = 250,
                    hl_min_history: int = 60, ratio_adjusted: bool = True) -> BreadthResult:
    """Daily breadth table over the stocks where `member` is True (default: every stock)."""
    shape = panel.adj_close.shape
    if member is None:
        member = np.ones(shape, dtype=np.bool_)
    if member.shape != shape:
        raise ValueError(f"member mask has shape {member.shape}, expected {shape}")
    if hl_window < 2 or hl_min_history < 1 or any(w < 1 for w in ma_windows):
        raise StarError("breadth windows must be positive (hl_window >= 2)")
    down, up, ok = limit_prices(panel)
    counts, ma_counts, streak, hl = breadth_panel(
        np.ascontiguousarray(panel.adj_close, dtype=np.float64),
        np.ascontiguousarray(panel.close, dtype=np.float64),
        np.ascontiguousarray(panel.high, dtype=np.float64), up, down,
        np.ascontiguousarray(ok), np.ascontiguousarray(panel.ret_ok),
        np.ascontiguousarray(member), np.asarray(ma_windows, dtype=np.int64),
        int(hl_window), int(hl_min_history))
    adv, dec = counts[:, 1], counts[:, 2]
    net, osc, summ = mcclellan(adv, dec, ratio_adjusted)
    with np.errstate(invalid="ignore", divide="ignore"):
        broken_rate = np.where(counts[:, 6] > 0, counts[:, 7] / np.maximum(counts[:, 6], 1),
                               np.nan)
        table = pd.DataFrame({
            "date": panel.dates,
            "n_members": counts[:, 10], "n_valid": counts[:, 0],
            "advancers": adv, "decliners": dec, "unchanged": counts[:, 3],
            "ad_line": np.cumsum(adv - dec),
            "mcclellan_net": net, "mcclellan_osc": osc, "summation_index": summ,
            "limit_up": counts[:, 4], "limit_down": counts[:, 5],
            "touched_limit_up": counts[:, 6], "broken_limit": counts[:, 7],
            "broken_rate": broken_rate,
            "max_streak": counts[:, 8], "n_streak_2plus": counts[:, 9],
            "n_hl_eligible": hl[:, 0], "new_highs": hl[:, 1], "new_lows": hl[:, 2],
        })
        for k, w in enumerate(ma_windows):
            n_ma = ma_counts[:, k, 0]
            table[f"n_ma{w}"] = n_ma
            table[f"pct_above_ma{w}"] = np.where(n_ma > 0, 100.0 * ma_counts[:, k, 1]
                                                 / np.maximum(n_ma, 1), np.nan)
    return BreadthResult(table, streak, panel, member)
