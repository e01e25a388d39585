"""Out-of-core breadth: streaming a Parquet export partition by partition, with per-stock
state carried across partitions, gives the same table as the in-memory computation."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kechuang.api.scale import breadth_parquet
from kechuang.core.errors import MissingDataError, ValidationError
from kechuang.data import synthetic as sy
from kechuang.data.store import open_store
from kechuang.engines.breadth_stream import StreamingBreadth, memory_breadth, stream_breadth


def slow_breadth(frame: pd.DataFrame) -> pd.DataFrame:
    """The W4 definitions written out plainly, stock by stock over its own bars."""
    rows: dict[pd.Timestamp, list[int]] = {}
    for _, g in frame.sort_values(["code", "date"]).groupby("code", sort=True):
        closes = g["close"].tolist()
        for k, (d, x) in enumerate(zip(g["date"], closes, strict=True)):
            r = rows.setdefault(d, [0] * 10)
            if k >= 1:
                p = closes[k - 1]
                r[0] += 1
                r[1] += x > p
                r[2] += x < p
                r[3] += x == p
                r[4] += x >= p * 1.2 - 0.005
                r[5] += x <= p * 0.8 + 0.005
            for w, col in ((20, 6), (60, 8)):
                if k >= w - 1:
                    ma = sum(closes[k - w + 1: k + 1]) / w
                    r[col] += 1
                    r[col + 1] += (x - ma) > 1e-9 * abs(ma)
    dates = sorted(rows)
    c = np.array([rows[d] for d in dates], dtype=np.int64)
    with np.errstate(invalid="ignore"):
        return pd.DataFrame({"date": dates, "n_valid": c[:, 0], "advancers": c[:, 1],
                             "decliners": c[:, 2], "unchanged": c[:, 3], "limit_up": c[:, 4],
                             "limit_down": c[:, 5], "n_ma20": c[:, 6],
                             "pct_above_ma20": np.where(c[:, 6] > 0, 100 * c[:, 7] / c[:, 6],
                                                        np.nan),
                             "n_ma60": c[:, 8],
                             "pct_above_ma60": np.where(c[:, 8] > 0, 100 * c[:, 9] / c[:, 8],
                                                        np.nan)})


INT_COLS = ["n_valid", "advancers", "decliners", "unchanged", "limit_up", "limit_down",
            "n_ma20", "n_ma60"]


def test_streamed_parquet_equals_memory_on_synthetic_market(tmp_path: Path) -> None:
    sy.write_parquet(tmp_path, 120, 900, seed=21)
    streamed = breadth_parquet(tmp_path)
    whole = sy.generate(120, 900, seed=21).bars[["code", "date", "close"]]
    pd.testing.assert_frame_equal(streamed, memory_breadth(whole))
    assert streamed.attrs["rows"] == len(whole) and len(streamed) == 900
    assert streamed["limit_up"].sum() > 0 and streamed["limit_down"].sum() > 0
    slow = slow_breadth(whole)
    for col in INT_COLS:
        assert np.array_equal(streamed[col].to_numpy(), slow[col].to_numpy()), col


def test_streamed_export_of_bundled_store_equals_memory(bundled_store: Path,
                                                        tmp_path: Path) -> None:
    with open_store(bundled_store) as st:
        st.export_parquet(tmp_path)
        raw = st.query("SELECT code, date, close FROM bars_daily WHERE source = 'raw'")
    raw["date"] = pd.to_datetime(raw["date"]).astype("datetime64[s]")
    streamed = breadth_parquet(tmp_path, source="raw")
    pd.testing.assert_frame_equal(streamed, memory_breadth(raw))
    assert streamed.attrs["rows"] == len(raw)
    assert streamed["date"].dt.year.nunique() >= 6  # 2019..2025: state crosses 6 partitions


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(1, 6))
def test_any_chunking_equals_memory(seed: int, n_chunks: int) -> None:
    rng = np.random.default_rng(seed)
    n_codes, n_dates = 7, 90
    dates = pd.bdate_range("2021-01-04", periods=n_dates).as_unit("s")
    rows = []
    for c in range(n_codes):
        have = rng.random(n_dates) < 0.85  # own bars with gaps, never forward-filled
        px = np.round(10 * np.exp(np.cumsum(rng.normal(0, 0.08, n_dates))), 2)
        px[rng.random(n_dates) < 0.1] = 10.0  # exact ties with the previous close
        rows.append(pd.DataFrame({"code": f"C{c}", "date": dates[have], "close": px[have]}))
    frame = pd.concat(rows, ignore_index=True)
    cuts = np.sort(rng.choice(np.arange(1, n_dates), n_chunks - 1, replace=False))
    edges = [dates[0], *dates[cuts], dates[-1] + pd.Timedelta(days=1)]
    chunks = [frame[(frame["date"] >= a) & (frame["date"] < b)]
              for a, b in itertools.pairwise(edges)]
    chunks = [c.iloc[rng.permutation(len(c))] for c in chunks]  # any row order in a chunk
    streamed = stream_breadth(chunks)
    pd.testing.assert_frame_equal(streamed, memory_breadth(frame))
    slow = slow_breadth(frame)
    for col in INT_COLS:
        assert np.array_equal(streamed[col].to_numpy(), slow[col].to_numpy()), col


def test_bad_input(tmp_path: Path) -> None:
    sb = StreamingBreadth()
    d = pd.Timestamp("2024-01-02")
    sb.add(pd.DataFrame({"code": ["A"], "date": [d], "close": [10.0]}))
    with pytest.raises(ValidationError, match="date order"):
        sb.add(pd.DataFrame({"code": ["A"], "date": [d], "close": [10.0]}))
    with pytest.raises(ValidationError, match="positive"):
        StreamingBreadth().add(pd.DataFrame({"code": ["A"], "date": [d], "close": [-1.0]}))
    with pytest.raises(ValidationError, match="no bars"):
        stream_breadth([])
    with pytest.raises(MissingDataError, match="bars_daily"):
        breadth_parquet(tmp_path)
