"""Dashboard and report commands: `kechuang serve`, and the report kinds `report backtest`,
`report index`, `report breadth` and `report all` (joined to the `report` group of the board
commands, which holds `report board`). Heavy modules load inside the commands."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import typer

from kechuang.cli.common import DB_OPTION, JSON_OPTION, emit_json, print_table

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8050
OUT_OPTION = typer.Option(Path("reports"), "--out", help="Output folder.")
PNG_OPTION = typer.Option(True, "--png/--no-png", help="Also write PNG charts (matplotlib).")


def serve_store(db: Path | None, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT,
                workers: int = 1) -> None:
    """Start the dashboard over the store `db` (blocks until interrupted). With several
    workers, each is a process with its own app over the same read-only store."""
    import os

    import uvicorn

    from kechuang.api.dashboard import store_path
    from kechuang.web.app import create_app

    store = store_path(db)
    typer.echo(f"dashboard: http://{host}:{port}/  (store {store}; Ctrl+C stops it)")
    if workers > 1:
        os.environ["KECHUANG_DB"] = str(store)
        uvicorn.run("kechuang.web.app:app_from_env", factory=True, workers=workers, host=host,
                    port=port, log_level="warning")
        return
    uvicorn.run(create_app(store), host=host, port=port, log_level="warning")


def serve(
    host: str = typer.Option(DEFAULT_HOST, "--host", help="Address to bind (default: local "
                             "only)."),
    port: int = typer.Option(DEFAULT_PORT, "--port", min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, "--workers", min=1, max=64,
                                help="Worker processes (backtests are CPU-bound)."),
    db: Path | None = DB_OPTION,
) -> None:
    """Start the web dashboard (JSON API under /api/, pages with charts)."""
    serve_store(db, host, port, workers)


def _write_one(rep: Any, out: Path, stem: str, png: bool, json_out: bool) -> None:
    paths = [str(p) for p in rep.write(out, stem, png=png)]
    if json_out:
        emit_json({"paths": paths})
        return
    for p in paths:
        typer.echo(p)


def report_backtest(
    strategy: str = typer.Argument("ma_cross", help="Strategy name (see `kechuang backtest`)."),
    code: list[str] | None = typer.Option(None, "--code", "-c", help="Code (repeatable)."),
    start: str | None = typer.Option(None, "--start", help="First date (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--end", help="Last date (YYYY-MM-DD)."),
    param: list[str] | None = typer.Option(None, "--param", "-p",
                                           help="Strategy parameter NAME=VALUE (repeatable)."),
    rules: str = typer.Option("star", "--rules", help="star or none."),
    out: Path = OUT_OPTION,
    png: bool = PNG_OPTION,
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Backtest tearsheet: equity vs STAR 50, drawdown, monthly heatmap, rolling volatility,
    fees, blocked orders, statistics (HTML + PNG)."""
    from kechuang.api import dashboard as dash
    from kechuang.cli.backtest_cmds import _codes, _params
    from kechuang.reports import tearsheet

    codes = _codes(code)
    res = dash.run_backtest(strategy, codes, start, end, _params(param), rules, db=db)
    rep = tearsheet.build(res, dash.benchmark(db), dash.names(db))
    stem = f"bt_{res.strategy}_{'_'.join(res.positions.columns[:3])}"
    _write_one(rep, out, stem, png, json_out)


def report_index(
    out: Path = OUT_OPTION,
    png: bool = PNG_OPTION,
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """STAR 50 index report: reconstructed vs official level, weights, review changes."""
    from kechuang.api import dashboard as dash
    from kechuang.reports import index_report

    b = dash.index_bundle(db)
    rep = index_report.build(b["result"], b["official"], b["fidelity"], b["review"],
                             dash.names(db))
    _write_one(rep, out, "index_000688", png, json_out)


def report_breadth(
    universe: str = typer.Option("board", "--universe", help="board, 000688 or codes."),
    start: str | None = typer.Option(None, "--start", help="First date (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--end", help="Last date (YYYY-MM-DD)."),
    out: Path = OUT_OPTION,
    png: bool = PNG_OPTION,
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Breadth report: advancers/decliners, A/D line, McClellan, limit counts, % above MAs."""
    from kechuang.api import dashboard as dash
    from kechuang.reports import breadth_report

    t, label, notes = dash.breadth_table(db, universe, start, end)
    rep = breadth_report.build(t, label, notes)
    stem = "breadth_" + universe.replace(",", "_")[:40]
    _write_one(rep, out, stem, png, json_out)


def report_all(
    out: Path = OUT_OPTION,
    png: bool = PNG_OPTION,
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Every report: the seeds' strategies' tearsheets, an MA sweep, index, breadth, board."""
    result = write_all(db, out, png, quiet=json_out)
    if json_out:
        emit_json(result)


def write_all(db: Path | None, out: Path, png: bool = True, quiet: bool = False
              ) -> dict[str, Any]:
    """Write all reports and print what was written and the strategies' statistics."""
    from rich.console import Console

    from kechuang.api import dashboard as dash

    console = Console(stderr=quiet)
    with console.status("writing reports…"):
        result = dash.write_reports(out, db, png=png)
    if quiet:
        return result
    rows = []
    for name, st in result["stats"].items():
        if "best" in st:
            b = st["best"] or {}
            rows.append([name, "best Sharpe " + _f(b.get("sharpe")) + f" at fast={b.get('fast')}"
                         f", slow={b.get('slow')}", "", "", ""])
            continue
        rows.append([name, _pct(st.get("total_return")), _pct(st.get("cagr")),
                     _f(st.get("sharpe")), _pct(st.get("max_drawdown"))])
    print_table("the seeds' strategies on the bundled data (STAR rules, fees)",
                ["run", "total return", "CAGR", "Sharpe", "max drawdown"], rows)
    typer.echo(f"reports written to {result['directory']}/ "
               f"({len(result['written'])} files; open index.html)")
    for k, v in result["failed"].items():
        typer.echo(f"not written: {k}: {v}")
    return result


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * float(v):.2f}%"


def _f(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):.2f}"


def demo_tour(db: Path, json_out: bool) -> dict[str, Any]:
    """The part of `kechuang demo` after the store is built: reports into ./reports/."""
    return {"reports": write_all(db, Path("reports"), quiet=json_out)}


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    if importlib.util.find_spec("kechuang.cli.board_cmds") is not None:
        from kechuang.cli.board_cmds import report_app
    else:  # the board commands are absent: a report group of our own
        report_app = typer.Typer(name="report", help="Write reports.", no_args_is_help=True)
        app.add_typer(report_app, name="report")
    report_app.command("backtest")(report_backtest)
    report_app.command("index")(report_index)
    report_app.command("breadth")(report_breadth)
    report_app.command("all")(report_all)
