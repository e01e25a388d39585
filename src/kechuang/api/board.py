"""Board analytics API: reads the store and calls the board analytics (census, financial and
bond statistics, screens), the listing-standard checker, and the board report.

    >>> from kechuang.api import board
    >>> sec = board.census("2025-06-12")            # doctest: +SKIP
    >>> sec.get("listed_companies").value           # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from kechuang.analytics import census as census_mod
from kechuang.analytics.figures import Section
from kechuang.core.dates import parse_date
from kechuang.core.errors import (
    DateRangeError,
    MissingDataError,
    UnknownCodeError,
    ValidationError,
)
from kechuang.core.ids import normalize_code
from kechuang.data.store import Store, open_store
from kechuang.rules import listing

PathLike = str | Path
# Share rows older than this before the as-of date are not used for a market-value figure.
SHARE_STALENESS_DAYS = 10


def _date(value: str | dt.date, what: str = "as-of date") -> dt.date:
    d = parse_date(value, what=what)
    if d < listing.BOARD_OPEN:
        raise DateRangeError(f"{what} {d} is before the STAR Market opened "
                             f"({listing.BOARD_OPEN})")
    return d


def _datasets(s: Store) -> pd.DataFrame:
    return s.query("SELECT name, table_name, source, as_of FROM datasets")


def _present(x: Any) -> bool:
    return x is not None and not bool(pd.isna(x))


def _label(ds: pd.DataFrame, table: str) -> tuple[str | None, dt.date | None]:
    rows = ds[ds["table_name"] == table]
    if rows.empty:
        return None, None
    recs: list[dict[Any, Any]] = rows.to_dict("records")
    parts = [f"{r['name']} ({r['source']}, as of {str(r['as_of'])[:10]})"
             if _present(r["as_of"]) else f"{r['name']} ({r['source']})" for r in recs]
    as_ofs = [pd.Timestamp(r["as_of"]).date() for r in recs if _present(r["as_of"])]
    return "; ".join(parts), (max(as_ofs) if as_ofs else None)


def census_sources(s: Store) -> census_mod.CensusSources:
    ds = _datasets(s)
    master, master_as_of = _label(ds, "securities")
    if master is None or master_as_of is None:
        raise MissingDataError("no company master in the store; run `kechuang ingest "
                               "--bundled` or ingest a securities file")
    names, _ = _label(ds, "name_history")
    rng = s.query("SELECT min(first_seen) AS lo, max(last_seen) AS hi FROM name_history")
    lo, hi = rng["lo"].iloc[0], rng["hi"].iloc[0]
    shares, _ = _label(ds, "shares")
    return census_mod.CensusSources(
        master=master, master_as_of=master_as_of, names=names,
        names_from=None if pd.isna(lo) else pd.Timestamp(lo).date(),
        names_to=None if pd.isna(hi) else pd.Timestamp(hi).date(), shares=shares)


def _check_as_of(d: dt.date, src: census_mod.CensusSources) -> None:
    if d > src.master_as_of:
        raise DateRangeError(f"as-of date {d} is after the company master's snapshot "
                             f"({src.master_as_of}); later listings are not in the data")


def _shares_near(s: Store, d: dt.date) -> pd.DataFrame:
    """Each code's last share row on or before `d` and at most SHARE_STALENESS_DAYS old (a
    suspended stock keeps its last value), per source."""
    return s.query(
        "SELECT code, date, total_mv, float_mv, source FROM shares WHERE date <= ? AND date >= ? "
        "QUALIFY row_number() OVER (PARTITION BY source, code ORDER BY date DESC) = 1",
        [d, d - dt.timedelta(days=SHARE_STALENESS_DAYS)])


def census(as_of: str | dt.date, db: PathLike | None = None, mapping: PathLike | None = None,
           overrides: PathLike | None = None) -> Section:
    """The board census on `as_of` (see kechuang.analytics.census)."""
    d = _date(as_of)
    table = census_mod.load_cluster_mapping(mapping)
    over = census_mod.load_overrides(overrides) if overrides is not None else None
    with open_store(db) as s:
        src = census_sources(s)
        _check_as_of(d, src)
        sec = s.query("SELECT * FROM securities")
        nh = s.query("SELECT code, name, status, first_seen, last_seen FROM name_history")
        sh = _shares_near(s, d)
    if over is not None:
        src = census_mod.CensusSources(**{**src.__dict__, "mapping": f"{mapping or 'shipped'} "
                                          f"+ overrides {overrides}"})
    elif mapping is not None:
        src = census_mod.CensusSources(**{**src.__dict__, "mapping": f"mapping {mapping}"})
    return census_mod.census(sec, nh, sh, d, src, table, over)


# -- listing checker ---------------------------------------------------------------------------

def check_listing(figures: listing.Figures | dict[str, Any], date: str | dt.date
                  ) -> listing.ListingCheck:
    """Run standards 1-5, the red-chip and WVR tests on a company's figures (CNY)."""
    d = _date(date, "date")
    f = figures if isinstance(figures, listing.Figures) else listing.figures_from_mapping(figures)
    return listing.check_listing(f, d)


def load_figures_file(path: PathLike) -> dict[str, Any]:
    """A JSON or YAML file of checker figures (keys of kechuang.rules.listing.Figures, plus an
    optional `date`)."""
    p = Path(path)
    if not p.exists():
        raise ValidationError("no such file", path=str(p))
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix.lower() in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except Exception as e:  # parse errors of either format -> one line
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValidationError(f"cannot be parsed: {first}", path=str(p)) from None
    if not isinstance(data, dict):
        raise ValidationError("must hold a mapping of field: value", path=str(p))
    return data


def known_code(code: str, db: PathLike | None = None) -> str:
    c = normalize_code(code)
    with open_store(db) as s:
        if not s.scalar("SELECT count(*) FROM securities WHERE code = ?", [c]):
            raise UnknownCodeError(f"unknown code {c}: not in the store's securities")
    return c
