"""Build (or incrementally rebuild) an index directory from a corpus directory.

Embedding is the only expensive step, so a rebuild reuses the vectors of every file whose
sha256 is unchanged (same model and chunking); only new or changed files are embedded, and
their vectors are committed to the checkpoint cache beside the index as they are computed
(`index.encode.embedcache`), so a killed build resumes where it stopped. One build runs at a time
per index directory, and it removes what killed builds left behind (`index.store.buildlock`).

A file that yields no document (unreadable, empty, every article refused) is still recorded
in the manifest with its hash and problems: it has been seen, so it does not make the index
stale, and it is read again (cheaply) by the next build so its problems are reported again.
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

import numpy as np

from corpus.documents import Document, LoadProblem
from corpus.loader import corpus_files, file_sha256, load_file
from index.encode.embedcache import EmbeddingCache, cache_path, embed_passages
from index.encode.embedder import DEFAULT_ENCODER, Embedder, load_embedder, resolve_encoder
from index.encode.late_chunking import DEFAULT_SENTENCE_VECTORS, SENTENCE_VECTORS, LatePlan
from index.encode.late_chunking import cache_keys as late_cache_keys
from index.encode.late_chunking import embed as embed_late
from index.encode.late_chunking import plan as late_plan
from index.encode.words import WORDS_FILE, WordTable, table_with, vocabulary_words, word_cache
from index.errors import IndexError_
from index.rank.pinyin import pinyin_table
from index.search import dense
from index.search.bm25 import BM25Index
from index.search.dense import AnnParams
from index.store.buildlock import build_lock
from index.store.files import (
    IndexData,
    IndexManifest,
    SourceFile,
    read_index,
    read_manifest,
    write_index,
)
from index.text.chunking import ChunkingParams, chunk_document
from index.text.sentences import split_sentences


@dataclass(frozen=True)
class BuildReport:
    """What a build did."""

    index_dir: Path
    n_documents: int
    n_passages: int
    n_embedded: int
    """Texts embedded in this build (0 when nothing changed)."""
    n_reused_files: int
    problems: list[LoadProblem]
    seconds: float
    n_cached: int = 0
    """Texts of changed files whose vectors came from the checkpoint cache (a resumed build)."""
    removed_debris: tuple[Path, ...] = ()
    """Temporary directories of killed builds removed before this one wrote."""


@dataclass
class _FilePart:
    """One corpus file's share of the index: documents, spans and their vectors."""

    source: str
    sha256: str
    documents: list[Document]
    chunks: np.ndarray  # (n, 3): document row within this part, start, end
    sentences: np.ndarray  # (m, 3)
    chunk_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    problems: tuple[str, ...] = ()


def passage_text_for_embedding(document: Document, start: int, end: int, titles: bool) -> str:
    """What the encoder sees for a passage: the article title as context, then the passage.

    The title disambiguates passages that never name their subject (a paragraph of the 凉州
    article that only says "该区"), the way contextual chunk headers do in other systems.
    """
    body = document.text[start:end]
    return f"{document.title}\n{body}" if titles and document.title else body


def _spans(documents: list[Document], params: ChunkingParams) -> tuple[np.ndarray, np.ndarray]:
    chunks: list[tuple[int, int, int]] = []
    sentences: list[tuple[int, int, int]] = []
    for row, doc in enumerate(documents):
        chunks += [(row, c.char_start, c.char_end) for c in chunk_document(doc, params)]
        sentences += [(row, s.char_start, s.char_end) for s in split_sentences(doc.text)]
    return (
        np.asarray(chunks, dtype=np.int64).reshape(-1, 3),
        np.asarray(sentences, dtype=np.int64).reshape(-1, 3),
    )


def _reusable_parts(
    index_dir: Path,
    model: str,
    params: ChunkingParams,
    titles: bool,
    encoder: str,
    sentence_vectors: str,
) -> tuple[dict[str, _FilePart], WordTable | None]:
    """Per-file parts and the word table of the existing index, if it was built the same way;
    else nothing."""
    try:
        old = read_index(index_dir)
    except IndexError_:
        return {}, None
    m = old.manifest
    if m.model != model or m.chunking != _chunking_json(params) or m.embed_titles != titles:
        return {}, None
    if m.encoder != encoder or m.sentence_vectors != sentence_vectors:
        return {}, None
    chunk_vectors = dense.all_vectors(old.passages)
    old_sentence_vectors = old.all_sentence_vectors()
    parts: dict[str, _FilePart] = {}
    for source, info in m.sources.items():
        rows = [i for i, d in enumerate(old.documents) if d.source == source]
        if not rows or info.problems:
            continue  # read again, so its problems are reported again
        lo, hi = rows[0], rows[-1] + 1
        c_mask = (old.chunks[:, 0] >= lo) & (old.chunks[:, 0] < hi)
        s_mask = (old.sentences[:, 0] >= lo) & (old.sentences[:, 0] < hi)
        chunks = old.chunks[c_mask].copy()
        sentences = old.sentences[s_mask].copy()
        chunks[:, 0] -= lo
        sentences[:, 0] -= lo
        parts[source] = _FilePart(
            source,
            info.sha256,
            old.documents[lo:hi],
            chunks,
            sentences,
            chunk_vectors[c_mask],
            old_sentence_vectors[s_mask],
        )
    return parts, old.words if isinstance(old.words, WordTable) else None


def _chunking_json(params: ChunkingParams) -> dict[str, object]:
    data = asdict(params)
    data["separators"] = list(params.separators)
    data["pipeline"] = pipeline_hash()
    return data


def pipeline_hash() -> str:
    """Hash of the code that turns files into passages and sentences.

    Recorded with the chunking parameters, so a change to cleaning, splitting or chunking code
    makes an existing index stale (and its vectors non-reusable) without anyone remembering to
    bump a version number.
    """
    import corpus

    here = Path(__file__).parent
    text = here.parent / "text"
    files = [
        *sorted(Path(corpus.__file__).parent.glob("*.py")),
        here / "build.py",
        *(text / name for name in ("chunking.py", "sentences.py", "tokenize.py")),
    ]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _late_layout(part: _FilePart, titles: bool) -> tuple[list[str], LatePlan, list[str]]:
    """A part's passage texts as embedded, which passage each sentence is pooled from, and
    the sentence texts (for sentences embedded alone)."""
    docs = part.documents
    texts = [passage_text_for_embedding(docs[r], a, b, titles) for r, a, b in part.chunks]
    shifts = [len(t) - (b - a) for t, (_, a, b) in zip(texts, part.chunks.tolist(), strict=True)]
    alone = [docs[r].text[a:b] for r, a, b in part.sentences]
    return texts, late_plan(part.chunks, part.sentences, shifts), alone


def _embed_parts(
    parts: list[_FilePart],
    embedder: Embedder,
    titles: bool,
    progress: bool,
    cache: EmbeddingCache | None,
    sentence_vectors: str = DEFAULT_SENTENCE_VECTORS,
) -> tuple[int, int]:
    """Fill in the vectors of parts that have none (texts embedded, texts from the cache).

    ``late``: one encoder pass per passage, sentence vectors pooled from it
    (`index.encode.late_chunking`); ``separate``: passages and sentences each embedded on their own.
    """
    todo = [p for p in parts if p.chunk_vectors is None]
    if sentence_vectors == "late":
        n_embedded = n_cached = 0
        for part in todo:
            passage_texts, layout, alone = _late_layout(part, titles)
            late = embed_late(embedder, passage_texts, layout, alone, cache, progress=progress)
            part.chunk_vectors = late.passages.reshape(-1, embedder.dim)
            part.sentence_vectors = late.sentences.reshape(-1, embedder.dim)
            n_embedded += late.n_embedded
            n_cached += late.n_cached
        return n_embedded, n_cached
    texts: list[str] = []
    for part in todo:
        texts += [
            passage_text_for_embedding(part.documents[r], a, b, titles) for r, a, b in part.chunks
        ]
        texts += [part.documents[r].text[a:b] for r, a, b in part.sentences]
    result = embed_passages(embedder, texts, cache, progress=progress, label="embedding passages")
    vectors = result.vectors.reshape(-1, embedder.dim)
    pos = 0
    for part in todo:
        n_c, n_s = len(part.chunks), len(part.sentences)
        part.chunk_vectors = vectors[pos : pos + n_c]
        part.sentence_vectors = vectors[pos + n_c : pos + n_c + n_s]
        pos += n_c + n_s
    return result.n_embedded, result.n_cached


def _versions() -> dict[str, str]:
    names = ("faiss-cpu", "bm25s", "sentence-transformers", "torch", "jieba", "ragqa")
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    model: str,
    *,
    chunking: ChunkingParams | None = None,
    ann: str = "flat",
    embed_titles: bool = True,
    progress: bool = True,
    embedder: Embedder | None = None,
    checkpoints: bool = True,
    encoder: str = DEFAULT_ENCODER,
    sentence_vectors: str = DEFAULT_SENTENCE_VECTORS,
) -> BuildReport:
    """Build `index_dir` from `corpus_dir` atomically, re-embedding only changed files.

    `encoder` (int8, fp32 or auto) picks the variant when no `embedder` is given;
    `sentence_vectors` (late or separate) how sentence vectors are made
    (`index.encode.late_chunking`); both are recorded in the manifest and its config id.

    `checkpoints` keeps every computed vector in the cache beside the index (see
    `index.encode.embedcache`), so a killed build resumes; raises BuildInProgressError if another
    build of `index_dir` is running."""
    started = time.perf_counter()
    params = chunking or ChunkingParams()
    ann_params = AnnParams(kind=ann)
    if sentence_vectors not in SENTENCE_VECTORS:
        raise ValueError(
            f"sentence_vectors must be one of {', '.join(SENTENCE_VECTORS)}, "
            f"got {sentence_vectors!r}"
        )
    if not corpus_dir.is_dir():
        raise FileNotFoundError(f"corpus directory {corpus_dir} does not exist")
    with build_lock(index_dir) as removed:
        embedder = embedder or load_embedder(model, encoder=encoder)
        old_parts, old_words = _reusable_parts(
            index_dir, model, params, embed_titles, embedder.encoder, sentence_vectors
        )
        parts: list[_FilePart] = []
        problems: list[LoadProblem] = []
        reused = 0
        for path in corpus_files(corpus_dir):
            sha = file_sha256(path)
            old = old_parts.get(path.name)
            if old is not None and old.sha256 == sha:
                parts.append(old)
                reused += 1
                continue
            documents, file_problems = load_file(path)
            problems += file_problems
            chunks, sentences = _spans(documents, params)
            parts.append(
                _FilePart(
                    path.name,
                    sha,
                    documents,
                    chunks,
                    sentences,
                    problems=tuple(str(p) for p in file_problems),
                )
            )
        for problem in problems:
            print(f"skipped {problem}", file=sys.stderr)
        cache = EmbeddingCache.open(cache_path(index_dir), embedder) if checkpoints else None
        try:
            n_embedded, n_cached = _embed_parts(
                parts, embedder, embed_titles, progress, cache, sentence_vectors
            )
            data = _assemble(
                parts, embedder, params, ann_params, embed_titles, pooling=sentence_vectors
            )
            data.words = _word_table(data, embedder, index_dir, checkpoints, progress, old_words)
            write_index(index_dir, data)
            if cache is not None:
                cache.retain(_embedded_texts(parts, embed_titles, sentence_vectors))
        finally:
            if cache is not None:
                cache.close()
    return BuildReport(
        index_dir=index_dir,
        n_documents=len(data.documents),
        n_passages=len(data.chunks),
        n_embedded=n_embedded,
        n_reused_files=reused,
        problems=problems,
        seconds=time.perf_counter() - started,
        n_cached=n_cached,
        removed_debris=tuple(removed),
    )


def _word_table(
    data: IndexData,
    embedder: Embedder,
    index_dir: Path,
    checkpoints: bool,
    progress: bool,
    known: WordTable | None = None,
) -> WordTable:
    """Encoder vectors of the BM25 vocabulary's words (`index.encode.words`), in vocabulary
    order: words of the index being replaced (`known`, built the same way) are copied, words
    in the cache beside the index are looked up, so a rebuild encodes only new words, also
    when the cache was lost or the index was copied without it."""
    words = vocabulary_words(data.bm25.vocabulary)
    old = [known] if known is not None else []
    if not checkpoints:
        return table_with(embedder, words, old, progress=progress)
    with word_cache(cache_path(index_dir), embedder) as cache:
        table = table_with(embedder, words, old, cache, progress=progress)
        cache.retain(words)
    return table


def _embedded_texts(
    parts: list[_FilePart], titles: bool, sentence_vectors: str = DEFAULT_SENTENCE_VECTORS
) -> list[str]:
    """Every text the encoder saw for the index being written (what the cache keeps)."""
    texts: list[str] = []
    if sentence_vectors == "late":
        for part in parts:
            passages, layout, alone = _late_layout(part, titles)
            texts += late_cache_keys(passages, layout)
            texts += [alone[s] for s in (layout.owner < 0).nonzero()[0].tolist()]
        return texts
    for part in parts:
        texts += [
            passage_text_for_embedding(part.documents[r], a, b, titles) for r, a, b in part.chunks
        ]
        texts += [part.documents[r].text[a:b] for r, a, b in part.sentences]
    return texts


def _assemble(
    parts: list[_FilePart],
    embedder: Embedder,
    params: ChunkingParams,
    ann: AnnParams,
    titles: bool,
    pooling: str = DEFAULT_SENTENCE_VECTORS,
) -> IndexData:
    documents: list[Document] = []
    chunks, sentences, c_vecs, s_vecs = [], [], [], []
    sources: dict[str, SourceFile] = {}
    for part in parts:
        offset = np.array([len(documents), 0, 0], dtype=np.int64)
        documents += part.documents
        chunks.append(part.chunks + offset)
        sentences.append(part.sentences + offset)
        assert part.chunk_vectors is not None and part.sentence_vectors is not None
        c_vecs.append(part.chunk_vectors)
        s_vecs.append(part.sentence_vectors)
        sources[part.source] = SourceFile(
            part.sha256,
            len(part.documents),
            len(part.chunks),
            len(part.sentences),
            part.problems,
        )
    dim = embedder.dim
    all_chunks = np.concatenate(chunks) if chunks else np.empty((0, 3), np.int64)
    all_sentences = np.concatenate(sentences) if sentences else np.empty((0, 3), np.int64)
    chunk_vectors = np.concatenate(c_vecs) if c_vecs else np.empty((0, dim), np.float32)
    sentence_vectors = np.concatenate(s_vecs) if s_vecs else np.empty((0, dim), np.float32)
    passage_texts = [
        passage_text_for_embedding(documents[r], a, b, titles) for r, a, b in all_chunks
    ]
    manifest = IndexManifest(
        model=embedder.name,
        encoder=embedder.encoder,
        sentence_vectors=pooling,
        dim=dim,
        chunking=_chunking_json(params),
        ann=asdict(ann),
        embed_titles=titles,
        sources=sources,
        counts={
            "documents": len(documents),
            "chunks": len(all_chunks),
            "sentences": len(all_sentences),
        },
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        versions=_versions(),
    )
    bm25 = BM25Index.build(passage_texts)
    return IndexData(
        manifest=manifest,
        documents=documents,
        chunks=all_chunks,
        sentences=all_sentences,
        passages=dense.build_faiss(chunk_vectors, ann),
        sentence_vectors=sentence_vectors,
        bm25=bm25,
        pinyin=pinyin_table(bm25.vocabulary),
    )


def index_is_current(
    corpus_dir: Path,
    index_dir: Path,
    model: str,
    chunking: ChunkingParams | None = None,
    *,
    encoder: str = DEFAULT_ENCODER,
    sentence_vectors: str = DEFAULT_SENTENCE_VECTORS,
) -> bool:
    """True when `index_dir` was built from exactly these files, with this model, encoder
    variant, sentence vectors (late or separate), chunking and pipeline code."""

    try:
        manifest = read_manifest(index_dir)
    except IndexError_:
        return False
    if manifest.model != model or manifest.chunking != _chunking_json(chunking or ChunkingParams()):
        return False
    if manifest.encoder != resolve_encoder(encoder, model):
        return False
    if manifest.sentence_vectors != sentence_vectors:
        return False
    if WORDS_FILE not in manifest.files:  # built before the word bridge: add its vectors
        return False
    current = {p.name: file_sha256(p) for p in corpus_files(corpus_dir)}
    indexed = {name: info.sha256 for name, info in manifest.sources.items()}
    return current == indexed
