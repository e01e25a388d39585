"""`kechuang sync` from the command line: a run (library call replaced by the recorded-format
stand-in), --verify, --json, and one-line errors (missing library, bad arguments)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kechuang.cli.main import app
from kechuang.core.errors import StarError
from kechuang.data.adapters.akshare import AkshareAdapter

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from sync_vendor import Vendor  # noqa: E402
from test_sync_run import CUT, UNTIL, bars, pick_codes, remove_bars  # noqa: E402


def test_cli_sync_then_verify(bundled_store: Path, store_copy: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    codes = pick_codes(bundled_store, 4)
    n = remove_bars(store_copy, codes)
    v = Vendor(bundled_store)
    monkeypatch.setattr(AkshareAdapter, "default_call", lambda self: v)
    runner = CliRunner()
    res = runner.invoke(app, ["sync", "bars", "--since", "2025-01-01", "--until", UNTIL,
                              "--codes", ",".join(codes), "--db", str(store_copy),
                              "--no-cache", "--rate", "1000", "--batch", "2", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["rows_written"] == n and out["units_done"] == 4 and out["batches"] == 2
    assert out["complete"] is True and out["requests"] == 4
    assert len(bars(store_copy, codes)) == n
    assert {c[1]["start_date"] for c in v.calls} == {CUT.replace("-", "")}
    res = runner.invoke(app, ["sync", "--verify", "--db", str(store_copy), "--json"])
    assert res.exit_code == 0, res.output
    ver = json.loads(res.output)
    assert ver["pairs_compared"] == 0 and ver["by_kind"] == []
    res = runner.invoke(app, ["sync", "bars", "--since", "2025-01-01", "--until", UNTIL,
                              "--codes", ",".join(codes), "--db", str(store_copy),
                              "--no-cache"])
    assert res.exit_code == 0 and "sync into" in res.output and "bars" in res.output


@pytest.mark.parametrize("args, message", [
    (["sync", "bars"], "--since is required"),
    (["sync", "ticks", "--since", "2025-01-01"], "unknown dataset 'ticks'"),
    (["sync", "bars", "--verify"], "--verify takes no DATASET"),
    (["sync"], "give a DATASET"),
    (["sync", "bars", "--since", "2025-01-01", "--codes", "600000"], "not a STAR code"),
])
def test_cli_bad_arguments(store_copy: Path, args: list[str], message: str) -> None:
    res = CliRunner().invoke(app, [*args, "--db", str(store_copy)])
    assert isinstance(res.exception, StarError) and message in str(res.exception)


def test_cli_missing_library_one_line(store_copy: Path) -> None:
    code = ("import sys; sys.modules['akshare'] = None; from kechuang.cli.main import main; "
            f"sys.argv = ['kechuang', 'sync', 'bars', '--since', '2025-05-01', '--codes', "
            f"'688981', '--db', {str(store_copy)!r}, '--no-cache', '--json']; main()")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 5
    assert out.stderr.strip() == ("error: akshare is not installed; install it with: "
                                  "pip install 'kechuang[akshare]'")
