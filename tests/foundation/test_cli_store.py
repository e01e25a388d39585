"""The store commands end to end through the real `kechuang` entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def kc(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kechuang.cli.main", *args],
                          capture_output=True, text=True, env=env)


def test_info_json(bundled_store: Path) -> None:
    out = kc("info", "--db", str(bundled_store), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    tables = {t["table"]: t for t in data["tables"]}
    assert tables["bars_daily"]["rows"] > 800_000
    assert tables["bars_daily"]["from"] == "2019-07-22"
    names = {d["name"] for d in data["datasets"]}
    assert {"star_daily_unadj", "star_master", "etf_daily"} <= names
    assert all(d["as_of"] and d["source"] for d in data["datasets"])


def test_store_path_from_environment(bundled_store: Path) -> None:
    import os

    env = {**os.environ, "KECHUANG_DB": str(bundled_store)}
    out = kc("info", "--json", env=env)
    assert out.returncode == 0 and json.loads(out.stdout)["store"] == str(bundled_store)


def test_rules_json_both_sides_of_stamp_duty_cut() -> None:
    before = json.loads(kc("rules", "--date", "2023-08-27", "--json").stdout)
    after = json.loads(kc("rules", "--date", "2023-08-28", "--json").stdout)
    assert before["stamp_duty_sell"]["value"] == 0.001
    assert after["stamp_duty_sell"]["value"] == 0.0005


def test_bad_date_and_missing_store_are_one_line_errors(tmp_path: Path) -> None:
    out = kc("rules", "--date", "2023-02-30")
    assert out.returncode != 0 and out.stderr.count("\n") == 1 and "not a date" in out.stderr
    out = kc("info", "--db", str(tmp_path / "none.duckdb"))
    assert out.returncode != 0 and "no store here" in out.stderr
    assert "Traceback" not in out.stderr


def test_export_then_import_cli(bundled_store: Path, tmp_path: Path) -> None:
    pq = tmp_path / "pq"
    out = kc("export", str(pq), "--db", str(bundled_store), "--json")
    assert out.returncode == 0, out.stderr
    exported = json.loads(out.stdout)["rows"]
    fresh = tmp_path / "fresh.duckdb"
    out = kc("import", str(pq), "--db", str(fresh), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows"]["bars_daily"] == exported["bars_daily"]
    out = kc("import", str(tmp_path / "nothing"), "--db", str(fresh))
    assert out.returncode != 0 and "not a folder" in out.stderr


def test_ingest_needs_path_or_bundled(tmp_path: Path) -> None:
    out = kc("ingest", "--db", str(tmp_path / "x.duckdb"))
    assert out.returncode != 0 and "--bundled" in out.stderr
    out = kc("ingest", "x.csv", "--kind", "nonsense", "--db", str(tmp_path / "x.duckdb"))
    assert out.returncode != 0 and "unknown --kind" in out.stderr
