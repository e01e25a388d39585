"""W6 ingest: the bundled unadjusted bars (537,064 rows) into a store, validated, from a cold
process; side by side with DuckDB's own read_csv into a table and pandas.read_csv + to_parquet.
Each engine runs in a fresh Python process (imports included in the time, as a user would see);
the store it writes into already holds the company master (untimed setup, copied per run)."""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from kechuang.data.bundled import datasets_dir

BARS = datasets_dir() / "adj_factors" / "star_daily_unadj_2019_2025.csv.gz"
ROWS = 537_064

OURS = """
import sys
from kechuang.data.bundled import BUNDLED
from kechuang.data.ingest import Item, run
b = next(x for x in BUNDLED if x.name == "star_daily_unadj")
r = run([Item(b.name, __import__("pathlib").Path(sys.argv[2]), b.spec, b.source, b.as_of)],
        sys.argv[1])
print(sum(r.rows.values()))
"""
DUCKDB_RAW = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute(f"CREATE TABLE bars AS SELECT * FROM read_csv('{sys.argv[2]}', header = true)")
print(con.execute("SELECT count(*) FROM bars").fetchall()[0][0])
con.close()
"""
PANDAS = """
import sys, pandas as pd
df = pd.read_csv(sys.argv[2], dtype={"code": str})
df.to_parquet(sys.argv[1] + ".parquet")
print(len(df))
"""


def _once(script: str, target: Path) -> float:
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script, str(target), str(BARS)],
                         capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - t
    rows = int(out.stdout.strip().splitlines()[-1])
    if rows != ROWS:
        raise AssertionError(f"engine loaded {rows} rows, expected {ROWS}")
    return elapsed


def run(repeat: int = 3, **_: Any) -> dict[str, Any]:
    from kechuang.data.bundled import BUNDLED
    from kechuang.data.ingest import Item
    from kechuang.data.ingest import run as ingest_run
    from kechuang.data.store import open_store

    work = Path(tempfile.mkdtemp(prefix="w6_"))
    base = work / "base.duckdb"
    master = next(b for b in BUNDLED if b.name == "star_master")
    ingest_run([Item(master.name, datasets_dir() / master.file, master.spec, master.source,
                     master.as_of)], base)
    times: dict[str, list[float]] = {"kechuang": [], "duckdb_read_csv": [], "pandas_parquet": []}
    for _ in range(repeat):
        for name, script in (("kechuang", OURS), ("duckdb_read_csv", DUCKDB_RAW),
                             ("pandas_parquet", PANDAS)):
            target = work / f"{name}.duckdb"
            for p in work.glob(f"{name}.duckdb*"):
                p.unlink()
            if name == "kechuang":
                shutil.copy(base, target)
            times[name].append(_once(script, target))
    with open_store(work / "kechuang.duckdb") as s:
        stored = s.scalar("SELECT count(*) FROM bars_daily WHERE source = 'raw'")
    shutil.rmtree(work)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "rows": ROWS, "rows_in_store": stored,
        "median_s": med, "rows_per_s": {k: ROWS / v for k, v in med.items()},
        "ratio_vs_duckdb_read_csv": med["kechuang"] / med["duckdb_read_csv"],
        "ratio_vs_pandas_parquet": med["kechuang"] / med["pandas_parquet"],
        "runs": repeat, "threads": "DuckDB default (2 cores)",
        "note": "each timing is a cold process, imports included",
    }
