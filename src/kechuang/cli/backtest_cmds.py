"""Backtest commands: `kechuang backtest` and `kechuang sweep`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kechuang.cli.common import DB_OPTION, JSON_OPTION, emit_json, print_table

STRATEGY_ARG = typer.Argument("ma_cross", help="ma_cross, grid, dca, rebalance, "
                              "core_satellite or equal_weight.")
CODES_OPT = typer.Option(None, "--code", "-c", help="Code to trade (repeatable, or comma "
                         "separated). Default: the strategy's own assets.")
START_OPT = typer.Option(None, "--start", help="First date (YYYY-MM-DD).")
END_OPT = typer.Option(None, "--end", help="Last date (YYYY-MM-DD).")
PARAM_OPT = typer.Option(None, "--param", "-p", help="Strategy parameter NAME=VALUE "
                         "(repeatable); weights as CODE:W,CODE:W.")
RULES_OPT = typer.Option("star", "--rules", help="star (STAR rules, fees) or none "
                         "(frictionless).")
FILL_OPT = typer.Option("close", "--fill", help="close or next_open.")
OUT_OPT = typer.Option(None, "--out", help="Directory to export results into.")
FORMAT_OPT = typer.Option("csv", "--format", help="Export format: csv or parquet.")


def _codes(codes: list[str] | None) -> list[str] | None:
    if not codes:
        return None
    return [c for item in codes for c in item.replace(",", " ").split() if c]


def _params(items: list[str] | None) -> dict[str, Any]:
    from kechuang.core.errors import ValidationError

    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValidationError(f"--param {item!r}: expected NAME=VALUE")
        k, v = (x.strip() for x in item.split("=", 1))
        if (":" in v and "," in v) or (":" in v and k in ("weights", "core", "satellite")):
            d = {}
            for pair in v.split(","):
                code, _, w = pair.partition(":")
                try:
                    d[code.strip()] = float(w)
                except ValueError:
                    raise ValidationError(f"--param {item!r}: weight {w!r} is not a number"
                                          ) from None
            out[k] = d
            continue
        out[k] = _scalar(v)
    return out


def _scalar(v: str) -> Any:
    for cast in (int, float):
        try:
            return cast(v)
        except ValueError:
            continue
    return {"true": True, "false": False, "none": None}.get(v.lower(), v)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4f}" if abs(v) < 1000 else f"{v:,.2f}"
    return str(v)


def backtest(
    strategy: str = STRATEGY_ARG,
    code: list[str] | None = CODES_OPT,
    start: str | None = START_OPT,
    end: str | None = END_OPT,
    param: list[str] | None = PARAM_OPT,
    rules: str = RULES_OPT,
    fill: str = FILL_OPT,
    out: Path | None = OUT_OPT,
    fmt: str = FORMAT_OPT,
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Run one backtest on the store and print its statistics."""
    from kechuang.api.backtest import backtest as run

    res = run(strategy, _codes(code), start, end, rules=rules, fill=fill, db=db,
              **_params(param))
    if out is not None:
        res.export(out, fmt)
    summary = res.summary()
    if json_out:
        if res.correlation is not None:
            summary["correlation"] = res.correlation.round(4).to_dict()
        emit_json(summary)
        return
    stats = summary["stats"]
    rows = [[k, _fmt(v)] for k, v in stats.items() if not isinstance(v, dict)]
    rows += [[f"fees.{k}", _fmt(v)] for k, v in summary["fees"].items()]
    rows += [[f"blocked.{k}", v] for k, v in summary["blocked"].items()]
    print_table(f"{res.strategy} {res.params} rules={res.rules}", ["statistic", "value"], rows)
    if res.correlation is not None:
        c = res.correlation
        print_table("correlation of daily returns", ["", *c.columns],
                    [[i, *(f"{x:.2f}" for x in c.loc[i])] for i in c.index])
    for note in res.notes:
        typer.echo(f"note: {note}")


def sweep(
    strategy: str = STRATEGY_ARG,
    grid: list[str] = typer.Option(..., "--grid", "-g", help="NAME=V1,V2,... or "
                                   "NAME=START:STOP:STEP (repeatable)."),
    code: list[str] | None = CODES_OPT,
    start: str | None = START_OPT,
    end: str | None = END_OPT,
    param: list[str] | None = PARAM_OPT,
    rules: str = RULES_OPT,
    fill: str = FILL_OPT,
    top: int = typer.Option(20, "--top", help="Rows to print (sorted by Sharpe)."),
    out: Path | None = typer.Option(None, "--out", help="Write the full table (.csv or "
                                    ".parquet)."),
    backend: str = typer.Option("local", "--backend", help="local (numba threads) or ray "
                                "(Ray tasks; needs pip install 'kechuang\\[ray]')."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (auto, "
                                       "HOST:6379, ray://HOST:10001); default: a local Ray."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Sweep a parameter grid; prints a tidy table (parameters + statistics)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from kechuang.api.backtest import parse_grid
    from kechuang.api.backtest import sweep as run

    g = parse_grid(grid)
    with Progress(TextColumn("[bold]sweep"), BarColumn(), MofNCompleteColumn(),
                  transient=True, disable=json_out) as bar:
        task = bar.add_task("sweep", total=None)

        def cb(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        table = run(strategy, g, _codes(code), start, end, rules=rules, fill=fill, db=db,
                    progress=cb, backend=backend, address=address, **_params(param))
    if out is not None:
        if str(out).endswith(".parquet"):
            table.to_parquet(out)
        else:
            table.to_csv(out, index=False)
    if json_out:
        emit_json(table.to_dict(orient="records"))
        return
    shown = table.sort_values("sharpe", ascending=False, na_position="last").head(top)
    cols = [c for c in shown.columns if c in (*g, "code", "final_value", "total_return", "cagr",
                                              "sharpe", "max_drawdown", "n_fills")]
    print_table(f"sweep {strategy}: {len(table)} rows (top {len(shown)} by Sharpe)", cols,
                [[_fmt(v) for v in r] for r in shown[cols].itertuples(index=False)])


def register(app: typer.Typer) -> None:
    app.command("backtest")(backtest)
    app.command("sweep")(sweep)
