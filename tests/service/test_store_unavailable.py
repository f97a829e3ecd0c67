"""The service on a PostgreSQL document store that goes away and comes back.

A write while the database is down is a 503 JSON error to retry (`backend_unavailable`, with
`Retry-After`), never a 500, and stores nothing; questions are still answered from the view
the service holds; once the database is back, the next write succeeds (the pool's stale
connections are checked before use) and nothing stored before was lost. A store that cannot
be reached at start, or whose driver is missing, stops the start naming RAGQA_STORE_URL.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import TEST_API_KEY
from tests.servers import ROOT, free_port, running_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
WIND = {
    "title": "酒泉风电装机突破两千万千瓦",
    "text": "截至2025年6月底，酒泉市风电装机容量达到2150万千瓦，占全省风电装机的六成。",
    "published": "2025-07-02",
}
HYDROGEN = {
    "title": "兰州新区氢能产业园开工",
    "text": "3月1日，兰州新区氢能产业园开工建设，总投资52亿元。",
    "published": "2025-03-01",
}


def test_a_write_while_postgresql_is_down_is_a_503_and_works_once_it_is_back(
    index_dir: Path, tmp_path: Path, own_postgres: Any
) -> None:
    env = {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_DATA_DIR": str(tmp_path / "data"),
        "RAGQA_STORE_URL": own_postgres.new_database(),
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_LOG_LEVEL": "warning",
    }
    with (
        running_server(env, tmp_path / "server.log") as base,
        httpx.Client(base_url=base, timeout=120) as http,
    ):
        assert http.put("/v1/collections/wind", headers=AUTH).status_code == 201
        first = http.post("/v1/collections/wind/documents", json=WIND, headers=AUTH)
        assert first.status_code == 200, first.text
        [wind_id] = first.json()["doc_ids"]

        own_postgres.stop()
        down = http.post("/v1/collections/wind/documents", json=HYDROGEN, headers=AUTH)
        assert down.status_code == 503, down.text
        assert down.headers["Retry-After"] == "5"
        error = down.json()["error"]
        assert error["code"] == "backend_unavailable"
        assert error["message"].startswith("the document store's database failed: ")
        asked = http.post("/v1/ask", json={"question": "酒泉风电装机容量", "collections": ["wind"]})
        assert asked.status_code == 200, asked.text
        assert asked.json()["answer"]["doc_id"] == wind_id

        own_postgres.start()
        again = http.post("/v1/collections/wind/documents", json=HYDROGEN, headers=AUTH)
        assert again.status_code == 200, again.text
        [hydrogen_id] = again.json()["doc_ids"]
        listed = http.get("/v1/documents", params={"collection": "wind"}).json()
        assert sorted(d["doc_id"] for d in listed) == sorted([wind_id, hydrogen_id])


def start_failure(env: dict[str, str]) -> tuple[int, str]:
    """Run `python -m service` with `env`; its exit status and output (it must stop itself)."""
    done = subprocess.run(
        [sys.executable, "-m", "service", "--port", str(free_port())],
        cwd=ROOT,
        env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, done.stdout + done.stderr


def test_a_store_it_cannot_open_stops_the_start_naming_the_setting(
    index_dir: Path, tmp_path: Path
) -> None:
    base = {"RAGQA_INDEX_DIR": str(index_dir), "RAGQA_DATA_DIR": str(tmp_path / "data")}
    port = free_port()  # nothing listens there
    url = f"postgresql+psycopg://ragqa:s3cret@127.0.0.1:{port}/ragqa"
    code, output = start_failure({**base, "RAGQA_STORE_URL": url})
    assert code != 0
    assert (
        f"RAGQA_STORE_URL='postgresql+psycopg://ragqa:***@127.0.0.1:{port}/ragqa': the document "
        "store's database failed: connection failed:"
    ) in output
    assert "s3cret" not in output
    code, output = start_failure({**base, "RAGQA_STORE_URL": "mysql+nodriver://h/db"})
    assert code != 0
    assert "RAGQA_STORE_URL='mysql+nodriver://h/db': not a database SQLAlchemy can open" in output
