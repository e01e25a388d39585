"""Reports: the tearsheet's figures agree with the backtest they show, the HTML works offline
(Plotly inlined or beside the page, no network address anywhere), PNGs are written; the index
and breadth reports; the CLI commands (`report ...`, `serve --help`, `demo --no-serve`)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from kechuang.api import dashboard as dash
from kechuang.reports import breadth_report, index_report, tearsheet
from kechuang.reports.common import fmt_cny, fmt_date, jsonable, label

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def ma_result(bundled_store: Path) -> Any:
    return dash.run_backtest("ma_cross", ["688981"], "2020-09-01", "2024-06-28",
                             {"fast": 5, "slow": 20}, db=bundled_store)


@pytest.fixture(scope="module")
def dca_result(bundled_store: Path) -> Any:
    return dash.run_backtest("dca", ["588000"], params={"amount": 1000.0}, db=bundled_store)


def test_formatting() -> None:
    assert fmt_date(pd.Timestamp("2021-03-05")) == "2021-03-05"
    assert fmt_date(np.datetime64("2021-03-05")) == "2021-03-05"
    assert fmt_cny(1234567.891) == "¥1,234,567.89"
    assert fmt_cny(float("nan")) == "n/a"
    assert label("688981", {"688981": "中芯国际"}) == "688981 中芯国际"
    assert label("688000", {}) == "688000"
    assert jsonable({"a": float("nan"), "b": np.int64(3), "c": pd.Timestamp("2020-01-02"),
                     "d": [np.float32(1.5), None]}) == {"a": None, "b": 3, "c": "2020-01-02",
                                                      "d": [1.5, None]}


def test_tearsheet_figures_agree_with_the_backtest(ma_result: Any, bundled_store: Path
                                                   ) -> None:
    res = ma_result
    s = tearsheet.series(res, dash.benchmark(bundled_store))
    growth = s["growth"]
    assert growth.iloc[0] == pytest.approx(1.0)
    assert growth.iloc[-1] == pytest.approx(1.0 + res.stats["total_return"], rel=1e-9)
    assert -s["drawdown"].min() == pytest.approx(res.stats["max_drawdown"], rel=1e-9)
    monthly = s["monthly"].to_numpy(dtype=float)
    compounded = np.prod(1.0 + monthly[np.isfinite(monthly)] / 100.0) - 1.0
    assert compounded == pytest.approx(res.stats["total_return"], rel=1e-9)
    bench = s["bench_growth"].dropna()
    official = dash.benchmark(bundled_store)
    assert bench.iloc[-1] == pytest.approx(official.loc[bench.index[-1]]
                                           / official.loc[bench.index[0]])
    vol = s["rolling_vol"].dropna()
    assert len(vol) == s["returns"].notna().sum() - tearsheet.ROLLING_WINDOW + 1
    figs = tearsheet.figures(res, official, {"688981": "中芯国际"})
    assert sum(figs["fees"]["data"][0]["y"]) == pytest.approx(sum(res.fees.values()))
    blocked = dict(zip(figs["blocked"]["data"][0]["x"], figs["blocked"]["data"][0]["y"],
                       strict=True))
    assert sum(blocked.values()) == sum(res.blocked.values())
    assert figs["equity"]["data"][0]["name"] == "ma_cross (688981 中芯国际)"
    json.dumps(figs, allow_nan=False)  # built as strict JSON: the API sends them as they are


def test_dca_growth_is_time_weighted(dca_result: Any) -> None:
    res = dca_result
    s = tearsheet.series(res)
    assert s["growth"].dropna().iloc[-1] == pytest.approx(
        1.0 + res.stats["time_weighted_return"], rel=1e-9)
    value = tearsheet.figures(res)["value"]["data"]
    assert [t["name"] for t in value] == ["equity 账户净值", "cash 现金", "contributed 累计投入"]
    assert value[2]["y"][-1] == pytest.approx(res.stats["contributed"])
    rows = dict(tearsheet.stats_rows(res.stats))
    assert rows["contributed (inflows)"].startswith("¥")
    assert rows["money-weighted return (IRR, p.a.)"].endswith("%")


def test_tearsheet_html_is_offline(ma_result: Any, bundled_store: Path, tmp_path: Path
                                   ) -> None:
    rep = tearsheet.build(ma_result, dash.benchmark(bundled_store), dash.names(bundled_store))
    paths = rep.write(tmp_path, "bt", plotly="beside")
    names = sorted(p.name for p in paths)
    assert names == ["bt.html", "bt_drawdown.png", "bt_equity.png", "bt_fees.png",
                     "bt_monthly.png", "plotly.min.js"]
    page = (tmp_path / "bt.html").read_text(encoding="utf-8")
    assert re.findall(r'<script src="([^"]+)"', page) == ["plotly.min.js"]
    assert "http://" not in page and "https://" not in page
    assert "688981 中芯国际" in page and "¥" in page and "2020-09-01" in page
    for p in paths:
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == PNG_MAGIC and p.stat().st_size > 5_000
    inline = rep.to_html("inline")
    assert "<script src=" not in inline and "plotly.js v" in inline
    with pytest.raises(ValueError):
        rep.to_html("cdn")


def test_index_report(bundled_store: Path, tmp_path: Path) -> None:
    b = dash.index_bundle(bundled_store)
    names = dash.names(bundled_store)
    rep = index_report.build(b["result"], b["official"], b["fidelity"], b["review"], names)
    paths = rep.write(tmp_path, "ix")
    page = (tmp_path / "ix.html").read_text(encoding="utf-8")
    top = index_report.last_weights(b["result"], names).iloc[0]
    assert f"{top['code']}" in page and top["name"] in page
    assert "Next review" in page and "Tracking the official series" in page
    lv = rep.figures["level"]["data"]
    assert len(lv[0]["x"]) == len(b["result"].levels)
    assert lv[1]["x"][0] >= lv[0]["x"][0] and lv[1]["x"][-1] <= lv[0]["x"][-1]
    assert (tmp_path / "ix_level.png").read_bytes()[:8] == PNG_MAGIC
    assert len(paths) == 3


def test_breadth_report(bundled_store: Path, tmp_path: Path) -> None:
    t, universe, notes = dash.breadth_table(bundled_store, "board", "2021-01-04", "2021-03-31")
    rep = breadth_report.build(t, universe, notes)
    rep.write(tmp_path, "br")
    page = (tmp_path / "br.html").read_text(encoding="utf-8")
    assert "McClellan" in page and "2021-03-31" in page
    figs = rep.figures
    assert len(figs["advdec"]["data"][0]["x"]) == len(t)
    assert figs["advdec"]["data"][1]["y"][-1] == -float(t["decliners"].iloc[-1])
    assert [d["name"] for d in figs["above_ma"]["data"]] == ["above MA20", "above MA60",
                                                             "above MA250"]
    cols, rows = breadth_report.latest_rows(t, 3)
    assert rows[0][0] == "2021-03-31" and len(rows) == 3 and len(cols) == len(rows[0])


# ------------------------------------------------------------------ CLI
def _cli(args: list[str]) -> Any:
    from kechuang.cli.main import app

    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_cli_report_kinds(bundled_store: Path, tmp_path: Path) -> None:
    db = ["--db", str(bundled_store)]
    r = _cli(["report", "backtest", "grid", "-c", "688981", "-p", "band=0.03", "--out",
              str(tmp_path), "--no-png", "--json", *db])
    assert r.exit_code == 0, r.output
    paths = json.loads(r.output)["paths"]
    assert [Path(p).name for p in paths] == ["plotly.min.js", "bt_grid_688981.html"]
    r = _cli(["report", "breadth", "--start", "2021-01-04", "--end", "2021-02-26", "--out",
              str(tmp_path), "--json", *db])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "breadth_board.html").exists()
    r = _cli(["report", "index", "--out", str(tmp_path), "--no-png", *db])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "index_000688.html").exists()


def test_cli_report_errors_are_one_line(bundled_store: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "kechuang.cli.main", "report", "backtest",
                          "ma_cross", "-c", "999999", "--out", str(tmp_path), "--db",
                          str(bundled_store)], capture_output=True, text=True)
    assert out.returncode != 0
    assert out.stderr.strip().count("\n") == 0 and "999999" in out.stderr


def test_serve_defaults_to_localhost_8050() -> None:
    r = _cli(["serve", "--help"])
    assert r.exit_code == 0
    assert "127.0.0.1" in r.output and "8050" in r.output and "--workers" in r.output


def test_demo_no_serve_writes_the_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                          ) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KECHUANG_DB", str(tmp_path / "demo.duckdb"))
    r = _cli(["demo", "--no-serve", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    rep = out["reports"]
    assert rep["failed"] == {}, rep["failed"]
    written = {Path(p).name for p in rep["written"]}
    assert {"bt_dca_588000.html", "bt_grid_688981.html", "bt_core_satellite.html",
            "bt_ma_cross_688981.html", "sweep_ma_cross_688981.html", "index_000688.html",
            "breadth_board.html"} <= written
    assert any(n.startswith("board_") and n.endswith(".html") for n in written)
    assert (tmp_path / "reports" / "index.html").exists()
    assert (tmp_path / "reports" / "plotly.min.js").exists()
    assert os.path.exists(tmp_path / "demo.duckdb")
    assert set(rep["stats"]["bt_dca_588000"]) >= {"total_return", "money_weighted_return"}


def test_benchmark_line_starts_on_the_strategy_when_the_index_starts_later(
        bundled_store: Path) -> None:
    res = dash.run_backtest("core_satellite", None, db=bundled_store)
    s = tearsheet.series(res, dash.benchmark(bundled_store))
    bench = s["bench_growth"].dropna()
    assert bench.index[0] > s["growth"].index[0]  # the ETFs' history is longer than STAR 50's
    assert bench.iloc[0] == pytest.approx(s["growth"].loc[bench.index[0]])
    official = dash.benchmark(bundled_store)
    assert bench.iloc[-1] / bench.iloc[0] == pytest.approx(
        official.loc[bench.index[-1]] / official.loc[bench.index[0]])
