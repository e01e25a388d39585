"""Index, breadth and attribution commands: `kechuang index build|review|show`,
`kechuang breadth`, `kechuang attribution`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kechuang.cli.common import DB_OPTION, JSON_OPTION, emit_json, print_table

index_app = typer.Typer(help="Rebuild STAR indices, simulate reviews, show constituents.",
                        no_args_is_help=True)

INDEX_ARG = typer.Argument("000688", help="Index code or name: 000688 (STAR 50), 000698, "
                           "000699, 000680.")


def _pct(x: float) -> str:
    return f"{x * 100:.2f}%"


def _reviews_json(res: Any) -> list[dict[str, Any]]:
    return [{"effective_date": str(r["effective_date"]), "kind": r["kind"],
             "cutoff": None if r["cutoff"] is None else str(r["cutoff"]),
             "n_members": len(r["members"]), "entrants": r["entrants"],
             "leavers": r["leavers"]} for r in res.reviews]


@index_app.command("build")
def build(index: str = INDEX_ARG,
          start: str | None = typer.Option(None, help="Start (default: the base date)."),
          end: str | None = typer.Option(None, help="End (default: last date the share "
                                         "counts support)."),
          out: Path | None = typer.Option(None, "--out", help="Write levels.csv, members.csv "
                                          "and weights.csv to this folder."),
          compare: bool = typer.Option(True, help="Compare with the official levels."),
          ah_ranking: str = typer.Option("float", "--ah-ranking", help="Shares A+H companies "
                                         "are ranked on: float (tradable A, lower bound) or "
                                         "total (A+H, upper bound)."),
          db: Path | None = DB_OPTION, json_out: bool = JSON_OPTION) -> None:
    """Rebuild an index from raw bars and share counts; compare with the official series."""
    from kechuang.api import index as api

    res = api.index(index, start, end, db=db, ah_ranking=ah_ranking)
    lv = res.levels
    summary: dict[str, Any] = {
        "index": res.spec.code, "name": res.spec.name,
        "from": str(lv["date"].iloc[0].date()), "to": str(lv["date"].iloc[-1].date()),
        "sessions": len(lv), "first_level": float(lv["level"].iloc[0]),
        "last_level": float(lv["level"].iloc[-1]), "reviews": _reviews_json(res),
        "unverified_parameters": list(res.spec.unverified), "notes": res.notes}
    if compare and res.spec.code == "000688":
        f = api.fidelity(res.spec.code, db=db, result=res)
        summary["fidelity"] = {k: v for k, v in f.items() if k not in ("notes", "index")}
    if out is not None:
        summary["files"] = api.export_index(res, out)
    if json_out:
        emit_json(summary)
        return
    print_table(f"{res.spec.name} rebuilt {summary['from']}..{summary['to']}",
                ["effective", "kind", "members", "in", "out"],
                [[r["effective_date"], r["kind"], r["n_members"], " ".join(r["entrants"]),
                  " ".join(r["leavers"])] for r in summary["reviews"]])
    typer.echo(f"level {summary['first_level']:.2f} -> {summary['last_level']:.2f}")
    for k in ("full", "live"):
        if "fidelity" in summary:
            s = summary["fidelity"][k]
            typer.echo(f"vs official {s['from']}..{s['to']}: corr {s['return_corr']:.4f}, "
                       f"TE {_pct(s['tracking_error_ann'])}, max daily dev "
                       f"{s['max_daily_dev_bp']:.0f} bp ({s['max_daily_dev_date']}), "
                       f"end gap {_pct(s['end_level_gap'])}")
    for n in res.notes:
        typer.echo(f"note: {n}")


@index_app.command("review")
def review(index: str = INDEX_ARG,
           as_of: str | None = typer.Option(None, "--as-of", help="Data as of this date "
                                            "(default: last date with share counts)."),
           db: Path | None = DB_OPTION, json_out: bool = JSON_OPTION) -> None:
    """Simulate the next quarterly review: who enters, who leaves, new weight factors."""
    from kechuang.api import index as api

    r = api.review(index, as_of, db=db)
    t = r["table"]
    if json_out:
        emit_json({**{k: v for k, v in r.items() if k != "table"},
                   "table": t.to_dict("records")})
        return
    print_table(f"{index} review effective {r['next_review']} (data to {r['cutoff_used']})",
                ["code", "name", "rank", "incl.", "w.factor", "weight", "status"],
                [[x.code, x.name, x.rank, f"{x.inclusion_factor:.2f}",
                  f"{x.weight_factor:.4f}", _pct(x.weight), x.status]
                 for x in t.itertuples()])
    typer.echo(f"enter: {' '.join(r['entrants']) or '-'}; leave: {' '.join(r['leavers']) or '-'}")
    for n in r["notes"]:
        typer.echo(f"note: {n}")


@index_app.command("show")
def show(index: str = INDEX_ARG,
         date: str | None = typer.Option(None, "--date", help="Session (default: last)."),
         db: Path | None = DB_OPTION, json_out: bool = JSON_OPTION) -> None:
    """Constituents and weights of the rebuilt index on a session."""
    import pandas as pd

    from kechuang.api import index as api
    from kechuang.core.errors import DateRangeError

    res = api.index(index, db=db)
    d = pd.Timestamp(date) if date else res.levels["date"].iloc[-1]
    w = res.weights[res.weights["date"] == d].sort_values("weight", ascending=False)
    if w.empty:
        raise DateRangeError(f"{d.date()} is not a session of the rebuilt {res.spec.name} "
                             f"({res.levels['date'].iloc[0].date()}.."
                             f"{res.levels['date'].iloc[-1].date()})")
    level = float(res.levels.loc[res.levels["date"] == d, "level"].iloc[0])
    if json_out:
        emit_json({"index": res.spec.code, "date": str(d.date()), "level": level,
                   "constituents": [{"code": c, "weight": float(x)}
                                    for c, x in zip(w["code"], w["weight"], strict=True)],
                   "notes": res.notes})
        return
    print_table(f"{res.spec.name} on {d.date()}: level {level:.2f}", ["code", "weight"],
                [[c, _pct(x)] for c, x in zip(w["code"], w["weight"], strict=True)])


def breadth_cmd(universe: str = typer.Option("board", "--universe", "-u",
                                             help="board, an index (000688), "
                                             "sector:<industry> or codes a,b,c."),
                start: str | None = typer.Option(None, help="First session."),
                end: str | None = typer.Option(None, help="Last session."),
                ladder: str | None = typer.Option(None, "--ladder", help="Also list the "
                                                  "consecutive limit-up ladder on this date."),
                db: Path | None = DB_OPTION, json_out: bool = JSON_OPTION) -> None:
    """Advancers/decliners, A/D line, McClellan, highs/lows, % above MAs, limit counts."""
    from kechuang.api import index as api

    b = api.breadth(universe, start, end, db=db)
    t = b.table.copy()
    t["date"] = t["date"].dt.strftime("%Y-%m-%d")
    lad = b.ladder(ladder) if ladder else None
    if json_out:
        emit_json({"universe": b.universe, "rows": t.to_dict("records"), "notes": b.notes,
                   **({"ladder": lad.to_dict("records")} if lad is not None else {})})
        return
    cols = ["date", "n_valid", "advancers", "decliners", "unchanged", "ad_line",
            "mcclellan_osc", "limit_up", "limit_down", "broken_rate", "new_highs",
            "new_lows", "pct_above_ma20"]
    rows = t[cols].tail(20)
    print_table(f"breadth: {b.universe} (last 20 sessions)", cols,
                [[f"{v:.2f}" if isinstance(v, float) else v for v in r]
                 for r in rows.itertuples(index=False)])
    if lad is not None:
        print_table(f"limit-up ladder {ladder}", ["code", "streak"],
                    [list(r) for r in lad.itertuples(index=False)])
    for n in b.notes:
        typer.echo(f"note: {n}")


def attribution_cmd(date: str | None = typer.Option(None, "--date", help="Session to "
                                                    "attribute."),
                    index: str = typer.Option("000688", "--index", help="Index code."),
                    find: bool = typer.Option(False, "--find", help="List sessions with a "
                                              "return >= --min-return and <= --max-fell "
                                              "constituents down."),
                    min_return: float = typer.Option(0.04, help="For --find."),
                    max_fell: int = typer.Option(2, help="For --find."),
                    top: int = typer.Option(10, help="Stocks to list."),
                    db: Path | None = DB_OPTION, json_out: bool = JSON_OPTION) -> None:
    """Split a session's index move into stock and sector contributions."""
    from kechuang.api import index as api
    from kechuang.core.errors import StarError

    if find:
        days = api.attribution_days(index, min_return, max_fell, db=db)
        days["date"] = days["date"].dt.strftime("%Y-%m-%d")
        if json_out:
            emit_json({"index": index, "days": days.to_dict("records")})
            return
        print_table(f"{index}: sessions >= {min_return:.1%} with <= {max_fell} down",
                    list(days.columns), [list(r) for r in days.itertuples(index=False)])
        return
    if date is None:
        raise StarError("give --date D (or --find)")
    a = api.attribution(date, index, db=db)
    if json_out:
        emit_json({**{k: v for k, v in a.items() if k not in ("stocks", "sectors")},
                   "stocks": a["stocks"].to_dict("records"),
                   "sectors": a["sectors"].to_dict("records")})
        return
    off = a.get("official_return")
    typer.echo(a["headline"] + ("" if off is None else f" (official {off * 100:+.2f}%)"))
    s = a["stocks"]
    print_table("top contributors", ["code", "name", "industry", "weight", "return", "contrib."],
                [[r["code"], r["name"], r["industry"], _pct(r["weight"]), _pct(r["return"]),
                  _pct(r["contribution"])] for r in s.head(top).to_dict("records")])
    print_table("sectors", ["industry", "n", "weight", "contrib.", "fell"],
                [[r.industry, r.n, _pct(r.weight), _pct(r.contribution), r.n_fell]
                 for r in a["sectors"].itertuples()])


def register(app: typer.Typer) -> None:
    app.add_typer(index_app, name="index")
    app.command("breadth")(breadth_cmd)
    app.command("attribution")(attribution_cmd)
