"""The corpus import: the built index of corpus/articles as the `default` collection's documents.

`Library.sync_corpus` runs it under the library's writer lock, in one transaction; what it
computes and commits lives here: `corpus_key` (what the store records so an unchanged index is
a no-op), `corpus_mismatch` (why an index built with another model, encoder or chunking cannot
be imported), `corpus_rows` (the store rows of the index's documents, without embedding) and
`replace_corpus` (in that transaction, swaps the old corpus documents for the new ones).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

from sqlalchemy.engine import Connection

from index.encode.embedder import Embedder
from index.search.filters import DEFAULT_COLLECTION
from index.store.docstore import DocStore
from index.store.files import IndexData
from index.store.records import StoredDocument, content_sha256
from index.store.segments import SegmentData
from index.text.chunking import ChunkingParams


def corpus_key(index: IndexData) -> str:
    """The store's `corpus_key` for `index`: its configuration and the sha256 of every source."""
    return hashlib.sha256(
        json.dumps(
            {
                "config": index.manifest.config_id,
                "sources": {k: v.sha256 for k, v in index.manifest.sources.items()},
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()


def corpus_mismatch(
    index: IndexData, embedder: Embedder, chunking: ChunkingParams, embed_titles: bool
) -> str:
    """Why `index` cannot be imported into a library embedding with these settings."""
    built = ChunkingParams.from_manifest(index.manifest.chunking)
    return (
        f"the corpus index was built with model {index.manifest.model!r} "
        f"({index.manifest.encoder}), chunks of {built.size} characters "
        f"overlapping {built.overlap}, titles "
        f"{'embedded' if index.manifest.embed_titles else 'not embedded'}; the "
        f"library uses {embedder.name!r} ({embedder.encoder}), chunks of "
        f"{chunking.size} overlapping {chunking.overlap}, titles "
        f"{'embedded' if embed_titles else 'not embedded'}"
    )


def corpus_rows(segment: SegmentData, name: str | None, stamp: str) -> list[StoredDocument]:
    """The store rows of `segment`'s documents in the `default` collection (origin `corpus`)."""
    rows = []
    for row, doc in enumerate(segment.documents):
        fields: dict[str, object] = {
            "title": doc.title,
            "text": doc.text,
            "published": doc.published,
            "url": doc.url,
            "source": doc.source,
            "metadata": dict(doc.metadata),
            "passages": None,
        }
        rows.append(
            StoredDocument.of(
                doc,
                collection=DEFAULT_COLLECTION,
                sha256=content_sha256(fields),
                segment=name or "",
                segment_row=row,
                stamp=stamp,
                origin="corpus",
                metadata=dict(doc.metadata),
            )
        )
    return rows


def replace_corpus(
    conn: Connection,
    name: str | None,
    rows: list[StoredDocument],
    chunks: int,
    key: str,
    files: dict[str, bytes] | None = None,
) -> list[str]:
    """Swap the stored corpus documents for `rows` (of segment `name`, `chunks` passages, its
    `files` stored with it on a shared store) in the transaction `conn`, recording `key`;
    returns the segments no document refers to any more."""
    DocStore.ensure_collection(conn, DEFAULT_COLLECTION)
    old = [d.doc_id for d in corpus_documents(conn) if d.origin == "corpus"]
    DocStore.delete(conn, old)
    if name is not None:
        DocStore.add_segment(conn, name, len(rows), chunks)
        if files:
            DocStore.put_segment_files(conn, name, files)
        for stored in rows:
            previous = DocStore.get_in(conn, stored.doc_id)
            if previous is not None:
                stored = replace(stored, added_at=previous.added_at)
            DocStore.put(conn, [stored])
    dropped = DocStore.drop_unreferenced_segments(conn)
    DocStore.set_meta(conn, "corpus_key", key)
    DocStore.bump(conn)
    return dropped


def corpus_documents(conn: object) -> list[StoredDocument]:
    """The documents of origin `corpus` in the store `conn` reads."""
    import sqlalchemy as sa

    from index.store.docstore import _row_to_document, documents_table

    query = sa.select(documents_table).where(documents_table.c.origin == "corpus")
    return [_row_to_document(r) for r in conn.execute(query)]  # type: ignore[attr-defined]
