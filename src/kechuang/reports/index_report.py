"""The index report: the reconstructed level against the official series, the constituents and
their weights on the last session, the changes made at each review and the expected changes
at the next review.

Inputs come from the api layer: an ``IndexResult`` (``kechuang.engines.index``), the official
levels (``index_levels``), the tracking statistics (``api.index.fidelity``) and the review
simulation (``api.index.review``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kechuang.reports import png
from kechuang.reports.common import (
    DOWN,
    GREY,
    LINE,
    UP,
    Report,
    dates,
    figure,
    fmt_date,
    fmt_num,
    fmt_pct,
    label,
    table_html,
    values,
)


def level_figure(res: Any, official: pd.Series | None) -> dict[str, Any]:
    lv = res.levels
    data = [{"type": "scatter", "mode": "lines", "x": dates(lv["date"]),
             "y": values(lv["level"]), "name": "reconstructed 重建",
             "line": {"color": LINE, "width": 1.6}}]
    if official is not None and len(official):
        o = official[(official.index >= lv["date"].iloc[0]) &
                     (official.index <= lv["date"].iloc[-1])]
        data.append({"type": "scatter", "mode": "lines", "x": dates(o.index),
                     "y": values(o), "name": "official 官方", "line": {"color": GREY,
                                                                      "width": 1.2}})
    return figure(data, f"{res.spec.name} ({res.spec.code}): reconstructed vs official level",
                  yaxis={"title": "points"}, height=360)


def last_weights(res: Any, names: Mapping[str, str] | None) -> pd.DataFrame:
    w = res.weights.dropna(subset=["weight"])
    if w.empty:
        return pd.DataFrame(columns=["date", "code", "name", "weight"])
    d = w["date"].max()
    t = w[w["date"] == d].sort_values("weight", ascending=False).reset_index(drop=True)
    t["name"] = t["code"].map(lambda c: (names or {}).get(c, ""))
    return t[["date", "code", "name", "weight"]]


def weights_figure(res: Any, names: Mapping[str, str] | None, top: int = 20
                   ) -> dict[str, Any]:
    t = last_weights(res, names).head(top)
    d = fmt_date(t["date"].iloc[0]) if len(t) else ""
    return figure([{"type": "bar", "orientation": "h",
                    "y": [label(c, names) for c in t["code"]][::-1],
                    "x": values(100 * t["weight"])[::-1], "marker": {"color": LINE}}],
                  f"Top {top} weights on {d} (%)", xaxis={"title": "%"}, showlegend=False,
                  height=max(320, 22 * len(t) + 80), margin={"l": 150, "r": 20, "t": 40,
                                                             "b": 40})


def _review_rows(reviews: list[dict[str, Any]], names: Mapping[str, str] | None
                 ) -> list[list[str]]:
    rows = []
    for r in reviews:
        if not r.get("entrants") and not r.get("leavers"):
            continue
        rows.append([fmt_date(r.get("effective_date")), str(r.get("kind", "")),
                     "; ".join(label(c, names) for c in r.get("entrants", [])),
                     "; ".join(label(c, names) for c in r.get("leavers", []))])
    return rows


def build(res: Any, official: pd.Series | None = None, fidelity: dict[str, Any] | None = None,
          review: dict[str, Any] | None = None, names: Mapping[str, str] | None = None,
          rally_days: list[dict[str, Any]] | None = None) -> Report:
    lv = res.levels
    rep = Report(f"Index report: {res.spec.name} ({res.spec.code})",
                 f"rebuilt from raw bars and share counts, {fmt_date(lv['date'].iloc[0])} to "
                 f"{fmt_date(lv['date'].iloc[-1])}; last level {fmt_num(lv['level'].iloc[-1])}")
    rep.chart("level", level_figure(res, official))
    if fidelity:
        rep.heading("Tracking the official series")
        rows = []
        for k in ("full", "live"):
            f = fidelity.get(k)
            if not f:
                continue
            rows.append([k, f"{f['from']} to {f['to']}", fmt_num(f["sessions"], 0),
                         fmt_num(f["return_corr"], 4), fmt_pct(f["tracking_error_ann"]),
                         f"{fmt_num(f['max_daily_dev_bp'], 1)} bp on "
                         f"{f.get('max_daily_dev_date', '')}",
                         fmt_pct(f["end_level_gap"])])
        rep.html(table_html(["window", "dates", "sessions", "daily-return correlation",
                             "tracking error (ann.)", "largest daily deviation",
                             "level gap at end"], rows,
                            numeric=[False, False, True, True, True, True, True]))
    t = last_weights(res, names)
    if len(t):
        rep.heading(f"Constituents and weights on {fmt_date(t['date'].iloc[0])} "
                    f"({len(t)} names)")
        rep.chart("weights", weights_figure(res, names))
        rep.html(table_html(["#", "code", "name 简称", "weight"],
                            [[i + 1, r.code, r.name, fmt_pct(r.weight)]
                             for i, r in enumerate(t.itertuples())],
                            numeric=[True, False, False, True]))
    if rally_days:
        rep.heading("Broad rallies: the index up 3% or more with at most 5 constituents down")
        rep.html(table_html(["date", "index return", "constituents down", "top contributor",
                             "its contribution"],
                            [[d["date"], fmt_pct(d["index_return"]),
                              f"{d['n_fell']} of {d['n_constituents']}",
                              d["top_contributor"], fmt_pct(d["top_contribution"])]
                             for d in rally_days],
                            numeric=[False, True, True, False, True]))
    rows = _review_rows(res.reviews, names)
    if rows:
        rep.heading("Changes at each review (reconstructed)")
        rep.html(table_html(["effective", "kind", "entrants 调入", "leavers 调出"], rows))
    if review:
        rep.heading(f"Next review: effective {fmt_date(review.get('next_review'))} "
                    f"(data as of {fmt_date(review.get('as_of'))})")
        ent = [label(c, names) for c in review.get("entrants", [])]
        lea = [label(c, names) for c in review.get("leavers", [])]
        rep.html(table_html(["expected entrants 预计调入", "expected leavers 预计调出"],
                            [[e, x] for e, x in zip(ent + [""] * (len(lea) - len(ent)),
                                                    lea + [""] * (len(ent) - len(lea)),
                                                    strict=True)]))
        rep.notes.extend(str(n) for n in review.get("notes", []))
    rep.notes.extend(str(n) for n in dict.fromkeys(res.notes))
    rep.figures["changes"] = figure(
        [{"type": "bar", "x": [r[0] for r in rows], "y": [len(r[2].split("; ")) if r[2] else 0
                                                        for r in rows],
          "name": "entrants", "marker": {"color": UP}},
         {"type": "bar", "x": [r[0] for r in rows],
          "y": [-(len(r[3].split("; ")) if r[3] else 0) for r in rows], "name": "leavers",
          "marker": {"color": DOWN}}],
        "Constituent changes per review", barmode="relative", xaxis={"type": "category"})
    off = official

    def _level(path: Path) -> None:
        s = {"reconstructed": lv.set_index("date")["level"]}
        if off is not None and len(off):
            s["official"] = off[(off.index >= lv["date"].iloc[0]) &
                                (off.index <= lv["date"].iloc[-1])]
        png.lines(path, s, f"{res.spec.code} reconstructed vs official", "points")

    rep.pngs = {"level": _level}
    return rep
