"""kechuang (科创): research, index computation and backtesting for the Shanghai STAR Market.

The public API is re-exported lazily so that ``import kechuang`` (and ``kechuang --help``) stays
fast: heavy modules (duckdb, numba, exchange_calendars) load on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Store": "kechuang.data.store",
    "open_store": "kechuang.data.store",
    "ingest_file": "kechuang.data.ingest",
    "ingest_bundled": "kechuang.data.ingest",
    "calendar": "kechuang.data.calendar",
    "rules_at": "kechuang.rules.star",
    "StarError": "kechuang.core.errors",
    "backtest": "kechuang.api.backtest",
    "sweep": "kechuang.api.backtest",
    "breadth_parquet": "kechuang.api.scale",
    "index": "kechuang.api.index",
    "breadth": "kechuang.api.index",
    "attribution": "kechuang.api.index",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kechuang' has no attribute {name!r}")
    mod = import_module(module)
    return mod if name == "calendar" else getattr(mod, name)


__all__ = ["__version__", *_LAZY]
