"""The board report: Markdown and HTML restating the kind of statistics the press publishes
about the STAR Market (companies, clusters, marks, listing standards, R&D, financing, bonds).
Every figure carries its as-of date and dataset; a closing section compares headline figures
with those the SSE published (star-market-reference.md section 10) and explains each
difference; another lists what the data could not support.

Input is the plain dict built by `kechuang.api.board.report_data` (sections of figures, the
checker table, the comparison rows), so this module does no I/O beyond writing the files."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from kechuang.analytics.figures import Section, fmt_value

# Figures the SSE published, as restated in star-market-reference.md section 10 (with the
# reference's status tags). Shown next to ours; never used to compute or adjust anything.
SSE_PUBLISHED: tuple[dict[str, str], ...] = (
    {"key": "listed_2024_11_05", "metric": "Listed companies", "value": "577",
     "as_of": "2024-11-05", "source": "section 10 (China Daily) ✅"},
    {"key": "listed_2024_12_31", "metric": "Listed companies", "value": "581",
     "as_of": "2024-12-31", "source": "section 10 (SSE; Shanghai Securities News) ✅"},
    {"key": "listed_2025_06_12", "metric": "Listed companies", "value": "588",
     "as_of": "2025-06-12", "source": "section 10 (Securities Times via SSE) ✅"},
    {"key": "listed_2025_07_22", "metric": "Listed companies", "value": "589",
     "as_of": "2025-07-22", "source": "section 10 (Xinhua/CLS) ✅"},
    {"key": "listed_2025_11", "metric": "Listed companies", "value": "592",
     "as_of": "2025-11 (day not given)", "source": "section 10 (SSE English digest) ⚠️"},
    {"key": "listed_early_2026", "metric": "Listed companies", "value": "600",
     "as_of": "about early 2026 (date not given)", "source": "section 10 (press) ⚠️"},
    {"key": "mv_2025_06_12", "metric": "Total market value", "value": "> CNY 6.8 trn",
     "as_of": "2025-06-12", "source": "section 10 ✅"},
    {"key": "mv_2024_12_31", "metric": "Total / free-float market value",
     "value": "CNY 6.34 trn / 3.14 trn", "as_of": "2024-12-31", "source": "section 10 ✅"},
    {"key": "ic", "metric": "Integrated-circuit companies", "value": "119",
     "as_of": "2025-06-12", "source": "section 10 ✅"},
    {"key": "bio", "metric": "Biomedicine companies", "value": "113", "as_of": "2025-06-12",
     "source": "section 10 ✅"},
    {"key": "hee", "metric": "High-end equipment companies", "value": "127",
     "as_of": "2025-06-12", "source": "section 10 ✅"},
    {"key": "unprofitable_at_listing", "metric": "Unprofitable when they listed",
     "value": "54", "as_of": "2025-06-12", "source": "section 10 ✅"},
    {"key": "special_structures", "metric": "Special share structures (WVR)", "value": "8",
     "as_of": "2025-06-12", "source": "section 10 ✅"},
    {"key": "red_chips", "metric": "Red chips", "value": "7", "as_of": "2025-06-12",
     "source": "section 10 ✅"},
    {"key": "std5", "metric": "Standard-5 listings", "value": "20", "as_of": "2025-06-12",
     "source": "section 10 ✅"},
    {"key": "growth_tier", "metric": "Growth tier at launch (still unprofitable)",
     "value": "32", "as_of": "2025-07-13", "source": "sections 5 and 10 ✅"},
    {"key": "revenue_2024", "metric": "Revenue / net profit FY2024",
     "value": "CNY 1,422.17 bn / 47.523 bn", "as_of": "FY2024", "source": "section 10 ✅"},
    {"key": "rd_2024", "metric": "R&D investment FY2024; median intensity",
     "value": "≈ CNY 168 bn; 12.6%", "as_of": "FY2024", "source": "section 10 ⚠️"},
    {"key": "ipo_proceeds", "metric": "IPO proceeds", "value": "CNY 923.2 bn",
     "as_of": "2025-06-12", "source": "section 10 ❓"},
    {"key": "bonds_2024", "metric": "SSE sci-tech bonds 2024",
     "value": "424 issuers, CNY 510.5 bn, central SOEs 45%", "as_of": "2024",
     "source": "section 8 ✅"},
)


LT_COLUMNS = ["code", "name", "list_date", "fy", "ipo_mv_bn", "first_day_mv_bn", "revenue_m",
              "np_lower_m", "standard_1", "standard_2", "standard_3", "standard_4",
              "standard_5", "red_chip", "wvr", "eligible"]


def _sections(data: dict[str, Any]) -> list[Section]:
    return list(data["sections"])


def headline(data: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(metric, value, as of, dataset) of the report's headline figures."""
    out = []
    for s in _sections(data):
        for key in ("listed_companies", "clusters", "marks", "marks_structural",
                    "total_market_value"):
            if s.has(key):
                f = s.get(key)
                unit = f.unit if f.unit and f.unit != "%" and not isinstance(f.value, dict) \
                    else ""
                out.append((f.label, f"{fmt_value(f.value, f.unit)} {unit}".strip(), f.as_of,
                            f.dataset))
    return out


# -- Markdown -----------------------------------------------------------------------------------

def _md_cell(x: Any) -> str:
    return str(x).replace("|", "\\|").replace("\n", " ")


def _md_table(cols: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return [*out, ""]


def figure_rows(sec: Section) -> list[list[Any]]:
    """Scalar figures of a section as table rows (figure, value with unit, as of, dataset,
    note); list-valued figures are tables of their own."""
    rows = []
    for f in sec.figures:
        if isinstance(f.value, list):
            continue
        unit = f.unit if f.unit and f.unit != "%" and not isinstance(f.value, dict) else ""
        rows.append([f.label, f"{fmt_value(f.value, f.unit)} {unit}".strip(), f.as_of,
                     f.dataset, f.note])
    return rows


def _records(f: Any, limit: int = 40) -> tuple[list[str], list[list[Any]]]:
    recs = f.value[:limit]
    if not recs:
        return [], []
    cols = list(recs[0].keys())
    return cols, [[r.get(c) for c in cols] for r in recs]


def render_markdown(data: dict[str, Any]) -> str:
    d = data["as_of"]
    lines = [f"# STAR Market board report as of {d}", "",
             f"Generated by kechuang from the store `{data['store']}`. Every figure gives the "
             "date it describes and the dataset it comes from. Figures the data cannot support "
             "are listed at the end, not estimated.", ""]
    lines += ["## Headline figures", ""]
    lines += _md_table(["figure", "value", "as of", "dataset"],
                       [list(h) for h in headline(data)])
    for sec in _sections(data):
        lines += [f"## {sec.title}", ""]
        rows = figure_rows(sec)
        if rows:
            lines += _md_table(["figure", "value", "as of", "dataset", "note"], rows)
        if not sec.figures:
            lines += ["No figure: " + "; ".join(g.reason for g in sec.gaps), ""]
        for f in sec.figures:
            if isinstance(f.value, list) and f.value:
                lines += [f"**{f.label}** (as of {f.as_of}; {f.dataset}; {f.note})", ""]
                cols, recs = _records(f)
                lines += _md_table(cols, recs)
                if len(f.value) > 40:
                    lines += [f"... {len(f.value) - 40} more rows in the JSON output.", ""]
    lt = data.get("listing_table")
    if lt is not None:
        lines += ["## Listing standards: early companies through the checker", "",
                  lt["method"], "", "Companies meeting each test (yes / no / ? = cannot "
                  "decide from the data / - = not applicable):", ""]
        lines += _md_table(["test", "yes", "no", "?", "-"],
                           [[t, c.get("yes", 0), c.get("no", 0), c.get("?", 0), c.get("-", 0)]
                            for t, c in lt["summary"].items()])
        lines += ["Company by company (market values in CNY bn, revenue and the lower net profit "
                  "of the last pre-listing year in CNY m):", ""]
        lines += _md_table(LT_COLUMNS, [[r.get(c) for c in LT_COLUMNS] for r in lt["rows"]])
    lines += ["## Check against SSE-published figures", "",
              "SSE figures as restated in star-market-reference.md (status tags kept). Ours are "
              "computed on the SSE's date where the data reach it; the code is never tuned to "
              "them.", ""]
    lines += _md_table(["metric", "SSE", "SSE as of", "ours", "ours as of", "explanation"],
                       [[c["metric"], c["sse"], c["sse_as_of"], c["ours"], c["ours_as_of"],
                         c["explanation"]] for c in data["comparison"]])
    lines += ["## What the data could not support", ""]
    seen = set()
    for item, reason in _all_gaps(data):
        if (item, reason) in seen:
            continue
        seen.add((item, reason))
        lines.append(f"- **{item}**: {reason}")
    lines += ["", "## Datasets", ""]
    lines += _md_table(["dataset", "table", "source", "as of"],
                       [[x["name"], x["table_name"], x["source"], x["as_of"]]
                        for x in data["datasets"]])
    return "\n".join(lines) + "\n"


def _all_gaps(data: dict[str, Any]) -> list[tuple[str, str]]:
    out = [(g.item, g.reason) for s in _sections(data) for g in s.gaps]
    out += [(g["item"], g["reason"]) for g in data.get("extra_gaps", [])]
    return out


# -- HTML ---------------------------------------------------------------------------------------

_CSS = ("body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;"
        "color:#222}table{border-collapse:collapse;margin:0.5em 0 1.5em;font-size:0.9em}"
        "th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}"
        "th{background:#f3f3f3}.note{color:#666;font-size:0.85em}")


def _h(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _html_table(cols: list[str], rows: list[list[Any]]) -> str:
    head = "".join(f"<th>{_h(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{_h(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


CHARTS = (("new_listings_by_year", "New listings per year"),
          ("clusters", "Listed companies by sector cluster"),
          ("listing_age_distribution", "Listed companies by listing age"))


def _charts(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Bar charts of the census's category figures (Plotly figure dicts)."""
    from kechuang.reports.common import figure

    figs: dict[str, dict[str, Any]] = {}
    for sec in _sections(data):
        for key, title in CHARTS:
            if sec.has(key) and isinstance(sec.get(key).value, dict):
                f = sec.get(key)
                figs[key] = figure([{"type": "bar", "x": list(f.value.keys()),
                                     "y": list(f.value.values()), "marker": {"color": "#3b6ea5"}}],
                                   f"{title} (as of {f.as_of})", yaxis={"title": f.unit},
                                   xaxis={"type": "category"})
    return figs


def render_html(data: dict[str, Any], plotly: str = "inline") -> str:
    """The report page. plotly='inline' embeds the chart library (one self-contained file),
    'beside' loads ./plotly.min.js (written next to the page by `write`), 'none' omits charts."""
    import json

    from kechuang.reports.common import PLOTLY_JS_NAME, plotly_js

    d = data["as_of"]
    figs = _charts(data) if plotly != "none" else {}
    script = ""
    if figs:
        script = (f"<script>{plotly_js()}</script>" if plotly == "inline"
                  else f'<script src="{PLOTLY_JS_NAME}"></script>')
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>STAR Market "
             f"board report {d}</title><style>{_CSS}</style>{script}</head><body>",
             f"<h1>STAR Market board report as of {_h(d)}</h1>",
             f"<p class='note'>Generated by kechuang from <code>{_h(data['store'])}</code>. "
             "Every figure gives its as-of date and dataset; unsupported figures are listed at "
             "the end.</p>", "<h2>Headline figures</h2>",
             _html_table(["figure", "value", "as of", "dataset"],
                         [list(h) for h in headline(data)])]
    parts += [f"<div id='fig-{k}' style='height:320px;margin:8px 0'></div>" for k in figs]
    for sec in _sections(data):
        parts.append(f"<h2>{_h(sec.title)}</h2>")
        rows = figure_rows(sec)
        if rows:
            parts.append(_html_table(["figure", "value", "as of", "dataset", "note"], rows))
        if not sec.figures:
            parts.append("<p>No figure: " + _h("; ".join(g.reason for g in sec.gaps)) + "</p>")
        for f in sec.figures:
            if isinstance(f.value, list) and f.value:
                cols, recs = _records(f)
                parts.append(f"<p><b>{_h(f.label)}</b> <span class='note'>(as of {_h(f.as_of)};"
                             f" {_h(f.dataset)}; {_h(f.note)})</span></p>")
                parts.append(_html_table(cols, recs))
    lt = data.get("listing_table")
    if lt is not None:
        parts += ["<h2>Listing standards: early companies through the checker</h2>",
                  f"<p>{_h(lt['method'])}</p>",
                  _html_table(["test", "yes", "no", "?", "-"],
                              [[t, c.get("yes", 0), c.get("no", 0), c.get("?", 0),
                                c.get("-", 0)] for t, c in lt["summary"].items()]),
                  "<details><summary>Company by company</summary>",
                  _html_table(LT_COLUMNS, [[r.get(c) for c in LT_COLUMNS] for r in lt["rows"]]),
                  "</details>"]
    parts += ["<h2>Check against SSE-published figures</h2>",
              _html_table(["metric", "SSE", "SSE as of", "ours", "ours as of", "explanation"],
                          [[c["metric"], c["sse"], c["sse_as_of"], c["ours"], c["ours_as_of"],
                            c["explanation"]] for c in data["comparison"]]),
              "<h2>What the data could not support</h2><ul>"]
    seen = set()
    for item, reason in _all_gaps(data):
        if (item, reason) not in seen:
            seen.add((item, reason))
            parts.append(f"<li><b>{_h(item)}</b>: {_h(reason)}</li>")
    parts += ["</ul><h2>Datasets</h2>",
              _html_table(["dataset", "table", "source", "as of"],
                          [[x["name"], x["table_name"], x["source"], x["as_of"]]
                           for x in data["datasets"]])]
    if figs:
        payload = json.dumps(figs, ensure_ascii=False).replace("</", "<\\/")
        parts.append("<script>const FIGS=" + payload + ";for(const [k,f] of Object.entries(FIGS))"
                     "{Plotly.newPlot('fig-'+k,f.data,f.layout,{responsive:true,"
                     "displaylogo:false});}</script>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write(data: dict[str, Any], out_dir: str | Path) -> dict[str, Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"board_{data['as_of']}"
    md, page = out / f"{stem}.md", out / f"{stem}.html"
    md.write_text(render_markdown(data), encoding="utf-8")
    from kechuang.reports.common import write_plotly_js

    write_plotly_js(out)
    page.write_text(render_html(data, plotly="beside"), encoding="utf-8")
    return {"markdown": md, "html": page}
