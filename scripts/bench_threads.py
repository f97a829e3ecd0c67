"""Measure `/v1/ask` under concurrency for several (threads, torch_threads) settings.

Starts the real server (uvicorn with the app factory; it never builds, so an existing index
is required: --index, default var/index) once per setting on a free port, runs N
concurrent clients for D seconds cycling through the dev questions, and prints requests/s
and latency percentiles. Used to choose the defaults of RAGQA_THREADS / RAGQA_TORCH_THREADS.

    .venv/bin/python scripts/bench_threads.py [--index DIR] [--clients 8] [--seconds 20]
        [--configs 1,2 2,1 ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIGS = ["1,2", "2,1", "2,2", "4,1"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    index: Path, port: int, threads: int, torch_threads: int
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "RAGQA_INDEX_DIR": str(index),
        "HF_HUB_OFFLINE": "1",
        "RAGQA_THREADS": str(threads),
        "RAGQA_TORCH_THREADS": str(torch_threads),
        "RAGQA_RATE_LIMIT_PER_MINUTE": "0",
        "RAGQA_LOG_LEVEL": "warning",
    }
    app = "service.main:create_app"
    command = [sys.executable, "-m", "uvicorn", app, "--factory", "--port", str(port)]
    command += ["--no-access-log", "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit("server did not become ready")


async def load(base: str, questions: list[str], clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client(offset: int) -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            i = offset
            while time.perf_counter() < stop:
                start = time.perf_counter()
                response = await http.post(
                    "/v1/ask", json={"question": questions[i % len(questions)]}
                )
                if response.status_code != 200:
                    errors += 1
                latencies.append(time.perf_counter() - start)
                i += clients

    await asyncio.gather(*(client(k) for k in range(clients)))
    if errors:
        print(f"  {errors} non-200 responses", file=sys.stderr)
    return latencies


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=ROOT / "var" / "index")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--configs", nargs="*", default=DEFAULT_CONFIGS, help="threads,torch")
    args = parser.parse_args()
    if not (args.index / "manifest.json").is_file():
        raise SystemExit(f"no index at {args.index}: run `ragqa build --index {args.index}`")
    lines = (ROOT / "eval" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    load1 = os.getloadavg()[0]
    print(
        f"{args.clients} clients, {args.seconds:.0f} s each, {len(questions)} questions, ", end=""
    )
    print(f"{os.cpu_count()} cores, load average {load1:.1f} at start")
    print("threads torch_threads   req/s   p50 ms   p99 ms   requests")
    for config in args.configs:
        threads, torch_threads = (int(x) for x in config.split(","))
        port = free_port()
        server = start_server(args.index, port, threads, torch_threads)
        try:
            base = f"http://127.0.0.1:{port}"
            asyncio.run(load(base, questions, args.clients, 2.0))  # warm-up, not counted
            latencies = asyncio.run(load(base, questions, args.clients, args.seconds))
        finally:
            server.terminate()
            server.wait()
        print(
            f"{threads:>7} {torch_threads:>12} {len(latencies) / args.seconds:>7.1f} "
            f"{percentile(latencies, 50) * 1000:>8.1f} {percentile(latencies, 99) * 1000:>8.1f} "
            f"{len(latencies):>10}"
        )


if __name__ == "__main__":
    main()
