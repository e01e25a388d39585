"""The market store: one DuckDB file. The only module that imports duckdb.

Writes go through `Staging`: input files are loaded and validated in an in-memory database with
the store attached read-only, so a bad file never opens the store for writing. Only after every
check passes is the store re-attached read-write and the staged rows upserted in one transaction;
a crash before COMMIT leaves the previous state (DuckDB's WAL discards the open transaction).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

if TYPE_CHECKING:  # pandas loads on first query, not on import (CLI start-up and W6 cold runs)
    import pandas as pd

from kechuang.core.errors import StoreError
from kechuang.data.migrations import MIGRATIONS, SCHEMA_VERSION
from kechuang.data.schema import TABLES

DEFAULT_PATH = "kechuang.duckdb"


def default_path() -> Path:
    return Path(os.environ.get("KECHUANG_DB", DEFAULT_PATH))


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as e:
        raise StoreError(f"{path}: cannot open the store ({str(e).splitlines()[0]})") from None


class Store:
    """A handle on the store file. Reads use `query`; writes go through `staging()`."""

    def __init__(self, path: str | Path | None = None, *, read_only: bool = True) -> None:
        self.path = Path(path) if path is not None else default_path()
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no store here; run `kechuang ingest --bundled` first")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = _connect(self.path, read_only)
        if read_only:
            self._check_version()
        else:
            self.migrate()

    # -- schema ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.scalar("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name = 'schema_version'"):
            return 0
        v = self.scalar("SELECT max(version) FROM schema_version")
        return int(v) if v is not None else 0

    def _check_version(self) -> None:
        v = self.schema_version()
        if v > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {v} is newer than this kechuang "
                             f"({SCHEMA_VERSION}); upgrade kechuang")
        if v < SCHEMA_VERSION:
            raise StoreError(f"{self.path}: schema version {v} is older than {SCHEMA_VERSION}; "
                             "open it writable (any ingest) to migrate")

    def migrate(self) -> None:
        v = self.schema_version()
        if v > SCHEMA_VERSION:
            self._check_version()
        self.con.execute("CREATE TABLE IF NOT EXISTS schema_version "
                         "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        for n in range(v + 1, SCHEMA_VERSION + 1):
            self.con.execute("BEGIN TRANSACTION")
            MIGRATIONS[n](self.con.execute)
            self.con.execute("INSERT INTO schema_version VALUES (?, ?)", [n, dt.datetime.now()])
            self.con.execute("COMMIT")
        if self.scalar("SELECT count(*) FROM sessions") == 0:
            import pandas as pd

            from kechuang.data.calendar import sessions_array

            s = sessions_array()
            frame = pd.DataFrame({"date": s, "session_index": np.arange(len(s), dtype=np.int32)})
            self.con.register("_sessions", frame)
            self.con.execute("INSERT INTO sessions SELECT date, session_index FROM _sessions")
            self.con.unregister("_sessions")

    # -- reads ----------------------------------------------------------------------------
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def query_arrow(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self.con.execute(sql, params or []).to_arrow_table()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0][0] if rows else None

    def table_counts(self) -> dict[str, int]:
        return {t: int(self.scalar(f"SELECT count(*) FROM {t}")) for t in TABLES}

    def content_digest(self) -> dict[str, str]:
        """Order-independent digest of every table's rows, for 'store unchanged' checks."""
        def rel(t: str) -> str:  # ingested_at records when, not what: left out
            return "(SELECT * EXCLUDE (ingested_at) FROM datasets)" if t == "datasets" else t

        return {t: str(self.scalar(f"SELECT count(*) || ':' || coalesce(sum(hash(r::VARCHAR)), 0)"
                                   f" FROM {rel(t)} r")) for t in TABLES}

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- Parquet --------------------------------------------------------------------------
    def export_parquet(self, directory: str | Path) -> dict[str, int]:
        """Hive-partitioned Parquet, one folder per table (bars by year), readable in place by
        DuckDB, polars, pyarrow and Ray."""
        root = Path(directory)
        root.mkdir(parents=True, exist_ok=True)
        counts = {}
        for name, table in TABLES.items():
            target = root / name
            n = int(self.scalar(f"SELECT count(*) FROM {name}"))
            counts[name] = n
            if table.partition == "year":
                self.con.execute(
                    f"COPY (SELECT *, year(date) AS year FROM {name}) TO '{target}' "
                    "(FORMAT parquet, PARTITION_BY (year), OVERWRITE_OR_IGNORE true)")
            else:
                target.mkdir(parents=True, exist_ok=True)
                self.con.execute(f"COPY {name} TO '{target / 'data.parquet'}' (FORMAT parquet)")
        return counts


@contextmanager
def open_store(path: str | Path | None = None, *, read_only: bool = True) -> Iterator[Store]:
    store = Store(path, read_only=read_only)
    try:
        yield store
    finally:
        store.close()


def ensure_store(path: str | Path | None = None) -> Path:
    """Create and migrate the store file if needed; returns its path. Closes it again."""
    with open_store(path, read_only=False) as s:
        return s.path


class Staging:
    """An in-memory database for loading and checking input, with the store attached read-only
    as `store`. `commit(statements)` re-attaches it writable and runs them in one transaction."""

    def __init__(self, store_path: str | Path) -> None:
        self.store_path = Path(store_path)
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET preserve_insertion_order = true")
        self.con.execute(f"ATTACH '{self._quoted()}' AS store (READ_ONLY)")

    def _quoted(self) -> str:
        return str(self.store_path).replace("'", "''")

    def sql(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.con.execute(sql, params or [])

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    def fetchone(self, sql: str, params: Sequence[Any] | None = None) -> tuple[Any, ...] | None:
        rows = self.con.execute(sql, params or []).fetchall()
        return rows[0] if rows else None

    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.con.execute(sql, params or []).df()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        self.con.register(name, frame)

    def columns(self, relation: str) -> list[tuple[str, str]]:
        rows = self.con.execute(f"DESCRIBE {relation}").fetchall()
        return [(r[0], r[1]) for r in rows]

    def error_text(self, exc: Exception) -> str:
        return str(exc).splitlines()[0]

    @property
    def db_error(self) -> type[Exception]:
        return duckdb.Error

    def commit(self, statements: Sequence[str]) -> None:
        self.con.execute("DETACH store")
        self.con.execute(f"ATTACH '{self._quoted()}' AS store")
        self.con.execute("BEGIN TRANSACTION")
        try:
            for st in statements:
                self.con.execute(st)
            self.con.execute("COMMIT")
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        # No explicit CHECKPOINT: the commit is durable (WAL), and close() detaches the store,
        # which checkpoints it; a second checkpoint here only cost time (W6).

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Staging:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
