"""Writes never show half a batch: concurrent readers during writes, and `kill -9` mid-batch.

Both tests run the real server on a store of their own, on each store backend: SQLite, and a
database of its own on a real PostgreSQL server. The readers are real HTTP clients in
threads; the crash test kills the server process with SIGKILL while a batch is being
embedded, and again while its segment is being written, then restarts it on the same data.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import TEST_API_KEY
from tests.servers import start_server, stop

pytestmark = pytest.mark.slow

AUTH = {"Authorization": f"Bearer {TEST_API_KEY}"}
TOWNS = ["金昌", "白银", "天水", "武威", "张掖", "酒泉", "定西", "陇南", "平凉", "庆阳"]


def article(batch: int, n: int, long: bool = False) -> dict[str, Any]:
    town = TOWNS[(batch * 7 + n) % len(TOWNS)]
    body = (
        f"第{batch}批第{n}篇：{town}市新建的第{batch * 100 + n}号光伏电站于今年并网发电，"
        f"装机容量{batch * 10 + n + 1}万千瓦，年发电量可达{batch * 3 + n + 2}亿千瓦时。"
    )
    if long:
        body += "".join(
            f"\n\n第{k}段：{town}的电站配套建设了储能设施，储能规模为{k + n}万千瓦时，"
            f"可以在夜间向电网送电{k + 2}小时，当地还规划了第{k}期扩建工程。"
            for k in range(12)
        )
    return {"title": f"{town}光伏电站第{batch}-{n}号", "text": body, "published": "2025-05-01"}


def env_for(index_dir: Path, data_dir: Path, store_url: str) -> dict[str, str]:
    return {
        "RAGQA_INDEX_DIR": str(index_dir),
        "RAGQA_DATA_DIR": str(data_dir),
        "RAGQA_STORE_URL": store_url,
        "RAGQA_API_KEY": TEST_API_KEY,
        "RAGQA_LOG_LEVEL": "warning",
    }


@pytest.fixture(
    params=[
        pytest.param("docs_server", id="sqlite"),
        pytest.param("postgres_docs_server", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def store_server(request: pytest.FixtureRequest) -> tuple[str, Path]:
    """The documents API server of the session on each store backend."""
    return tuple(request.getfixturevalue(request.param))  # type: ignore[return-value]


def test_concurrent_questions_during_writes_never_fail_or_see_half_a_batch(
    store_server: tuple[str, Path],
) -> None:
    base = store_server[0]
    with httpx.Client(base_url=base, timeout=120) as http:
        assert http.put("/v1/collections/live", headers=AUTH).status_code == 201
    batches: list[set[str]] = []
    seen: list[frozenset[str]] = []
    failures: list[str] = []
    done = threading.Event()

    def reader(kind: str) -> None:
        with httpx.Client(base_url=base, timeout=120) as client:
            while not done.is_set():
                try:
                    if kind == "search":
                        response = client.get(
                            "/v1/search",
                            params={
                                "q": "光伏电站装机容量",
                                "collections": "live",
                                "top_k": 50,
                            },
                        )
                    else:
                        response = client.post(
                            "/v1/ask",
                            json={"question": "光伏电站年发电量多少", "collections": ["live"]},
                        )
                except httpx.HTTPError as exc:
                    failures.append(f"{kind}: {exc!r}")
                    continue
                if response.status_code != 200:
                    failures.append(f"{kind}: {response.status_code} {response.text}")
                    continue
                if kind == "search":  # every passage of the collection: top_k 50 > 20
                    seen.append(frozenset(p["doc_id"] for p in response.json()["passages"]))

    threads = [threading.Thread(target=reader, args=(k,)) for k in ("search", "search", "ask")]
    for thread in threads:
        thread.start()
    try:
        with httpx.Client(base_url=base, timeout=300) as writer:
            for batch in range(5):
                docs = [article(batch, n) for n in range(4)]
                response = writer.post("/v1/collections/live/documents", json=docs, headers=AUTH)
                assert response.status_code == 200, response.text
                batches.append(set(response.json()["doc_ids"]))
                time.sleep(0.3)
    finally:
        done.set()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(seen) > 20
    states = [frozenset().union(*batches[:k]) for k in range(len(batches) + 1)]
    assert all(ids in states for ids in seen), "a reader saw part of a batch"
    with httpx.Client(base_url=base, timeout=120) as http:
        final = http.get(
            "/v1/search", params={"q": "光伏电站", "collections": "live", "top_k": 50}
        ).json()
    assert {p["doc_id"] for p in final["passages"]} == states[-1]
    assert len(states[-1]) == 20


def _wait_for(condition: Any, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the server to reach the state to kill it in")
        time.sleep(0.001)


def _kill_during(
    base: str, process: Any, batch: list[dict[str, Any]], moment: Any
) -> threading.Thread:
    """POST `batch` in a thread and SIGKILL the server when `moment()` becomes true."""

    def post() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server dies under it: expected
            httpx.post(
                f"{base}/v1/collections/crash/documents", json=batch, headers=AUTH, timeout=300
            )

    thread = threading.Thread(target=post)
    thread.start()
    _wait_for(moment)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    thread.join()
    return thread


def _consistent_state(base: str, data_dir: Path, store_url: str) -> set[str]:
    """Check store and index agree; return the doc ids of collection `crash`."""
    with httpx.Client(base_url=base, timeout=60) as http:
        counts = {c["name"]: c["documents"] for c in http.get("/v1/collections").json()}
        listed = http.get("/v1/documents", params={"collection": "crash"}).json()
        for doc in listed:
            detail = http.get(f"/v1/documents/{doc['doc_id']}")
            assert detail.status_code == 200
    assert counts["crash"] == len(listed)
    engine = sa.create_engine(store_url)
    try:
        with engine.connect() as db:
            stored = set(
                db.execute(
                    sa.text("SELECT doc_id FROM documents WHERE collection='crash'")
                ).scalars()
            )
            segments = set(db.execute(sa.text("SELECT name FROM segments")).scalars())
            pointed = set(db.execute(sa.text("SELECT DISTINCT segment FROM documents")).scalars())
    finally:
        engine.dispose()
    on_disk = {p.name for p in (data_dir / "segments").iterdir()}
    assert stored == {d["doc_id"] for d in listed}
    assert pointed <= segments == on_disk, "debris or a missing segment after the restart"
    return stored


def test_kill_9_during_a_batch_leaves_the_batch_all_in_or_all_out(
    index_dir: Path, tmp_path: Path, store_url: str
) -> None:
    data = tmp_path / "data"
    env = env_for(index_dir, data, store_url)
    log = tmp_path / "server.log"
    first = [article(90, n) for n in range(3)]
    big = [article(91, n, long=True) for n in range(40)]
    process, base = start_server(env, log)
    try:
        assert httpx.put(f"{base}/v1/collections/crash", headers=AUTH).status_code == 201
        kept = httpx.post(
            f"{base}/v1/collections/crash/documents", json=first, headers=AUTH, timeout=300
        ).json()["doc_ids"]
        segments = data / "segments"
        before = set(os.listdir(segments))
        # 1. while the batch is being embedded (its segment not yet on disk)
        started = time.monotonic()
        _kill_during(base, process, big, lambda: time.monotonic() - started > 1.0)
        assert set(os.listdir(segments)) == before
    finally:
        if process.poll() is None:
            stop(process)
    process, base = start_server(env, log)
    try:
        assert _consistent_state(base, data, store_url) == set(kept)
        before = set(os.listdir(data / "segments"))
        # 2. while its segment is being written (a new directory appears, not yet committed)
        _kill_during(base, process, big, lambda: bool(set(os.listdir(data / "segments")) - before))
    finally:
        if process.poll() is None:
            stop(process)
    process, base = start_server(env, log)
    try:
        after = _consistent_state(base, data, store_url)
        assert after == set(kept) or (len(after) == len(kept) + len(big) and set(kept) <= after)
        answer = httpx.post(
            f"{base}/v1/ask",
            json={"question": "第90批第1篇光伏电站装机容量是多少", "collections": ["crash"]},
            timeout=60,
        ).json()["answer"]
        assert answer is not None and answer["doc_id"] in kept
        again = httpx.post(
            f"{base}/v1/collections/crash/documents", json=big, headers=AUTH, timeout=600
        )
        assert again.status_code == 200, again.text
        assert _consistent_state(base, data, store_url) == set(kept) | set(again.json()["doc_ids"])
    finally:
        stop(process)
