"""Reading a Hive-partitioned Parquet export (``Store.export_parquet``, or the synthetic market's
``write_parquet``) one partition at a time, so that nothing needs the whole table in memory."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

from kechuang.core.errors import MissingDataError, ValidationError


def bars_folder(directory: str | Path) -> Path:
    """The `bars_daily` folder of an export (or the folder itself if it is one)."""
    root = Path(directory)
    folder = root if root.name == "bars_daily" else root / "bars_daily"
    if not folder.is_dir():
        raise MissingDataError(f"no bars_daily folder in {root} (write one with "
                               f"`kechuang export` / Store.export_parquet)")
    return folder


def year_partitions(directory: str | Path) -> list[tuple[int, Path]]:
    """(year, folder) of every `year=YYYY` partition, in year order."""
    folder = bars_folder(directory)
    parts = []
    for p in folder.iterdir():
        if p.is_dir() and p.name.startswith("year="):
            try:
                parts.append((int(p.name.split("=", 1)[1]), p))
            except ValueError:
                raise ValidationError(f"partition folder {p.name!r} is not year=YYYY",
                                      path=str(p)) from None
    if not parts:
        raise MissingDataError(f"no year=YYYY partitions in {folder}")
    return sorted(parts)


def iter_bars(directory: str | Path, source: str = "raw",
              columns: Sequence[str] = ("code", "date", "close"), sort: bool = True
              ) -> Iterator[tuple[int, pd.DataFrame]]:
    """Yield (year, bars of `source` in that year), one partition at a time, sorted by
    (code, date) unless `sort` is False; only `columns` are read, `code` as a categorical."""
    import pyarrow.dataset as ds

    cols = list(dict.fromkeys(["code", "date", *columns]))
    for year, part in year_partitions(directory):
        files = sorted(part.glob("*.parquet"))
        if not files:
            continue
        data = ds.dataset([str(f) for f in files], format="parquet")
        names = set(data.schema.names)
        missing = [c for c in cols if c not in names]
        if missing:
            raise ValidationError(f"partition year={year} lacks columns {missing}",
                                  path=str(part))
        flt = (ds.field("source") == source) if "source" in names else None
        df = data.to_table(columns=cols, filter=flt).to_pandas(strings_to_categorical=True,
                                                               date_as_object=False)
        df["date"] = df["date"].astype("datetime64[s]")
        if sort:
            df = df.sort_values(["code", "date"], kind="stable").reset_index(drop=True)
        yield year, df
