"""Numbered schema migrations. Version N is reached by running steps 1..N in order, each in the
same transaction as the version bump; a store newer than the code is refused."""

from __future__ import annotations

from collections.abc import Callable

from kechuang.data.schema import TABLES

Exec = Callable[[str], object]


def _v1(execute: Exec) -> None:
    for table in TABLES.values():
        execute(table.ddl())


MIGRATIONS: dict[int, Callable[[Exec], None]] = {1: _v1}
SCHEMA_VERSION = max(MIGRATIONS)
