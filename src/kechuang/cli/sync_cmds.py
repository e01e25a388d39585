"""`kechuang sync`: keep the store current from AKShare (and baostock), politely."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from kechuang.cli.common import DB_OPTION, JSON_OPTION, emit_json, print_table

DATASET_HELP = ("securities, bars, bars-baostock, adjustments, adjustments-baostock, shares, "
                "financials, index-levels, index-weights, or all (the AKShare datasets in that "
                "order)")
ALL = ("securities", "bars", "adjustments", "shares", "financials", "index-levels",
       "index-weights")


def sync(
    dataset: str | None = typer.Argument(None, help=f"What to fetch: {DATASET_HELP}."),
    since: str | None = typer.Option(None, "--since", help="First date wanted (YYYY-MM-DD)."),
    until: str | None = typer.Option(None, "--until", help="Last date wanted (default today)."),
    codes: str | None = typer.Option(None, "--codes", help="Comma-separated STAR codes "
                                     "(default: every security in the store)."),
    indices: str | None = typer.Option(None, "--indices", help="Comma-separated index codes "
                                       "for index-levels/index-weights (default 000688, "
                                       "000698, 000699, 000680)."),
    verify: bool = typer.Option(False, "--verify", help="Compare raw bars with the second "
                                "source (baostock) in the store and report disagreements."),
    rate: float = typer.Option(0.5, "--rate", help="Requests per second."),
    batch: int = typer.Option(25, "--batch", help="Codes per transaction."),
    retries: int = typer.Option(4, "--retries", help="Retries per code on timeouts/429/403."),
    cache: Path | None = typer.Option(None, "--cache", help="Raw response cache folder "
                                      "(default .kechuang-sync-cache next to the store)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Do not read or write the cache."),
    force: bool = typer.Option(False, "--force", help="Ignore an earlier ban's retry time."),
    db: Path | None = DB_OPTION,
    json_out: bool = JSON_OPTION,
) -> None:
    """Fetch only what the store lacks, batch by batch (each its own transaction; re-run to
    resume), with rate limiting, retries with backoff, a ban circuit breaker and a raw cache."""
    from kechuang.core.errors import StarError
    from kechuang.data import sync as sy

    if verify:
        if dataset is not None:
            raise StarError("--verify takes no DATASET")
        cfg = sy.SyncConfig()
        code_list = _codes(codes)
        out = sy.verify(db, cfg, code_list)
        if json_out:
            emit_json(out)
            return
        print_table(f"sync verify: {out['pairs_compared']:,} raw/baostock bar pairs compared, "
                    f"{out['new_disagreements']:,} disagree", ["flag kind", "rows", "codes"],
                    [[r["kind"], r["n"], r["codes"]] for r in out["by_kind"]])
        if out["sample"]:
            print_table("latest flags", ["code", "date", "source", "kind", "detail"],
                        [[r["code"], r["date"], r["source"], r["kind"], r["detail"]]
                         for r in out["sample"]])
        return
    if dataset is None:
        raise StarError(f"give a DATASET ({DATASET_HELP}) or --verify")
    if since is None:
        raise StarError("--since is required (first date wanted, YYYY-MM-DD)")
    cfg = sy.SyncConfig(rate=rate, batch_size=batch, max_retries=retries)
    cache_dir: Any = False if no_cache else cache
    names = ALL if dataset == "all" else (dataset,)
    if dataset != "all" and dataset not in sy.DATASETS:
        raise StarError(f"unknown dataset {dataset!r}; expected one of {DATASET_HELP}")
    idx = [i.strip() for i in indices.split(",") if i.strip()] if indices else None
    reports = [_run(sy, name, since, until, _codes(codes), idx, db, cfg, cache_dir, force,
                    json_out).as_dict() for name in names]
    if json_out:
        emit_json(reports[0] if len(reports) == 1 else reports)
        return
    cols = ["units_planned", "units_done", "requests", "cached", "retries", "rows_written",
            "rows_skipped", "flags", "batches", "seconds"]
    print_table(f"sync into {reports[0]['store']} ({since} .. {reports[0]['until']})",
                ["dataset", *[c.replace("_", " ") for c in cols]],
                [[r["dataset"], *[r[c] for c in cols]] for r in reports])


def _codes(codes: str | None) -> list[str] | None:
    if not codes:
        return None
    from kechuang.core.ids import normalize_code

    return [normalize_code(c) for c in codes.split(",") if c.strip()]


def _run(sy: Any, dataset: str, since: str, until: str | None, codes: list[str] | None,
         indices: list[str] | None, db: Path | None, cfg: Any, cache_dir: Any, force: bool,
         quiet: bool) -> Any:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    console = Console(stderr=True)
    with Progress(TextColumn("[bold]sync {task.description}"), BarColumn(),
                  MofNCompleteColumn(), TextColumn("{task.fields[current]}"),
                  TextColumn("{task.fields[counts]}"), console=console, transient=True,
                  disable=quiet) as bar:
        task = bar.add_task(dataset, total=None, current="", counts="")

        def progress(current: str, done: int, total: int, c: Any) -> None:
            bar.update(task, completed=done, total=total, current=current,
                       counts=(f"req {c.requests} cached {c.cached} retries {c.retries} "
                               f"rows +{c.rows_written} flags {c.flags}"))

        def log(message: str) -> None:
            if not quiet:
                bar.console.print(f"[yellow]{message}")

        return sy.sync(dataset, since=since, until=until, codes=codes, indices=indices,
                       store_path=db,
                       config=cfg, cache_dir=cache_dir, force=force, progress=progress, log=log)


def register(app: typer.Typer) -> None:
    app.command("sync")(sync)
