"""`kechuang index build|review|show`, `kechuang breadth`, `kechuang attribution` with --json."""

from __future__ import annotations

import csv
import json

from typer.testing import CliRunner

from kechuang.cli.main import app

runner = CliRunner()


def _json(args: list[str], db) -> dict:
    r = runner.invoke(app, [*args, "--json", "--db", str(db)])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def _rows(path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_index_build_json_and_files(bundled_store, tmp_path):
    out = _json(["index", "build", "000688", "--out", str(tmp_path)], bundled_store)
    assert out["from"] == "2019-12-31" and out["first_level"] == 1000.0
    assert out["fidelity"]["full"]["to"] == "2022-01-14"
    assert any("free-float" in n for n in out["notes"])
    levels = _rows(tmp_path / "levels.csv")
    assert levels[0] == {"date": "2019-12-31", "level": "1000.0"}
    members = _rows(tmp_path / "members.csv")
    dates = sorted({m["review_date"] for m in members})
    assert dates[0] == "2020-07-23"  # the launch list, then every review
    assert all(sum(m["review_date"] == d for m in members) == 50 for d in dates)
    weights = _rows(tmp_path / "weights.csv")
    assert {"date", "code", "weight"} == set(weights[0])


def test_index_review_show_json(bundled_store):
    r = _json(["index", "review", "--as-of", "2021-08-31"], bundled_store)
    assert r["next_review"] == "2021-09-13" and len(r["table"]) == 50
    s = _json(["index", "show", "--date", "2021-06-01"], bundled_store)
    assert len(s["constituents"]) == 50
    assert abs(sum(c["weight"] for c in s["constituents"]) - 1) < 1e-9


def test_breadth_and_attribution_json(bundled_store):
    b = _json(["breadth", "--start", "2021-06-01", "--end", "2021-06-30",
               "--ladder", "2021-06-21"], bundled_store)
    assert b["universe"] == "board" and len(b["rows"]) == 21 and "ladder" in b
    a = _json(["attribution", "--date", "2020-08-03"], bundled_store)
    assert abs(a["sum_of_contributions"] - a["index_return"]) < 1e-12
    f = _json(["attribution", "--find", "--min-return", "0.04", "--max-fell", "2"],
              bundled_store)
    assert all(d["n_fell"] <= 2 and d["index_return"] >= 0.04 for d in f["days"])


def test_cli_errors_one_line(bundled_store):
    for args in (["index", "build", "000999"], ["index", "build", "--start", "2019-01-02"],
                 ["attribution", "--date", "2030-01-02"],
                 ["breadth", "--start", "2020-01-25", "--end", "2020-01-31"]):
        r = runner.invoke(app, [*args, "--db", str(bundled_store)])
        assert r.exit_code != 0
