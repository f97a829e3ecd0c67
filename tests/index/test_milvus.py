"""The Milvus backend on milvus-lite (in a temporary directory) and on a milvus-lite server
process (the http:// path a Milvus standalone is reached by): what it holds, how it answers,
filters, deletes, half-way failures, and bad configuration."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from index.engine import Engine
from index.errors import BackendConfigError, BackendUnavailableError, IndexMismatchError
from index.search.backend import FaissBackend, MilvusBackend, open_backend
from index.search.filters import Catalog, allowed_documents
from index.search.milvus import (
    CALL_ATTEMPTS,
    MilvusIndex,
    MilvusSettings,
    MilvusView,
    SyncReport,
    filter_expression,
)
from index.search.milvus.client import bm25_words, word_key
from index.search.view import IndexView
from index.settings import Settings, describe_settings_error
from index.store.files import IndexData, read_index
from index.types import Allowed, Filters
from tests.servers import free_port, running_milvus_lite

pytestmark = pytest.mark.milvus

ROOT = Path(__file__).resolve().parents[2]


def dev_questions() -> list[str]:
    lines = (ROOT / "eval" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["question"] for line in lines if line.strip()]


@pytest.fixture(scope="module")
def seed_data(index_dir: Path) -> IndexData:
    return read_index(index_dir)


@pytest.fixture(scope="module")
def seed_milvus(
    seed_data: IndexData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[MilvusIndex, MilvusView, SyncReport]]:
    """The seed index written into a milvus-lite file once for this module."""
    uri = str(tmp_path_factory.mktemp("milvus") / "seed.db")
    milvus = MilvusIndex(MilvusSettings(uri), seed_data.manifest.dim)
    view = MilvusView(seed_data, milvus)
    report = milvus.sync(view)
    yield milvus, view, report
    milvus.close()


def without_time(result: Any) -> Any:
    return replace(result, took_ms=0.0)


def test_the_seed_index_is_written_into_milvus_once(
    seed_data: IndexData, seed_milvus: tuple[MilvusIndex, MilvusView, SyncReport]
) -> None:
    milvus, view, report = seed_milvus
    assert seed_data.manifest.counts["chunks"] == 117
    assert seed_data.manifest.counts["sentences"] == 464
    assert report == SyncReport(117, 0, 464, 0)
    assert milvus.count(milvus.passages) == 117
    assert milvus.count(milvus.sentences) == 464
    assert milvus.check(view).agreed
    assert milvus.sync(view) == SyncReport(0, 0, 0, 0)


def test_the_milvus_engine_answers_the_dev_questions_exactly_as_the_faiss_engine(
    seed_data: IndexData,
    seed_milvus: tuple[MilvusIndex, MilvusView, SyncReport],
    engine: Engine,
    embedder: Any,
) -> None:
    _, view, _ = seed_milvus
    on_milvus = Engine(seed_data, embedder, view=view)
    questions = dev_questions()
    assert len(questions) == 41
    for question in questions:
        faiss_result = engine.ask(question, 10)
        milvus_result = on_milvus.ask(question, 10)
        assert [(p.doc_id, p.char_start, p.char_end) for p in milvus_result.passages] == [
            (p.doc_id, p.char_start, p.char_end) for p in faiss_result.passages
        ], question
        assert milvus_result.answer == faiss_result.answer, question


def test_bm25_runs_in_milvus_on_the_index_s_own_words_and_scores_as_bm25s(
    seed_milvus: tuple[MilvusIndex, MilvusView, SyncReport], engine: Engine
) -> None:
    _, view, _ = seed_milvus
    # The second question's best passages include one with "+" between words (年度包干制+物联网…),
    # which Milvus' jieba analyzer counted as words and bm25s does not.
    for question in (
        "白银有色今年无氧铜杆的目标产量是多少",
        "索通公司煅烧炉节能改造每年减少多少碳排放",
    ):
        local = engine.index.lexical_scores(question, None)
        remote = view.lexical_scores(question, None)
        assert np.count_nonzero(remote) > 0
        top = np.argsort(-local, kind="stable")[:20]
        assert np.argsort(-remote, kind="stable")[:20].tolist() == top.tolist()
        # Same words, same lengths, same formula: one scale factor (Lucene's k1 + 1) apart.
        ratios = remote[top] / local[top]
        np.testing.assert_allclose(ratios, ratios[0], rtol=1e-3)


def test_a_passages_collection_made_with_the_old_jieba_analyzer_is_made_again(
    seed_data: IndexData, tmp_path: Path
) -> None:
    from pymilvus import DataType, Function, FunctionType, MilvusClient

    uri = str(tmp_path / "old.db")
    old = MilvusClient(uri)
    schema = old.create_schema(auto_id=False, enable_dynamic_field=False)
    schema.add_field("key", DataType.INT64, is_primary=True)
    schema.add_field("vector", DataType.FLOAT_VECTOR, dim=seed_data.manifest.dim)
    schema.add_field(
        "text",
        DataType.VARCHAR,
        max_length=1000,
        enable_analyzer=True,
        analyzer_params={"tokenizer": "jieba"},
    )
    schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
    schema.add_function(
        Function(
            name="bm25",
            function_type=FunctionType.BM25,
            input_field_names=["text"],
            output_field_names=["sparse"],
        )
    )
    old.create_collection("ragqa_passages", schema=schema)
    old.close()
    milvus = MilvusIndex(MilvusSettings(uri), seed_data.manifest.dim)
    try:
        view = MilvusView(seed_data, milvus)
        assert milvus.sync(view) == SyncReport(117, 0, 464, 0)
        assert milvus.check(view).agreed
        question = "白银有色今年无氧铜杆的目标产量是多少"
        assert np.count_nonzero(view.lexical_scores(question, None)) > 0
    finally:
        milvus.close()


def varied_documents(data: IndexData) -> tuple[IndexData, Catalog]:
    """The seed documents with dates, sources, collections and metadata to filter on: a
    date in 2025 for all but the last, two sources, two collections, a topic for most."""
    documents = [
        replace(
            doc,
            published=f"2025-{i + 1:02d}-15" if i < 12 else None,
            source="人民网" if i % 2 == 0 else "新华网",
        )
        for i, doc in enumerate(data.documents)
    ]
    n = len(documents)
    catalog = Catalog(
        collections=tuple("news" if i % 3 == 0 else "default" for i in range(n)),
        metadata=tuple(
            {} if i == n - 1 else {"topic": "wind" if i in (1, 4, 7) else "steel"} for i in range(n)
        ),
        alive=np.ones(n, dtype=bool),
        names=frozenset({"news", "default"}),
    )
    return replace(data, documents=documents), catalog


@pytest.fixture(scope="module")
def varied_milvus(
    seed_data: IndexData, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[IndexData, Catalog, MilvusView]]:
    data, catalog = varied_documents(seed_data)
    uri = str(tmp_path_factory.mktemp("milvus") / "varied.db")
    milvus = MilvusIndex(MilvusSettings(uri), data.manifest.dim)
    view = MilvusView(data, milvus, catalog)
    milvus.sync(view)
    yield data, catalog, view
    milvus.close()


FILTER_CASES = [
    (None, Filters(published_from="2025-06-01"), 7),
    (None, Filters(published_to="2025-03-15"), 3),
    (None, Filters(published_from="2025-04-01", published_to="2025-04-30"), 1),
    (None, Filters(sources=("人民网",)), 7),
    (None, Filters(sources=("人民网", "新华网")), 13),
    (["news"], None, 5),
    (["news", "default"], Filters(published_from="2025-01-01"), 12),
    (None, Filters(metadata=(("topic", "wind"),)), 3),
    (["news"], Filters(sources=("新华网",), metadata=(("topic", "steel"),)), 2),
    (["nowhere"], None, 0),
    (None, Filters(metadata=(("topic", 'say "hi"'),)), 0),
]


@pytest.mark.parametrize(("collections", "filters", "n_documents"), FILTER_CASES)
def test_collections_and_filters_become_milvus_expressions_over_the_same_documents(
    varied_milvus: tuple[IndexData, Catalog, MilvusView],
    collections: list[str] | None,
    filters: Filters | None,
    n_documents: int,
) -> None:
    data, catalog, view = varied_milvus
    mask = allowed_documents(catalog, data.documents, collections, filters)
    assert mask is not None
    expected = {d.doc_id for d, ok in zip(data.documents, mask.tolist(), strict=True) if ok}
    assert len(expected) == n_documents
    milvus = view.milvus
    rows = milvus.client.query(
        milvus.passages,
        filter=filter_expression(collections, filters),
        output_fields=["doc_id"],
        limit=1000,
    )
    assert {row["doc_id"] for row in rows} == expected


def test_a_filtered_milvus_query_returns_only_the_filtered_documents(
    varied_milvus: tuple[IndexData, Catalog, MilvusView], embedder: Any
) -> None:
    data, catalog, view = varied_milvus
    on_milvus = Engine(data, embedder, view=view, catalog=catalog)
    allowed = on_milvus.contents.allowed(["default"], Filters(sources=("新华网",)))
    assert view.where(allowed) == '(collection in ["default"]) and (source in ["新华网"])'
    result = on_milvus.search("甘肃传统产业占规模以上工业增加值的比重是多少", 10, allowed=allowed)
    assert result
    for passage in result:
        row = next(i for i, d in enumerate(data.documents) if d.doc_id == passage.doc_id)
        assert catalog.collections[row] == "default" and passage.source == "新华网"


def test_a_filtered_query_never_sees_another_document(
    seed_data: IndexData, seed_milvus: tuple[MilvusIndex, MilvusView, SyncReport], embedder: Any
) -> None:
    _, view, _ = seed_milvus
    on_milvus = Engine(seed_data, embedder, view=view)
    target = seed_data.documents[4].doc_id
    only = Allowed.only(len(seed_data.documents), [4])
    assert view.where(only) == f'doc_id in ["{target}"]'
    result = on_milvus.ask("白银有色今年无氧铜杆的目标产量是多少", 5, allowed=only)
    assert result.passages and {p.doc_id for p in result.passages} == {target}
    nothing = Allowed(np.zeros(len(seed_data.documents), dtype=bool))
    empty = on_milvus.ask("白银有色今年无氧铜杆的目标产量是多少", 5, allowed=nothing)
    assert empty.passages == [] and empty.answer is None


def test_deleted_and_replaced_documents_are_deleted_in_milvus(
    seed_data: IndexData, tmp_path: Path, embedder: Any
) -> None:
    milvus = MilvusIndex(MilvusSettings(str(tmp_path / "m.db")), seed_data.manifest.dim)
    try:
        milvus.sync(MilvusView(seed_data, milvus))
        n = len(seed_data.documents)
        gone = seed_data.documents[0].doc_id
        n_gone = int((seed_data.chunks[:, 0] == 0).sum())
        s_gone = int((seed_data.sentences[:, 0] == 0).sum())
        alive = np.ones(n, dtype=bool)
        alive[0] = False
        single = Catalog.single(n)
        tombstoned = replace(single, alive=alive)
        report = milvus.sync(MilvusView(seed_data, milvus, tombstoned))
        assert report == SyncReport(0, n_gone, 0, s_gone)
        assert milvus.count(milvus.passages, f'doc_id == "{gone}"') == 0
        # a replacement (here: the same text in another collection) gets new keys
        moved = replace(single, collections=("news", *single.collections[1:]))
        report = milvus.sync(MilvusView(seed_data, milvus, moved))
        assert report == SyncReport(n_gone, 0, s_gone, 0)
        rows = milvus.client.query(
            milvus.passages, filter=f'doc_id == "{gone}"', output_fields=["collection"], limit=100
        )
        assert {r["collection"] for r in rows} == {"news"}
        assert len(rows) == n_gone
    finally:
        milvus.close()


class FailingClient:
    """A real client that fails after `inserts` insert calls (a connection lost half-way)."""

    def __init__(self, client: Any, inserts: int) -> None:
        self._client = client
        self._left = inserts

    def upsert(self, *args: Any, **kwargs: Any) -> Any:
        if self._left == 0:
            raise ConnectionError("connection reset by peer")
        self._left -= 1
        return self._client.upsert(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_a_sync_that_fails_half_way_is_reported_and_finished_by_the_next_one(
    seed_data: IndexData, tmp_path: Path
) -> None:
    settings = MilvusSettings(str(tmp_path / "m.db"))
    first = MilvusIndex(settings, seed_data.manifest.dim)
    broken = MilvusIndex(settings, seed_data.manifest.dim, client=FailingClient(first.client, 1))
    view = MilvusView(seed_data, broken)
    with pytest.raises(BackendUnavailableError, match="failed to insert rows"):
        broken.sync(view)
    report = first.check(view)
    assert report == SyncReport(0, 0, 464, 0)  # the passages went in, no sentence did
    assert report.describe() == "passages +0 -0, sentences +464 -0"
    backend = MilvusBackend(first, lexical_limit=50)
    assert backend.check(view) == report.describe()
    assert first.sync(view).describe() == report.describe()  # the sync repairs it
    assert backend.check(view) is None
    assert first.count(first.passages) == 117 and first.count(first.sentences) == 464
    first.close()


def test_a_collection_made_with_another_dimension_is_refused_by_name(tmp_path: Path) -> None:
    settings = MilvusSettings(str(tmp_path / "m.db"))
    MilvusIndex(settings, 8).close()
    with pytest.raises(IndexMismatchError) as caught:
        MilvusIndex(settings, 384)
    message = str(caught.value)
    assert "'ragqa_passages'" in message and "8-dimensional" in message and "384" in message
    assert "RAGQA_MILVUS_URI" in message


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"RAGQA_BACKEND": "elastic"}, "RAGQA_BACKEND: Input should be 'faiss' or 'milvus'"),
        ({"RAGQA_MILVUS_URI": "data/milvus"}, "RAGQA_MILVUS_URI: a milvus-lite file path must end"),
        ({"RAGQA_MILVUS_URI": "ftp://host:1"}, "RAGQA_MILVUS_URI: use http://host:port"),
        ({"RAGQA_MILVUS_TIMEOUT_S": "0"}, "RAGQA_MILVUS_TIMEOUT_S: Input should be greater than 0"),
        ({"RAGQA_MILVUS_PREFIX": "my-index"}, "RAGQA_MILVUS_PREFIX: String should match pattern"),
    ],
)
def test_bad_backend_settings_are_refused_naming_the_setting(
    environ: dict[str, str], named: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert describe_settings_error(caught.value).startswith(named)


def test_the_milvus_backend_without_a_uri_is_refused_naming_the_setting() -> None:
    with pytest.raises(BackendConfigError, match="RAGQA_MILVUS_URI is not set"):
        open_backend("milvus", 384, MilvusSettings(""))


def test_the_default_backend_is_faiss_and_serves_the_plain_view(
    seed_data: IndexData, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RAGQA_BACKEND", raising=False)
    settings = Settings()
    assert settings.backend == "faiss"
    backend = open_backend(settings.backend, 384, settings.milvus())
    assert isinstance(backend, FaissBackend)
    view = backend.view(seed_data, Catalog.single(len(seed_data.documents)))
    assert type(view) is IndexView
    assert backend.check(view) is None


def test_an_unreachable_milvus_server_is_refused_within_its_timeout_naming_the_uri(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pymilvus

    real = pymilvus.MilvusClient
    timeouts: list[float] = []

    def client(*args: Any, **kwargs: Any) -> Any:
        timeouts.append(kwargs["timeout"])
        return real(*args, **kwargs)

    monkeypatch.setattr(pymilvus, "MilvusClient", client)
    uri = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(BackendUnavailableError) as caught:
        open_backend("milvus", 384, MilvusSettings(uri, timeout_s=3))
    assert timeouts == [3]  # the connection is bounded by the timeout passed in
    assert f"RAGQA_MILVUS_URI={uri!r}" in str(caught.value)


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGQA_BACKEND", "Milvus")
    monkeypatch.setenv("RAGQA_MILVUS_URI", "http://127.0.0.1:19530")
    monkeypatch.setenv("RAGQA_MILVUS_TOKEN", "root:Milvus")
    monkeypatch.setenv("RAGQA_MILVUS_TIMEOUT_S", "2.5")
    settings = Settings()
    assert settings.backend == "milvus"
    milvus = settings.milvus()
    assert milvus == MilvusSettings("http://127.0.0.1:19530", "root:Milvus", "ragqa", 2.5)
    assert not milvus.is_lite
    assert MilvusSettings("var/milvus.db").is_lite


class _TimeoutsOf:
    """A Milvus client that records the timeout of every call made through it."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.timeouts: list[float | None] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.client, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self.timeouts.append(kwargs.get("timeout"))
            return method(*args, **kwargs)

        return call


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A milvus-lite server process on 127.0.0.1 (`tests.servers.running_milvus_lite`)."""
    with running_milvus_lite(tmp_path / "data", tmp_path / "milvus.log") as server:
        yield server


def test_a_milvus_server_that_goes_away_fails_queries_within_the_timeout(
    seed_data: IndexData, milvus_server: tuple[str, subprocess.Popen[bytes]], embedder: Any
) -> None:
    uri, process = milvus_server
    writer = MilvusIndex(MilvusSettings(uri, timeout_s=120.0), seed_data.manifest.dim)
    assert writer.sync(MilvusView(seed_data, writer)) == SyncReport(117, 0, 464, 0)
    writer.close()
    milvus = MilvusIndex(MilvusSettings(uri, timeout_s=10.0), seed_data.manifest.dim)
    view = MilvusView(seed_data, milvus)
    on_milvus = Engine(seed_data, embedder, view=view)
    question = "白银有色今年无氧铜杆的目标产量是多少"
    assert on_milvus.ask(question, 3).answer is not None
    process.kill()
    process.wait(timeout=30)
    calls = _TimeoutsOf(milvus.client)
    milvus.client = calls
    with pytest.raises(BackendUnavailableError, match=f"Milvus at {uri} failed to"):
        on_milvus.ask(question, 3)
    # The failed call was tried twice, each attempt bounded by the timeout passed in.
    assert calls.timeouts == [10.0] * CALL_ATTEMPTS
    milvus.client = calls.client
    with pytest.raises(BackendUnavailableError):
        MilvusBackend(milvus, 50).ping()
    milvus.close()


# -- the library (store + segments) over the Milvus backend ----------------------------------


def wind(n: int) -> Any:
    from index.store.writes import NewDocument

    text = f"第{n}号风电场位于瓜州，装机容量为{n + 10}万千瓦，今年发电量{n + 3}亿千瓦时。"
    return NewDocument(title=f"瓜州风电场{n}号", text=text, item=f"documents[{n}]")


@pytest.fixture
def milvus_library(tmp_path: Path, embedder: Any, seed_data: IndexData) -> Iterator[Any]:
    from index.store.library import Library

    milvus = MilvusIndex(MilvusSettings(str(tmp_path / "milvus.db")), seed_data.manifest.dim)
    library = Library.open(
        tmp_path / "data", embedder, background_merge=False, backend=MilvusBackend(milvus, 50)
    )
    library.sync_corpus(seed_data)
    yield library
    library.close()


def test_the_library_writes_adds_replacements_and_deletes_into_milvus(
    milvus_library: Any,
) -> None:
    library = milvus_library
    milvus = library.backend.index
    assert isinstance(library.engine.index, MilvusView)
    assert milvus.count(milvus.passages) == 117
    library.create_collection("wind")
    ids = [d.doc_id for d in library.add("wind", [wind(1), wind(2)]).documents]
    assert milvus.count(milvus.passages, 'collection == "wind"') == 2
    result = library.engine.ask("第2号风电场装机容量是多少", collections=["wind"])
    assert result.answer is not None and result.answer.doc_id == ids[1]
    assert "12万千瓦" in result.answer.text
    replaced = replace(wind(2), doc_id=ids[1], text=wind(2).text.replace("12万", "15万"))
    report = library.add("wind", [replaced], replace_existing=True)
    assert [d.status for d in report.documents] == ["replaced"]
    rows = milvus.client.query(
        milvus.passages, filter=f'doc_id == "{ids[1]}"', output_fields=["text"], limit=10
    )
    assert len(rows) == 1  # its BM25 words: the replacement's, as bm25s reads them
    assert rows[0]["text"] == bm25_words(f"瓜州风电场2号\n{replaced.text}")
    assert word_key("15") in rows[0]["text"].split() and word_key("12") not in rows[0]["text"]
    library.delete("wind", ids[0])
    assert milvus.count(milvus.passages, f'doc_id == "{ids[0]}"') == 0
    assert milvus.count(milvus.passages) == 118
    assert library.check_backend() is None


def test_a_write_whose_milvus_sync_fails_is_retried_by_the_next_refresh(
    milvus_library: Any,
) -> None:
    library = milvus_library
    milvus = library.backend.index
    library.create_collection("wind")
    healthy = milvus.client
    milvus.client = FailingClient(healthy, 0)
    try:
        with pytest.raises(BackendUnavailableError):
            library.add("wind", [wind(3)])
    finally:
        milvus.client = healthy
    assert library.store.get(library.store.live_rows()[-1].doc_id) is not None
    assert library.check_backend() is None  # the engine still serves the view before the write
    assert milvus.count(milvus.passages, 'collection == "wind"') == 0
    assert library.refresh() is True  # the store did not change, but Milvus was behind
    assert milvus.count(milvus.passages, 'collection == "wind"') == 1
    result = library.engine.ask("第3号风电场装机容量是多少", collections=["wind"])
    assert result.answer is not None and "13万千瓦" in result.answer.text


def test_verify_repairs_rows_lost_in_milvus(milvus_library: Any) -> None:
    library = milvus_library
    milvus = library.backend.index
    view = library.engine.index
    lost = sorted(view.live_keys()[0])[:5]
    milvus.client.delete(milvus.passages, ids=lost)
    assert library.check_backend() == "passages +5 -0, sentences +0 -0"
    assert library.verify() == "passages +5 -0, sentences +0 -0"
    assert library.check_backend() is None
    assert library.verify() is None
