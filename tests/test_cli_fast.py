"""`kechuang --help` must stay fast: no heavy module is imported to show help."""

from __future__ import annotations

import subprocess
import sys


def test_help_imports_no_heavy_modules() -> None:
    code = ("import sys; from kechuang.cli.main import app; "
            "heavy = [m for m in ('duckdb', 'numba', 'pandas', 'exchange_calendars', 'pyarrow') "
            "if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
