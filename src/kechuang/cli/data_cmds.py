"""Store commands: ingest, info, rules, export, import."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import typer

from kechuang.cli.common import DB_OPTION, JSON_OPTION, emit_json, print_table


def _progress_run(fn: Any, label: str, *args: Any, **kw: Any) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[current]}"), transient=True) as bar:
        task = bar.add_task(label, total=None, current="")

        def cb(name: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total, current=name)

        return fn(*args, progress=cb, **kw)


def ingest(
    path: Path | None = typer.Argument(None, help="CSV, CSV.gz or Parquet file to ingest."),
    bundled: bool = typer.Option(False, "--bundled", help="Ingest all bundled sample data."),
    kind: str | None = typer.Option(None, "--kind", help="bars, securities, shares, "
                                    "adjustments, index_levels, financials or bonds (default: "
                                    "guessed from the header)."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Validate a file (or the bundled data) and upsert it into the store in one transaction."""
    from kechuang.core.errors import StarError
    from kechuang.data import ingest as ing
    from kechuang.data.inputs import USER_SPECS

    if bundled == (path is not None):
        raise StarError("give either a PATH or --bundled")
    if kind is not None and kind not in USER_SPECS:
        raise StarError(f"unknown --kind {kind!r}; expected one of {', '.join(USER_SPECS)}")
    if bundled:
        report = _progress_run(ing.ingest_bundled, "ingest bundled", db)
    else:
        report = _progress_run(ing.ingest_file, f"ingest {path}", path, kind, db)
    if json_out:
        emit_json({"store": str(report.store), "rows": report.rows})
        return
    print_table(f"ingested into {report.store}", ["dataset", "rows checked and upserted"],
                [[k, f"{v:,}"] for k, v in report.rows.items()])


def info_data(db: Path | None) -> dict[str, Any]:
    from kechuang.data.schema import TABLES
    from kechuang.data.store import open_store

    date_cols = {"bars_daily": "date", "shares": "date", "index_levels": "date",
                 "fund_bars": "date", "rates": "date", "adjustments": "ex_date",
                 "financials": "period_end", "bar_flags": "date", "sessions": "date",
                 "index_members": "effective_date", "securities": "list_date"}
    out: dict[str, Any] = {"tables": [], "datasets": []}
    with open_store(db) as s:
        out["store"] = str(s.path)
        out["schema_version"] = s.schema_version()
        for t in TABLES:
            col = date_cols.get(t)
            q = f"SELECT count(*), min({col}), max({col}) FROM {t}" if col else \
                f"SELECT count(*), NULL, NULL FROM {t}"
            n, lo, hi = s.con.execute(q).fetchall()[0]
            out["tables"].append({"table": t, "rows": int(n), "from": lo and str(lo),
                                  "to": hi and str(hi)})
        ds = s.query("SELECT name, table_name, source, as_of::VARCHAR AS as_of, row_count, "
                     "sha256 FROM datasets ORDER BY name")
        out["datasets"] = ds.to_dict("records")
    return out


def info(db: Path | None = DB_OPTION, json_out: bool = JSON_OPTION) -> None:
    """Tables with row counts and date ranges; datasets with source, as-of date and sha256."""
    data = info_data(db)
    if json_out:
        emit_json(data)
        return
    print_table(f"{data['store']} (schema v{data['schema_version']})",
                ["table", "rows", "from", "to"],
                [[t["table"], f"{t['rows']:,}", t["from"], t["to"]] for t in data["tables"]])
    print_table("datasets", ["name", "table", "as of", "rows", "source", "sha256"],
                [[d["name"], d["table_name"], d["as_of"], f"{d['row_count']:,}", d["source"],
                  d["sha256"][:12]] for d in data["datasets"]])


def rules(
    date: str = typer.Option(..., "--date", help="Trade date YYYY-MM-DD."),
    json_out: bool = JSON_OPTION,
) -> None:
    """The STAR rule values in force on a date (limits, lots, T+1, fees and taxes)."""
    from kechuang.core.dates import parse_date
    from kechuang.rules.star import rules_at

    d: dt.date = parse_date(date)
    values = rules_at(d)
    if json_out:
        emit_json(values)
        return
    print_table(f"STAR rules on {d}", ["rule", "value", "unit", "since", "source"],
                [[k, v["value"], v["unit"], v["since"], v["source"]]
                 for k, v in values.items() if k != "date"])


def export(
    directory: Path = typer.Argument(..., help="Folder for Hive-partitioned Parquet."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Export every table to Hive-partitioned Parquet (bars partitioned by year)."""
    from kechuang.data.store import open_store

    with open_store(db) as s:
        counts = s.export_parquet(directory)
    if json_out:
        emit_json({"directory": str(directory), "rows": counts})
        return
    print_table(f"exported to {directory}", ["table", "rows"],
                [[k, f"{v:,}"] for k, v in counts.items()])


def import_(
    directory: Path = typer.Argument(..., help="Folder written by `kechuang export`."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Import a Parquet export into the store (upsert, one transaction)."""
    from kechuang.data.parquet import import_parquet

    counts = import_parquet(directory, db)
    if json_out:
        emit_json({"directory": str(directory), "rows": counts})
        return
    print_table(f"imported from {directory}", ["table", "rows"],
                [[k, f"{v:,}"] for k, v in counts.items()])


def build_fresh_store(db: Path | None) -> Path:
    """Build the bundled store into a temporary file, then swap it in atomically."""
    import os

    from kechuang.data import ingest as ing
    from kechuang.data.store import default_path

    target = Path(db) if db is not None else default_path()
    tmp = target.with_name(target.name + ".building")
    for p in (tmp, Path(str(tmp) + ".wal")):
        p.unlink(missing_ok=True)
    _progress_run(ing.ingest_bundled, "build store", tmp)
    os.replace(tmp, target)
    Path(str(target) + ".wal").unlink(missing_ok=True)
    return target


def demo(
    no_serve: bool = typer.Option(False, "--no-serve", help="Do not start the dashboard."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """The tour: build a fresh store from the bundled real data and show what is in it, run the
    seeds' strategies, write the reports to ./reports/ and start the dashboard."""
    import importlib.util

    target = build_fresh_store(db)
    if not json_out:
        info(target, False)
    tour: dict[str, Any] = {}
    if importlib.util.find_spec("kechuang.cli.web_cmds") is not None:
        from kechuang.cli import web_cmds  # reports and dashboard (cli/web_cmds.py)

        tour = web_cmds.demo_tour(target, json_out)
    if json_out:
        emit_json({**info_data(target), **tour})
    if not no_serve and tour:
        web_cmds.serve_store(target)


def register(app: typer.Typer) -> None:
    app.command()(demo)
    app.command()(ingest)
    app.command()(info)
    app.command()(rules)
    app.command()(export)
    app.command("import")(import_)
