"""Documents in, one segment's data out: chunk, split sentences, tokenize, embed.

The same steps as the build (`index.store.build`): passages by `index.text.chunking` (or as given,
when a caller sends pre-chunked passages), sentences by `index.text.sentences`, the title as
context for the passage vectors, jieba tokens for BM25. `from_index` turns documents of
an existing index directory into a segment without embedding anything (the bundled
corpus is imported that way).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict

import numpy as np

from corpus.documents import Document
from index.encode.embedder import Embedder
from index.encode.words import WordTable, table_with, vocabulary_words
from index.rank.pinyin import pinyin_table
from index.search import dense
from index.store.build import passage_text_for_embedding
from index.store.files import IndexData
from index.store.segments import SegmentData
from index.text.chunking import ChunkingParams, chunk_document
from index.text.sentences import split_sentences
from index.text.tokenize import tokenize


def vector_config_id(
    model: str, params: ChunkingParams, embed_titles: bool, encoder: str = "fp32"
) -> str:
    """What decides the vectors of a segment (model, encoder variant, chunking, titles);
    segments of one view must agree on it."""
    config = {
        "model": model,
        "encoder": encoder,
        "chunking": {**asdict(params), "separators": list(params.separators)},
        "embed_titles": embed_titles,
    }
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]


def chunk_tokens(
    documents: Sequence[Document], chunks: np.ndarray, titles: bool
) -> list[list[str]]:
    """BM25 tokens of each chunk, exactly as `BM25Index.build` would tokenize it."""
    return [
        tokenize(passage_text_for_embedding(documents[r], a, b, titles)) or [""]
        for r, a, b in chunks.tolist()
    ]


def locate_passages(text: str, passages: Sequence[str]) -> list[tuple[int, int]] | int:
    """Spans of pre-chunked passages in `text` (in order), or the index of one not found."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for i, passage in enumerate(passages):
        start = text.find(passage, cursor)
        if start < 0:
            start = text.find(passage)
        if start < 0 or not passage.strip():
            return i
        spans.append((start, start + len(passage)))
        cursor = start + 1
    return spans


def spans_of(
    documents: Sequence[Document],
    given: Sequence[Sequence[tuple[int, int]] | None],
    params: ChunkingParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Chunk and sentence spans, (row, start, end), of each document."""
    chunks: list[tuple[int, int, int]] = []
    sentences: list[tuple[int, int, int]] = []
    for row, (doc, spans) in enumerate(zip(documents, given, strict=True)):
        if spans is None:
            chunks += [(row, c.char_start, c.char_end) for c in chunk_document(doc, params)]
        else:
            chunks += [(row, a, b) for a, b in spans]
        sentences += [(row, s.char_start, s.char_end) for s in split_sentences(doc.text)]
    return (
        np.asarray(chunks, dtype=np.int64).reshape(-1, 3),
        np.asarray(sentences, dtype=np.int64).reshape(-1, 3),
    )


def embed_documents(
    documents: Sequence[Document],
    given: Sequence[Sequence[tuple[int, int]] | None],
    embedder: Embedder,
    params: ChunkingParams,
    embed_titles: bool,
    progress: bool = False,
    known_words: Sequence[WordTable] = (),
) -> SegmentData:
    """A new segment's data: the documents chunked, tokenized and embedded (one encoder run),
    and its vocabulary words' vectors (those in `known_words` copied, only new ones encoded)."""
    chunks, sentences = spans_of(documents, given, params)
    texts = [passage_text_for_embedding(documents[r], a, b, embed_titles) for r, a, b in chunks]
    texts += [documents[r].text[a:b] for r, a, b in sentences.tolist()]
    vectors = (
        embedder.encode_passages(texts, progress=progress)
        if texts
        else np.empty((0, embedder.dim), np.float32)
    )
    tokens = chunk_tokens(documents, chunks, embed_titles)
    vocabulary = {t for row in tokens for t in row if t}
    return SegmentData(
        documents=list(documents),
        chunks=chunks,
        sentences=sentences,
        chunk_vectors=np.ascontiguousarray(vectors[: len(chunks)], dtype=np.float32),
        sentence_vectors=np.ascontiguousarray(vectors[len(chunks) :], dtype=np.float32),
        tokens=tokens,
        pinyin=pinyin_table(vocabulary),
        model=embedder.name,
        config_id=vector_config_id(embedder.name, params, embed_titles, embedder.encoder),
        words=segment_words(embedder, vocabulary_words(vocabulary), known_words),
    )


def segment_words(
    embedder: Embedder, words: Sequence[str], known: Sequence[WordTable]
) -> WordTable:
    """The table of `words`: vectors the `known` tables hold are copied, the rest encoded."""
    return table_with(embedder, words, known)


def from_index(data: IndexData) -> SegmentData:
    """Every document of an index directory as one segment (vectors copied, none computed),
    with the config id of the chunking its manifest records."""
    manifest = data.manifest
    params = ChunkingParams.from_manifest(manifest.chunking)
    tokens = chunk_tokens(data.documents, data.chunks, manifest.embed_titles)
    vocabulary = {t for row in tokens for t in row if t}
    return SegmentData(
        documents=list(data.documents),
        chunks=data.chunks.astype(np.int64),
        sentences=data.sentences.astype(np.int64),
        chunk_vectors=dense.all_vectors(data.passages),
        sentence_vectors=np.asarray(data.sentence_vectors, dtype=np.float32),
        tokens=tokens,
        pinyin=pinyin_table(vocabulary),
        model=manifest.model,
        config_id=vector_config_id(manifest.model, params, manifest.embed_titles, manifest.encoder),
        words=data.words.restricted(vocabulary) if data.words is not None else None,
    )


def select_rows(parts: Sequence[tuple[SegmentData, Sequence[int]]]) -> SegmentData:
    """The given document rows of one or more segments, as one new segment (for merges)."""
    documents: list[Document] = []
    chunks, sentences, c_vecs, s_vecs = [], [], [], []
    tokens: list[list[str]] = []
    pinyin: dict[str, set[str]] = {}
    first = parts[0][0]
    for segment, rows in parts:
        for row in rows:
            new_row = len(documents)
            documents.append(segment.documents[row])
            c_mask = segment.chunks[:, 0] == row
            s_mask = segment.sentences[:, 0] == row
            c = segment.chunks[c_mask].copy()
            s = segment.sentences[s_mask].copy()
            c[:, 0] = new_row
            s[:, 0] = new_row
            chunks.append(c)
            sentences.append(s)
            c_vecs.append(segment.chunk_vectors[c_mask])
            s_vecs.append(segment.sentence_vectors[s_mask])
            tokens += [segment.tokens[i] for i in np.flatnonzero(c_mask).tolist()]
    vocabulary = {t for row in tokens for t in row if t}
    for part, _ in parts:
        for key, words in part.pinyin.items():
            kept = {w for w in words if w in vocabulary}
            if kept:
                pinyin.setdefault(key, set()).update(kept)
    dim = first.dim
    return SegmentData(
        documents=documents,
        chunks=np.concatenate(chunks) if chunks else np.empty((0, 3), np.int64),
        sentences=np.concatenate(sentences) if sentences else np.empty((0, 3), np.int64),
        chunk_vectors=np.concatenate(c_vecs) if c_vecs else np.empty((0, dim), np.float32),
        sentence_vectors=np.concatenate(s_vecs) if s_vecs else np.empty((0, dim), np.float32),
        tokens=tokens,
        pinyin={k: sorted(v) for k, v in sorted(pinyin.items())},
        model=first.model,
        config_id=first.config_id,
        words=WordTable.merged([p.words for p, _ in parts if p.words is not None], dim).restricted(
            vocabulary
        ),
    )
