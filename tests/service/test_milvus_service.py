"""The service on the Milvus backend when Milvus goes away or is configured wrongly: a 503
JSON (never a 500 or a hang) and a start-up message naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from index.search.milvus import CALL_ATTEMPTS
from tests.servers import ROOT, free_port, running_milvus_lite, running_server

pytestmark = [pytest.mark.slow, pytest.mark.milvus]

TIMEOUT_S = 5.0
MILVUS_TIMEOUT_S = 60


def test_an_unreachable_milvus_gives_503_on_readyz_and_queries_within_the_timeout(
    index_dir: Path, tmp_path: Path
) -> None:
    with running_milvus_lite(tmp_path / "milvus", tmp_path / "milvus.log") as (uri, milvus):
        env = {
            "RAGQA_INDEX_DIR": str(index_dir),
            "RAGQA_BACKEND": "milvus",
            "RAGQA_MILVUS_URI": uri,
            "RAGQA_MILVUS_TIMEOUT_S": str(MILVUS_TIMEOUT_S),  # the first sync writes the corpus
            "RAGQA_LOG_LEVEL": "warning",
        }
        with (
            running_server(env, tmp_path / "server.log") as base,
            # No hang: a request waits at most the Milvus timeout passed in, once per attempt.
            httpx.Client(base_url=base, timeout=CALL_ATTEMPTS * MILVUS_TIMEOUT_S + 5) as http,
        ):
            asked = http.post("/v1/ask", json={"question": "白银炉能耗降低了多少", "top_k": 2})
            assert asked.status_code == 200
            assert asked.json()["answer"]["doc_id"] == "000_0ad1dae646fc90f2.txt:0"
            assert http.get("/readyz").status_code == 200
            milvus.kill()
            milvus.wait(timeout=30)
            for method, path, body in [
                ("GET", "/readyz", None),
                ("POST", "/v1/ask", {"question": "白银炉能耗降低了多少"}),
                ("GET", "/v1/search?q=白银炉", None),
                ("POST", "/v1/ask/stream", {"question": "白银炉能耗降低了多少"}),
            ]:
                response = http.request(method, path, json=body)
                if path == "/v1/ask/stream":  # the stream's status is sent before the work
                    assert "backend_unavailable" in response.text, response.text
                    continue
                assert response.status_code == 503, (path, response.text)
                error = response.json()["error"]
                expected = "not_ready" if path == "/readyz" else "backend_unavailable"
                assert error["code"] == expected, path
                assert uri in error["message"], error["message"]


def start_failure(env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    """Run `python -m service` with `env`; its exit status and output (it must stop itself)."""
    full = {**os.environ, "HF_HUB_OFFLINE": "1", **env}
    done = subprocess.run(
        [sys.executable, "-m", "service", "--port", str(free_port())],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_bad_backend_settings_stop_the_start_naming_the_setting(
    index_dir: Path, tmp_path: Path
) -> None:
    base = {"RAGQA_INDEX_DIR": str(index_dir), "RAGQA_DATA_DIR": str(tmp_path / "data")}
    code, output = start_failure({**base, "RAGQA_BACKEND": "elastic"}, tmp_path)
    assert code != 0 and "RAGQA_BACKEND" in output and "'faiss' or 'milvus'" in output
    unreachable = f"http://127.0.0.1:{free_port()}"
    code, output = start_failure(
        {**base, "RAGQA_BACKEND": "milvus", "RAGQA_MILVUS_URI": unreachable}, tmp_path
    )
    assert code != 0 and f"cannot reach Milvus at RAGQA_MILVUS_URI={unreachable!r}" in output
    lite = str(tmp_path / "milvus.db")
    code, output = start_failure(
        {**base, "RAGQA_BACKEND": "milvus", "RAGQA_MILVUS_URI": lite, "RAGQA_WORKERS": "2"},
        tmp_path,
    )
    assert code != 0 and "set RAGQA_WORKERS=1 (not 2) or use a Milvus server" in output
    code, output = start_failure({**base, "RAGQA_BACKEND": "milvus"}, tmp_path)
    assert code != 0 and "RAGQA_BACKEND=milvus needs RAGQA_MILVUS_URI" in output


def test_a_collection_made_with_another_dimension_stops_the_start(
    index_dir: Path, tmp_path: Path
) -> None:
    lite = str(tmp_path / "milvus.db")
    # made by another process: milvus-lite lets one process at a time open a .db
    make = f"from index.search.milvus import *; MilvusIndex(MilvusSettings({lite!r}), 8).close()"
    subprocess.run([sys.executable, "-c", make], cwd=ROOT, check=True, timeout=120)
    code, output = start_failure(
        {
            "RAGQA_INDEX_DIR": str(index_dir),
            "RAGQA_DATA_DIR": str(tmp_path / "data"),
            "RAGQA_BACKEND": "milvus",
            "RAGQA_MILVUS_URI": lite,
        },
        tmp_path,
    )
    assert code != 0
    assert "holds 8-dimensional vectors, the model gives 384" in output


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragqa.cli", *args],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_start_up_check_and_ragqa_index_verify_repair_rows_lost_in_milvus(
    index_dir: Path, tmp_path: Path
) -> None:
    lite = str(tmp_path / "milvus.db")
    env = {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_DATA_DIR": str(tmp_path / "data"),
        "RAGQA_BACKEND": "milvus",
        "RAGQA_MILVUS_URI": lite,
        "RAGQA_LOG_LEVEL": "warning",
    }
    with running_server(env, tmp_path / "server.log") as base:
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
    lose = (
        f"from index.search.milvus import *; m = MilvusIndex(MilvusSettings({lite!r}), 384); "
        "keys = sorted(r['key'] for r in m.client.query(m.passages, filter='', "
        "output_fields=['key'], limit=5)); m.client.delete(m.passages, ids=keys); m.close()"
    )
    subprocess.run([sys.executable, "-c", lose], cwd=ROOT, check=True, timeout=120)
    log = tmp_path / "restart.log"
    with running_server(env, log) as base:  # the start-up check reports it (and repairs)
        assert httpx.get(f"{base}/readyz", timeout=30).status_code == 200
    logged = " ".join(log.read_text().split())  # the log handler may wrap the line
    assert "start-up check: Milvus at" in logged
    assert "disagreed with the document store (passages +5 -0, sentences +0 -0); repaired" in logged
    subprocess.run([sys.executable, "-c", lose], cwd=ROOT, check=True, timeout=120)
    repaired = run_cli(["index", "verify"], env)
    assert repaired.returncode == 0, repaired.stderr
    assert f"repaired Milvus at {lite}: passages +5 -0, sentences +0 -0" in repaired.stdout
    again = run_cli(["index", "verify"], env)
    assert again.returncode == 0, again.stderr
    assert f"Milvus at {lite} agrees with the document store" in again.stdout
