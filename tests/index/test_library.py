"""The library in-process: the seed corpus imported unchanged, segments, tombstones, merges."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from index.filters import Catalog, allowed_documents
from index.library import MAX_SEGMENTS, Library, NewDocument
from index.segments import segment_names
from index.store import read_index
from index.types import Filters

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def library(tmp_path: Path, embedder: Any, index_dir: Path) -> Any:
    lib = Library.open(tmp_path / "data", embedder, background_merge=False)
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
    assert library.engine.documents() == engine.documents()


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
    assert ids[0] not in {d.doc_id for d in engine.documents()}
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
    corpus = library.engine.index.words
    assert "千瓦" in corpus.row and "瓜州" not in corpus.row
    library.create_collection("wind")
    library.add("wind", [doc(7)])
    words = library.engine.index.words
    assert "瓜州" in words.row  # new: encoded on upload
    assert words.vectors[words.row["千瓦"]].tolist() == corpus.vectors[corpus.row["千瓦"]].tolist()
