"""A store row made from a document, with exact fields."""

from __future__ import annotations

from corpus.documents import Document
from index.store.records import StoredDocument

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
