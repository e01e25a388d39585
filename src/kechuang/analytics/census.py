"""Board census as of a date: listed companies, new listings per year, listing age, special marks
(U, W, CDR), dated U removals and ST labels, sector clusters and market value where share data
exist. Frames in, a `Section` of dated, sourced figures out; `kechuang.api.board` reads the store.

Marks come from the short-name suffixes (star_master README): inside the name-history window
(2024-06-20..2026-03-04) from the name each code carried on the date; outside it from the
snapshot flags, with the limits stated on each figure."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from kechuang.analytics.figures import Section
from kechuang.core.errors import ValidationError
from kechuang.rules.listing import GROWTH_TIER_FROM

CLUSTERS = ("ic", "biomedicine", "high_end_equipment", "new_gen_it", "new_materials",
            "new_energy", "others")
CLUSTER_LABELS = {"ic": "integrated circuits", "biomedicine": "biomedicine",
                  "high_end_equipment": "high-end equipment", "new_gen_it": "new-generation IT",
                  "new_materials": "new materials", "new_energy": "new energy",
                  "others": "others", "unmapped": "unmapped label"}
UNMAPPED = "unmapped"

# Transient exchange prefixes: N (listing day), C (days 2-5), XD/XR/DR (ex-dividend/rights day)
# (star-market-reference.md section 0). Such names can drop the mark suffix for a day or two.
_TRANSIENT = re.compile(r"^(XD|XR|DR|N|C)(?=[^\x00-\x7f])")
_SUFFIX = re.compile(r"-([UWVD]+)$")


def default_mapping_path() -> Path:
    return Path(str(resources.files("kechuang") / "datasets" / "mappings" /
                    "industry_cluster.csv"))


def load_cluster_mapping(path: str | Path | None = None) -> pd.DataFrame:
    """The industry -> cluster table (shipped one by default); columns industry_label, cluster."""
    p = Path(path) if path is not None else default_mapping_path()
    if not p.exists():
        raise ValidationError("no such file", path=str(p))
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    for col in ("industry_label", "cluster"):
        if col not in df.columns:
            raise ValidationError(f"missing column {col!r} (expected industry_label, cluster, "
                                  "note)", path=str(p), column=col)
    _check_clusters(df, p)
    if df["industry_label"].duplicated().any():
        row = int(np.flatnonzero(df["industry_label"].duplicated().to_numpy())[0]) + 1
        raise ValidationError("duplicate industry_label", path=str(p), row=row,
                              column="industry_label")
    return df


def load_overrides(path: str | Path) -> pd.DataFrame:
    """Per-company cluster overrides: columns code, cluster (note optional)."""
    p = Path(path)
    if not p.exists():
        raise ValidationError("no such file", path=str(p))
    df = pd.read_csv(p, dtype=str, keep_default_na=False)
    for col in ("code", "cluster"):
        if col not in df.columns:
            raise ValidationError(f"missing column {col!r} (expected code, cluster)",
                                  path=str(p), column=col)
    _check_clusters(df, p)
    return df


def _check_clusters(df: pd.DataFrame, p: Path) -> None:
    bad = ~df["cluster"].isin(CLUSTERS)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValidationError(f"{df['cluster'].iloc[row]!r} is not a cluster (expected "
                              f"{', '.join(CLUSTERS)})", path=str(p), row=row + 1,
                              column="cluster")


def assign_clusters(securities: pd.DataFrame, mapping: pd.DataFrame,
                    overrides: pd.DataFrame | None = None) -> pd.Series:
    """Cluster per security (index = securities index); labels not in the table -> 'unmapped'."""
    table = dict(zip(mapping["industry_label"], mapping["cluster"], strict=True))
    out = securities["industry"].fillna("").map(table).fillna(UNMAPPED)
    if overrides is not None and len(overrides):
        by_code = dict(zip(overrides["code"], overrides["cluster"], strict=True))
        hit = securities["code"].isin(by_code)
        out[hit] = securities.loc[hit, "code"].map(by_code)
    return out.astype(str)


@dataclass(frozen=True)
class CensusSources:
    """Labels and coverage of the datasets the census reads (from the store's `datasets`)."""

    master: str
    master_as_of: dt.date
    names: str | None = None
    names_from: dt.date | None = None
    names_to: dt.date | None = None
    shares: str | None = None
    mapping: str = "industry_cluster.csv (shipped mapping, Tushare labels)"


def _d(x: object) -> pd.Timestamp:
    return pd.Timestamp(x)  # type: ignore[arg-type]


def listed_at(securities: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Listed by `as_of` and not delisted on or before it."""
    t = _d(as_of)
    ld = pd.to_datetime(securities["list_date"])
    dd = pd.to_datetime(securities["delist_date"])
    return securities[(ld <= t) & (dd.isna() | (dd > t))]


def parse_marks(name: str) -> dict[str, bool]:
    m = _SUFFIX.search(name or "")
    suffix = m.group(1) if m else ""
    return {"U": "U" in suffix, "W": "W" in suffix, "D": "D" in suffix, "V": "V" in suffix,
            "ST": name.startswith(("ST", "*ST")), "starST": name.startswith("*ST")}


def names_at(name_history: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """The name each code carried on `as_of` (codes seen by then): the row whose interval covers
    the date, preferring a non-transient name (N/C/XD prefixes) and then the latest start; if no
    row covers it (between snapshots), the last row before it."""
    t = _d(as_of)
    nh = name_history.copy()
    nh["first_seen"] = pd.to_datetime(nh["first_seen"])
    nh["last_seen"] = pd.to_datetime(nh["last_seen"])
    nh = nh[nh["first_seen"] <= t]
    nh["covers"] = nh["last_seen"] >= t
    nh["stable"] = ~nh["name"].str.match(_TRANSIENT)
    nh = nh.sort_values(["code", "covers", "stable", "first_seen", "last_seen"])
    return nh.groupby("code", as_index=False).tail(1).reset_index(drop=True)


def u_removals(name_history: pd.DataFrame, until: dt.date) -> pd.DataFrame:
    """Dated U removals: a code's stable name loses the U suffix (date = first day seen without
    it; snapshot spacing makes this exact to a few days)."""
    nh = name_history[~name_history["name"].str.match(_TRANSIENT)].copy()
    nh["first_seen"] = pd.to_datetime(nh["first_seen"])
    nh = nh.sort_values(["code", "first_seen"])
    nh["u"] = nh["name"].map(lambda n: parse_marks(n)["U"])
    nh["prev_u"] = nh.groupby("code")["u"].shift(1)
    nh["prev_name"] = nh.groupby("code")["name"].shift(1)
    out = nh[(nh["prev_u"] == True) & ~nh["u"] & (nh["first_seen"] <= _d(until))]  # noqa: E712
    return out[["code", "prev_name", "name", "first_seen"]].rename(
        columns={"first_seen": "date"}).reset_index(drop=True)


def st_events(name_history: pd.DataFrame, until: dt.date) -> pd.DataFrame:
    """First day each ST / *ST label was seen."""
    nh = name_history.copy()
    nh["first_seen"] = pd.to_datetime(nh["first_seen"])
    st = nh[nh["name"].str.startswith(("ST", "*ST")) & (nh["first_seen"] <= _d(until))]
    return st[["code", "name", "first_seen"]].rename(columns={"first_seen": "date"}) \
        .sort_values(["date", "code"]).reset_index(drop=True)


def census(securities: pd.DataFrame, name_history: pd.DataFrame, shares: pd.DataFrame,
           as_of: dt.date, sources: CensusSources, mapping: pd.DataFrame,
           overrides: pd.DataFrame | None = None) -> Section:
    """The census section. `shares` holds share rows on the last share date <= as_of per
    source (code, date, total_mv, float_mv, source), possibly empty."""
    sec = Section(f"Board census as of {as_of}")
    d = str(as_of)
    master = sources.master
    names = sources.names or "name_history (none loaded)"
    listed = listed_at(securities, as_of).copy()
    n = len(listed)
    sec.add("listed_companies", "Listed STAR securities (listed by the date, not delisted)", n, d,
            master, "companies",
            "delisting coverage of the source is unverified (only 2 delistings appear)")
    sec.add("listed_by_kind", "Listed securities by kind",
            {"shares (688xxx)": int(listed["code"].str.startswith("688").sum()),
             "CDRs (689xxx)": int(listed["code"].str.startswith("689").sum())}, d, master)

    ld = pd.to_datetime(securities["list_date"])
    upto = securities[ld <= _d(as_of)]
    years = pd.to_datetime(upto["list_date"]).dt.year.value_counts().sort_index()
    sec.add("new_listings_by_year", "New listings per year (incl. later delisted)",
            {str(int(y)) + (" (to date)" if int(y) == as_of.year else ""): int(c)
             for y, c in zip(years.index.tolist(), years.tolist(), strict=True)},
            d, master, "companies")

    age = (_d(as_of) - pd.to_datetime(listed["list_date"])).dt.days / 365.25
    if n:
        sec.add("listing_age_median", "Median listing age of listed companies",
                round(float(age.median()), 2), d, master, "years")
        bins = [0, 1, 2, 3, 5, np.inf]
        labels = ["<1y", "1-2y", "2-3y", "3-5y", "5y+"]
        cut = pd.cut(age, bins=bins, labels=labels, right=False).value_counts()
        sec.add("listing_age_distribution", "Listed companies by listing age",
                {k: int(cut.get(k, 0)) for k in labels}, d, master, "companies")

    _marks(sec, listed, securities, name_history, as_of, sources, master, names)

    clusters = assign_clusters(listed, mapping, overrides)
    counts = clusters.value_counts()
    value = {CLUSTER_LABELS[c]: int(counts.get(c, 0)) for c in (*CLUSTERS, UNMAPPED)
             if c != UNMAPPED or counts.get(UNMAPPED, 0)}
    sec.add("clusters", "Listed companies by sector cluster", value, d,
            f"{master}; {sources.mapping}", "companies",
            "industry labels are Tushare's at the master snapshot, applied to every date")
    unmapped = sorted(set(listed.loc[clusters == UNMAPPED, "industry"].fillna("")))
    if unmapped:
        sec.gap("cluster of some companies",
                f"industry labels not in the mapping: {', '.join(repr(u) for u in unmapped)}")

    _market_value(sec, listed, shares, as_of, sources)
    sec.gap("listing standard of each company (standard-5 listings, transfer listing)",
            "no listing-standard field in any bundled dataset (star_master README)")
    sec.gap("IPO proceeds and refinancing", "no offering data in the bundled datasets")
    return sec


def _marks(sec: Section, listed: pd.DataFrame, securities: pd.DataFrame,
           name_history: pd.DataFrame, as_of: dt.date, src: CensusSources, master: str,
           names: str) -> None:
    d = str(as_of)
    in_window = (src.names_from is not None and src.names_to is not None
                 and src.names_from <= as_of <= src.names_to and len(name_history))
    codes = set(listed["code"])
    if in_window:
        cur = names_at(name_history, as_of)
        cur = cur[cur["code"].isin(codes)]
        marks = pd.DataFrame([parse_marks(x) for x in cur["name"]], index=cur.index)
        sec.add("marks", "Listed companies by special mark (from the name on the date)",
                {"U (unprofitable)": int(marks["U"].sum()),
                 "W (weighted voting rights)": int(marks["W"].sum()),
                 "CDR (D)": int(marks["D"].sum())}, d, names, "companies",
                f"codes with a name on the date: {len(cur)} of {len(codes)}")
        if as_of >= GROWTH_TIER_FROM:
            sec.add("growth_tier", "Sci-tech growth tier members (U-marked on the date)",
                    int(marks["U"].sum()), d, names, "companies",
                    "tier entry = unprofitable at listing and still U on 2025-07-13, or listed "
                    "unprofitable later; exit = first profitable year, when U is removed "
                    "(star-market-reference.md section 5)")
        sec.add("st_labels", "Listed companies with an ST or *ST label on the date",
                {"ST": int((marks["ST"] & ~marks["starST"]).sum()),
                 "*ST": int(marks["starST"].sum())}, d, names, "companies")
    else:
        snap = securities[securities["code"].isin(codes)]
        w = int(snap["flag_w"].fillna(False).astype(bool).sum())
        cdr = int(snap["flag_d"].fillna(False).astype(bool).sum())
        sec.add("marks_structural", "W and CDR marks of listed companies (snapshot flags)",
                {"W (weighted voting rights)": w, "CDR (D)": cdr}, d,
                f"{master} (flags at {src.master_as_of})", "companies",
                "W and D mark a share structure, assumed unchanged since listing")
        if as_of >= src.master_as_of:
            u = int(snap["flag_u"].fillna(False).astype(bool).sum())
            sec.add("marks_u", "U (unprofitable) marks", u, str(src.master_as_of), master,
                    "companies", "flags are as of the master snapshot")
        elif src.names_from is not None and as_of < src.names_from and len(name_history):
            # U is removed once, never re-added: a code still U when first seen in the name
            # history was U on every earlier day since listing.
            first = name_history.sort_values("first_seen").groupby("code").head(1)
            first = first[first["code"].isin(codes) & first["name"].map(
                lambda x: parse_marks(x)["U"])]
            sec.add("marks_u_lower_bound", "U (unprofitable) marks, lower bound",
                    len(first), d, names, "companies",
                    f"companies still U when the name history starts ({src.names_from}); "
                    "those that dropped U before it are missing")
            sec.gap(f"exact U count on {as_of}",
                    f"name history starts {src.names_from}; earlier U removals are not dated")
        sec.gap(f"ST labels on {as_of}", "ST labels are dated only inside the name-history "
                f"window {src.names_from}..{src.names_to}")
    if len(name_history):
        ever_u = name_history[name_history["name"].map(lambda x: parse_marks(x)["U"])]
        ever = sorted(set(ever_u["code"]) & set(
            securities.loc[pd.to_datetime(securities["list_date"]) <= _d(as_of), "code"]))
        sec.add("unprofitable_at_listing_lower_bound",
                "Companies unprofitable at listing, lower bound (ever marked U in the names)",
                len(ever), d, names, "companies",
                "misses companies that dropped U before the name history starts")
        rem = u_removals(name_history, as_of)
        sec.add("u_removals", "U removals dated from the name history",
                [{"code": r["code"], "from": r["prev_name"], "to": r["name"],
                  "date": str(r["date"])[:10]} for r in rem.to_dict("records")], d, names,
                "events", f"{len(rem)} removals between {src.names_from} and "
                f"{min(as_of, src.names_to) if src.names_to else as_of}")
        st = st_events(name_history, as_of)
        sec.add("st_events", "ST / *ST labels, first day seen",
                [{"code": r["code"], "name": r["name"], "date": str(r["date"])[:10]}
                 for r in st.to_dict("records")], d, names, "events",
                f"a label seen on {src.names_from} may be older (window start)")


def _market_value(sec: Section, listed: pd.DataFrame, shares: pd.DataFrame, as_of: dt.date,
                  src: CensusSources) -> None:
    codes = set(listed["code"])
    done = False
    for source, g in shares.groupby("source") if len(shares) else []:
        g = g[g["code"].isin(codes) & g["total_mv"].notna()]
        covered = len(set(g["code"]))
        share_date = str(pd.Timestamp(g["date"].max()).date()) if len(g) else None
        if covered == len(codes) and covered > 0 and share_date is not None:
            key = str(source).split("_")[0]
            parts = [p for p in (src.shares or "").split("; ") if key in p]
            label = "; ".join(parts) if parts else f"shares ({source})"
            sec.add("total_market_value", "Total market value of listed companies",
                    round(float(g["total_mv"].sum()) / 1e12, 4), share_date, label, "CNY trn",
                    "A+H companies' H shares valued at the A-share price (shares README)")
            sec.add("float_market_value", "Float market value (tradable A shares)",
                    round(float(g["float_mv"].sum()) / 1e12, 4), share_date, label, "CNY trn",
                    "tradable A shares, not free float in the index sense")
            done = True
        elif covered:
            lacking = sorted(codes - set(g["code"]))
            which = f" (missing: {', '.join(lacking)})" if len(lacking) <= 5 else ""
            sec.gap(f"board market value on {as_of}",
                    f"share data ({source}) cover only {covered} of {len(codes)} listed "
                    f"companies{which}; a partial sum is not a board total")
            done = True
    if not done:
        sec.gap(f"board market value on {as_of}",
                "no share data on or shortly before this date (bundled share counts cover "
                "2019-07-22..2022-01-14 for all codes, 2025-2026 for 50 STAR 50 members only)")
