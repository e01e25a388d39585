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
    suspended stock keeps its last value), per source. Rows without market values (e.g. share
    counts a user loaded) are valued at that day's unadjusted close from `bars_daily`."""
    return s.query(
        "SELECT sh.code, sh.date, "
        "coalesce(sh.total_mv, sh.total_shares * b.close) AS total_mv, "
        "coalesce(sh.float_mv, sh.float_shares * b.close) AS float_mv, sh.source "
        "FROM shares sh LEFT JOIN bars_daily b ON b.code = sh.code AND b.date = sh.date "
        "AND b.source = 'raw' WHERE sh.date <= ? AND sh.date >= ? "
        "QUALIFY row_number() OVER (PARTITION BY sh.source, sh.code ORDER BY sh.date DESC) = 1",
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


def growth_tier(on: str | dt.date, list_date: str | dt.date,
                annual_profits: list[dict[str, Any]], revenue: float | None = None
                ) -> list[listing.TestResult]:
    """Growth-tier entry and the applicable exit test (section 5) from audited annual profits
    (`year`, `net_profit`, `net_profit_deducted`, CNY). The year before listing is the last
    fiscal year ending before `list_date`."""
    d, ld = _date(on, "date"), parse_date(list_date, what="list_date")
    years: list[listing.YearProfit] = []
    for i, y in enumerate(annual_profits):
        try:
            years.append(listing.YearProfit(int(y["year"]), listing.parse_amount(
                y["net_profit"], "net_profit"), listing.parse_amount(
                y["net_profit_deducted"], "net_profit_deducted")))
        except KeyError as e:
            raise ValidationError(f"annual_profits[{i}] lacks {e.args[0]!r} (needs year, "
                                  "net_profit, net_profit_deducted)") from None
    years.sort(key=lambda y: y.year)
    before = [y for y in years if dt.date(y.year, 12, 31) < ld]
    if not before:
        raise ValidationError("annual_profits has no fiscal year ending before list_date "
                              f"{ld} (needed for 'unprofitable at listing')",
                              column="annual_profits")
    at_listing, since = before[-1], [y for y in years if y.year > before[-1].year]
    entry = listing.growth_tier_entry(d, ld, at_listing, since)
    out = [entry]
    if entry.status == "met":
        if ld >= listing.GROWTH_TIER_FROM:
            done = [y for y in since if dt.date(y.year, 12, 31) < d]
            if len(done) >= 2:
                out.append(listing.growth_tier_exit_new((done[-1], done[-2]), revenue, d))
            else:
                out.append(listing.TestResult(
                    "growth_tier_exit_new", "missing", "cannot decide: needs two audited years "
                    "after listing", (), ("annual_profits",), "star-market-reference.md "
                    "section 5"))
        else:
            out.append(listing.growth_tier_exit_existing(since, d))
    return out


# -- early companies through the checker -------------------------------------------------------

def _companies(s: Store, code: str | None = None) -> pd.DataFrame:
    where = "s.code = ?" if code else "s.code IN (SELECT DISTINCT code FROM financials)"
    return s.query(
        "SELECT s.code, s.name, s.list_date, s.flag_w, starts_with(s.code, '689') AS red_chip,"
        " b.pre_close * sh.total_shares AS ipo_mv, sh.total_mv AS first_day_mv "
        "FROM securities s "
        "LEFT JOIN bars_daily b ON b.code = s.code AND b.date = s.list_date "
        "  AND b.source = 'raw' "
        "LEFT JOIN shares sh ON sh.code = s.code AND sh.date = s.list_date "
        f"WHERE {where} ORDER BY s.code", [code] if code else [])


def check_listed_company(code: str, db: PathLike | None = None) -> tuple[
        listing.ListingCheck, dict[str, Any]]:
    """One listed company through the checker with its pre-listing figures from the store."""
    from kechuang.analytics import listing_table as lt

    c = known_code(code, db)
    with open_store(db) as s:
        company = _companies(s, c).to_dict("records")[0]
        fin = s.query("SELECT * FROM financials WHERE code = ?", [c])
    figs, info = lt.prelisting_figures(fin, company)
    if figs is None:
        raise MissingDataError(f"{c}: no annual statement before its listing date "
                               f"{str(company['list_date'])[:10]} in the store")
    on = max(pd.Timestamp(company["list_date"]).date(), listing.BOARD_OPEN)
    info.update({"code": c, "name": company["name"], "list_date": str(on),
                 "market_value_used": "IPO price x listing-day total shares"})
    return listing.check_listing(figs, on), info


def listing_table(db: PathLike | None = None) -> pd.DataFrame:
    """The companies with bundled statements run through the checker with pre-listing figures
    (see kechuang.analytics.listing_table for what stands in for expected market value)."""
    from kechuang.analytics import listing_table as lt

    with open_store(db) as s:
        fin = s.query("SELECT * FROM financials")
        companies = _companies(s)
    if companies.empty:
        raise MissingDataError("no statements in the store to run the checker on")
    return lt.checker_table(fin, companies)


# -- financial statistics ----------------------------------------------------------------------

def financial_stats(db: PathLike | None = None, measure: str = "rd_investment"
                    ) -> list[Section]:
    """Revenue/profit/cash-flow, overseas revenue and R&D statistics from `financials`."""
    from kechuang.analytics import financial_stats as fs

    with open_store(db) as s:
        fin = s.query("SELECT * FROM financials")
        seg = s.query("SELECT * FROM revenue_segments")
        ds = _datasets(s)
    if fin.empty:
        raise MissingDataError("no statements in the store (table financials is empty)")
    label, _ = _label(ds, "financials")
    sources = sorted(set(fin["source"].dropna()))
    dataset = f"{label}" + (f"; sources in table: {', '.join(sources)}" if len(sources) > 1
                            else "")
    bundled = fin[fin["rd_investment"].isna() & fin["rd_expense"].isna()]
    return [fs.profit_revenue_stats(bundled if len(bundled) else fin, dataset),
            fs.overseas_stats(fin, seg, dataset),
            fs.rd_stats(fin, dataset, measure)]


def ingest_financials(path: PathLike, db: PathLike | None = None) -> dict[str, int]:
    """Check and load a statements file (kind `financials`, CNY; see docs/board.md)."""
    from kechuang.data.ingest import ingest_file

    return ingest_file(path, "financials", db).rows


# -- bonds -------------------------------------------------------------------------------------

# A single sci-tech bond above CNY 500 亿 (50 bn) would be several times the largest reported
# issue (CNY 300 亿, China Construction Bank; kcz_bonds): such a value is a unit error.
MAX_BOND_AMOUNT_100M = 500.0


def ingest_bonds(path: PathLike, db: PathLike | None = None) -> dict[str, int]:
    """Check and load an issue-level bonds file (kind `bonds`): ratings, issuer types and venues
    from closed lists, amounts > 0 in CNY 100m and not implausibly large."""
    from kechuang.data.ingest import ingest_file
    from kechuang.data.validate import file_format

    p = Path(path)
    fmt = file_format(p)
    if fmt == "csv":
        raw = pd.read_csv(p, dtype=str, keep_default_na=False)
        if "amount_cny_100m" in raw.columns:
            amounts = pd.to_numeric(raw["amount_cny_100m"], errors="coerce")
            big = amounts > MAX_BOND_AMOUNT_100M
            if big.any():
                row = int(big.to_numpy().nonzero()[0][0]) + 1
                raise ValidationError(
                    f"{raw['amount_cny_100m'].iloc[row - 1]} (CNY 100m) is implausibly large "
                    f"for one bond (> {MAX_BOND_AMOUNT_100M:g}); amounts are in CNY 100m (亿元)",
                    path=str(p), row=row, column="amount_cny_100m")
    return ingest_file(p, "bonds", db).rows


def bond_stats(as_of: str | dt.date | None = None, db: PathLike | None = None
               ) -> list[Section]:
    from kechuang.analytics import bonds as ab

    with open_store(db) as s:
        b = s.query("SELECT * FROM bonds")
        agg = s.query("SELECT * FROM bond_aggregates")
        ds = _datasets(s)
    if as_of is None:
        d = pd.Timestamp(b["issue_date"].max()).date() if len(b) else dt.date.today()
    else:
        d = _date(as_of)
    bl, _ = _label(ds, "bonds")
    al, _ = _label(ds, "bond_aggregates")
    if as_of is not None:  # only figures published for windows ending by the date
        agg = agg[pd.to_datetime(agg["period_end"]) <= pd.Timestamp(d)]
    return [ab.bond_stats(b, f"bonds: {bl}", d), ab.reported_aggregates(agg, f"{al}")]


# -- screens -----------------------------------------------------------------------------------

def screens(as_of: str | dt.date, db: PathLike | None = None, codes: list[str] | None = None,
            extras: PathLike | None = None, mapping: PathLike | None = None) -> pd.DataFrame:
    """Screens for listed companies on `as_of` (all, or `codes`). `extras` is an optional CSV
    with code, patents, invention_patents, order_backlog, backlog_source."""
    from kechuang.analytics import screens as sc

    d = _date(as_of)
    table = census_mod.load_cluster_mapping(mapping)
    want = [normalize_code(c) for c in codes] if codes else None
    with open_store(db) as s:
        src = census_sources(s)
        _check_as_of(d, src)
        sec = census_mod.listed_at(s.query("SELECT * FROM securities"), d).copy()
        if want:
            unknown = sorted(set(want) - set(sec["code"]))
            if unknown:
                raise UnknownCodeError(f"unknown code {unknown[0]}: not a listed STAR "
                                       f"security on {d}")
            sec = sec[sec["code"].isin(want)]
        fin = s.query("SELECT * FROM financials")
        sh = _shares_near(s, d)
    sec["cluster"] = census_mod.assign_clusters(sec, table).to_numpy()
    published = pd.to_datetime(fin["period_end"]) + pd.DateOffset(months=4)
    fin = fin[(published <= pd.Timestamp(d)) & (pd.to_datetime(fin["period_end"]).dt.month == 12)]
    fin = fin.sort_values("period_end")
    fin["net_profit_prev"] = fin.groupby("code")["net_profit"].shift(1)
    prev_year = fin.groupby("code")["period_end"].shift(1)
    gap_year = (pd.to_datetime(fin["period_end"]).dt.year
                - pd.to_datetime(prev_year).dt.year) != 1
    fin.loc[gap_year, "net_profit_prev"] = None
    # Only the fiscal year whose annual report is due by the date counts (due four months after
    # year end); an older statement is stale for a valuation on `d` and is not used.
    due_fy = d.year - 1 if (d.month, d.day) >= (5, 1) else d.year - 2
    latest = fin.groupby("code").tail(1)
    latest = latest[pd.to_datetime(latest["period_end"]).dt.year == due_fy].set_index("code")
    mv = sh.sort_values("source").groupby("code").tail(1).set_index("code")
    rows = []
    for r in sec.to_dict("records"):
        c = r["code"]
        row: dict[str, Any] = {"code": c, "name": r["name"], "cluster": r["cluster"]}
        total_mv: Any = mv.at[c, "total_mv"] if c in mv.index else None
        if total_mv is not None and not pd.isna(total_mv):
            row["market_value"] = float(total_mv)
            row["mv_date"] = str(mv.at[c, "date"])[:10]
        if c in latest.index:
            f = latest.loc[c]
            row.update({"fy": int(pd.Timestamp(f["period_end"]).year),
                        "revenue": f["revenue"], "net_profit": f["net_profit"],
                        "net_profit_prev": f["net_profit_prev"], "rd": f["rd_investment"],
                        "cfo": f["cfo"], "cfi": f["cfi"], "cff": f["cff"]})
        rows.append(row)
    frame = pd.DataFrame(rows)
    if extras is not None:
        ex = _load_extras(extras)
        frame = frame.merge(ex, on="code", how="left")
    return sc.screen(frame)


EXTRA_COLUMNS = {"code": str, "patents": float, "invention_patents": float,
                 "order_backlog": float, "backlog_source": str}


def _load_extras(path: PathLike) -> pd.DataFrame:
    p = Path(path)
    if not p.exists():
        raise ValidationError("no such file", path=str(p))
    ex = pd.read_csv(p, dtype=str, keep_default_na=False)
    if "code" not in ex.columns:
        raise ValidationError("missing column 'code'", path=str(p), column="code")
    for col in ex.columns:
        if col not in EXTRA_COLUMNS:
            raise ValidationError(f"unknown column (expected {', '.join(EXTRA_COLUMNS)})",
                                  path=str(p), column=col)
        if EXTRA_COLUMNS[col] is float:
            vals = pd.to_numeric(ex[col].replace("", None), errors="coerce")
            bad = vals.isna() & (ex[col] != "") | (vals < 0)
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0]) + 1
                raise ValidationError(f"{ex[col].iloc[row - 1]!r} is not a non-negative number",
                                      path=str(p), row=row, column=col)
            ex[col] = vals
    ex["code"] = [normalize_code(c) for c in ex["code"]]
    return ex


# -- board report ------------------------------------------------------------------------------

def _screens_section(as_of: dt.date, db: PathLike | None) -> Section:
    from kechuang.analytics.figures import INSUFFICIENT

    sec = Section(f"Screens on {as_of} (valuation, lifecycle, R&D intensity)")
    out = screens(as_of, db)
    d = str(as_of)
    ds = "securities + shares + financials"
    n = len(out)
    for col, label in (("ps", "PS"), ("price_to_rd", "price to R&D"), ("peg", "PEG"),
                       ("lifecycle", "Dickinson lifecycle stage")):
        ok = out[col].map(lambda v: v != INSUFFICIENT and not str(v).startswith("not defined"))
        sec.add(f"screen_{col}_coverage", f"Companies with a {label}", int(ok.sum()), d, ds,
                "companies", f"of {n}; the rest print 'insufficient data' or 'not defined'")
    ps = out[out["ps"].map(lambda v: isinstance(v, float))]
    if len(ps):
        med = ps.groupby("cluster")["ps"].median().round(2)
        sec.add("screen_ps_median_by_cluster", "Median PS by cluster",
                {census_mod.CLUSTER_LABELS.get(str(k), str(k)): float(v)
                 for k, v in med.items()}, d, ds, "x",
                "market value on the share date / revenue of the last published fiscal year")
    else:
        sec.gap(f"valuation screens on {as_of}", "no market value for listed companies on this "
                "date (share data cover 2019-07-22..2022-01-14 and 50 codes in 2025-2026)")
    stages = out["lifecycle"].value_counts()
    sec.add("screen_lifecycle_stages", "Companies by lifecycle stage",
            {str(k): int(v) for k, v in stages.items()}, d, ds, "companies",
            "Dickinson (2011) needs CFO, CFI and CFF; the bundled statements have CFO only")
    return sec


def _cmp_row(p: dict[str, str], ours: str, ours_as_of: str, why: str) -> dict[str, str]:
    return {"metric": p["metric"], "sse": p["value"], "sse_as_of": p["as_of"], "ours": ours,
            "ours_as_of": ours_as_of, "explanation": why}


def comparison(db: PathLike | None = None) -> list[dict[str, str]]:
    """Our figures on the SSE's dates next to the SSE-published ones (reference section 10)."""
    from kechuang.reports.board import SSE_PUBLISHED

    pub = {p["key"]: p for p in SSE_PUBLISHED}
    with open_store(db) as s:
        snap = census_sources(s).master_as_of

    def cen(d: str) -> Section | None:
        return census(d, db) if dt.date.fromisoformat(d) <= snap else None

    rows: list[dict[str, str]] = []
    for key, d in (("listed_2024_11_05", "2024-11-05"), ("listed_2024_12_31", "2024-12-31"),
                   ("listed_2025_06_12", "2025-06-12"), ("listed_2025_07_22", "2025-07-22")):
        c = cen(d)
        if c is None:
            continue
        ours = c.get("listed_companies").value
        sse = int(pub[key]["value"])
        why = ("agrees" if ours == sse else
               f"differs by {ours - sse:+d}: the source's delisting coverage is unverified "
               "(only 2 delistings) and SSE cut-offs can differ by a day")
        rows.append(_cmp_row(pub[key], str(ours), d, why))
    a, b = cen("2025-11-01"), cen("2025-11-30")
    if a and b:
        lo, hi = a.get("listed_companies").value, b.get("listed_companies").value
        rows.append(_cmp_row(pub["listed_2025_11"], f"{lo} .. {hi}", "2025-11-01 .. 2025-11-30",
                             "the SSE's day is not given; our count is 592 for part of the "
                             "month" if lo <= 592 <= hi else "the SSE's day is not given"))
    a, b = cen("2026-01-01"), cen(str(snap))
    if a and b:
        rows.append(_cmp_row(pub["listed_early_2026"], f"{a.get('listed_companies').value} / "
                             f"{b.get('listed_companies').value}", f"2026-01-01 / {snap}",
                             "the press gives no date; ours reaches 600 by 2026-01-01 and grows "
                             "with later listings"))
    for key in ("mv_2025_06_12", "mv_2024_12_31"):
        rows.append(_cmp_row(pub[key], "not available", pub[key]["as_of"],
                             "no share counts for 2022-2025 in the data (shares README); 2025 "
                             "share data cover only the 50 STAR 50 members, so no board total"))
    c = cen("2025-06-12")
    if c is not None:
        cl = c.get("clusters").value
        rows.append(_cmp_row(pub["ic"], str(cl["integrated circuits"]), "2025-06-12",
                             "only Tushare's 半导体 label maps to IC; chip firms labelled "
                             "元器件, 通信设备 or 软件服务 and test-equipment makers under "
                             "专用机械 are elsewhere, while the SSE counts the whole IC chain"))
        rows.append(_cmp_row(pub["bio"], str(cl["biomedicine"]), "2025-06-12",
                             "医疗保健 + 生物制药 + 化学制药; medical-AI or diagnostics-software "
                             "firms under 软件服务 and bio-materials under 化工原料 are not "
                             "counted, and the labels are those of 2026-03-04"))
        rows.append(_cmp_row(pub["hee"], str(cl["high-end equipment"]), "2025-06-12",
                             "machinery, instruments, aerospace, rail and machine tools; "
                             "semiconductor-equipment makers are labelled 半导体 (counted as "
                             "IC here) and battery/PV equipment makers 电气设备 (new energy), "
                             "which the SSE may count as equipment"))
        from kechuang.analytics import listing_table as lt

        with open_store(db) as s:
            sec_df = s.query("SELECT code, list_date FROM securities "
                             "WHERE list_date <= DATE '2025-06-12'")
            fin = s.query("SELECT * FROM financials")
            nh = s.query("SELECT code, name FROM name_history")
        ever_u = {r["code"] for r in nh.to_dict("records")
                  if census_mod.parse_marks(r["name"])["U"]} & set(sec_df["code"])
        by_stmt = lt.unprofitable_at_listing(fin, sec_df)
        rows.append(_cmp_row(pub["unprofitable_at_listing"],
                             f">= {len(ever_u | by_stmt)}", "2025-06-12",
                             f"a lower bound: {len(ever_u)} companies ever marked U in the names "
                             f"seen from 2024-06-20, plus {len(by_stmt - ever_u)} early "
                             "companies whose last pre-listing statement shows a loss before "
                             "and after non-recurring items; companies that listed unprofitable "
                             "and dropped U before 2024-06-20 without bundled statements are not "
                             "in the data"))
        w = c.get("marks").value["W (weighted voting rights)"]
        rows.append(_cmp_row(pub["special_structures"], str(w), "2025-06-12",
                             "agrees (W marks in the names on the date)" if w == 8 else
                             "W marks in the names on the date; the SSE may count other "
                             "special structures"))
        cdr = c.get("marks").value["CDR (D)"]
        rows.append(_cmp_row(pub["red_chips"], f"{cdr} (CDR only)", "2025-06-12",
                             "only CDR issuers (689xxx, D mark) are identifiable; red chips "
                             "listing ordinary A shares (e.g. SMIC, also listed in Hong Kong) "
                             "carry no mark in the data"))
    rows.append(_cmp_row(pub["std5"], "not available", "-",
                         "no listing-standard field in any bundled dataset"))
    t = cen("2025-07-13")
    if t is not None:
        u = t.get("marks").value["U (unprofitable)"]
        rows.append(_cmp_row(pub["growth_tier"], str(u), "2025-07-13",
                             "agrees: U marks in the names on the day the tier opened" if u == 32
                             else "U marks in the names on the day the tier opened"))
    rows.append(_cmp_row(pub["revenue_2024"], "not available", "-",
                         "bundled statements stop at FY2019 (FY2020 for 5 companies) and cover "
                         "164 early companies"))
    rows.append(_cmp_row(pub["rd_2024"], "not available", "-",
                         "no R&D lines in the bundled statements; load statements "
                         "(kind financials) to compute R&D statistics"))
    rows.append(_cmp_row(pub["ipo_proceeds"], "not available", "-",
                         "no offering data in the bundled datasets"))
    rows.append(_cmp_row(pub["bonds_2024"], "not comparable", "-",
                         "no issue-level list for 2024; the bundled aggregates are 2025 "
                         "all-market and exchange windows, a different scope (section 11 item 7)"))
    return rows


def report_data(as_of: str | dt.date, db: PathLike | None = None) -> dict[str, Any]:
    """Everything the board report shows, as plain data (also the JSON output)."""
    from kechuang.analytics import listing_table as lt

    d = _date(as_of)
    sections: list[Section] = [census(d, db)]
    sections += financial_stats(db)
    sections += bond_stats(d, db)
    sections.append(_screens_section(d, db))
    table = listing_table(db)
    with open_store(db) as s:
        ds = _datasets(s)
        store = str(s.path)
    ds["as_of"] = ds["as_of"].astype(str).str[:10]
    method = ("The 164 companies with bundled statements, each with the figures of its last "
              "three fiscal years before listing. Expected market value is not in the data: the "
              "market value at the IPO price (listing-day exchange pre-close = issue price, "
              "times listing-day total shares) stands in for it; R&D and standard 5's "
              "qualitative conditions are not in the data, so standards 2 and 5 are mostly "
              "undecidable ('?'). Red chips other than CDR issuers are not identified.")
    return {"as_of": str(d), "store": store, "sections": sections,
            "listing_table": {"method": method, "summary": lt.summary(table),
                              "rows": table.to_dict("records")},
            "comparison": comparison(db), "datasets": ds.to_dict("records"),
            "extra_gaps": [
                {"item": "listing standard used by each listed company",
                 "reason": "not in the data; the checker runs on the early companies' "
                           "pre-listing figures instead"},
                {"item": "financing (IPO proceeds, refinancing)",
                 "reason": "no offering data in the bundled datasets"}]}


def report(as_of: str | dt.date, out_dir: PathLike, db: PathLike | None = None
           ) -> dict[str, Any]:
    """Write the board report (Markdown + HTML) to `out_dir`; returns the paths and data."""
    from kechuang.reports import board as rb

    data = report_data(as_of, db)
    paths = rb.write(data, out_dir)
    return {"paths": {k: str(v) for k, v in paths.items()}, "data": data}


def to_jsonable(data: dict[str, Any]) -> dict[str, Any]:
    out = dict(data)
    out["sections"] = [s.to_dict() for s in data["sections"]]
    return out


# -- statements from vendor exports ------------------------------------------------------------

# Column maps from common exports to the `financials` input kind (docs/board.md). 研发投入 is in
# neither vendor's statements: a column named rd_investment passes through unchanged.
EXPORT_COLUMNS: dict[str, dict[str, str]] = {
    "tushare": {"ts_code": "code", "end_date": "period_end", "revenue": "revenue",
                "n_income_attr_p": "net_profit", "profit_dedt": "net_profit_deducted",
                "rd_exp": "rd_expense", "n_cashflow_act": "cfo",
                "n_cashflow_inv_act": "cfi", "n_cash_flows_fnc_act": "cff"},
    "akshare_em": {"SECURITY_CODE": "code", "REPORT_DATE": "period_end",
                   "OPERATE_INCOME": "revenue", "PARENT_NETPROFIT": "net_profit",
                   "DEDUCT_PARENT_NETPROFIT": "net_profit_deducted",
                   "RESEARCH_EXPENSE": "rd_expense", "NETCASH_OPERATE": "cfo",
                   "NETCASH_INVEST": "cfi", "NETCASH_FINANCE": "cff"},
}


def convert_export(path: PathLike, vendor: str) -> pd.DataFrame:
    """A Tushare or AKShare (Eastmoney) statements export (the three statements merged on code
    and period) -> rows of the `financials` kind: renamed, annual rows only, dates ISO, codes
    normalised. Unknown columns are dropped; the required ones must be there."""
    if vendor not in EXPORT_COLUMNS:
        raise ValidationError(f"unknown vendor {vendor!r} (expected "
                              f"{', '.join(EXPORT_COLUMNS)})")
    p = Path(path)
    if not p.exists():
        raise ValidationError("no such file", path=str(p))
    raw = pd.read_csv(p, dtype=str, keep_default_na=False)
    cols = EXPORT_COLUMNS[vendor]
    code_col, date_col, rev_col = list(cols)[:3]
    for c in (code_col, date_col, rev_col):
        if c not in raw.columns:
            raise ValidationError(f"missing column {c!r} for a {vendor} export", path=str(p),
                                  column=c)
    keep = {k: v for k, v in cols.items() if k in raw.columns}
    out = raw[list(keep)].rename(columns=keep)
    if "rd_investment" in raw.columns:
        out["rd_investment"] = raw["rd_investment"]
    dates = pd.to_datetime(out["period_end"].str.slice(0, 10).str.replace("-", ""),
                           format="%Y%m%d", errors="coerce")
    if dates.isna().any():
        row = int(dates.isna().to_numpy().nonzero()[0][0]) + 1
        raise ValidationError(f"{out['period_end'].iloc[row - 1]!r} is not a date", path=str(p),
                              row=row, column=date_col)
    out["period_end"] = dates.dt.strftime("%Y-%m-%d")
    out = out[(dates.dt.month == 12).to_numpy() & (dates.dt.day == 31).to_numpy()].copy()
    out["code"] = [normalize_code(c) for c in out["code"]]
    for c in out.columns:
        if c not in ("code", "period_end"):
            out[c] = pd.to_numeric(out[c].replace("", None), errors="coerce")
    out["source"] = f"{vendor} export {p.name}"
    return out.reset_index(drop=True)


def ingest_export(path: PathLike, vendor: str, db: PathLike | None = None) -> dict[str, int]:
    """Convert a vendor export and load it through the `financials` checks."""
    from kechuang.data.ingest import ingest_frame

    frame = convert_export(path, vendor)
    if frame.empty:
        raise ValidationError("no annual (12-31) rows in the export", path=str(path))
    return ingest_frame(frame, "financials", Path(path).name, f"{vendor} export",
                        db).rows
