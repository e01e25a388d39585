"""Locust users for the dashboard load benchmark (benchmarks/workloads/w10_load.py): closed
loop (no think time), one endpoint per user class."""

from __future__ import annotations

import json
import os

from locust import FastHttpUser, constant, task

# the request body comes from the workload (w10_load.BACKTEST)
BACKTEST = json.loads(os.environ.get("KECHUANG_LOAD_BACKTEST", "{}"))


class BreadthUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def breadth(self) -> None:
        self.client.get("/api/breadth")


class BacktestUser(FastHttpUser):
    wait_time = constant(0)

    @task
    def backtest(self) -> None:
        self.client.post("/api/backtest", json=BACKTEST)
