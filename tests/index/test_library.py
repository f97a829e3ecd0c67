"""The library in-process: the seed corpus imported unchanged, segments, tombstones, merges;
every test of `library` on each document store (`store_url`: SQLite, PostgreSQL)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from index.search.bm25 import BM25Index
from index.search.filters import Catalog, allowed_documents
from index.store.files import read_index
from index.store.ingest import chunk_tokens
from index.store.library import Library
from index.store.merge import MAX_SEGMENTS
from index.store.segments import segment_names
from index.store.writes import NewDocument
from index.text.tokenize import tokenize
from index.types import Filters

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def library(tmp_path: Path, embedder: Any, index_dir: Path, store_url: str) -> Any:
    lib = Library.open(tmp_path / "data", embedder, url=store_url, background_merge=False)
    lib.sync_corpus(read_index(index_dir))
    yield lib
    lib.close()


def doc(n: int, **extra: Any) -> NewDocument:
    text = f"第{n}号风电场位于瓜州，装机容量为{n + 10}万千瓦，今年发电量{n + 3}亿千瓦时。"
    return NewDocument(title=f"瓜州风电场{n}号", text=text, item=f"documents[{n}]", **extra)


def _without_time(result: Any) -> Any:
    return replace(result, took_ms=0.0)


def test_the_imported_seed_corpus_answers_exactly_as_the_plain_index(
    library: Any, engine: Any
) -> None:
    lines = (ROOT / "eval" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines()
    questions = [json.loads(line)["question"] for line in lines if line.strip()]
    assert len(questions) == 41
    for question in questions:
        assert _without_time(library.engine.ask(question, 10)) == _without_time(
            engine.ask(question, 10)
        ), question
    assert library.engine.contents.documents() == engine.contents.documents()


def test_importing_the_same_index_again_writes_nothing(library: Any, index_dir: Path) -> None:
    generation = library.store.generation()
    assert library.sync_corpus(read_index(index_dir)) == 0
    assert library.store.generation() == generation


def test_small_segments_are_merged_and_tombstones_dropped(library: Any) -> None:
    library.create_collection("wind")
    ids = [d.doc_id for d in library.add("wind", [doc(0), doc(1)]).documents]
    for n in range(2, MAX_SEGMENTS + 2):
        ids += [d.doc_id for d in library.add("wind", [doc(n)]).documents]
    library.delete("wind", ids[0])
    assert len(library.store.segments()) == MAX_SEGMENTS + 2  # seed + 9 batches
    engine = library.engine
    assert engine.catalog.alive.tolist().count(False) == 1  # the tombstone of ids[0]
    assert ids[0] not in {d.doc_id for d in engine.contents.documents()}
    while library.merge():
        pass
    segments = library.store.segments()
    assert len(segments) == 2
    assert set(segment_names(library.segments_dir)) == {s.name for s in segments}
    engine = library.engine
    assert bool(engine.catalog.alive.all()), "the merge dropped the tombstone"
    assert len(engine.data.documents) == 13 + MAX_SEGMENTS + 1
    assert ids[0] not in {d.doc_id for d in engine.data.documents}
    result = engine.ask("第5号风电场装机容量是多少", collections=["wind"])
    assert result.answer is not None and result.answer.doc_id == ids[5]


def test_a_replaced_document_is_a_tombstone_until_the_merge(library: Any) -> None:
    library.create_collection("replace")
    # two documents, so their segment outlives the replaced one (an empty segment is dropped)
    first = library.add("replace", [doc(1, doc_id="w"), doc(2)]).documents[0]
    changed = replace(doc(1, doc_id="w"), text="瓜州第1号风电场已经扩建到50万千瓦。")
    report = library.add("replace", [changed], replace_existing=True)
    assert [d.status for d in report.documents] == ["replaced"]
    assert first.doc_id == "w"
    engine = library.engine
    rows = [i for i, d in enumerate(engine.data.documents) if d.doc_id == "w"]
    assert len(rows) == 2 and engine.catalog.alive[rows].tolist() == [False, True]
    passages = engine.search("瓜州第1号风电场", 10, collections=["replace"])
    texts = [p.text for p in passages]
    assert "瓜州第1号风电场已经扩建到50万千瓦。" in texts
    assert not any("装机容量为11万千瓦" in t for t in texts)


def _one_bm25s_index_over(engine: Any) -> BM25Index:
    """bm25s over the view's passages (titled), as `ragqa build` would index them."""
    return BM25Index.from_tokens(chunk_tokens(engine.data.documents, engine.data.chunks, True))


def test_bm25_over_segments_scores_as_one_index_after_writes_deletes_and_merges(
    library: Any,
) -> None:
    library.create_collection("wind")
    ids = [d.doc_id for d in library.add("wind", [doc(1), doc(2)]).documents]
    ids += [d.doc_id for d in library.add("wind", [doc(3)]).documents]
    ids += [d.doc_id for d in library.add("wind", [doc(4)]).documents]
    queries = ["瓜州风电场装机容量", "第3号风电场", "甘肃 风电 发电量 发电量", "zinc"]

    def same_as_one_index() -> None:
        engine = library.engine
        single = _one_bm25s_index_over(engine)
        assert engine.data.bm25.n_docs == len(engine.data.chunks)
        for query in queries:
            assert engine.data.bm25.scores(query).tolist() == single.scores(query).tolist()
            tokens = tokenize(query)
            assert engine.data.bm25.idf(tokens) == single.idf(tokens)
            assert engine.data.bm25.vocabulary_hit(query) == single.vocabulary_hit(query)

    same_as_one_index()  # seed + 3 segments
    assert len(library.store.segments()) == 4
    library.delete("wind", ids[0])  # a tombstone: still counted (as in Lucene), never served
    same_as_one_index()
    engine = library.engine
    dead = [i for i, d in enumerate(engine.data.documents) if d.doc_id == ids[0]]
    dead_chunks = [c for c, row in enumerate(engine.data.chunks[:, 0].tolist()) if row in dead]
    lexical = engine.index.lexical_scores("第1号风电场", engine.contents.allowed(None, None))
    assert dead_chunks and lexical[dead_chunks].tolist() == [0.0] * len(dead_chunks)
    assert library.merge()  # the half-dead segment is rewritten without the tombstone
    assert ids[0] not in {d.doc_id for d in library.engine.data.documents}
    same_as_one_index()


def test_filters_make_one_mask_over_document_rows() -> None:
    from corpus.documents import Document

    docs = [
        Document("a", "A", "甘肃日报", "2025-03-01", "x"),
        Document("b", "B", "酒泉日报", None, "y"),
        Document("c", "C", "酒泉日报", "2025-07-02", "z"),
    ]
    catalog = Catalog(
        collections=("news", "news", "other"),
        metadata=({"desk": "economy"}, {}, {"desk": "energy"}),
        alive=__import__("numpy").array([True, True, False]),
        names=frozenset({"news", "other"}),
    )
    mask = allowed_documents(catalog, docs, None, None)
    assert mask is not None and mask.tolist() == [True, True, False]
    dated = allowed_documents(catalog, docs, None, Filters(published_from="2025-01-01"))
    assert dated is not None and dated.tolist() == [True, False, False]
    sources = allowed_documents(catalog, docs, ["news"], Filters(sources=("酒泉日报",)))
    assert sources is not None and sources.tolist() == [False, True, False]
    desk = allowed_documents(catalog, docs, None, Filters(metadata=(("desk", "energy"),)))
    assert desk is not None and desk.tolist() == [False, False, False]
    assert allowed_documents(Catalog.single(3), docs, None, Filters()) is None


def test_an_uploaded_documents_words_get_vectors_known_ones_copied(library: Any) -> None:
    corpus = library.engine.index.words.restricted(["千瓦", "瓜州"])
    assert corpus.words == ("千瓦",)  # the seed corpus has 千瓦, not 瓜州
    library.create_collection("wind")
    library.add("wind", [doc(7)])
    words = library.engine.index.words.restricted(["千瓦", "瓜州"])
    assert words.words == ("千瓦", "瓜州")  # 瓜州: new, encoded on upload
    assert words.vectors[0].tolist() == corpus.vectors[0].tolist()


def test_the_library_chunks_as_the_corpus_index_was_built(tmp_path: Path, embedder: Any) -> None:
    from index.errors import IndexMismatchError
    from index.opening import open_library
    from index.rank.fitted import Fitted
    from index.settings import Settings
    from index.store.build import build_index
    from index.text.chunking import ChunkingParams, chunk_document

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "白银炉能耗降低\n\n现在生产每吨铜的综合能耗从300公斤标煤降至210公斤标煤以内。", "utf-8"
    )
    small = ChunkingParams(size=40, overlap=10)
    build_index(
        corpus, tmp_path / "index", embedder.name, chunking=small, progress=False, embedder=embedder
    )
    settings = Settings(
        index_dir=tmp_path / "index",
        data_dir=tmp_path / "data",
        corpus_dir=corpus,
        model=embedder.name,
        encoder=embedder.encoder,
        api_key=None,
    )
    # 40-character passages are not what index/rank/params.json was fitted for: the defaults
    library = open_library(settings, fitted=Fitted.defaults())
    try:
        assert library.chunking == small
        assert [d.doc_id for d in library.engine.contents.documents()] == ["a.txt:0"]
        library.create_collection("wind")
        text = (
            "瓜州第1号风电场位于戈壁滩上，装机容量为20万千瓦；"
            + "今年发电量达到3亿千瓦时，同比增长一成。"
        )
        written = library.add("wind", [NewDocument(title="风电", text=text)]).documents[0]
        engine = library.engine
        row = next(i for i, d in enumerate(engine.data.documents) if d.doc_id == written.doc_id)
        spans = [(a, b) for r, a, b in engine.data.chunks.tolist() if r == row]
        expected = chunk_document(engine.data.documents[row], small)
        assert spans == [(c.char_start, c.char_end) for c in expected]
        assert len(spans) >= 2 and max(b - a for a, b in spans) <= 40
    finally:
        library.close()
    default = Library.open(tmp_path / "other", embedder, background_merge=False)
    try:
        with pytest.raises(IndexMismatchError, match="chunks of 40 characters overlapping 10"):
            default.sync_corpus(read_index(tmp_path / "index"))
    finally:
        default.close()


def test_a_built_pdf_is_imported_into_the_store_with_its_page_and_layout(
    tmp_path: Path, embedder: Any
) -> None:
    """A PDF in the corpus directory: the store's `default` collection keeps the metadata the
    build found (its page and character layout), which GET /v1/documents/{id} returns."""
    import shutil

    from corpus.loader import load_file
    from index.store.build import build_index

    pdf = ROOT / "tests" / "corpus" / "fixtures" / "epaper-two-columns.pdf"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(pdf, corpus / pdf.name)
    build_index(corpus, tmp_path / "index", embedder.name, progress=False, embedder=embedder)
    lib = Library.open(tmp_path / "data", embedder, background_merge=False)
    try:
        lib.sync_corpus(read_index(tmp_path / "index"))
        loaded, _ = load_file(pdf)
        for document in loaded:
            assert lib.engine.contents.metadata_of(document.doc_id) == document.metadata
            assert lib.stored(document.doc_id).metadata["page"] == "1"
    finally:
        lib.close()
