"""W10: dashboard load. The dashboard runs in its own process (uvicorn, one worker, 127.0.0.1 on a
free port) over a store built from the bundled data; locust drives 20 concurrent clients with
no think time for 30 s against `GET /api/breadth` (the whole board's latest breadth), then
30 s against `POST /api/backtest` (MA crossover 10/50 on 688981, STAR rules, with the
tearsheet's figures). Reported per endpoint: requests/s, p50 and p99 latency, errors.
Target: zero errors, p99 under 500 ms for breadth. Setup (store, server start, warm-up) is
not timed. Needs the `bench` extra (locust)."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

USERS = 20
SECONDS = 30
HERE = Path(__file__).resolve().parents[1]
BACKTEST = {"strategy": "ma_cross", "codes": ["688981"], "params": {"fast": 10, "slow": 50}}
SCENARIOS = {"breadth": ("BreadthUser", "GET /api/breadth"),
             "backtest": ("BacktestUser", "POST /api/backtest")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _post(url: str, body: dict[str, Any]) -> None:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        r.read()


def _locust(host: str, user: str, out: Path) -> dict[str, Any]:
    prefix = out / user
    cmd = [sys.executable, "-m", "locust", "-f", str(HERE / "locust_dashboard.py"), user,
           "--headless", "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s",
           "--host", host, "--csv", str(prefix), "--only-summary", "--loglevel", "WARNING"]
    env = {**os.environ, "KECHUANG_LOAD_BACKTEST": json.dumps(BACKTEST)}
    subprocess.run(cmd, check=False, capture_output=True, text=True, env=env)
    with open(f"{prefix}_stats.csv", newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] == "Aggregated"]
    r = rows[0]
    n = int(r["Request Count"])
    return {"users": USERS, "seconds": SECONDS, "requests": n,
            "requests_per_s": round(float(r["Requests/s"]), 1),
            "p50_ms": float(r["50%"]), "p99_ms": float(r["99%"]),
            "max_ms": round(float(r["Max Response Time"]), 1),
            "errors": int(r["Failure Count"])}


def run() -> dict[str, Any]:
    from kechuang.data.ingest import ingest_bundled

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bundled.duckdb"
        ingest_bundled(db)
        port = _free_port()
        host = f"http://127.0.0.1:{port}"
        code = ("import uvicorn; from kechuang.web.app import create_app; "
                f"uvicorn.run(create_app({str(db)!r}), host='127.0.0.1', port={port}, "
                "log_level='warning')")
        server = subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy())
        try:
            _wait(host + "/api/health")
            _wait(host + "/api/breadth")  # computes and caches the board's breadth
            _post(host + "/api/backtest", BACKTEST)  # numba compilation, untimed
            out: dict[str, Any] = {}
            for name, (user, label) in SCENARIOS.items():
                out[name] = {"endpoint": label, **_locust(host, user, Path(tmp))}
            b = out["breadth"]
            out["target_met"] = b["errors"] == 0 and out["backtest"]["errors"] == 0 \
                and b["p99_ms"] < 500
            return out
        finally:
            server.terminate()
            server.wait(timeout=30)
