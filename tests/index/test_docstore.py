"""The document store: a row made from a document, with exact fields; then the store itself,
every test on SQLite and on a real PostgreSQL server (`store_url`, tests/pg.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from corpus.documents import Document
from index.errors import CollectionNotFoundError, InvalidDocumentError
from index.store.docstore import DocStore
from index.store.records import MAX_COLLECTION_CHARS, MAX_DOC_ID_CHARS, LiveRow, StoredDocument

DOC = Document("a.txt:0", "标题", "a.txt", "2025-03-01", "正文。", "https://example.org/a")


def test_a_row_takes_the_documents_fields_and_the_stamp_for_both_times() -> None:
    row = StoredDocument.of(
        DOC, collection="news", sha256="abc", segment="seg-1", segment_row=4, stamp="T1"
    )
    assert row == StoredDocument(
        doc_id="a.txt:0",
        collection="news",
        title="标题",
        text="正文。",
        published="2025-03-01",
        url="https://example.org/a",
        source="a.txt",
        sha256="abc",
        segment="seg-1",
        segment_row=4,
        added_at="T1",
        updated_at="T1",
    )


def test_other_fields_and_an_earlier_added_at_are_kept() -> None:
    row = StoredDocument.of(
        DOC,
        collection="news",
        sha256="abc",
        segment="seg-1",
        segment_row=0,
        stamp="T2",
        origin="corpus",
        metadata={"desk": "energy"},
        added_at="T1",
    )
    assert (row.origin, row.metadata, row.added_at, row.updated_at) == (
        "corpus",
        {"desk": "energy"},
        "T1",
        "T2",
    )


# -- the store itself, on each backend (`store_url`: SQLite, then a real PostgreSQL server) ----
#
# Every test below runs on both, with the same expected values: what a caller sees must not
# depend on the database behind the store.


@pytest.fixture
def store(store_url: str) -> Iterator[DocStore]:
    s = DocStore(store_url)
    yield s
    s.close()


def row(doc_id: str, collection: str = "news", **fields: Any) -> StoredDocument:
    values: dict[str, Any] = {
        "doc_id": doc_id,
        "collection": collection,
        "title": f"标题 {doc_id}",
        "text": f"正文 {doc_id}。",
        "published": None,
        "url": None,
        "source": "甘肃日报",
        "sha256": "0" * 64,
        "segment": "seg-1",
        "segment_row": 0,
        "added_at": "2026-12-01T00:00:00.000+00:00",
        "updated_at": "2026-12-01T00:00:00.000+00:00",
        **fields,
    }
    return StoredDocument(**values)


def write(store: DocStore, *rows: StoredDocument, segment: str = "seg-1") -> None:
    with store.transaction() as conn:
        for name in sorted({r.collection for r in rows}):
            DocStore.ensure_collection(conn, name)
        if segment not in {s.name for s in store.segments()}:
            DocStore.add_segment(conn, segment, len(rows), len(rows))
        DocStore.put(conn, rows)
        DocStore.bump(conn)


def test_a_document_comes_back_exactly_as_it_was_stored(store: DocStore) -> None:
    doc = row(
        "字" * MAX_DOC_ID_CHARS,  # the widest id, in characters of three UTF-8 bytes each
        collection="新" * MAX_COLLECTION_CHARS,
        title="氢能产业园开工 😀" + "长" * 490,
        text="第一段：\t总投资52亿元。\n\n第二段：𠮷野家\x01\x7f\u2028结束。",
        published="2025-03-01",
        url="https://example.org/news/1?a=1&b=%E4%B8%AD",
        metadata={"desk": "economy", "语言": "zh", "nul": "a\x00b", "emoji": "😀"},
        passages=((0, 4), (6, 14)),
        origin="corpus",
        segment_row=7,
    )
    write(store, doc)
    assert store.get(doc.doc_id) == doc
    assert store.documents() == [doc]
    assert store.live_rows() == [
        LiveRow("seg-1", 7, doc.doc_id, doc.collection, dict(doc.metadata))
    ]


def test_put_replaces_a_document_by_id_and_delete_removes_it(store: DocStore) -> None:
    write(store, row("a"), row("b"))
    write(store, row("a", title="新标题", text="新正文。", segment="seg-2"), segment="seg-2")
    assert [(d.doc_id, d.title, d.segment) for d in store.documents()] == [
        ("a", "新标题", "seg-2"),
        ("b", "标题 b", "seg-1"),
    ]
    with store.transaction() as conn:
        assert DocStore.delete(conn, ["a", "nope"]) == 1
        assert DocStore.delete(conn, []) == 0
    assert store.get("a") is None
    assert [d.doc_id for d in store.documents()] == ["b"]


def test_keys_sort_by_code_point_whatever_the_database_locale(store: DocStore) -> None:
    # A linguistic collation (en-US, as the test PostgreSQL has) would give
    # _x, a_1, A-1, b, B-2, ...: the store's listings are the same on every database.
    ids = ["b", "A-1", "a_1", "B-2", "_x", "新", "Z"]
    names = ["news", "News", "_drafts", "新闻", "a b", "Zeta"]
    write(store, *(row(i, collection=names[n % len(names)]) for n, i in enumerate(ids)))
    with store.transaction() as conn:
        DocStore.ensure_collection(conn, "empty")
    assert [d.doc_id for d in store.documents()] == ["A-1", "B-2", "Z", "_x", "a_1", "b", "新"]
    assert [(c.name, c.documents) for c in store.collections()] == [
        ("News", 1),
        ("Zeta", 1),
        ("_drafts", 1),
        ("a b", 1),
        ("empty", 0),
        ("news", 2),
        ("新闻", 1),
    ]
    assert [d.doc_id for d in store.documents("news")] == ["Z", "b"]


def test_documents_list_by_time_added_then_id(store: DocStore) -> None:
    write(
        store,
        row("c", added_at="2026-12-01T00:00:00.000+00:00"),
        row("a", added_at="2026-12-02T00:00:00.000+00:00"),
        row("b", added_at="2026-12-01T00:00:00.000+00:00"),
    )
    assert [d.doc_id for d in store.documents()] == ["b", "c", "a"]


def test_many_ids_are_read_in_one_call(store: DocStore) -> None:
    ids = [f"doc-{n:04d}" for n in range(1201)]  # more than one chunk of 500 ids
    write(store, *(row(i, segment_row=n) for n, i in enumerate(ids)))
    with store.transaction() as conn:
        found = DocStore.get_many(conn, [*ids, "missing"])
    assert sorted(found) == ids
    assert found["doc-1200"].segment_row == 1200


def test_collections_are_created_once_counted_and_dropped_with_their_documents(
    store: DocStore,
) -> None:
    with store.transaction() as conn:
        assert DocStore.ensure_collection(conn, "news") is True
        assert DocStore.ensure_collection(conn, "news") is False
    write(store, row("a"), row("b"), row("c", collection="other"))
    assert store.collection("news").documents == 2
    assert store.collection_names() == {"news", "other"}
    with store.transaction() as conn:
        assert DocStore.drop_collection(conn, "news") == 2
    assert store.collection_names() == {"other"}
    assert [d.doc_id for d in store.documents()] == ["c"]
    with pytest.raises(CollectionNotFoundError):
        store.collection("news")
    with pytest.raises(CollectionNotFoundError), store.transaction() as conn:
        DocStore.require_collection(conn, "news")


def test_meta_and_the_generation_bumped_by_each_commit(store: DocStore) -> None:
    assert store.generation() == 0
    assert store.get_meta("corpus_key") is None
    write(store, row("a"))
    write(store, row("b"))
    assert store.generation() == 2
    with store.transaction() as conn:
        DocStore.set_meta(conn, "corpus_key", "k1")
        DocStore.set_meta(conn, "corpus_key", "k2")
        assert store.get_meta("corpus_key", conn) == "k2"
    assert store.get_meta("corpus_key") == "k2"


def test_segments_keep_their_order_and_unreferenced_ones_are_dropped(store: DocStore) -> None:
    write(store, row("a"), segment="seg-1")
    write(store, row("b", segment="seg-2"), segment="seg-2")
    with store.transaction() as conn:
        DocStore.add_segment(conn, "seg-merged", 2, 2, position=1)
        DocStore.move(conn, "a", ("seg-1", 0), ("seg-merged", 0))
        DocStore.move(conn, "b", ("seg-2", 5), ("seg-merged", 1))  # not at that row: stays
        assert DocStore.drop_unreferenced_segments(conn) == ["seg-1"]
    assert [(s.name, s.position) for s in store.segments()] == [("seg-merged", 1), ("seg-2", 2)]
    assert {(r.doc_id, r.segment, r.segment_row) for r in store.live_rows()} == {
        ("a", "seg-merged", 0),
        ("b", "seg-2", 0),
    }


def test_a_failed_transaction_leaves_nothing_behind(store: DocStore) -> None:
    write(store, row("a"))
    with pytest.raises(RuntimeError, match="half-way"), store.transaction() as conn:
        DocStore.put(conn, [row("b")])
        DocStore.delete(conn, ["a"])
        DocStore.bump(conn)
        raise RuntimeError("half-way")
    assert [d.doc_id for d in store.documents()] == ["a"]
    assert store.generation() == 1


def test_a_document_of_a_collection_that_does_not_exist_is_refused(store: DocStore) -> None:
    write(store, row("a"))
    with pytest.raises(IntegrityError), store.transaction() as conn:
        DocStore.put(conn, [row("b", collection="nowhere")])
    assert [d.doc_id for d in store.documents()] == ["a"]


@pytest.mark.parametrize("field", ["title", "text", "url", "source"])
def test_text_holding_nul_is_refused_naming_the_field_and_nothing_changes(
    store: DocStore, field: str
) -> None:
    write(store, row("a"))
    before = store.documents()
    with pytest.raises(InvalidDocumentError) as refused, store.transaction() as conn:
        DocStore.put(conn, [row("b"), row("c", **{field: "前\x00后"})])
        DocStore.bump(conn)
    assert str(refused.value) == (
        f"c.{field}: must not contain U+0000 (NUL), found at character 1: the document store "
        "cannot hold it (PostgreSQL text refuses it)"
    )
    assert store.documents() == before
    assert store.generation() == 1


def test_a_key_holding_nul_is_simply_not_found(store: DocStore) -> None:
    write(store, row("a"))
    assert store.get("a\x00") is None
    assert store.documents("news\x00") == []
    with store.transaction() as conn:
        assert DocStore.get_many(conn, ["a", "a\x00"]) == {"a": row("a")}
        assert DocStore.delete(conn, ["a\x00"]) == 0
        assert DocStore.drop_collection(conn, "news\x00") == 0
        with pytest.raises(CollectionNotFoundError):
            DocStore.require_collection(conn, "news\x00")
    assert store.documents() == [row("a")]
