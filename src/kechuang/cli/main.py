"""The `kechuang` command: a thin Typer shell over the Python API.

Command groups live in their own modules (one per area) and are registered here; each module
imports only typer and rich at top level and loads heavy modules inside its commands, so that
`kechuang --help` stays fast. Errors a user can cause print one line and exit non-zero; a
traceback only with --debug."""

from __future__ import annotations

import importlib
import importlib.util
import sys

import typer

from kechuang.cli import common

app = typer.Typer(
    name="kechuang",
    help="科创 kechuang: STAR Market data store, rules, index and backtests.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines `register(app)`. Modules for areas not built yet are simply absent.
COMMAND_MODULES = (
    "kechuang.cli.data_cmds",
    "kechuang.cli.backtest_cmds",
    "kechuang.cli.index_cmds",
    "kechuang.cli.board_cmds",
    "kechuang.cli.sync_cmds",
    "kechuang.cli.web_cmds",
)


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show tracebacks on errors.")
          ) -> None:
    common.STATE["debug"] = debug


for _name in COMMAND_MODULES:
    if importlib.util.find_spec(_name) is not None:
        importlib.import_module(_name).register(app)


def main() -> None:
    debug = "--debug" in sys.argv
    try:
        rv = app(standalone_mode=False)
    except Exception as e:  # one line for the user; full traceback on --debug
        sys.exit(common.report_error(e, debug))
    sys.exit(rv if isinstance(rv, int) else 0)


if __name__ == "__main__":
    main()
