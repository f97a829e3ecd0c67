"""Duplicates at ingestion, in-process on each document store (`store_url`: SQLite,
PostgreSQL): one wire story as UTF-8 .txt, GBK .txt, .html and another outlet's reprint is one
document with three aliases; a different article on the same subject, and reports from one
template, are not merged; aliases and fingerprints survive a restart; deleting an alias or the
first copy. The texts are `tests.duplicates_fixtures`."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corpus.loader import load_corpus
from index.dedup.fingerprint import copy_similarity, fingerprint, shingles
from index.dedup.text import comparable_text, same_figures
from index.errors import DocumentNotFoundError
from index.store.files import read_index
from index.store.library import Library
from index.store.writes import NewDocument
from service.uploads import file_documents
from tests.duplicates_fixtures import BODY, other_txt, reprint_txt, story_files

ROOT = Path(__file__).resolve().parents[2]
FILES = [*story_files(), ("other.txt", other_txt().encode("utf-8"))]


def read(name: str, data: bytes) -> NewDocument:
    documents, skipped = file_documents(name, data)
    assert len(documents) == 1 and skipped == []
    return documents[0]


@pytest.fixture
def opened(tmp_path: Path, embedder: Any, store_url: str) -> Any:
    def open_library() -> Library:
        return Library.open(tmp_path / "data", embedder, url=store_url, background_merge=False)

    return open_library


def test_the_comparable_text_drops_furniture_sign_offs_spaces_and_punctuation() -> None:
    page = (
        "数字报首页\n\n版次：05\n\n2025年03月01日\n\n正文第一段，共 3 句。\n\n"
        "第二段！（责任编辑：王五）\n\n编辑：李四\n\n来源：新华社"
    )
    assert comparable_text(page) == "正文第一段共3句第二段"
    assert shingles("正文第一段，共3句。") == {"正文第一段", "文第一段共", "第一段共3", "一段共3句"}


def test_copies_are_similar_and_different_articles_are_not() -> None:
    texts = {name: read(name, data).text for name, data in FILES}
    story = fingerprint(texts["hydrogen.txt"])
    assert [
        copy_similarity(fingerprint(texts[name]), story)
        for name in ("hydrogen-gbk.txt", "hydrogen.html", "reprint-of-hydrogen.txt", "other.txt")
    ] == [1.0, 1.0, 1.0, None]
    # Reports from one template share most words but not their figures: not copies.
    eighth = fingerprint("第8号风电场位于瓜州，装机容量为18万千瓦，今年发电量11亿千瓦时。")
    other = fingerprint("第108号风电场位于瓜州，装机容量为118万千瓦，今年发电量111亿千瓦时。")
    assert eighth.minhash.jaccard(other.minhash) >= 0.5
    assert copy_similarity(other, eighth) is None
    # An editor's cut drops figures; a template's articles have theirs elsewhere.
    assert same_figures(("3", "1", "50"), ("3", "1", "2", "50")) is True
    assert same_figures(("1", "2", "3"), ("2", "1", "3")) is False


def test_the_seed_corpus_holds_no_duplicates_and_no_passage_twice(index_dir: Path) -> None:
    documents = load_corpus(ROOT / "corpus" / "articles").documents
    assert len(documents) == 13
    prints = [fingerprint(d.text) for d in documents]
    assert [
        (a, b)
        for (a, fa), (b, fb) in itertools.combinations(enumerate(prints), 2)
        if copy_similarity(fa, fb) is not None
    ] == []
    index = read_index(index_dir)
    chunks = np.asarray(index.chunks).tolist()
    passages = [comparable_text(index.documents[r].text[a:b]) for r, a, b in chunks]
    assert len(passages) == len(set(passages)) == len(chunks)


def test_one_story_four_ways_is_one_document_with_three_aliases(opened: Any) -> None:
    library = opened()
    try:
        library.create_collection("wire")
        report = library.add("wire", [read(name, data) for name, data in FILES])
        first = report.documents[0].doc_id
        assert [(w.item, w.status, w.doc_id == first, w.similarity) for w in report.documents] == [
            ("hydrogen.txt", "created", True, None),
            ("hydrogen-gbk.txt", "duplicate", True, 1.0),
            ("hydrogen.html", "duplicate", True, 1.0),
            ("reprint-of-hydrogen.txt", "duplicate", True, 1.0),
            ("other.txt", "created", False, None),
        ]
        assert report.embedded_documents == 2
        stored = sorted(d.source for d in library.store.documents("wire"))  # one batch: id order
        assert stored == ["hydrogen.txt", "other.txt"]
        aliases = library.engine.contents.aliases_of(first)
        assert [(a.source, a.title, a.url, a.published) for a in aliases] == [
            ("hydrogen-gbk.txt", "兰州新区氢能产业园开工建设", None, None),
            ("hydrogen.html", "兰州新区氢能产业园开工建设", None, None),
            ("reprint-of-hydrogen.txt", "50亿元氢能产业园在兰州新区开工", None, None),
        ]
        assert [a.alias_id for a in aliases] == [w.alias_id for w in report.documents[1:4]]
        found = library.engine.search("兰州新区氢能产业园总投资多少", 10)
        texts = [p.text for p in found]
        assert len(texts) == len(set(texts)) and BODY.split("\n\n")[0][:20] in texts[0]
    finally:
        library.close()

    library = opened()  # a restart: the finder is rebuilt from the stored fingerprints
    try:
        assert library.engine.contents.aliases_of(first) == aliases
        again = library.add("wire", [read("hydrogen-gbk.txt", story_files()[1][1])])
        assert [(w.status, w.doc_id, w.alias_id) for w in again.documents] == [
            ("duplicate", first, aliases[0].alias_id)
        ]
        assert again.embedded_documents == 0
        fifth = read(
            "另一家.txt", reprint_txt().replace("编辑：李四", "（责任编辑：陈七）").encode()
        )
        late = library.add("wire", [fifth])
        assert [(w.status, w.doc_id) for w in late.documents] == [("duplicate", first)]
        assert len(library.engine.contents.aliases_of(first)) == 4
    finally:
        library.close()


def test_deleting_an_alias_removes_it_and_deleting_the_first_copy_promotes_the_oldest(
    opened: Any,
) -> None:
    library = opened()
    try:
        library.create_collection("wire")
        report = library.add("wire", [read(name, data) for name, data in FILES[:4]])
        first = report.documents[0].doc_id
        gbk, html, reprint = (w.alias_id for w in report.documents[1:])
        assert library.collection_of(html) == library.collection_of(first) == "wire"
        with pytest.raises(DocumentNotFoundError) as not_a_document:
            library.stored(html)
        assert str(not_a_document.value) == (
            f"no document with id '{html}': it is an alias of document '{first}' (a copy of it "
            "from another outlet, listed in that document's aliases)"
        )
        library.delete("wire", html)
        with pytest.raises(DocumentNotFoundError, match=r"^no document with id '[0-9a-f]+'$"):
            library.collection_of(html)
        assert [a.alias_id for a in library.engine.contents.aliases_of(first)] == [gbk, reprint]
        library.delete("wire", first)  # the oldest alias (the GBK file) takes its place
        assert [d.doc_id for d in library.store.documents("wire")] == [gbk]
        promoted = library.engine.contents.document(gbk)
        assert (promoted.source, promoted.text) == ("hydrogen-gbk.txt", read(*FILES[1]).text)
        assert [a.alias_id for a in library.engine.contents.aliases_of(gbk)] == [reprint]
        assert {p.doc_id for p in library.engine.search("兰州新区氢能产业园", 5)} == {gbk}
        library.delete("wire", reprint)
        library.delete("wire", gbk)
        assert library.store.documents("wire") == []
        again = library.add("wire", [read(*FILES[2])])  # nothing left to be a copy of
        assert [w.status for w in again.documents] == ["created"]
    finally:
        library.close()
