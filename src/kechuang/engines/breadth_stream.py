"""Out-of-core W4 breadth: a long table (code, date, close) fed one chunk at a time (e.g. one
year partition of a Parquet export), per-stock state carried between chunks.

Memory is the per-stock state (61 floats and a counter per stock) plus one chunk, whatever the
length of the history; the result equals the in-memory W4 breadth
(``kernels.breadth.simple_breadth_long`` over the whole table) value for value. The engine takes
frames from an iterable and does no I/O itself (``data.partitions.iter_bars`` reads them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from kechuang.core.errors import ValidationError
from kechuang.kernels import breadth_stream as kb

COLUMNS = ("date", "n_valid", "advancers", "decliners", "unchanged", "limit_up", "limit_down",
           "n_ma20", "pct_above_ma20", "n_ma60", "pct_above_ma60")


def counts_table(dates: np.ndarray, counts: np.ndarray) -> pd.DataFrame:
    """The W4 table from the kernel counts (int64[n_dates, 10]); percentages in %, NaN when no
    stock has the average defined."""
    with np.errstate(invalid="ignore", divide="ignore"):
        pct20 = np.where(counts[:, 6] > 0, 100.0 * counts[:, 7] / np.maximum(counts[:, 6], 1),
                         np.nan)
        pct60 = np.where(counts[:, 8] > 0, 100.0 * counts[:, 9] / np.maximum(counts[:, 8], 1),
                         np.nan)
    return pd.DataFrame({
        "date": pd.DatetimeIndex(dates).as_unit("s"), "n_valid": counts[:, 0],
        "advancers": counts[:, 1], "decliners": counts[:, 2], "unchanged": counts[:, 3],
        "limit_up": counts[:, 4], "limit_down": counts[:, 5], "n_ma20": counts[:, 6],
        "pct_above_ma20": pct20, "n_ma60": counts[:, 8], "pct_above_ma60": pct60,
    })


def _date_index(dates: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct dates, index of each row's date) in linear time (counting)."""
    day = dates.astype("datetime64[D]").astype(np.int64)
    d0 = int(day.min())
    off = day - d0
    present = np.bincount(off) > 0
    remap = np.cumsum(present) - 1
    udates = (np.nonzero(present)[0] + d0).astype("datetime64[D]")
    return udates, remap[off].astype(np.int64)


class StreamingBreadth:
    """Feed chunks in date order with `add`; `table()` returns the breadth of all of them."""

    def __init__(self) -> None:
        self.index: dict[Any, int] = {}
        self.n_own, self.ring, self.sums = kb.new_state(0)
        self.parts: list[pd.DataFrame] = []
        self.last_date: np.datetime64 | None = None
        self.rows = 0

    def _grow(self, n: int) -> None:
        have = len(self.n_own)
        if n <= have:
            return
        cap = max(n, 2 * have, 64)
        n_own, ring, sums = kb.new_state(cap)
        n_own[:have] = self.n_own
        ring[:have] = self.ring
        sums[:have] = self.sums
        self.n_own, self.ring, self.sums = n_own, ring, sums

    def add(self, frame: pd.DataFrame) -> None:
        """One chunk with columns code, date, close (any row order, one row per stock and
        date); all its dates after the previous chunk's."""
        if frame.empty:
            return
        dates = frame["date"].to_numpy().astype("datetime64[D]")
        if self.last_date is not None and dates.min() <= self.last_date:
            raise ValidationError(f"chunk starting {dates.min()} overlaps the previous chunk "
                                  f"(up to {self.last_date}); feed chunks in date order")
        close = frame["close"].to_numpy(dtype=np.float64)
        if not np.isfinite(close).all() or (close <= 0).any():
            raise ValidationError("close prices must be finite and positive")
        inv, uniques = pd.factorize(frame["code"])
        gidx = np.array([self.index.setdefault(c, len(self.index)) for c in uniques],
                        dtype=np.int64)
        self._grow(len(self.index))
        udates, date_idx = _date_index(dates)
        # the kernel needs each stock's rows in date order, not the rows grouped by stock; a
        # stable sort on small integers is a radix sort, linear in the rows
        small = np.int16 if len(udates) < np.iinfo(np.int16).max else np.int64
        order = np.argsort(date_idx.astype(small), kind="stable")
        counts = kb.breadth_chunk(gidx[inv[order]], date_idx[order].astype(np.int64),
                                  close[order], len(udates), self.n_own, self.ring, self.sums)
        self.parts.append(counts_table(udates, counts))
        self.last_date = udates[-1]
        self.rows += len(frame)

    def table(self) -> pd.DataFrame:
        if not self.parts:
            raise ValidationError("no bars were fed to the breadth")
        return pd.concat(self.parts, ignore_index=True)


def stream_breadth(chunks: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """W4 breadth over chunks (code, date, close) given in date order."""
    sb = StreamingBreadth()
    for df in chunks:
        sb.add(df)
    return sb.table()


def memory_breadth(frame: pd.DataFrame) -> pd.DataFrame:
    """The same table from a whole long table in memory (``simple_breadth_long``)."""
    from kechuang.kernels.breadth import simple_breadth_long

    df = frame.sort_values(["code", "date"], kind="stable")
    code_idx = pd.factorize(df["code"])[0].astype(np.int64)
    dates = df["date"].to_numpy().astype("datetime64[D]")
    udates, date_idx = np.unique(dates, return_inverse=True)
    counts = simple_breadth_long(code_idx, date_idx.astype(np.int64),
                                 df["close"].to_numpy(dtype=np.float64), len(udates))
    return counts_table(udates, counts)
