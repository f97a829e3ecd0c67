"""The real server across restarts and reloads: a corpus with a file that cannot be read is
indexed once, not on every start, and reloads with rebuild keep one model in memory."""

from __future__ import annotations

import shutil
from pathlib import Path

import httpx
import pytest

from tests.servers import SERVER_PIDS, rss_bytes, running_server

GOOD = "白银炉能耗降低\n\n现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"
GBK_BYTES = ("兰州新区今年以来持续推进产业项目建设，新签约项目达到四十个。" * 3).encode("gbk")
KEY = "restart-key-0123456789abcdef"


@pytest.mark.slow
def test_a_skipped_file_does_not_make_every_start_rebuild(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "gbk.txt").write_bytes(GBK_BYTES)
    index_dir = tmp_path / "index"
    env = {"RAGQA_CORPUS_DIR": str(corpus), "RAGQA_INDEX_DIR": str(index_dir)}
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with running_server(env, first_log) as base:
        assert len(httpx.get(f"{base}/v1/documents", timeout=30).json()) == 1
    assert "building the index" in first_log.read_text()
    assert "skipped gbk.txt:1: not valid UTF-8" in first_log.read_text()
    manifest = (index_dir / "manifest.json").read_bytes()

    with running_server(env, second_log) as base:
        assert len(httpx.get(f"{base}/v1/documents", timeout=30).json()) == 1
    assert "building the index" not in second_log.read_text()
    assert (index_dir / "manifest.json").read_bytes() == manifest  # not rewritten


@pytest.mark.slow
def test_reloads_with_rebuild_reuse_the_live_model(index_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(index_dir, copy)
    env = {"RAGQA_INDEX_DIR": str(copy), "RAGQA_API_KEY": KEY}
    auth = {"Authorization": f"Bearer {KEY}"}
    with running_server(env, tmp_path / "server.log") as base:
        pid = SERVER_PIDS[base]

        def reload() -> None:
            response = httpx.post(
                f"{base}/v1/index/reload", json={"rebuild": True}, headers=auth, timeout=300
            )
            assert response.status_code == 200, response.text

        reload()
        after_one = rss_bytes(pid)
        for _ in range(3):
            reload()
        after_four = rss_bytes(pid)
    print(
        f"\nRSS after 1 reload with rebuild {after_one / 2**20:.0f} MiB, after 4: "
        f"{after_four / 2**20:.0f} MiB"
    )
    assert after_four <= 1.10 * after_one
