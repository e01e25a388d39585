"""Every validation error: one line naming file, row and column, and the store byte-for-byte
unchanged. Uses a private copy of the bundled store and tiny bad files."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from kechuang.core.errors import ValidationError
from kechuang.data.ingest import ingest_file
from kechuang.data.store import open_store

HEADER = "code,date,open,high,low,close,volume"
GOOD = ["688001,2025-05-26,30.00,31.00,29.50,30.50,100000",
        "688001,2025-05-27,30.50,31.20,30.10,31.00,120000"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write(tmp: Path, name: str, lines: list[str]) -> Path:
    p = tmp / name
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


CASES = [
    # (case id, header, rows, expected message part, row, column)
    ("missing column", "code,date,open,high,low,volume",
     ["688001,2025-05-26,30,31,29.5,100"], "missing column 'close'", None, "close"),
    ("unknown column", HEADER + ",foo", [GOOD[0] + ",1"], "unknown column", None, "foo"),
    ("unparseable date", HEADER, [GOOD[0], "688001,2025-13-01,30,31,29.5,30.5,1"],
     "is not a date", 2, "date"),
    ("nan price", HEADER, [GOOD[0], "688001,2025-05-27,30,31,29.5,nan,1"],
     "not a positive number", 2, "close"),
    ("zero price", HEADER, ["688001,2025-05-26,0,31,29.5,30.5,1"],
     "not a positive number", 1, "open"),
    ("negative price", HEADER, [GOOD[0], "688001,2025-05-27,30,31,-29.5,30.5,1"],
     "not a positive number", 2, "low"),
    ("text price", HEADER, [GOOD[0], "688001,2025-05-27,30,31,29.5,abc,1"],
     "is not a number", 2, "close"),
    ("high below max(open, close)", HEADER, [GOOD[0], "688001,2025-05-27,30,30.5,29,30.8,1"],
     "below max(open, close)", 2, "high"),
    ("low above min(open, close)", HEADER, [GOOD[0], "688001,2025-05-27,30,31,30.2,30.5,1"],
     "above min(open, close)", 2, "low"),
    ("duplicate key", HEADER, [GOOD[0], GOOD[1], GOOD[0]], "duplicate key", 3, "date"),
    ("not a STAR code", HEADER, [GOOD[0], "600000,2025-05-27,30,31,29.5,30.5,1"],
     "not a STAR code", 2, "code"),
    ("not a session", HEADER, [GOOD[0], "688001,2025-05-31,30,31,29.5,30.5,1"],
     "not an XSHG trading session", 2, "date"),
    ("before list date", HEADER, ["688001,2019-07-19,30,31,29.5,30.5,1"],
     "before 688001's list date 2019-07-22", 1, "date"),
    ("unknown code", HEADER, [GOOD[0], "688999,2025-05-27,30,31,29.5,30.5,1"],
     "unknown code 688999", 2, "code"),
    ("negative volume", HEADER, [GOOD[0], "688001,2025-05-27,30,31,29.5,30.5,-5"],
     "negative", 2, "volume"),
]


@pytest.mark.parametrize(("case", "header", "rows", "message", "row", "column"), CASES,
                         ids=[c[0] for c in CASES])
def test_bad_bars_file_is_refused_and_store_unchanged(
        store_copy: Path, tmp_path: Path, case: str, header: str, rows: list[str],
        message: str, row: int | None, column: str) -> None:
    bad = write(tmp_path, "bad.csv", [header, *rows])
    before = sha(store_copy)
    with pytest.raises(ValidationError) as err:
        ingest_file(bad, "bars", store_copy)
    text = str(err.value)
    assert message in text and "bad.csv" in text and "\n" not in text
    assert err.value.column == column
    assert err.value.row == row
    if row is not None:
        assert f"row {row}" in text
    assert sha(store_copy) == before


def test_empty_and_header_only_files(store_copy: Path, tmp_path: Path) -> None:
    before = sha(store_copy)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(ValidationError, match="file is empty"):
        ingest_file(empty, "bars", store_copy)
    with pytest.raises(ValidationError, match="no data rows"):
        ingest_file(write(tmp_path, "header.csv", [HEADER]), "bars", store_copy)
    assert sha(store_copy) == before


def test_files_that_are_not_csv_or_parquet(store_copy: Path, tmp_path: Path) -> None:
    before = sha(store_copy)
    txt = write(tmp_path, "bars.txt", [HEADER, GOOD[0]])
    with pytest.raises(ValidationError, match="not a CSV or Parquet"):
        ingest_file(txt, "bars", store_copy)
    fake_parquet = write(tmp_path, "bars.parquet", [HEADER, GOOD[0]])
    with pytest.raises(ValidationError, match="not a Parquet file"):
        ingest_file(fake_parquet, "bars", store_copy)
    binary = tmp_path / "bars.csv"
    binary.write_bytes(gzip.compress(b"code,date\n"))
    with pytest.raises(ValidationError, match="binary"):
        ingest_file(binary, "bars", store_copy)
    with pytest.raises(ValidationError, match="no such file"):
        ingest_file(tmp_path / "missing.csv", "bars", store_copy)
    assert sha(store_copy) == before


def test_good_file_lands_and_reingest_adds_nothing(store_copy: Path, tmp_path: Path) -> None:
    good = write(tmp_path, "good.csv", [HEADER, *GOOD])
    ingest_file(good, None, store_copy)  # kind detected from the header
    with open_store(store_copy) as s:
        n = s.scalar("SELECT count(*) FROM bars_daily WHERE code = '688001' AND source = 'raw'")
        digest = s.content_digest()
        row = s.query("SELECT * FROM bars_daily WHERE code = '688001' AND date = '2025-05-27' "
                      "AND source = 'raw'")
    assert row["close"].tolist() == [31.0] and row["volume"].tolist() == [120000.0]
    ingest_file(good, None, store_copy)
    with open_store(store_copy) as s:
        assert s.scalar("SELECT count(*) FROM bars_daily WHERE code = '688001' "
                        "AND source = 'raw'") == n
        assert s.content_digest() == digest


def test_upsert_replaces_on_key(store_copy: Path, tmp_path: Path) -> None:
    ingest_file(write(tmp_path, "a.csv", [HEADER, *GOOD]), "bars", store_copy)
    ingest_file(write(tmp_path, "b.csv", [HEADER, GOOD[0].replace("30.50,100000",
                                                                  "30.60,100000")]),
                "bars", store_copy)
    with open_store(store_copy) as s:
        got = s.query("SELECT close FROM bars_daily WHERE code = '688001' AND "
                      "date = '2025-05-26' AND source = 'raw'")["close"].tolist()
    assert got == [30.6]


def test_parquet_input_is_checked_the_same_way(store_copy: Path, tmp_path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame({"code": ["688001", "688001"], "date": ["2025-05-26", "2025-05-31"],
                          "open": [30.0, 30.0], "high": [31.0, 31.0], "low": [29.5, 29.5],
                          "close": [30.5, 30.5], "volume": [1.0, 1.0]})
    path = tmp_path / "bars.parquet"
    frame.to_parquet(path)
    before = sha(store_copy)
    with pytest.raises(ValidationError, match=r"row 2.*not an XSHG trading session"):
        ingest_file(path, "bars", store_copy)
    assert sha(store_copy) == before
    frame.loc[1, "date"] = "2025-05-27"
    frame.to_parquet(path)
    ingest_file(path, "bars", store_copy)


def test_cli_error_is_one_line_nonzero_and_store_unchanged(store_copy: Path,
                                                           tmp_path: Path) -> None:
    bad = write(tmp_path, "bad.csv", [HEADER, "688001,2025-05-26,-1,31,29.5,30.5,1"])
    before = sha(store_copy)
    out = subprocess.run([sys.executable, "-m", "kechuang.cli.main", "ingest", str(bad),
                          "--db", str(store_copy)], capture_output=True, text=True)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "row 1" in lines[0] and "'open'" in lines[0]
    assert "Traceback" not in out.stderr
    assert sha(store_copy) == before
