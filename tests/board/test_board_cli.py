"""The board commands end to end: JSON output, files written, one-line errors and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SAMPLES = Path(__file__).parent / "samples"


def kc(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kechuang.cli.main", *args, "--db", str(db)],
                          capture_output=True, text=True, timeout=120)


def test_census_json(bundled_store: Path) -> None:
    out = kc("census", "--as-of", "2026-03-04", "--json", db=bundled_store)
    assert out.returncode == 0, out.stderr
    figs = {f["key"]: f for f in json.loads(out.stdout)["figures"]}
    assert figs["marks"]["value"] == {"U (unprofitable)": 39, "W (weighted voting rights)": 9,
                                      "CDR (D)": 1}
    assert all(f["as_of"] and f["dataset"] for f in figs.values())


def test_check_listing_flags_and_file(bundled_store: Path, tmp_path: Path) -> None:
    out = kc("check-listing", "--date", "2025-07-01", "--market-value", "5bn", "--industry",
             "low_altitude", "--product-approval", "--tech-advantage", "--json",
             db=bundled_store)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    assert res["eligible"] is True and res["met"] == ["standard_5"]
    spec = tmp_path / "co.yaml"
    spec.write_text("date: 2024-06-28\nmarket_value: 15亿\nrevenue: 200m\nrevenue_3y: 500m\n"
                    "rd_3y: 75m\n", encoding="utf-8")
    out = kc("check-listing", "--file", str(spec), "--json", db=bundled_store)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["met"] == ["standard_2"]


def test_check_listing_errors(bundled_store: Path, tmp_path: Path) -> None:
    neg = kc("check-listing", "--date", "2024-01-02", "--revenue", "-5m", db=bundled_store)
    assert neg.returncode == 2 and "revenue" in neg.stderr and "negative" in neg.stderr
    early = kc("check-listing", "--date", "2019-07-19", "--revenue", "5m", db=bundled_store)
    assert early.returncode == 2 and "2019-07-22" in early.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"market_value": 1e9, "profit": 3}', encoding="utf-8")
    unk = kc("check-listing", "--file", str(bad), db=bundled_store)
    assert unk.returncode == 2 and "unknown field 'profit'" in unk.stderr
    assert len(unk.stderr.strip().splitlines()) == 1


def test_screens_unknown_code_and_bonds_errors(bundled_store: Path) -> None:
    out = kc("screens", "--as-of", "2020-12-31", "--code", "688999", db=bundled_store)
    assert out.returncode == 2 and "unknown code 688999" in out.stderr
    bad = kc("bonds", "ingest", str(SAMPLES / "sample_bonds_bad_rating.csv"), db=bundled_store)
    assert bad.returncode == 2 and "'AAA+'" in bad.stderr


def test_report_board_writes_md_and_html(bundled_store: Path, tmp_path: Path) -> None:
    out = kc("report", "board", "--as-of", "2025-06-12", "--out", str(tmp_path), "--json",
             db=bundled_store)
    assert out.returncode == 0, out.stderr
    res = json.loads(out.stdout)
    md = Path(res["paths"]["markdown"]).read_text(encoding="utf-8")
    page = Path(res["paths"]["html"]).read_text(encoding="utf-8")
    assert "## Check against SSE-published figures" in md
    assert "## What the data could not support" in md
    assert "| Listed companies | 588 | 2025-06-12 | 588 | 2025-06-12 | agrees |" in md
    assert "<h2>What the data could not support</h2>" in page
    assert "fig-new_listings_by_year" in page and (tmp_path / "plotly.min.js").exists()
    # Every figure of every section has an as-of date and a dataset.
    for sec in res["data"]["sections"]:
        assert all(f["as_of"] and f["dataset"] for f in sec["figures"])


def test_check_listing_growth_tier_and_code(bundled_store: Path) -> None:
    out = kc("check-listing", "--date", "2026-05-10", "--list-date", "2021-03-01",
             "--annual-profit", "2020:-100m:-110m", "--annual-profit", "2024:-5m:-6m",
             "--annual-profit", "2025:20m:15m", "--json", db=bundled_store)
    assert out.returncode == 0, out.stderr
    tier = {r["test"]: r["status"] for r in json.loads(out.stdout)["growth_tier"]}
    assert tier == {"growth_tier_entry": "met", "growth_tier_exit_existing": "met"}
    unk = kc("check-listing", "--code", "688999", db=bundled_store)
    assert unk.returncode == 2 and "unknown code 688999" in unk.stderr
    one = kc("check-listing", "--code", "688001", "--json", db=bundled_store)
    res = json.loads(one.stdout)
    assert res["company"]["fy"] == 2018 and "standard_4" in res["met"]
