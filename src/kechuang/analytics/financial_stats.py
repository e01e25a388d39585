"""Financial statistics of STAR companies from the `financials` table, with the definitions of
star-market-reference.md section 9:

- R&D intensity = R&D / operating revenue. R&D is 研发投入 (`rd_investment`, incl. capitalised
  R&D) by default, as SSE statistics and listing standard 2 use; 研发费用 (`rd_expense`, expensed
  R&D) on request. One is never filled in for the other.
- Net profit for "profitable" counts = lower of before/after non-recurring items (section 4);
  totals are of net profit as reported (`net_profit`) and, separately, the deducted figure.
- R&D as a multiple of net profit = total R&D / total net profit, undefined when total net
  profit <= 0.
- Year-on-year change of total R&D: like for like (companies with R&D in both years).
- Three-year R&D CAGR: over the three fiscal years Y-2..Y (two growth periods), the window
  standard 2 uses: (R&D_Y / R&D_{Y-2}) ** (1/2) - 1, companies with positive R&D in both years.
- Intensity above 20% for three consecutive years: years Y-2, Y-1 and Y all > 20%.
- Overseas revenue share = overseas / classified (overseas + domestic) segment revenue where a
  region breakdown exists, else overseas_revenue / revenue.

Frames in, a Section out; where the data cannot support a statistic it becomes a gap, never a
number."""

from __future__ import annotations

import numpy as np
import pandas as pd

from kechuang.analytics.figures import Section
from kechuang.core.errors import ValidationError

RD_MEASURES = {"rd_investment": "研发投入 (R&D investment, incl. capitalised)",
               "rd_expense": "研发费用 (expensed R&D)"}
INTENSITY_BINS = [0.0, 0.05, 0.10, 0.15, 0.20, 0.30, np.inf]
INTENSITY_LABELS = ["<5%", "5-10%", "10-15%", "15-20%", "20-30%", ">=30%"]
HIGH_INTENSITY = 0.20


def _fy(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    pe = pd.to_datetime(out["period_end"])
    out = out[(pe.dt.month == 12) & (pe.dt.day == 31)].copy()  # annual statements only
    out["fy"] = pd.to_datetime(out["period_end"]).dt.year
    return out


def _bn(x: float) -> float:
    return round(float(x) / 1e9, 3)


def profit_revenue_stats(fin: pd.DataFrame, dataset: str, years: list[int] | None = None
                         ) -> Section:
    """Revenue, profit and cash-flow statistics per fiscal year (no R&D needed)."""
    sec = Section("Revenue, profit and cash flow")
    f = _fy(fin)
    for fy in sorted(set(f["fy"])) if years is None else years:
        g = f[f["fy"] == fy]
        as_of = f"FY{fy}"
        if g.empty:
            sec.gap(f"FY{fy} statistics", "no statements for this fiscal year in the store")
            continue
        rev = g["revenue"].dropna()
        sec.add(f"fy{fy}_companies", f"Companies with statements, FY{fy}", len(g), as_of,
                dataset, "companies")
        sec.add(f"fy{fy}_revenue_total", f"Total revenue, FY{fy}", _bn(rev.sum()), as_of,
                dataset, "CNY bn", f"{len(rev)} companies with revenue")
        np_ = g["net_profit"].dropna()
        sec.add(f"fy{fy}_net_profit_total", f"Total net profit, FY{fy}", _bn(np_.sum()), as_of,
                dataset, "CNY bn", f"{len(np_)} companies")
        both = g.dropna(subset=["net_profit", "net_profit_deducted"])
        lower = np.minimum(both["net_profit"], both["net_profit_deducted"])
        sec.add(f"fy{fy}_profitable", f"Profitable companies (lower of before/after "
                f"non-recurring > 0), FY{fy}", int((lower > 0).sum()), as_of, dataset,
                "companies", f"of {len(both)} with both profit figures")
        prev = f[f["fy"] == fy - 1].set_index("code")["revenue"]
        cur = g.set_index("code")["revenue"]
        pair = pd.concat([prev.rename("p"), cur.rename("c")], axis=1).dropna()
        pair = pair[pair["p"] > 0]
        if len(pair):
            growth = pair["c"] / pair["p"] - 1
            sec.add(f"fy{fy}_revenue_growth_median", f"Median revenue growth, FY{fy}",
                    round(float(growth.median()) * 100, 1), as_of, dataset, "%",
                    f"{len(pair)} companies with FY{fy - 1} and FY{fy}")
        cfo = g["cfo"].dropna()
        if len(cfo):
            sec.add(f"fy{fy}_cfo_total", f"Total operating cash flow, FY{fy}", _bn(cfo.sum()),
                    as_of, dataset, "CNY bn", f"{int((cfo < 0).sum())} of {len(cfo)} negative")
    return sec


def overseas_stats(fin: pd.DataFrame, segments: pd.DataFrame | None, dataset: str) -> Section:
    """Overseas revenue share per fiscal year: the aggregate and the median company share."""
    sec = Section("Overseas revenue")
    f = _fy(fin)
    shares: dict[int, pd.Series] = {}
    if segments is not None and len(segments):
        s = segments[segments["breakdown"] == "location"].copy()
        pe = pd.to_datetime(s["report_date"])
        s = s[(pe.dt.month == 12) & (pe.dt.day == 31)]
        s["fy"] = pd.to_datetime(s["report_date"]).dt.year
        t = s.pivot_table(index=["fy", "code"], columns="region_class", values="revenue",
                          aggfunc="sum", fill_value=0.0)
        for col in ("overseas", "domestic"):
            if col not in t.columns:
                t[col] = 0.0
        classified = t["overseas"] + t["domestic"]
        t = t[(classified > 0).to_numpy()
              & t.index.get_level_values("fy").isin(set(f["fy"]))]
        for fy, g in t.groupby(level="fy"):
            shares[int(str(fy))] = (g["overseas"] / (g["overseas"] + g["domestic"])
                                    ).droplevel("fy")
            agg = float(g["overseas"].sum() / (g["overseas"] + g["domestic"]).sum())
            sec.add(f"fy{fy}_overseas_share_total",
                    f"Overseas share of classified segment revenue, all companies, FY{fy}",
                    round(agg * 100, 1), f"FY{fy}", dataset + " (revenue_segments)", "%",
                    f"{len(g)} companies with a region breakdown")
    for fy in sorted(set(f["fy"])):
        if fy in shares:
            sh = shares[fy]
            src = "classified segment revenue"
        else:
            g = f[(f["fy"] == fy) & f["overseas_revenue"].notna() & (f["revenue"] > 0)]
            if g.empty:
                sec.gap(f"overseas share FY{fy}", "no region breakdown or overseas revenue")
                continue
            sh = g.set_index("code")["overseas_revenue"] / g.set_index("code")["revenue"]
            src = "overseas_revenue / revenue"
        sec.add(f"fy{fy}_overseas_share_median", f"Median company overseas revenue share, "
                f"FY{fy}", round(float(sh.median()) * 100, 1), f"FY{fy}", dataset, "%",
                f"{len(sh)} companies; {src}; {int((sh > 0).sum())} with overseas revenue")
    return sec


def rd_stats(fin: pd.DataFrame, dataset: str, measure: str = "rd_investment") -> Section:
    """R&D statistics per fiscal year on companies whose statements carry the R&D measure."""
    if measure not in RD_MEASURES:
        raise ValidationError(f"unknown R&D measure {measure!r} (expected "
                              f"{', '.join(RD_MEASURES)})")
    sec = Section(f"R&D ({RD_MEASURES[measure]})")
    f = _fy(fin)
    f = f[f[measure].notna()]
    if f.empty:
        sec.gap(f"R&D statistics ({measure})",
                "no statements with this R&D line in the store (the bundled statements have "
                "none; load an export with `kechuang ingest FILE --kind financials`)")
        return sec
    other = "rd_expense" if measure == "rd_investment" else "rd_investment"
    for fy in sorted(set(f["fy"])):
        g = f[f["fy"] == fy].set_index("code")
        as_of = f"FY{fy}"
        total = float(g[measure].sum())
        sec.add(f"fy{fy}_rd_total", f"Total R&D, FY{fy}", _bn(total), as_of, dataset, "CNY bn",
                f"{len(g)} companies; {measure}")
        prev = f[f["fy"] == fy - 1].set_index("code")[measure]
        common = g.index.intersection(prev.index)
        if len(common) and prev[common].sum() > 0:
            yoy = g.loc[common, measure].sum() / prev[common].sum() - 1
            sec.add(f"fy{fy}_rd_yoy", f"Total R&D change on FY{fy - 1} (like for like)",
                    round(float(yoy) * 100, 1), as_of, dataset, "%",
                    f"{len(common)} companies in both years")
        else:
            sec.gap(f"R&D year-on-year change FY{fy}", f"no company has {measure} in both "
                    f"FY{fy - 1} and FY{fy}")
        npsum = g["net_profit"].dropna()
        common_np = g.loc[npsum.index]
        if len(npsum) and npsum.sum() > 0:
            sec.add(f"fy{fy}_rd_to_net_profit", f"R&D as a multiple of net profit, FY{fy}",
                    round(float(common_np[measure].sum() / npsum.sum()), 2), as_of, dataset,
                    "x", f"{len(npsum)} companies with net profit")
        else:
            sec.gap(f"R&D / net profit FY{fy}", "total net profit is not positive: the "
                    "multiple is undefined")
        pos = g[g["revenue"] > 0]
        intensity = pos[measure] / pos["revenue"]
        if len(intensity):
            sec.add(f"fy{fy}_rd_intensity_median", f"Median R&D intensity, FY{fy}",
                    round(float(intensity.median()) * 100, 1), as_of, dataset, "%",
                    f"{len(intensity)} companies with revenue > 0")
            cut = pd.cut(intensity, INTENSITY_BINS, labels=INTENSITY_LABELS, right=False)
            counts = cut.value_counts()
            sec.add(f"fy{fy}_rd_intensity_distribution", f"Companies by R&D intensity, FY{fy}",
                    {k: int(counts.get(k, 0)) for k in INTENSITY_LABELS}, as_of, dataset,
                    "companies")
        n_other = int(g[other].notna().sum())
        if n_other:
            sec.add(f"fy{fy}_rd_{other}_total", f"Total {other} (kept separate), FY{fy}",
                    _bn(g[other].sum()), as_of, dataset, "CNY bn", f"{n_other} companies")
    _multi_year(sec, f, measure, dataset)
    return sec


def _intensity_panel(f: pd.DataFrame, measure: str) -> pd.DataFrame:
    pos = f[f["revenue"] > 0]
    return (pos.assign(i=pos[measure] / pos["revenue"])
            .pivot_table(index="code", columns="fy", values="i"))


def _multi_year(sec: Section, f: pd.DataFrame, measure: str, dataset: str) -> None:
    last = int(f["fy"].max())
    window = [last - 2, last - 1, last]
    panel = _intensity_panel(f, measure)
    label = f"FY{window[0]}-FY{last}"
    if all(y in panel.columns for y in window):
        full = panel[window].dropna()
        high = full[(full > HIGH_INTENSITY).all(axis=1)]
        sec.add("rd_intensity_above_20pct_3y", f"Companies with R&D intensity above 20% in "
                f"each of {label}", len(high), label, dataset, "companies",
                f"of {len(full)} with all three years: {', '.join(sorted(high.index))}")
        rd = f.pivot_table(index="code", columns="fy", values=measure)
        pair = rd[[window[0], last]].dropna()
        pair = pair[(pair > 0).all(axis=1)]
        if len(pair):
            cagr = (pair[last] / pair[window[0]]) ** 0.5 - 1
            agg = (pair[last].sum() / pair[window[0]].sum()) ** 0.5 - 1
            sec.add("rd_cagr_3y_median", f"Median three-year R&D CAGR, {label}",
                    round(float(cagr.median()) * 100, 1), label, dataset, "%",
                    f"{len(pair)} companies; (R&D_{last} / R&D_{window[0]})^(1/2) - 1")
            sec.add("rd_cagr_3y_aggregate", f"Three-year CAGR of total R&D, {label}",
                    round(float(agg) * 100, 1), label, dataset, "%",
                    f"same {len(pair)} companies")
            return
    sec.gap(f"three-year R&D statistics ending FY{last}",
            f"R&D for all of FY{window[0]}..FY{last} is not in the store")
