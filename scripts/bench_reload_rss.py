"""Memory of the real server across `POST /v1/index/reload {"rebuild": true}`: RSS before any
reload, after the first, and after each of the next ones (10 by default).

Each reload rebuilds first; one corpus file is changed before every reload, so every rebuild
embeds something with the live model (the failure was a fresh model per rebuild: +220 MB each).
The server runs on a private copy of the corpus and of the index (`--index`, default
var/test-index or var/index).

    .venv/bin/python scripts/bench_reload_rss.py [--reloads 10] [--index DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-reload-key-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reloads", type=int, default=10)
    parser.add_argument("--index", type=Path, default=None)
    args = parser.parse_args()
    source = args.index or next(
        (p for p in (ROOT / "var" / "test-index", ROOT / "var" / "index") if p.is_dir()), None
    )
    if source is None:
        sys.exit("no index: run `ragqa build` first or pass --index")
    with tempfile.TemporaryDirectory(prefix="bench-reload-") as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        shutil.copytree(ROOT / "corpus" / "articles", corpus)
        shutil.copytree(source, index)
        port = free_port()
        env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "RAGQA_CORPUS_DIR": str(corpus),
            "RAGQA_INDEX_DIR": str(index),
            "RAGQA_API_KEY": KEY,
            "RAGQA_RATE_LIMIT_PER_MINUTE": "0",
            "RAGQA_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-m", "service", "--host", "127.0.0.1", "--port", str(port)]
        log = (Path(tmp) / "server.log").open("wb")
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            while True:
                if server.poll() is not None:
                    sys.exit((Path(tmp) / "server.log").read_text())
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.5)
            httpx.post(f"{base}/v1/ask", json={"question": "白银炉能耗降低了多少"}, timeout=120)
            print(f"before any reload: RSS {rss_mib(server.pid):.0f} MiB")
            target = sorted(corpus.iterdir())[0]
            rss = []
            for n in range(1, args.reloads + 1):
                with target.open("a", encoding="utf-8") as handle:
                    handle.write(f"\n\n第{n}次重新加载前补充的一段话，用于让重建真正嵌入新文本。\n")
                started = time.perf_counter()
                response = httpx.post(
                    f"{base}/v1/index/reload",
                    json={"rebuild": True},
                    headers={"Authorization": f"Bearer {KEY}"},
                    timeout=600,
                )
                response.raise_for_status()
                rss.append(rss_mib(server.pid))
                print(
                    f"after reload {n:2d} (rebuild, {time.perf_counter() - started:.1f} s): "
                    f"RSS {rss[-1]:.0f} MiB"
                )
        finally:
            server.terminate()
            server.wait(timeout=60)
    change = rss[-1] / rss[0] - 1
    print(
        f"RSS after {args.reloads} reloads with rebuild: {rss[-1]:.0f} MiB; after 1: "
        f"{rss[0]:.0f} MiB; change {change:+.1%} (the target is within 10%)"
    )


if __name__ == "__main__":
    main()
