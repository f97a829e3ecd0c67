"""Replicas that share nothing but PostgreSQL and Milvus: two real servers in separate
processes, on one PostgreSQL database and one milvus-lite server process, each with a data
directory of its own (only its cache of segments).

A write acknowledged by one replica is served by the other within 2 s (it polls the store's
generation every second); `/readyz` names the generation and segment count each serves; a
replica killed with ``kill -9`` in the middle of a batch leaves no writer lock, and the other
writes at once; a replica started from an empty data directory serves the same answers.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from index.store.writerlock import AdvisoryLock
from tests.conftest import TEST_API_KEY
from tests.news_fixtures import HYDROGEN, WIND
from tests.servers import ROOT, running_milvus_lite, running_server, start_server, stop

pytestmark = [pytest.mark.slow, pytest.mark.milvus, pytest.mark.postgres]

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
FRESH_S = 2.0
"""A write acknowledged by one replica is served by every replica within this."""
QUESTIONS = ["兰州新区氢能产业园总投资多少", "酒泉市风电装机容量达到多少", "白银炉能耗降低了多少"]


@pytest.fixture
def shared(index_dir: Path, tmp_path: Path, postgres: Any) -> Iterator[dict[str, str]]:
    """The environment every replica shares: one PostgreSQL database, one milvus-lite server
    process (no directory: each replica gets its own `RAGQA_DATA_DIR`)."""
    url = postgres.new_database("replicas")
    with running_milvus_lite(tmp_path / "milvus", tmp_path / "milvus.log") as (uri, _):
        yield {
            "RAGQA_INDEX_DIR": str(index_dir),
            "RAGQA_STORE_URL": url,
            "RAGQA_BACKEND": "milvus",
            "RAGQA_MILVUS_URI": uri,
            "RAGQA_API_KEY": TEST_API_KEY,
            "RAGQA_LOG_LEVEL": "warning",
        }
    postgres.drop_database(url)


def replica(shared: dict[str, str], tmp: Path, name: str) -> Any:
    """A replica with a data directory of its own (empty at start)."""
    return running_server({**shared, "RAGQA_DATA_DIR": str(tmp / name)}, tmp / f"{name}.log")


def search(base: str, query: str, collection: str, *, not_yet: bool = False) -> list[str]:
    """The documents of the passages found; with `not_yet`, [] while `base` does not know
    `collection` (a replica that has not seen the write that created it answers 404)."""
    response = httpx.get(
        f"{base}/v1/search", params={"q": query, "collections": collection}, timeout=60
    )
    if not_yet and response.status_code == 404 and "collection_not_found" in response.text:
        return []
    assert response.status_code == 200, response.text
    return [p["doc_id"] for p in response.json()["passages"]]


def within(seconds: float, check: Any) -> float:
    """Seconds until `check()` is true (failing after `seconds`)."""
    started = time.monotonic()
    while not check():
        elapsed = time.monotonic() - started
        assert elapsed < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def answers(base: str) -> list[Any]:
    out = []
    for question in QUESTIONS:
        response = httpx.post(f"{base}/v1/ask", json={"question": question}, timeout=60)
        assert response.status_code == 200, response.text
        body = json.loads(response.text.replace(base, ""))  # links name the replica
        body.pop("took_ms", None)
        out.append(body)
    return out


def ready(base: str) -> Any:
    return httpx.get(f"{base}/readyz", timeout=30).json()


def test_a_write_on_one_replica_is_served_by_the_other_within_2_s(
    shared: dict[str, str], tmp_path: Path
) -> None:
    with replica(shared, tmp_path, "a") as a, replica(shared, tmp_path, "b") as b:
        # the seed corpus imported once (generation 1), one segment
        assert ready(a) == ready(b) == {"status": "ready", "version": 1, "segments": 1}
        assert answers(a) == answers(b)  # (and both warm: a first query loads jieba)
        assert httpx.put(f"{a}/v1/collections/energy", headers=AUTH).status_code == 201
        posted = httpx.post(
            f"{a}/v1/collections/energy/documents", json=[HYDROGEN, WIND], headers=AUTH
        )
        assert posted.status_code == 200, posted.text
        hydrogen, wind = posted.json()["doc_ids"]
        within(
            FRESH_S,
            lambda: search(b, "兰州新区氢能产业园", "energy", not_yet=True)[:1] == [hydrogen],
        )
        assert search(b, "酒泉市风电装机容量", "energy")[:1] == [wind]
        deleted = httpx.delete(f"{b}/v1/collections/energy/documents/{hydrogen}", headers=AUTH)
        assert deleted.status_code == 200, deleted.text
        within(FRESH_S, lambda: hydrogen not in search(a, "兰州新区氢能产业园", "energy"))
        assert search(a, "兰州新区氢能产业园", "energy") == [wind]
        # generations: 1 import, 2 collection, 3 batch, 4 delete, 5 B's background merge of
        # the half-deleted batch's segment; two segments: the corpus' and the merged one
        after = {"status": "ready", "version": 5, "segments": 2}
        within(60, lambda: ready(b) == after)
        within(FRESH_S, lambda: ready(a) == after)
        served = answers(a)
        assert served == answers(b)
        assert [(s["answer"]["doc_id"], s["answer"]["text"]) for s in served] == [
            # the deleted hydrogen park is gone: the corpus' article on the district answers
            (
                "002_a6192bb7d02a95be.txt:0",
                "兰州新区开发建设以来，累计引进优质产业项目1300个、总投资6000亿元。",
            ),
            (wind, "截至2025年6月底，酒泉市风电装机容量达到2150万千瓦，占全省风电装机的六成。"),
            (
                "000_0ad1dae646fc90f2.txt:0",
                "现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。",
            ),
        ]
        assert hydrogen not in {p["doc_id"] for s in served for p in s["passages"]}
    # a replica started from nothing (a new, empty data directory) serves the same answers
    with replica(shared, tmp_path, "c") as c:
        assert ready(c) == after
        assert answers(c) == served
        assert len([p for p in (tmp_path / "c" / "segments").iterdir()]) == 2


BULK = [
    {
        "title": f"河西走廊新能源项目第{n}期",
        "text": "".join(
            f"第{n}期第{k}号风电项目位于河西走廊，装机容量{n * 10 + k}万千瓦，"
            f"年发电量{n + k}亿千瓦时，总投资{n * 3 + k}亿元。"
            for k in range(40)
        ),
    }
    for n in range(60)
]
"""A batch that takes a writer seconds to embed (60 documents of about 2,000 characters)."""


def holder(url: str) -> int | None:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return AdvisoryLock.holder(conn)
    finally:
        engine.dispose()


def test_kill_9_of_a_replica_mid_batch_leaves_no_lock_and_the_other_writes_at_once(
    shared: dict[str, str], tmp_path: Path
) -> None:
    url = shared["RAGQA_STORE_URL"]
    process, a = start_server({**shared, "RAGQA_DATA_DIR": str(tmp_path / "a")}, tmp_path / "a.log")
    try:
        with replica(shared, tmp_path, "b") as b:
            assert httpx.put(f"{b}/v1/collections/bulk", headers=AUTH).status_code == 201
            within(FRESH_S, lambda: ready(a) == ready(b))
            assert holder(url) is None

            def post_bulk() -> None:
                with contextlib.suppress(httpx.TransportError):  # A is killed under it
                    httpx.post(
                        f"{a}/v1/collections/bulk/documents", json=BULK, headers=AUTH, timeout=600
                    )

            writer = threading.Thread(target=post_bulk)
            writer.start()
            within(60, lambda: holder(url) is not None)  # A embeds, holding the lock
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            writer.join(timeout=60)
            within(FRESH_S, lambda: holder(url) is None)
            started = time.monotonic()
            posted = httpx.post(
                f"{b}/v1/collections/bulk/documents", json=[WIND], headers=AUTH, timeout=120
            )
            assert posted.status_code == 200, posted.text
            assert time.monotonic() - started < 30  # one document's embedding, no lock wait
            listed = httpx.get(f"{b}/v1/documents", params={"collection": "bulk"}).json()
            assert [d["title"] for d in listed] == [WIND["title"]]  # none of the killed batch
            verified = subprocess.run(
                [sys.executable, "-m", "ragqa", "index", "verify"],
                cwd=ROOT,
                env={
                    **os.environ,
                    **shared,
                    "HF_HUB_OFFLINE": "1",
                    "RAGQA_DATA_DIR": str(tmp_path / "verify"),
                },
                capture_output=True,
                text=True,
                timeout=600,
            )
            assert verified.returncode == 0, verified.stderr
            expected = f"Milvus at {shared['RAGQA_MILVUS_URI']} agrees with the document store"
            assert verified.stdout.strip() == expected
    finally:
        if process.poll() is None:
            stop(process)
