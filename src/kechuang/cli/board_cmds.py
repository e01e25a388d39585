"""Board commands: census, check-listing, fin-stats, screens, bonds (stats, ingest) and the
`report` group with `report board`. Heavy modules load inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kechuang.cli.common import DB_OPTION, JSON_OPTION, emit_json, print_table

# `kechuang report ...`: a group later report kinds can join
# (`from kechuang.cli.board_cmds import report_app`).
report_app = typer.Typer(name="report", help="Write reports (Markdown + HTML).",
                         no_args_is_help=True)
bonds_app = typer.Typer(name="bonds", help="Sci-tech bond statistics and ingest.",
                        no_args_is_help=True)


def _print_section(sec: Any) -> None:
    from kechuang.reports.board import figure_rows

    rows = figure_rows(sec)
    if rows:
        print_table(sec.title, ["figure", "value", "as of", "dataset", "note"], rows)
    for f in sec.figures:
        if isinstance(f.value, list) and f.value:
            cols = list(f.value[0].keys())
            print_table(f"{f.label} (as of {f.as_of}; {f.dataset})", cols,
                        [[r.get(c) for c in cols] for r in f.value])
    if sec.gaps:
        print_table(f"{sec.title}: not supported by the data", ["item", "why"],
                    [[g.item, g.reason] for g in sec.gaps])


def census(
    as_of: str = typer.Option(..., "--as-of", help="Date YYYY-MM-DD."),
    mapping: Path | None = typer.Option(None, "--mapping",
                                        help="Industry->cluster table replacing the shipped one."),
    overrides: Path | None = typer.Option(None, "--overrides",
                                          help="CSV of code,cluster overrides."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Board census on a date: companies, listings per year, age, marks, clusters, value."""
    from kechuang.api import board

    sec = board.census(as_of, db, mapping, overrides)
    if json_out:
        emit_json(sec.to_dict())
        return
    _print_section(sec)


def check_listing(
    file: Path | None = typer.Option(None, "--file", help="JSON or YAML file of figures."),
    date: str | None = typer.Option(None, "--date", help="Date of the check (default: the "
                                    "file's `date`, else today)."),
    market_value: str | None = typer.Option(None, "--market-value",
                                            help="Expected market value, e.g. 1.5bn or 15亿."),
    net_profit: str | None = typer.Option(None, "--net-profit", help="Net profit before "
                                          "non-recurring items: LAST,PREVIOUS (e.g. 60m,20m)."),
    net_profit_deducted: str | None = typer.Option(None, "--net-profit-deducted",
                                                   help="Same, after non-recurring items."),
    revenue: str | None = typer.Option(None, "--revenue", help="Last-year revenue."),
    revenue_3y: str | None = typer.Option(None, "--revenue-3y", help="3-year total revenue."),
    rd_3y: str | None = typer.Option(None, "--rd-3y", help="3-year total R&D (研发投入)."),
    cfo_3y: str | None = typer.Option(None, "--cfo-3y", help="3-year operating cash flow."),
    industry: str | None = typer.Option(None, "--industry", help="e.g. pharma, ai, "
                                        "commercial_aerospace, low_altitude, semiconductor."),
    product_approval: bool | None = typer.Option(None, "--product-approval/--no-product-"
                                                 "approval", help="Standard 5 approvals."),
    phase2: bool | None = typer.Option(None, "--phase2/--no-phase2",
                                       help="Pharma: core product approved for Phase II."),
    tech_advantage: bool | None = typer.Option(None, "--tech-advantage/--no-tech-advantage"),
    red_chip: bool = typer.Option(False, "--red-chip"),
    listed_overseas: bool = typer.Option(False, "--listed-overseas"),
    fast_growth: bool | None = typer.Option(None, "--fast-growth/--no-fast-growth",
                                            help="Red chip: fast-growing revenue, leading "
                                            "technology."),
    wvr: bool = typer.Option(False, "--wvr", help="Weighted voting rights."),
    list_date: str | None = typer.Option(None, "--list-date", help="Growth tier: listing "
                                         "date."),
    annual_profit: list[str] | None = typer.Option(
        None, "--annual-profit", help="Growth tier: YEAR:NET_PROFIT:NET_PROFIT_DEDUCTED "
        "(repeatable), e.g. 2024:-50m:-60m."),
    early: bool = typer.Option(False, "--early-companies", help="Run the bundled early "
                               "companies with their pre-listing figures instead."),
    code: str | None = typer.Option(None, "--code", help="Run one listed company with its "
                                    "pre-listing figures from the store."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Check listing standards 1-5, the red-chip and WVR tests (amounts in CNY)."""
    import datetime as dt

    from kechuang.api import board

    if early:
        from kechuang.analytics.listing_table import summary

        table = board.listing_table(db)
        if json_out:
            emit_json({"summary": summary(table), "rows": table.to_dict("records")})
            return
        cols = ["code", "name", "list_date", "fy", "ipo_mv_bn", "standard_1", "standard_2",
                "standard_3", "standard_4", "standard_5", "red_chip", "wvr", "eligible"]
        print_table("Early companies, pre-listing figures (IPO-price market value)", cols,
                    table[cols].values.tolist())
        return
    if code is not None:
        res, info = board.check_listed_company(code, db)
        if json_out:
            emit_json({**res.to_dict(), "company": info})
            return
        print_table(f"{info['code']} {info['name']} listed {info['list_date']} (FY{info['fy']} "
                    f"figures; {info['market_value_used']}): eligible = {res.eligible}",
                    ["test", "result", "reason"], [[r.test, r.status, r.reason]
                                                   for r in res.results])
        return
    data: dict[str, Any] = board.load_figures_file(file) if file else {}
    flags: dict[str, Any] = {
        "market_value": market_value, "revenue": revenue, "revenue_3y": revenue_3y,
        "rd_3y": rd_3y, "cfo_3y": cfo_3y, "industry": industry,
        "product_approval": product_approval, "phase2_approved": phase2,
        "tech_advantage": tech_advantage, "fast_growth_leading_tech": fast_growth}
    for name, pair in (("net_profit", net_profit), ("net_profit_deducted", net_profit_deducted)):
        if pair is not None:
            flags[name] = pair.split(",")
    data.update({k: v for k, v in flags.items() if v is not None})
    for name, on in (("red_chip", red_chip), ("listed_overseas", listed_overseas),
                     ("wvr", wvr)):
        if on:
            data[name] = True
    when = date or data.pop("date", None) or dt.date.today()
    data.pop("date", None)
    ld = list_date or data.pop("list_date", None)
    data.pop("list_date", None)
    profits: list[dict[str, Any]] = data.pop("annual_profits", None) or []
    for item in annual_profit or []:
        parts = item.split(":")
        if len(parts) != 3:
            from kechuang.core.errors import ValidationError

            raise ValidationError(f"--annual-profit {item!r}: expected YEAR:NP:NP_DEDUCTED")
        profits.append({"year": parts[0], "net_profit": parts[1],
                        "net_profit_deducted": parts[2]})
    check = board.check_listing(data, str(when))
    tier = []
    if ld is not None or profits:
        if ld is None:
            from kechuang.core.errors import ValidationError

            raise ValidationError("growth-tier tests need --list-date (or list_date in the "
                                  "file) with the annual profits")
        revenue_v = check_revenue(data)
        tier = board.growth_tier(str(when), str(ld), profits, revenue_v)
    if json_out:
        emit_json({**check.to_dict(), "growth_tier": [r.to_dict() for r in tier]})
        return
    print_table(f"Listing check on {check.date}: eligible = "
                f"{ {True: 'yes', False: 'no', None: 'cannot decide'}[check.eligible] } "
                f"({check.route})", ["test", "result", "reason"],
                [[r.test, r.status, r.reason] for r in (*check.results, *tier)])
    for note in check.notes:
        typer.echo(f"note: {note}")


def check_revenue(data: dict[str, Any]) -> float | None:
    from kechuang.rules.listing import parse_amount

    v = data.get("revenue")
    return None if v is None else parse_amount(v, "revenue")


def fin_stats(
    measure: str = typer.Option("rd_investment", "--measure",
                                help="R&D measure: rd_investment (研发投入) or rd_expense."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Revenue, profit, cash-flow, overseas-revenue and R&D statistics from statements."""
    from kechuang.api import board

    secs = board.financial_stats(db, measure)
    if json_out:
        emit_json([s.to_dict() for s in secs])
        return
    for s in secs:
        _print_section(s)


def fin_ingest(
    path: Path = typer.Argument(..., help="Statements CSV (see docs/board.md)."),
    vendor: str | None = typer.Option(None, "--vendor", help="Convert an export first: "
                                      "tushare or akshare_em (default: our schema)."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Load annual statements (CNY) with R&D lines, from our schema or a vendor export."""
    from kechuang.api import board

    rows = board.ingest_export(path, vendor, db) if vendor else board.ingest_financials(path, db)
    if json_out:
        emit_json({"rows": rows})
        return
    print_table("statements ingested", ["file", "rows"], [[k, v] for k, v in rows.items()])


def screens(
    as_of: str = typer.Option(..., "--as-of", help="Date YYYY-MM-DD."),
    code: list[str] | None = typer.Option(None, "--code", help="Company code (repeatable)."),
    extras: Path | None = typer.Option(None, "--extras", help="CSV: code, patents, "
                                       "invention_patents, order_backlog, backlog_source."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Valuation, lifecycle and R&D screens; missing data prints 'insufficient data'."""
    from kechuang.api import board

    out = board.screens(as_of, db, code or None, extras)
    if json_out:
        emit_json(out.to_dict("records"))
        return
    print_table(f"Screens on {as_of}", list(out.columns), out.values.tolist())


@bonds_app.command("stats")
def bonds_stats(
    as_of: str | None = typer.Option(None, "--as-of", help="Date (default: latest issue)."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Issue-level statistics and the reported aggregates (shown as published)."""
    from kechuang.api import board

    secs = board.bond_stats(as_of, db)
    if json_out:
        emit_json([s.to_dict() for s in secs])
        return
    for s in secs:
        _print_section(s)


@bonds_app.command("ingest")
def bonds_ingest(
    path: Path = typer.Argument(..., help="CSV of issue-level bonds (see docs/board.md)."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Validate (ratings, issuer types, venues, amounts) and load an issue-level bonds file."""
    from kechuang.api import board

    rows = board.ingest_bonds(path, db)
    if json_out:
        emit_json({"rows": rows})
        return
    print_table("bonds ingested", ["file", "rows"], [[k, v] for k, v in rows.items()])


@report_app.command("board")
def report_board(
    as_of: str = typer.Option(..., "--as-of", help="Date YYYY-MM-DD."),
    out: Path = typer.Option(Path("reports"), "--out", help="Output folder."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Board report as of a date: Markdown and HTML, every figure dated and sourced."""
    from kechuang.api import board

    res = board.report(as_of, out, db)
    if json_out:
        emit_json({"paths": res["paths"], "data": board.to_jsonable(res["data"])})
        return
    for kind, p in res["paths"].items():
        typer.echo(f"{kind}: {p}")


def register(app: typer.Typer) -> None:
    app.command("census")(census)
    app.command("check-listing")(check_listing)
    app.command("fin-stats")(fin_stats)
    app.command("fin-ingest")(fin_ingest)
    app.command("screens")(screens)
    app.add_typer(bonds_app, name="bonds")
    app.add_typer(report_app, name="report")
