"""Crash safety and Parquet round trips of the store."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from kechuang.data.store import open_store

KILL_SCRIPT = """
import sys
from kechuang.data.ingest import ingest_file
def progress(name, done, total):
    print(name, flush=True)
ingest_file(sys.argv[1], "bars", sys.argv[2], progress=progress)
print("done", flush=True)
"""


def _big_update_file(store: Path, target: Path) -> int:
    """Every raw bar with prices scaled by 1.1: a valid file that rewrites 537k rows."""
    con = duckdb.connect()
    con.execute(f"ATTACH '{store}' AS s (READ_ONLY)")
    con.execute(f"""COPY (SELECT code, strftime(date, '%Y-%m-%d') AS date,
        round(open * 1.1, 2) AS open, round(high * 1.1, 2) + 0.01 AS high,
        round(low * 1.1, 2) - 0.01 AS low, round(close * 1.1, 2) AS close, volume
        FROM s.bars_daily WHERE source = 'raw' ORDER BY code, date) TO '{target}' (HEADER)""")
    n = con.execute(f"SELECT count(*) FROM read_csv('{target}')").fetchall()[0][0]
    con.close()
    return int(n)


def test_sigkill_mid_ingest_leaves_previous_store(store_copy: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    assert _big_update_file(store_copy, big) > 500_000
    pristine = tmp_path / "pristine.duckdb"
    shutil.copy(store_copy, pristine)
    with open_store(store_copy) as s:
        before = s.content_digest()
    complete = tmp_path / "complete.duckdb"
    shutil.copy(store_copy, complete)
    subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(big), str(complete)], check=True,
                   capture_output=True)
    with open_store(complete) as s:
        after_full = s.content_digest()
    assert after_full != before
    killed_mid_write = 0
    for delay in (0.02, 0.15, 0.4):
        proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(big), str(store_copy)],
                                stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "commit":  # checks passed; the write transaction is under way
                break
        time.sleep(delay)
        proc.kill()
        proc.wait()
        with open_store(store_copy) as s:  # readable after the crash
            after = s.content_digest()
        # atomic: either the previous store or the whole new batch, never part of it
        assert after in (before, after_full)
        if after == before:
            killed_mid_write += 1
        else:
            shutil.copy(pristine, store_copy)
            Path(str(store_copy) + ".wal").unlink(missing_ok=True)
    assert killed_mid_write >= 1


def test_parquet_export_import_round_trip(bundled_store: Path, tmp_path: Path) -> None:
    from kechuang.data.parquet import import_parquet

    out = tmp_path / "pq"
    with open_store(bundled_store) as s:
        counts = s.export_parquet(out)
        digest = s.content_digest()
    assert (out / "bars_daily" / "year=2020").is_dir()
    # Readable in place by DuckDB and polars with Hive partitioning.
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*) FROM read_parquet('{out}/bars_daily/**/*.parquet', "
                    "hive_partitioning = true) WHERE year = 2020").fetchall()[0][0]
    assert n > 0
    import polars as pl

    lazy = pl.scan_parquet(str(out / "bars_daily" / "**" / "*.parquet"), hive_partitioning=True)
    assert lazy.select(pl.len()).collect().item() == counts["bars_daily"]
    fresh = tmp_path / "fresh.duckdb"
    import_parquet(out, fresh)
    with open_store(fresh) as s:
        assert s.content_digest() == digest
    import_parquet(out, fresh)  # again: upsert adds nothing
    with open_store(fresh) as s:
        assert s.content_digest() == digest
