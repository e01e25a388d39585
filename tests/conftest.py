"""Shared fixtures. The bundled store is built once per test session from the real sample data
and treated as read-only by tests; tests that write get their own copy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# A local Ray instance started by the tests talks over loopback only (by default Ray binds its
# services to the machine's network address). Read by Ray when it is first imported.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")


@pytest.fixture(scope="session")
def bundled_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kechuang.data.ingest import ingest_bundled

    path = tmp_path_factory.mktemp("store") / "bundled.duckdb"
    ingest_bundled(path)
    return path


@pytest.fixture
def store_copy(bundled_store: Path, tmp_path: Path) -> Path:
    """A private, writable copy of the bundled store."""
    dst = tmp_path / "copy.duckdb"
    shutil.copy(bundled_store, dst)
    return dst
