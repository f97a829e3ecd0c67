"""Builds survive what happens to real builds: a file that cannot be read, a `kill -9` while
embedding or while writing, two builds at once. A skipped file is remembered (the index stays
current), a killed build resumes from its checkpoints, and its debris is removed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from corpus import DEFAULT_CORPUS_DIR
from index.encode.embedcache import cache_path, checkpoint_group, encoder_fingerprint
from index.store.build import build_index, index_is_current
from index.store.buildlock import BuildInProgressError, build_lock, debris
from index.store.files import MANIFEST, read_index

ROOT = Path(__file__).resolve().parents[2]
RAGQA = str(Path(sys.executable).parent / "ragqa")
GOOD = "白银炉能耗降低\n\n现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。"
GBK_BYTES = ("兰州新区今年以来持续推进产业项目建设，新签约项目达到四十个。" * 3).encode("gbk")
KILL_TIMEOUT_S = 300.0  # a guard against hanging, not a measurement


@pytest.fixture
def corpus_with_a_bad_file(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(GOOD, encoding="utf-8")
    (corpus / "gbk.txt").write_bytes(GBK_BYTES)
    return corpus


def test_a_skipped_file_is_recorded_and_the_index_stays_current(
    corpus_with_a_bad_file: Path, tmp_path: Path, embedder: Any
) -> None:
    index_dir = tmp_path / "index"
    report = build_index(
        corpus_with_a_bad_file, index_dir, embedder.name, progress=False, embedder=embedder
    )
    assert [p.source for p in report.problems] == ["gbk.txt"]
    sources = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))["sources"]
    assert sources["gbk.txt"]["documents"] == 0
    assert sources["gbk.txt"]["problems"][0].startswith("gbk.txt:1: not valid UTF-8")
    assert index_is_current(corpus_with_a_bad_file, index_dir, embedder.name)
    again = build_index(
        corpus_with_a_bad_file, index_dir, embedder.name, progress=False, embedder=embedder
    )
    assert again.n_embedded == 0
    assert [p.source for p in again.problems] == ["gbk.txt"]  # reported on every build
    (corpus_with_a_bad_file / "gbk.txt").write_text(GOOD + "又一句。", encoding="utf-8")
    assert not index_is_current(corpus_with_a_bad_file, index_dir, embedder.name)


class _CountingWords:
    """The real embedder, noting every text it is asked to encode as a query (the word table
    is encoded that way)."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self.query_texts: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def encode_queries(self, texts: list[str]) -> Any:
        self.query_texts += texts
        return self._embedder.encode_queries(texts)


def test_a_rebuild_of_an_index_copied_without_its_cache_encodes_only_new_words(
    tmp_path: Path, embedder: Any
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(GOOD, encoding="utf-8")
    first = tmp_path / "first"
    build_index(corpus, first, embedder.name, progress=False, embedder=embedder)
    copy = tmp_path / "copy"
    shutil.copytree(first, copy)
    assert not cache_path(copy).exists()

    counting = _CountingWords(embedder)
    report = build_index(corpus, copy, embedder.name, progress=False, embedder=counting)
    assert (report.n_embedded, counting.query_texts) == (0, [])
    before, after = read_index(first).words, read_index(copy).words
    assert before is not None and after is not None
    assert after.words == before.words and (after.vectors == before.vectors).all()

    (corpus / "b.txt").write_text("金昌镍钴新材料\n\n金昌冶炼厂能耗降低15%。", encoding="utf-8")
    build_index(corpus, copy, embedder.name, progress=False, embedder=counting)
    grown = read_index(copy).words
    assert grown is not None and set(before.words) < set(grown.words)
    assert sorted(counting.query_texts) == sorted(set(grown.words) - set(before.words))


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CI": "true"}
    return subprocess.run(
        [RAGQA, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.slow
def test_build_and_inspect_exit_with_the_same_status_on_the_same_corpus(
    corpus_with_a_bad_file: Path, tmp_path: Path
) -> None:
    index_dir = tmp_path / "index"
    build = _run(["build", "--corpus", str(corpus_with_a_bad_file), "--index", str(index_dir)])
    inspect = _run(["corpus", "inspect", str(corpus_with_a_bad_file)])
    assert (build.returncode, inspect.returncode) == (1, 1), build.stderr + inspect.stderr
    assert "skipped gbk.txt:1: not valid UTF-8" in build.stderr
    assert "it looks like GBK/GB18030" in build.stderr and "it looks like GBK/GB18030" in (
        inspect.stdout
    )
    assert (index_dir / MANIFEST).is_file()  # the index is written, without the bad file
    (corpus_with_a_bad_file / "gbk.txt").unlink()
    build = _run(["build", "--corpus", str(corpus_with_a_bad_file), "--index", str(index_dir)])
    inspect = _run(["corpus", "inspect", str(corpus_with_a_bad_file)])
    assert (build.returncode, inspect.returncode) == (0, 0), build.stderr + inspect.stderr


def test_a_second_build_of_the_same_index_is_refused_while_one_runs(
    corpus_with_a_bad_file: Path, tmp_path: Path, embedder: Any
) -> None:
    index_dir = tmp_path / "index"
    with build_lock(index_dir), pytest.raises(BuildInProgressError, match="another build"):
        build_index(
            corpus_with_a_bad_file, index_dir, embedder.name, progress=False, embedder=embedder
        )


def _cached_rows(path: Path, namespace: str) -> int:
    """Passage vectors in the cache (the words' vectors, `index.rank.wordbridge`, have their own
    namespace and come after the passages)."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            query = "SELECT COUNT(*) FROM vectors WHERE namespace = ?"
            return int(db.execute(query, (namespace,)).fetchone()[0])
    except sqlite3.OperationalError:
        return 0  # not created yet


def _kill_when(process: subprocess.Popen[bytes], condition: Any) -> None:
    deadline = time.monotonic() + KILL_TIMEOUT_S
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the build ended (status {process.returncode}) before the kill point")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the kill point was not reached")
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL


def _texts_to_embed(corpus: Path) -> int:
    """Passages + sentences the build of `corpus` will embed (what `ragqa build` counts)."""
    from corpus.loader import load_corpus
    from index.text.chunking import ChunkingParams, chunk_document
    from index.text.sentences import split_sentences

    documents = load_corpus(corpus).documents
    params = ChunkingParams()
    return sum(len(chunk_document(d, params)) + len(split_sentences(d.text)) for d in documents)


@pytest.mark.slow
def test_a_build_killed_at_half_way_resumes_and_re_embeds_almost_nothing(
    tmp_path: Path, embedder: Any
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for path in sorted(DEFAULT_CORPUS_DIR.iterdir())[:3]:  # 3 of the 5 seed files: ~350 texts
        shutil.copy(path, corpus / path.name)
    target = tmp_path / "index"
    total = _texts_to_embed(corpus)
    cache_file = cache_path(target)
    command = [RAGQA, "build", "--corpus", str(corpus), "--index", str(target), "--quiet"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    passages = encoder_fingerprint(embedder)
    _kill_when(process, lambda: _cached_rows(cache_file, passages) >= total // 2)
    done = _cached_rows(cache_file, passages)
    assert not target.exists() and debris(target) == []  # killed before writing anything

    resumed = build_index(corpus, target, embedder.name, progress=False, embedder=embedder)
    unique = _cached_rows(cache_file, passages)
    re_embedded = resumed.n_embedded - (unique - done)
    print(
        f"\nresume after kill -9: {total} texts ({unique} distinct); killed with {done} "
        f"({done / unique:.0%}) committed; resumed build embedded {resumed.n_embedded} and "
        f"took {resumed.n_cached} from the checkpoints; re-embedded of the work done: "
        f"{re_embedded} (+ at most one uncommitted group of {checkpoint_group(unique)})"
    )
    assert done >= unique // 2
    assert re_embedded <= 0.10 * done
    assert resumed.n_cached >= done
    counts = read_index(target).manifest.counts
    assert counts["chunks"] + counts["sentences"] == total
    assert index_is_current(corpus, target, embedder.name)


SLOW_WRITE = """
import sys, time
import index.store.files as store
write_documents = store._write_documents
def slow(path, documents):
    write_documents(path, documents)
    time.sleep(600)  # the test kills the build here, in the middle of the write phase
store._write_documents = slow
from ragqa.cli import app
app(sys.argv[1:], prog_name="ragqa")
"""


@pytest.mark.slow
def test_a_build_killed_while_writing_leaves_debris_that_the_next_build_removes(
    corpus_with_a_bad_file: Path, tmp_path: Path, embedder: Any
) -> None:
    target = tmp_path / "index"
    build_index(corpus_with_a_bad_file, target, embedder.name, progress=False, embedder=embedder)
    (corpus_with_a_bad_file / "b.txt").write_text(GOOD + "第二篇。", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    args = ["build", "--corpus", str(corpus_with_a_bad_file), "--index", str(target), "-q"]
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_WRITE, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _kill_when(process, lambda: any((d / "documents.jsonl").exists() for d in debris(target)))
    left = debris(target)
    assert [p.name.split("-")[0] for p in left] == [".index.tmp"]
    assert read_index(target).manifest.counts["documents"] == 1  # the old index still serves

    report = build_index(
        corpus_with_a_bad_file, target, embedder.name, progress=False, embedder=embedder
    )
    assert debris(target) == []
    assert list(report.removed_debris) == [p.resolve() for p in left]
    assert report.n_embedded == 0  # b.txt was embedded before the kill: checkpointed
    assert read_index(target).manifest.counts["documents"] == 2
