"""Online data adapters (optional extras): AKShare for the STAR datasets, baostock as the second
source for bars and adjustment factors. See `base.Adapter` for the interface."""

from __future__ import annotations

from kechuang.data.adapters.base import Adapter, Call


def get_adapter(library: str, call: Call | None = None, version: str | None = None) -> Adapter:
    from kechuang.core.errors import StarError

    if library == "akshare":
        from kechuang.data.adapters.akshare import AkshareAdapter

        return AkshareAdapter(call, version)
    if library == "baostock":
        from kechuang.data.adapters.baostock import BaostockAdapter

        return BaostockAdapter(call, version)
    raise StarError(f"unknown source {library!r}; expected akshare or baostock")


__all__ = ["Adapter", "Call", "get_adapter"]
