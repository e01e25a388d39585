"""Strategies: small objects with declared, validated parameters (pydantic).

Two shapes, matching the two kernels (docs/architecture.md, "Backtest semantics"):

- column strategies (``MACrossover``, ``Grid``): one independent account per code; the state
  machine runs inside the numba kernel, so they can be swept in parallel;
- allocation strategies (``DCA``, ``Rebalance``, ``CoreSatellite``, ``EqualWeight``): one
  account with shared cash; the strategy turns the session calendar into a plan (target weights,
  rebalance sessions, a drift band, fixed-value buys and cash inflows) for the portfolio kernel.

``make_strategy(name, **params)`` builds one by name; bad names or values raise a one-line
``ValidationError`` naming the parameter and the value."""

from __future__ import annotations

from typing import Any

from kechuang.strategies.base import STRATEGIES, Strategy, make_strategy
from kechuang.strategies.library import (
    DCA,
    CoreSatellite,
    EqualWeight,
    Grid,
    MACrossover,
    Plan,
    Rebalance,
)

__all__ = ["DCA", "STRATEGIES", "CoreSatellite", "EqualWeight", "Grid", "MACrossover", "Plan",
           "Rebalance", "Strategy", "make_strategy"]


def names() -> list[str]:
    return sorted(STRATEGIES)


def describe() -> dict[str, Any]:
    """Every strategy with its parameters, defaults and documentation (for the CLI and web)."""
    out = {}
    for name, cls in STRATEGIES.items():
        out[name] = {"doc": (cls.__doc__ or "").strip().splitlines()[0],
                     "params": {k: repr(f.default) for k, f in cls.model_fields.items()}}
    return out
