"""Helpers shared by the command modules: output as rich tables or JSON, and error reporting."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer

STATE: dict[str, Any] = {"debug": False}


def report_error(e: BaseException, debug: bool) -> int:
    """Print one line for the user (traceback with --debug); return the exit code."""
    from kechuang.core.errors import StarError

    if debug:
        import traceback

        traceback.print_exception(e)
    if isinstance(e, StarError):
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    if isinstance(e, typer.Abort):
        print("aborted", file=sys.stderr)
        return 130
    if hasattr(e, "show") and isinstance(getattr(e, "exit_code", None), int):
        e.show()  # usage errors from the CLI parser: their own one-line message
        return int(getattr(e, "exit_code", 2))
    print(f"error: {type(e).__name__}: {e}", file=sys.stderr)
    return 1


def emit_json(obj: Any) -> None:
    typer.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def print_table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r])
    Console().print(table)


JSON_OPTION = typer.Option(False, "--json", help="Machine-readable JSON output.")
DB_OPTION = typer.Option(None, "--db",
                         help="Store file (default ./kechuang.duckdb or $KECHUANG_DB).")
