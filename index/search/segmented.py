"""One searchable view over many segments: what the engine reads, built once per commit.

Segments are concatenated in their store order into the spans an `IndexData` holds, so the
ranking code runs unchanged over any number of segments. Vectors are not copied: each segment
keeps its own flat FAISS index and sentence vectors, searched and read as one
(`dense.SegmentedFlat`, `dense.RowBlocks`). BM25 is not rebuilt: each segment's
`TermStats` (computed once per segment) are combined by `SegmentedBM25` into global corpus
statistics at query time, as Lucene does, with scores identical to one bm25s index over the
same chunks. Tombstoned rows still count in those statistics until a merge drops them (as in
Lucene). Rows of documents the store no
longer points at (replaced or deleted) are tombstones: kept in the arrays, never allowed.

A view is immutable; a commit builds a new one and the service swaps the reference, so a
request sees the state before a batch or after it, never a mix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from corpus.documents import Document
from index.encode.words import StackedWords
from index.search import dense
from index.search.bm25 import SegmentedBM25
from index.search.filters import Catalog
from index.store.files import IndexData, IndexManifest
from index.store.records import LiveRow
from index.store.segments import SegmentData
from index.types import Alias


@dataclass(frozen=True)
class ViewParts:
    """The arrays of a view, before the per-row catalog (reused while segments are unchanged)."""

    data: IndexData
    segments: tuple[str, ...]
    starts: tuple[int, ...]
    """First document row of each segment in the view."""


def assemble(
    names: Sequence[str], segments: Sequence[SegmentData], chunking: Mapping[str, object]
) -> ViewParts:
    """Concatenate segments (in order) into one `IndexData`."""
    documents: list[Document] = []
    chunks, sentences = [], []
    pinyin: dict[str, set[str]] = {}
    starts: list[int] = []
    for segment in segments:
        offset = np.array([len(documents), 0, 0], dtype=np.int64)
        starts.append(len(documents))
        documents += segment.documents
        chunks.append(segment.chunks + offset)
        sentences.append(segment.sentences + offset)
        for key, words in segment.pinyin.items():
            pinyin.setdefault(key, set()).update(words)
    dim = segments[0].dim if segments else 384
    model = segments[0].model if segments else ""
    all_chunks = np.concatenate(chunks) if chunks else np.empty((0, 3), np.int64)
    all_sentences = np.concatenate(sentences) if sentences else np.empty((0, 3), np.int64)
    manifest = IndexManifest(
        model=model,
        dim=dim,
        chunking=dict(chunking),
        ann={"kind": "flat"},
        embed_titles=True,
        sources={},
        counts={
            "documents": len(documents),
            "chunks": len(all_chunks),
            "sentences": len(all_sentences),
            "segments": len(segments),
        },
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        versions={},
    )
    data = IndexData(
        manifest=manifest,
        documents=documents,
        chunks=all_chunks,
        sentences=all_sentences,
        passages=dense.SegmentedFlat([s.passage_index for s in segments], dim),
        sentence_vectors=dense.RowBlocks([s.sentence_vectors for s in segments], dim),
        bm25=SegmentedBM25([segment.terms for segment in segments]),
        pinyin={k: sorted(v) for k, v in sorted(pinyin.items())},
        words=StackedWords([s.words for s in segments if s.words is not None], dim),
    )
    return ViewParts(data, tuple(names), tuple(starts))


def catalog_for(
    parts: ViewParts,
    live: Sequence[LiveRow],
    collections: set[str],
    aliases: Mapping[str, tuple[Alias, ...]] | None = None,
) -> Catalog:
    """Collection, metadata and alive flag of every row of the view, from the store's rows
    (and the aliases of its documents)."""
    n = len(parts.data.documents)
    alive = np.zeros(n, dtype=bool)
    names: list[str] = [""] * n
    metadata: list[Mapping[str, str]] = [{}] * n
    start_of = dict(zip(parts.segments, parts.starts, strict=True))
    for row in live:
        start = start_of.get(row.segment)
        if start is None:
            continue
        index = start + row.segment_row
        if index >= n or parts.data.documents[index].doc_id != row.doc_id:
            continue  # the store and the segment disagree: never serve such a row
        alive[index] = True
        names[index] = row.collection
        metadata[index] = row.metadata
    return Catalog(
        tuple(names), tuple(metadata), alive, frozenset(collections), dict(aliases or {})
    )
