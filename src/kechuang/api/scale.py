"""Scale helpers: out-of-core breadth over a Parquet export, and the synthetic market.

``breadth_parquet(directory)`` computes the W4 breadth (benchmarks.md) over the ``bars_daily``
folder of a Hive-partitioned export (``Store.export_parquet`` or
``data.synthetic.write_parquet``), reading one year partition at a time with the per-stock
state carried across (engines.breadth_stream); its memory does not grow with the history."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from kechuang.data.partitions import iter_bars
from kechuang.engines.breadth_stream import StreamingBreadth


def breadth_parquet(directory: str | Path, source: str = "raw") -> pd.DataFrame:
    """W4 breadth, one row per session, over the bars of `source` in a Parquet export."""
    sb = StreamingBreadth()
    for _, df in iter_bars(directory, source, sort=False):
        sb.add(df)
    table = sb.table()
    table.attrs["rows"] = sb.rows
    return table
