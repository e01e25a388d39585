"""Sci-tech bond statistics (star-market-reference.md section 8).

Issue-level rows (the `bonds` table: the bundled 7-row sample and any user file of kind `bonds`)
give statistics by year, issuer type, rating and venue, the SOE share of issuance and benchmark
market-making eligibility. Reported aggregates (the `bond_aggregates` table) are shown one row
at a time with their window, scope and source: their scopes and cut-offs differ, so they are
never added up or merged into one series (reference section 11, item 7)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from kechuang.analytics.figures import Section
from kechuang.rules import bonds as bond_rules

SOE_TYPES = ("central_soe", "local_soe")


def _grouped(df: pd.DataFrame, col: str) -> dict[str, dict[str, float]]:
    g = df.groupby(col, dropna=False).agg(bonds=("bond_id", "count"), amount=("amount", "sum"))
    return {str(k): {"bonds": int(r.bonds), "amount_cny_bn": round(float(r.amount) / 1e9, 3)}
            for k, r in g.sort_index().iterrows()}


def bond_stats(bonds: pd.DataFrame, dataset: str, as_of: dt.date) -> Section:
    sec = Section("Sci-tech bonds (issue level)")
    d = str(as_of)
    b = bonds[pd.to_datetime(bonds["issue_date"]) <= pd.Timestamp(as_of)].copy()
    if b.empty:
        sec.gap("issue-level bond statistics", f"no issue-level bonds on or before {as_of}")
        return sec
    b["year"] = pd.to_datetime(b["issue_date"]).dt.year.astype(str)
    b["issuer_type"] = b["issuer_type"].fillna("unknown")
    b["rating"] = b["rating"].fillna("not rated")
    b["exchange"] = b["exchange"].fillna("unknown")
    odd = b["amount_meaning"].fillna("") != "issued amount"
    note = (f"{int(odd.sum())} of {len(b)} amounts are not issued amounts (caps, re-openings; "
            "see amount_meaning)") if odd.any() else "issued amounts"
    sec.add("bonds_total", "Issue-level bonds in the store", len(b), d, dataset, "bonds",
            f"amount total CNY {b['amount'].sum() / 1e9:,.2f} bn; {note}")
    sec.add("bonds_by_year", "Bonds by issue year", _grouped(b, "year"), d, dataset)
    sec.add("bonds_by_issuer_type", "Bonds by issuer type", _grouped(b, "issuer_type"), d,
            dataset)
    sec.add("bonds_by_rating", "Bonds by issuer rating", _grouped(b, "rating"), d, dataset)
    sec.add("bonds_by_venue", "Bonds by venue", _grouped(b, "exchange"), d, dataset)
    known = b[b["issuer_type"] != "unknown"]
    if len(known) and known["amount"].sum() > 0:
        soe = known[known["issuer_type"].isin(SOE_TYPES)]["amount"].sum()
        sec.add("soe_share_of_amount", "SOE (central + local) share of issuance amount",
                round(float(soe / known["amount"].sum()) * 100, 1), d, dataset, "%",
                f"{len(known)} bonds with a known issuer type"
                + (f"; {len(b) - len(known)} without" if len(known) < len(b) else ""))
    else:
        sec.gap("SOE share of issuance", "no bond with a known issuer type")
    elig: list[dict[str, Any]] = []
    if as_of >= bond_rules.MARKET_MAKING_FROM:
        for r in b.to_dict("records"):
            if bond_rules.market_making_eligible(float(r["amount"]), r["rating"], as_of):
                elig.append({"bond_id": r["bond_id"], "issuer": r["issuer"],
                             "amount_cny_bn": round(float(r["amount"]) / 1e9, 3),
                             "rating": r["rating"]})
        step = bond_rules.MM_MIN_AMOUNT.step_at(as_of)
        sec.add("market_making_eligible", "Bonds eligible for SSE benchmark market-making "
                f"(issue size >= CNY {bond_rules.MM_MIN_AMOUNT.at(as_of) / 1e9:g} bn and "
                f"{bond_rules.MM_RATING})", elig, d, dataset, "bonds",
                f"{len(elig)} of {len(b)}; rule: {step.source if step else ''}")
    else:
        sec.gap("market-making eligibility", "exchange bond market-making started in "
                f"February 2023 ({bond_rules.MARKET_MAKING_FROM})")
    return sec


def reported_aggregates(agg: pd.DataFrame, dataset: str) -> Section:
    """Each reported figure as published: window, scope, metric, value, source. Never summed."""
    sec = Section("Sci-tech bonds: reported aggregates (as published, not comparable)")
    if agg.empty:
        sec.gap("reported bond aggregates", "none in the store")
        return sec
    rows = []
    recs: list[dict[Any, Any]] = agg.sort_values(["period_end", "scope", "metric"]).to_dict(
        "records")
    for r in recs:
        rows.append({"period": f"{str(r['period_start'])[:10]}..{str(r['period_end'])[:10]}",
                     "scope": r["scope"], "metric": r["metric"], "value": r["value"],
                     "unit": r["unit"], "reported_by": r["reported_by"]})
    last = str(pd.to_datetime(agg["period_end"]).max().date())
    sec.add("reported_aggregates", "Reported sci-tech bond aggregates (one row per published "
            "figure)", rows, last, dataset, "", "windows and scopes differ: never add rows")
    big = agg[(agg["metric"] == "issuance_amount") & agg["scope"].str.startswith("all markets")]
    if len(big):
        r = big.sort_values("period_end").to_dict("records")[-1]
        sec.add("latest_all_market_amount", "Latest reported all-market issuance amount",
                float(r["value"]), str(r["period_end"])[:10], f"{dataset}: {r['reported_by']}",
                str(r["unit"]), f"window {str(r['period_start'])[:10]}.."
                f"{str(r['period_end'])[:10]}, scope {r['scope']}")
    soe = agg[(agg["metric"] == "share_of_amount")
              & agg["scope"].isin(["issuer type: central SOE", "issuer type: local SOE"])]
    for (start, end, by), g in soe.groupby(["period_start", "period_end", "reported_by"]):
        if len(g) == 2:  # both SOE kinds from one report and window: their sum is meaningful
            sec.add("reported_soe_share", "SOE share of issuance amount (central + local, one "
                    "report)", round(float(g["value"].sum()), 2), str(end)[:10],
                    f"{dataset}: {by}", "%", f"window {str(start)[:10]}..{str(end)[:10]}; "
                    f"central {g['value'].iloc[0]:g}% + local {g['value'].iloc[1]:g}%")
    sec.gap("issue-level market-wide bond statistics",
            "no issue-by-issue list of sci-tech bonds is bundled (bonds_issues README); load "
            "one with `kechuang bonds ingest FILE`")
    return sec
