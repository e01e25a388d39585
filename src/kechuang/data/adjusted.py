"""Adjusted prices derived from the unadjusted bars and the adjustment events.

Backward (hfq) price = raw x product of the factors of all events on or before the date;
forward (qfq) price = raw / product of the factors of all events after the date (adj_factors
README). Factor = previous close / exchange pre-close. An event whose factor is unknown is not
guessed: it counts as 1 and every row whose adjusted price depends on it is flagged
`factor_unknown`; rows that use an estimated factor are flagged `factor_estimated`."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from kechuang.core.errors import StarError, UnknownCodeError
from kechuang.core.ids import normalize_code
from kechuang.data.store import Store

PRICE_COLUMNS = ("open", "high", "low", "close", "pre_close")


def adjust_frame(bars: pd.DataFrame, events: pd.DataFrame, how: str) -> pd.DataFrame:
    """bars: code, date, open, high, low, close[, pre_close, ...] (raw, any order);
    events: code, ex_date, factor (NaN = unknown), method. Returns bars sorted by code, date
    with adjusted prices, `adj_factor` (multiplier applied to raw prices) and `adj_flag`."""
    if how not in ("qfq", "hfq", "none"):
        raise StarError(f"adjust must be 'none', 'qfq' or 'hfq', not {how!r}")
    out = bars.sort_values(["code", "date"]).reset_index(drop=True).copy()
    out["adj_factor"] = 1.0
    out["adj_flag"] = ""
    if how == "none" or events.empty:
        return out
    dates = out["date"].to_numpy(dtype="datetime64[D]")
    codes = out["code"].to_numpy()
    factor = np.ones(len(out))
    unknown = np.zeros(len(out), dtype=bool)
    estimated = np.zeros(len(out), dtype=bool)
    bounds = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1], True])
    ev = events.sort_values(["code", "ex_date"])
    by_code = {c: g for c, g in ev.groupby("code", sort=False)}
    for a, b in itertools.pairwise(bounds):
        g = by_code.get(codes[a])
        if g is None:
            continue
        d = dates[a:b]
        for ex, f, method in zip(g["ex_date"].to_numpy(dtype="datetime64[D]"),
                                 g["factor"].to_numpy(dtype=float), g["method"], strict=True):
            affected = d >= ex if how == "hfq" else d < ex
            if np.isnan(f):
                unknown[a:b] |= affected
                continue
            if how == "hfq":
                factor[a:b][affected] *= f
            else:
                factor[a:b][affected] /= f
            if method == "estimated":
                estimated[a:b] |= affected
    for col in PRICE_COLUMNS:
        if col in out:
            out[col] = out[col] * factor
    out["adj_factor"] = factor
    flag = np.where(unknown, "factor_unknown", np.where(estimated, "factor_estimated", ""))
    out["adj_flag"] = flag
    return out


def adjusted_bars(store: Store, codes: Sequence[str], start: dt.date | None = None,
                  end: dt.date | None = None, how: str = "qfq") -> pd.DataFrame:
    """Raw bars of `codes` from the store, adjusted `how` ('none', 'qfq' or 'hfq').
    Forward adjustment is relative to the last event in the store, whatever `end` is."""
    norm = [normalize_code(c) for c in codes]
    known = set(store.query("SELECT code FROM securities WHERE code IN (SELECT unnest(?))",
                            [norm])["code"])
    missing = [c for c in norm if c not in known]
    if missing:
        raise UnknownCodeError(f"unknown code(s) not in the store: {', '.join(missing)}")
    bars = store.query(
        "SELECT code, date, open, high, low, close, pre_close, volume, amount FROM bars_daily "
        "WHERE source = 'raw' AND code IN (SELECT unnest(?)) "
        "AND date >= coalesce(?::DATE, DATE '1990-01-01') "
        "AND date <= coalesce(?::DATE, DATE '2999-12-31') ORDER BY code, date",
        [norm, start, end])
    events = store.query("SELECT code, ex_date, factor, method FROM adjustments "
                         "WHERE code IN (SELECT unnest(?))", [norm])
    return adjust_frame(bars, events, how)
