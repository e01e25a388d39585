"""The dashboard's JSON API through FastAPI's test client: every endpoint, its answers checked
against the layer below on the bundled store, and its error paths (422 with the field named,
413/408/429 with the limit named)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from kechuang.data.store import open_store


def _detail(r: Any) -> dict[str, Any]:
    d = r.json()["detail"]
    assert isinstance(d, list) and d, r.text
    return dict(d[0])


# ------------------------------------------------------------------ meta, pages, assets
def test_health_names_the_limits(client: TestClient) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["limits"]["max_codes"] == 20 and body["limits"]["max_run_seconds"] == 10.0


@pytest.mark.parametrize("path", ["/", "/index", "/breadth", "/backtest", "/sweep", "/screen",
                                  "/listing", "/bonds"])
def test_pages_are_html_with_local_scripts_only(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    srcs = re.findall(r'<script src="([^"]+)"', r.text)
    assert srcs == ["/static/plotly.min.js", "/static/app.js"]
    assert "http://" not in r.text and "https://" not in r.text


def test_static_assets(client: TestClient) -> None:
    js = client.get("/static/plotly.min.js")
    assert js.status_code == 200 and "plotly.js" in js.text[:200]
    assert js.headers["content-type"].startswith("application/javascript")
    app = client.get("/static/app.js")
    assert app.status_code == 200 and "DOMContentLoaded" in app.text
    assert client.get("/static/../app.py").status_code == 404


def test_board_report_page(client: TestClient) -> None:
    r = client.get("/board-report")
    assert r.status_code == 200
    assert "STAR Market board report as of" in r.text
    assert re.findall(r'<script src="([^"]+)"', r.text) in ([], ["/static/plotly.min.js"])
    assert len(r.content) < 2_000_000  # Plotly is not inlined


def test_openapi_has_every_api_route_and_no_path_or_sql_parameter(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/health", "/api/overview", "/api/strategies", "/api/backtest", "/api/sweep",
            "/api/index", "/api/breadth", "/api/census", "/api/screen", "/api/listing/check",
            "/api/bonds"} == paths
    names: list[str] = []
    for ops in spec["paths"].values():
        for op in ops.values():
            names += [p["name"] for p in op.get("parameters", [])]
    for schema in spec["components"]["schemas"].values():
        names += list(schema.get("properties", {}))
    forbidden = {"path", "file", "filename", "sql", "query", "db", "store", "directory", "dir"}
    assert not forbidden & {n.lower() for n in names}


# ------------------------------------------------------------------ overview, census
def test_overview_matches_the_store(client: TestClient, bundled_store: Path) -> None:
    r = client.get("/api/overview")
    assert r.status_code == 200
    d = r.json()
    with open_store(bundled_store) as s:
        last = s.query("SELECT date, close FROM index_levels WHERE index_code = '000688' "
                       "ORDER BY date DESC LIMIT 2")
    assert d["star50"]["date"] == str(last["date"].iloc[0])[:10]
    assert d["star50"]["close"] == pytest.approx(float(last["close"].iloc[0]))
    assert d["star50"]["change"] == pytest.approx(float(last["close"].iloc[0]
                                                        - last["close"].iloc[1]))
    assert d["board"]["figures"] and all(f["as_of"] for f in d["board"]["figures"])
    latest = d["breadth"]["latest"]
    assert latest["advancers"] + latest["decliners"] + latest["unchanged"] == latest["n_valid"]


def test_census_default_and_errors(client: TestClient) -> None:
    r = client.get("/api/census")
    assert r.status_code == 200
    listed = [f for f in r.json()["figures"] if f["key"] == "listed_companies"]
    assert listed and listed[0]["value"] > 500
    early = client.get("/api/census", params={"as_of": "2019-01-02"})
    assert early.status_code == 422
    assert _detail(early)["loc"] == ["query", "as_of"]
    assert "before the STAR Market opened" in _detail(early)["msg"]
    bad = client.get("/api/census", params={"as_of": "2021-13-01"})
    assert bad.status_code == 422 and _detail(bad)["loc"] == ["query", "as_of"]


# ------------------------------------------------------------------ backtest
def test_strategies_lists_the_registry(client: TestClient) -> None:
    from kechuang.strategies import STRATEGIES

    d = client.get("/api/strategies").json()
    assert set(d) == set(STRATEGIES)
    assert d["ma_cross"]["params"]["fast"]["default"] == 10
    assert d["core_satellite"]["universe"]


def test_backtest_matches_the_python_api(client: TestClient, bundled_store: Path) -> None:
    from kechuang.api.backtest import backtest

    body = {"strategy": "ma_cross", "codes": ["688981"], "params": {"fast": 5, "slow": 30},
            "start": "2021-01-04", "end": "2023-12-29"}
    r = client.post("/api/backtest", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    ref = backtest("ma_cross", ["688981"], "2021-01-04", "2023-12-29", fast=5, slow=30,
                   db=bundled_store)
    assert d["stats"]["final_value"] == pytest.approx(ref.stats["final_value"])
    assert d["n_fills"] == int((ref.orders["filled"] != 0).sum())
    assert d["fees"] == ref.fees
    assert d["codes"] == [{"code": "688981", "name": "中芯国际"}]
    figs = d["figures"]
    assert set(figs) >= {"equity", "value", "drawdown", "monthly", "rolling_vol", "fees",
                         "blocked"}
    assert figs["value"]["data"][0]["y"][-1] == pytest.approx(ref.stats["final_value"])
    growth = figs["equity"]["data"][0]["y"]
    assert growth[0] == pytest.approx(1.0)
    assert growth[-1] == pytest.approx(ref.stats["final_value"] / 1_000_000.0, rel=1e-9)
    assert figs["equity"]["data"][1]["name"].startswith("科创50")
    assert sum(figs["fees"]["data"][0]["y"]) == pytest.approx(sum(ref.fees.values()))
    assert figs["equity"]["data"][0]["x"][0] == "2021-01-04"
    rows = dict(d["stats_table"])
    assert rows["first session"] == "2021-01-04"


def test_backtest_dca_and_own_universe(client: TestClient) -> None:
    r = client.post("/api/backtest", json={"strategy": "dca", "codes": ["588000"],
                                           "params": {"amount": 2000}, "figures": False})
    assert r.status_code == 200, r.text
    d = r.json()
    assert "figures" not in d
    assert d["stats"]["contributed"] > 0 and d["codes"][0]["code"] == "588000"
    r = client.post("/api/backtest", json={"strategy": "core_satellite", "figures": False})
    assert r.status_code == 200, r.text
    d = r.json()
    assert len(d["codes"]) >= 3
    corr = d["correlation_table"]
    assert len(corr) == len(d["codes"]) + 1 and corr[1][1] == "1.00"
    assert any("518880" in h for h in corr[0])  # the gold leg


@pytest.mark.parametrize("body,loc,text", [
    ({"strategy": "nope"}, ["body", "strategy"], "Input should be"),
    ({"strategy": "ma_cross", "codes": ["688981"], "params": {"fast": -3}},
     ["body", "params", "fast"], "fast=-3"),
    ({"strategy": "ma_cross", "codes": ["688981"], "params": {"bogus": 1}},
     ["body", "params", "bogus"], "no parameter 'bogus'"),
    ({"strategy": "ma_cross", "codes": ["999999"]}, ["body", "codes"], "999999"),
    ({"strategy": "ma_cross", "codes": ["68898"]}, ["body", "codes", 0], "pattern"),
    ({"strategy": "ma_cross", "codes": ["688981"], "start": "2030-01-01"}, ["body", "start"],
     "2030-01-01"),
    ({"strategy": "ma_cross", "codes": ["688981"], "start": "2021-02-30"}, ["body", "start"],
     "date"),
    ({"strategy": "ma_cross", "codes": ["688981"], "rules": "loose"}, ["body", "rules"], "star"),
    ({"strategy": "ma_cross", "codes": ["688981"], "fill": "open"}, ["body", "fill"],
     "next_open"),
    ({"strategy": "ma_cross", "codes": ["688981"], "cash": 5}, ["body", "cash"], "Extra"),
    ({"strategy": "grid"}, ["body", "codes"], "needs codes"),
    ({"strategy": "rebalance", "params": {"weights": {"588000": 0.5, "518880": 0.4}}},
     ["body", "params", "weights"], "not 1"),
])
def test_backtest_bad_parameters_name_the_field(client: TestClient, body: dict[str, Any],
                                                loc: list[Any], text: str) -> None:
    r = client.post("/api/backtest", json=body)
    assert r.status_code == 422, r.text
    d = _detail(r)
    assert d["loc"][:len(loc)] == loc
    assert text in d["msg"]


def test_backtest_size_limits(client: TestClient) -> None:
    codes = [f"688{i:03d}" for i in range(1, 22)]
    r = client.post("/api/backtest", json={"strategy": "equal_weight", "codes": codes})
    assert r.status_code == 422
    assert _detail(r)["type"] == "max_codes" and "max_codes=20" in _detail(r)["msg"]
    params = {f"p{i}": i for i in range(13)}
    r = client.post("/api/backtest", json={"strategy": "ma_cross", "codes": ["688981"],
                                           "params": params})
    assert r.status_code == 422 and _detail(r)["type"] == "max_params"
    big = '{"strategy": "ma_cross", "codes": ["688981"], "pad": "' + "x" * 20_000 + '"}'
    r = client.post("/api/backtest", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "max_body_bytes=16384" in _detail(r)["msg"]


def test_run_time_and_queue_limits(bundled_store: Path) -> None:
    from kechuang.web.app import Limits, create_app

    slow = TestClient(create_app(bundled_store, Limits(max_run_seconds=0.0005), warm=False))
    r = slow.post("/api/backtest", json={"strategy": "ma_cross", "codes": ["688981"]})
    assert r.status_code == 408
    assert _detail(r)["type"] == "max_run_seconds" and "max_run_seconds=0.0005" in \
        _detail(r)["msg"]
    full = TestClient(create_app(bundled_store, Limits(max_queued_runs=0), warm=False))
    r = full.post("/api/backtest", json={"strategy": "ma_cross", "codes": ["688981"]})
    assert r.status_code == 429 and _detail(r)["type"] == "max_queued_runs"


# ------------------------------------------------------------------ sweep
def test_sweep_heatmap_matches_the_python_api(client: TestClient, bundled_store: Path) -> None:
    from kechuang.api.backtest import sweep

    body = {"strategy": "ma_cross", "codes": ["688981"], "stat": "total_return",
            "x": {"name": "fast", "values": [5, 10]}, "y": {"name": "slow", "values": [50, 90,
                                                                                      120]}}
    r = client.post("/api/sweep", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["n_runs"] == 6
    z = np.array(d["figure"]["data"][0]["z"], dtype=float)
    assert z.shape == (3, 2)
    ref = sweep("ma_cross", {"fast": [5, 10], "slow": [50, 90, 120]}, ["688981"],
                db=bundled_store)
    for i, slow in enumerate([50, 90, 120]):
        for j, fast in enumerate([5, 10]):
            want = ref[(ref["fast"] == fast) & (ref["slow"] == slow)]["total_return"].iloc[0]
            assert z[i, j] == pytest.approx(want)
    assert d["best"]["total_return"] == pytest.approx(np.nanmax(z))


@pytest.mark.parametrize("body,status,kind", [
    ({"x": {"name": "fast", "values": list(range(1, 27))}, "y": {"name": "slow",
                                                                 "values": [50]}},
     422, "max_grid_values"),
    ({"x": {"name": "fast", "values": list(range(1, 21))}, "y": {"name": "slow",
                                                                 "values": list(range(30, 55))}},
     422, "max_combinations"),
    ({"strategy": "dca", "codes": ["588000"], "x": {"name": "amount", "values": list(
        range(1000, 8000, 1000))}, "y": {"name": "every", "values": [0, 5, 10, 20, 40, 60]}},
     422, "max_portfolio_combinations"),
])
def test_sweep_limits(client: TestClient, body: dict[str, Any], status: int, kind: str) -> None:
    req = {"strategy": "ma_cross", "codes": ["688981"], **body}
    r = client.post("/api/sweep", json=req)
    assert r.status_code == status, r.text
    assert _detail(r)["type"] == kind and kind in _detail(r)["msg"]


@pytest.mark.parametrize("patch,loc", [
    ({"stat": "happiness"}, ["body", "stat"]),
    ({"y": {"name": "fast", "values": [5]}}, ["body"]),
    ({"x": {"name": "speed", "values": [5]}}, ["body", "x", "name"]),
    ({"x": {"name": "fast", "values": []}}, ["body", "x", "values"]),
    ({"x": {"name": "Fast!", "values": [5]}}, ["body", "x", "name"]),
])
def test_sweep_bad_parameters(client: TestClient, patch: dict[str, Any], loc: list[Any]
                              ) -> None:
    req = {"strategy": "ma_cross", "codes": ["688981"], "x": {"name": "fast", "values": [5]},
           "y": {"name": "slow", "values": [50]}, **patch}
    r = client.post("/api/sweep", json=req)
    assert r.status_code == 422, r.text
    assert _detail(r)["loc"][:len(loc)] == loc


# ------------------------------------------------------------------ index, breadth
def test_index_payload(client: TestClient) -> None:
    r = client.get("/api/index")
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["index"] == "000688" and len(d["weights"]) == 50
    assert sum(w["weight"] for w in d["weights"]) == pytest.approx(1.0, abs=1e-6)
    assert all(w["name"] for w in d["weights"])
    assert d["fidelity"]["full"]["return_corr"] > 0.9
    level = d["figures"]["level"]["data"]
    assert [t["name"] for t in level] == ["reconstructed 重建", "official 官方"]
    assert d["review"]["entrants"] and d["review"]["leavers"]
    rally = d["rally_days"]
    assert rally and all(x["index_return"] >= 0.03 and x["n_fell"] <= 5 for x in rally)
    assert any(x["date"] == "2020-08-03" for x in rally)
    r = client.get("/api/index", params={"code": "000300"})
    assert r.status_code == 422 and _detail(r)["loc"] == ["query", "code"]


def test_breadth_payload_and_errors(client: TestClient, bundled_store: Path) -> None:
    from kechuang.api.index import breadth

    r = client.get("/api/breadth", params={"start": "2021-01-04", "end": "2021-06-30",
                                           "figures": "true"})
    assert r.status_code == 200, r.text
    d = r.json()
    ref = breadth("board", "2021-01-04", "2021-06-30", db=bundled_store).table
    assert d["sessions"] == len(ref) and d["first"] == "2021-01-04"
    assert d["latest"]["advancers"] == int(ref["advancers"].iloc[-1])
    assert set(d["figures"]) == {"advdec", "adline", "mcclellan", "limits", "above_ma"}
    ad = d["figures"]["adline"]["data"][0]["y"]
    assert ad[-1] == pytest.approx(float(ref["ad_line"].iloc[-1]))
    small = client.get("/api/breadth")
    assert small.status_code == 200 and "figures" not in small.json()
    codes = client.get("/api/breadth", params={"universe": "688981,688111",
                                               "start": "2021-01-04"})
    assert codes.status_code == 200 and codes.json()["latest"]["n_members"] == 2
    for params, loc in [({"start": "2021-06-30", "end": "2021-01-04"}, ["query", "start"]),
                        ({"universe": "sector:x; DROP TABLE"}, ["query", "universe"]),
                        ({"start": "2031-01-02"}, ["query", "start"]),
                        ({"end": "yesterday"}, ["query", "end"])]:
        r = client.get("/api/breadth", params=params)
        assert r.status_code == 422, (params, r.text)
        assert _detail(r)["loc"][:2] == loc, (params, r.text)


# ------------------------------------------------------------------ screen, listing, bonds
def test_screen(client: TestClient) -> None:
    r = client.get("/api/screen", params={"as_of": "2021-06-30", "codes": "688981,688111"})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["rows"] == 2 and {row["code"] for row in d["table"]} == {"688981", "688111"}
    assert client.get("/api/screen", params={"limit": 5}).json()["table"].__len__() == 5
    bad = client.get("/api/screen", params={"codes": "688981;select"})
    assert bad.status_code == 422 and _detail(bad)["loc"] == ["query", "codes"]
    unknown = client.get("/api/screen", params={"as_of": "2021-06-30", "codes": "688999"})
    assert unknown.status_code == 422 and _detail(unknown)["loc"] == ["query", "codes"]


def test_listing_check(client: TestClient) -> None:
    body = {"date": "2025-07-01", "market_value": 3e9, "net_profit": [8e7, 6e7],
            "net_profit_deducted": [7e7, 5e7], "revenue": 4e8}
    r = client.post("/api/listing/check", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["eligible"] is True and "standard_1" in d["met"]
    s2 = next(x for x in d["results"] if x["test"] == "standard_2")
    assert s2["status"] == "missing" and "rd_3y" in s2["missing"]
    for bad, loc in [({"revenue": 4e8, "revenue_3y": 1e8}, ["body", "revenue_3y"]),
                     ({"market_value": -1}, ["body", "market_value"]),
                     ({"net_profit": [1.0]}, ["body", "net_profit"]),
                     ({"color": "red"}, ["body", "color"])]:
        r = client.post("/api/listing/check", json={"date": "2025-07-01", **bad})
        assert r.status_code == 422, (bad, r.text)
        assert _detail(r)["loc"][:2] == loc, (bad, r.text)
    r = client.post("/api/listing/check", json={"market_value": 3e9})
    assert r.status_code == 422 and _detail(r)["loc"] == ["body", "date"]
    r = client.post("/api/listing/check", json={"date": "2018-01-02", "market_value": 3e9})
    assert r.status_code == 422 and "before the STAR Market opened" in _detail(r)["msg"]


def test_bonds(client: TestClient) -> None:
    r = client.get("/api/bonds")
    assert r.status_code == 200, r.text
    sections = r.json()["sections"]
    assert len(sections) == 2 and all(s["figures"] or s["gaps"] for s in sections)
    r = client.get("/api/bonds", params={"as_of": "2010-01-04"})
    assert r.status_code == 422 and _detail(r)["loc"] == ["query", "as_of"]
