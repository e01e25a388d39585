"""Fixtures of the dashboard tests: a test client over the bundled store, and a live server
(uvicorn in a thread on a free 127.0.0.1 port) for the browser and schema tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def web_app(bundled_store: Path):  # type: ignore[no-untyped-def]
    from kechuang.web.app import create_app

    return create_app(bundled_store, warm=False)


@pytest.fixture(scope="session")
def client(web_app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    with TestClient(web_app) as c:
        yield c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(bundled_store: Path) -> Iterator[str]:
    import uvicorn

    from kechuang.web.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(bundled_store), host="127.0.0.1",
                                           port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
