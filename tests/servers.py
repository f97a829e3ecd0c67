"""Start the real server (`python -m service`) on 127.0.0.1 and a free port, for tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 180.0  # a guard against hanging, not a measurement
SERVER_PIDS: dict[str, int] = {}
"""The process id of each running server, by its URL (for tests that read its memory)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    env: dict[str, str], log_path: Path, *, ready_within: float = START_TIMEOUT_S
) -> tuple[subprocess.Popen[bytes], str]:
    """Start the real server with `env` added to the environment; (process, URL) once ready
    (failing after `ready_within` seconds).

    Rate limiting is off unless `env` says otherwise (tests send many requests). The document
    store and segments live in `data/` beside `log_path` unless `env` sets `RAGQA_DATA_DIR`.
    The caller stops the process (tests of crashes kill it).
    """
    port = free_port()
    full_env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "RAGQA_RATE_LIMIT_PER_MINUTE": "0",
        # Each server its own document store, beside its log, unless the test names one.
        "RAGQA_DATA_DIR": str(log_path.parent / "data"),
        **env,
    }
    command = [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=full_env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log_path, ready_within)
    except BaseException:
        stop(process)
        raise
    return process, base


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server (kill it if it does not stop within 30 s)."""
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_server(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """The real server (see `start_server`); yields its URL once ready, stops it after."""
    process, base = start_server(env, log_path)
    SERVER_PIDS[base] = process.pid
    try:
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        stop(process)


def rss_bytes(pid: int) -> int:
    """Resident set size of process `pid`, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path, within: float) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"server not ready after {within} s:\n{log_path.read_text()}")


@contextmanager
def running_milvus_lite(
    data_dir: Path, log_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A milvus-lite gRPC server in its own process on 127.0.0.1 (to the client what a Milvus
    standalone is: an http:// URI); yields (URI, process). Tests of failure kill it."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "milvus_lite",
        "server",
        "--data-dir",
        str(data_dir),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("ab") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"milvus-lite server did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.kill()
        process.wait(timeout=30)


def ragqa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m ragqa ARGS` from the repository root, offline, as CI runs it (`env`: more
    variables); its output captured, never raising on a non-zero exit."""
    full = {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "true", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "ragqa", *args],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
