"""Service fixtures: apps over the shared session engine, and the real server on a free port.

`make_client` builds an app around the session engine (the lifespan still runs: `TestClient`
is entered with `with`). `live_server` starts `python -m service` in a subprocess over the
session index, waits for `/readyz`, and yields its base URL (shared with the browser tests).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
TEST_API_KEY = "test-admin-key-0123456789"
TEST_ORIGIN = "http://widget.example"
SERVER_START_TIMEOUT_S = 180.0  # a guard against hanging, not a measurement


@pytest.fixture(scope="session")
def service_settings(index_dir: Path, engine: Any) -> Any:
    """Settings for in-process apps: every field given, so the environment cannot leak in."""
    from corpus import DEFAULT_CORPUS_DIR
    from service.settings import Settings

    return Settings(
        index_dir=index_dir,
        corpus_dir=DEFAULT_CORPUS_DIR,
        model=engine.model_name,
        api_key=None,
        cors_origins=[],
        rate_limit_per_minute=0,
        threads=2,
        torch_threads=1,
    )


@pytest.fixture(scope="session")
def make_client(
    service_settings: Any, engine: Any
) -> Callable[..., AbstractContextManager[TestClient]]:
    """`with make_client(**overrides) as client:` an app over the session engine."""
    from service.main import create_app

    @contextmanager
    def make(*, preload: bool = True, **overrides: Any) -> Iterator[TestClient]:
        settings = type(service_settings)(**{**dict(service_settings), **overrides})
        app = create_app(settings, engine=engine if preload else None)
        with TestClient(app) as client:
            yield client

    return make


@pytest.fixture(scope="module")
def client(make_client: Callable[..., AbstractContextManager[TestClient]]) -> Iterator[TestClient]:
    with make_client() as c:
        yield c


@pytest.fixture(scope="session")
def live_api_key() -> str:
    """The admin key `live_server` runs with."""
    return TEST_API_KEY


@pytest.fixture(scope="session")
def live_origin() -> str:
    """The one CORS origin `live_server` allows."""
    return TEST_ORIGIN


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(index_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real server (`python -m service`) on 127.0.0.1 and a free port; yields its URL.

    Admin key `TEST_API_KEY`, CORS origin `TEST_ORIGIN`, rate limiting off (tests hammer it).
    """
    port = _free_port()
    log_path = tmp_path_factory.mktemp("live_server") / "server.log"
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_CORS_ORIGINS": TEST_ORIGIN,
        "RAGQA_RATE_LIMIT_PER_MINUTE": "0",
        "RAGQA_LOG_LEVEL": "warning",
    }
    command = [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log_path)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server not ready after {SERVER_START_TIMEOUT_S} s:\n{log_path.read_text()}")
