"""The question-answering engine: a loaded index plus the model, answering `ask` and `search`.

This is the one object the service holds. It is read-only once loaded, so a reload builds a
new engine and swaps the reference; in-flight requests finish on the old one. A request runs
one encoder pass (the question); passages and sentences were embedded at build time.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from corpus.documents import Document
from index import dense
from index.abstain import AbstentionModel, Evidence, default_model
from index.answer import SentenceCandidate, features, score
from index.crosslingual import PinyinBridge, glossary_terms
from index.embedder import Embedder, load_embedder
from index.errors import DocumentNotFoundError, IndexMismatchError
from index.filters import Catalog, allowed_chunks, allowed_documents
from index.retrieval import (
    QueryTerms,
    RetrievalConfig,
    coverage,
    evidence_score,
    fuse_rrf,
    fuse_weighted,
    query_terms,
)
from index.searchable import has_searchable_content
from index.store import IndexData, IndexManifest, read_index
from index.tokenize import has_cjk
from index.types import Answer, AskResult, DocumentSummary, Filters, Passage, Span


@dataclass(frozen=True)
class Retrieved:
    """The first half of `Engine.ask`: ranked passages plus what the answer step needs."""

    question: str
    passages: list[Passage]
    took_ms: float
    sentence_similarity: np.ndarray
    """Cosine of the question with every sentence, computed once per request."""
    terms: QueryTerms
    chunk_ids: list[int]
    started: float


def _chunk_sentences(chunks: np.ndarray, sentences: np.ndarray) -> list[np.ndarray]:
    """For each chunk, the rows of the sentences that overlap it (sentences are sorted)."""
    result: list[np.ndarray] = []
    keys = sentences[:, 0] * (1 << 32) + sentences[:, 1] if len(sentences) else np.empty(0)
    ends = sentences[:, 2] if len(sentences) else np.empty(0)
    for doc, start, end in chunks.tolist():
        lo = int(np.searchsorted(keys, doc * (1 << 32), side="left"))
        hi = int(np.searchsorted(keys, doc * (1 << 32) + end, side="left"))
        rows = np.arange(lo, hi)
        result.append(rows[ends[lo:hi] > start])
    return result


def _invert(chunk_sentences: list[np.ndarray], n_sentences: int) -> list[list[int]]:
    """For each sentence, the chunks it overlaps (one, or two where chunks overlap)."""
    result: list[list[int]] = [[] for _ in range(n_sentences)]
    for chunk, rows in enumerate(chunk_sentences):
        for row in rows.tolist():
            result[row].append(chunk)
    return result


class Engine:
    """Answers questions from one index directory. Load with `Engine.load`."""

    def __init__(
        self,
        data: IndexData,
        embedder: Embedder,
        config: RetrievalConfig,
        abstention: AbstentionModel | None = None,
        catalog: Catalog | None = None,
    ) -> None:
        self.data = data
        self.embedder = embedder
        self.config = config
        self.abstention = abstention if abstention is not None else default_model()
        self.catalog = catalog if catalog is not None else Catalog.single(len(data.documents))
        """Collection, metadata and alive flag per document row (tombstones are not alive)."""
        alive = self.catalog.alive
        self._doc_rows = {d.doc_id: i for i, d in enumerate(data.documents) if alive[i]}
        self._chunk_sentences = _chunk_sentences(data.chunks, data.sentences)
        self._sentence_chunks = _invert(self._chunk_sentences, len(data.sentences))
        self._chunk_vectors = dense.all_vectors(data.passages)
        self._bridge = PinyinBridge(data.pinyin)
        counts = np.bincount(data.chunks[:, 0], minlength=len(data.documents))
        self._doc_passages = counts.tolist()

    @classmethod
    def load(
        cls,
        index_dir: Path,
        model: str | None = None,
        embedder: Embedder | None = None,
        config: RetrievalConfig | None = None,
    ) -> Engine:
        """Load the index at `index_dir`; refuse (IndexMismatchError) if `model` differs from
        the model that built it. Pass the `embedder` of a live engine to reuse its model."""
        data = read_index(index_dir)
        built_with = data.manifest.model
        if model is not None and model != built_with:
            raise IndexMismatchError(
                f"the index at {index_dir} was built with model {built_with!r} and cannot be "
                f"queried with {model!r}: rebuild it (`ragqa build --model {model}`) or set "
                f"the model back to {built_with!r}"
            )
        if embedder is None or embedder.name != built_with:
            embedder = load_embedder(built_with)
        if embedder.dim != data.manifest.dim:
            raise IndexMismatchError(
                f"model {built_with!r} gives {embedder.dim}-dimensional vectors but the index "
                f"holds {data.manifest.dim}-dimensional ones: rebuild it"
            )
        return cls(data, embedder, config or RetrievalConfig())

    def with_config(self, config: RetrievalConfig) -> Engine:
        """The same index and model with other retrieval settings (for evaluation runs)."""
        return Engine(self.data, self.embedder, config, self.abstention, self.catalog)

    @property
    def manifest(self) -> IndexManifest:
        return self.data.manifest

    @property
    def n_passages(self) -> int:
        """Number of chunks in the index (for /metrics)."""
        return len(self.data.chunks)

    @property
    def model_name(self) -> str:
        """The model that built the index (from the manifest)."""
        return self.data.manifest.model

    # -- retrieval -------------------------------------------------------------------------

    def _passage_text(self, chunk: int) -> tuple[Document, int, int]:
        row, start, end = self.data.chunks[chunk].tolist()
        return self.data.documents[row], start, end

    def _dense(
        self, qvec: np.ndarray, sims: np.ndarray, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Dense ranking at two granularities: a passage scores by its own vector and by its
        best sentence, so one sharp sentence inside a long passage is not averaged away.
        `allowed` (bool per passage) restricts the candidates, in FAISS's search itself."""
        cfg = self.config
        ids, _ = dense.search(self.data.passages, qvec, cfg.depth, allowed)
        candidates = set(ids.tolist())
        if allowed is not None and sims.size:
            sentence_allowed = allowed_documents_of_sentences(allowed, self.data, sims.size)
            sims = np.where(sentence_allowed, sims, -np.inf)
        if sims.size:
            k = min(cfg.depth * 2, sims.size)
            for row in np.argpartition(-sims, k - 1)[:k].tolist():
                if np.isfinite(sims[row]):
                    candidates.update(self._sentence_chunks[row])
        chunks = np.fromiter(candidates, dtype=np.int64, count=len(candidates))
        if not chunks.size:
            return chunks, np.empty(0, dtype=np.float32)
        passage_sim = self._chunk_vectors[chunks] @ qvec
        sentence_sim = np.array(
            [
                sims[rows].max() if rows.size else -1.0
                for rows in (self._chunk_sentences[c] for c in chunks.tolist())
            ],
            dtype=np.float32,
        )
        a = cfg.passage_vs_sentence
        scores = a * passage_sim + (1 - a) * np.maximum(sentence_sim, passage_sim - 0.1)
        order = np.argsort(-scores)[: cfg.depth]
        return chunks[order], scores[order].astype(np.float32)

    def _rank(
        self,
        lexical_query: str,
        qvec: np.ndarray,
        sims: np.ndarray,
        terms: QueryTerms,
        allowed: np.ndarray | None = None,
    ) -> list[tuple[int, float]]:
        cfg = self.config
        if cfg.retriever != "bm25":
            dense_ids, dense_scores = self._dense(qvec, sims, allowed)
            if cfg.retriever == "dense":
                return list(zip(dense_ids.tolist(), dense_scores.tolist(), strict=True))
        bm25_scores = (
            self.data.bm25.scores(lexical_query)
            if lexical_query
            else np.zeros(self.n_passages, dtype=np.float32)
        )
        if allowed is not None:
            bm25_scores = np.where(allowed, bm25_scores, np.float32(0.0)).astype(np.float32)
        if cfg.retriever == "bm25":
            order = np.argsort(-bm25_scores)[: cfg.depth]
            return [(int(i), float(bm25_scores[i])) for i in order if bm25_scores[i] > 0]
        if cfg.fusion == "rrf":
            fused = fuse_rrf(dense_ids, bm25_scores, cfg)
        else:
            fused = fuse_weighted(dense_ids, dense_scores, bm25_scores, cfg, terms.lexical_share)
        ranked = sorted(fused.items(), key=lambda kv: -kv[1])
        if cfg.retriever == "hybrid":
            return ranked
        return self._rerank(ranked[: cfg.rerank_depth], sims, terms)

    def _rerank(
        self, ranked: list[tuple[int, float]], sims: np.ndarray, terms: QueryTerms
    ) -> list[tuple[int, float]]:
        """Second stage: the fused score plus the passage's best sentence evidence."""
        if not ranked:
            return ranked
        top = max(s for _, s in ranked)
        rescored = []
        for chunk, fused in ranked:
            doc, start, end = self._passage_text(chunk)
            rows = self._chunk_sentences[chunk]
            sim = float(sims[rows].max()) if rows.size else 0.0
            text = f"{doc.title}\n{doc.text[start:end]}"
            score = self.config.w_fused * (fused / top if top > 0 else 0.0)
            rescored.append((chunk, score + evidence_score(sim, text, terms, self.config)))
        return sorted(rescored, key=lambda kv: -kv[1])

    def _lexical_query(self, question: str) -> tuple[str, float]:
        """The text BM25 should read, and how much to trust it (0..1).

        A Chinese question is read as is, trusted as far as its words occur in the corpus. An
        English question is read through the bridge: the place and company names it
        romanises and the glossary terms it uses, trusted less (they are a partial reading).
        """
        if has_cjk(question):
            return question, self.data.bm25.vocabulary_hit(question)
        words = self._bridge.expand(question) + glossary_terms(question)
        if not words:
            return "", 0.0
        query = " ".join(words)
        return query, self.config.bridge_share * self.data.bm25.vocabulary_hit(query)

    def allowed(
        self, collections: Sequence[str] | None = None, filters: Filters | None = None
    ) -> np.ndarray | None:
        """Bool per passage: what a query with these collections and filters may return
        (None: everything). Tombstones of replaced or deleted documents are never allowed."""
        mask = allowed_documents(self.catalog, self.data.documents, collections, filters)
        return allowed_chunks(mask, self.data.chunks[:, 0])

    def retrieve(
        self,
        question: str,
        top_k: int = 5,
        *,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> Retrieved:
        """Hybrid retrieval + re-scoring: the heavy half of `ask` (one encoder pass).

        A question with nothing searchable in it (`has_searchable_content`) retrieves no
        passages and gets no answer, without running the model."""
        started = time.perf_counter()
        if not has_searchable_content(question):
            nothing = QueryTerms(frozenset(), {}, frozenset(), frozenset(), 0.0)
            empty = np.empty(0, dtype=np.float32)
            took = (time.perf_counter() - started) * 1000
            return Retrieved(question, [], took, empty, nothing, [], started)
        qvec = self.embedder.encode_queries([question])[0]
        lexical_query, share = self._lexical_query(question)
        terms = query_terms(lexical_query, share, question, self.data.bm25.idf)
        sims = self.data.sentence_vectors @ qvec
        allowed = self.allowed(collections, filters)
        if allowed is not None and not allowed.any():
            took = (time.perf_counter() - started) * 1000
            return Retrieved(question, [], took, sims, terms, [], started)
        ranked = self._rank(lexical_query, qvec, sims, terms, allowed)
        depth = max(top_k, self.config.answer_passages)
        chunk_ids = [c for c, _ in ranked[:depth]]
        passages = [self._passage(rank, c, s) for rank, (c, s) in enumerate(ranked[:top_k], 1)]
        took = (time.perf_counter() - started) * 1000
        return Retrieved(question, passages, took, sims, terms, chunk_ids, started)

    def _passage(self, rank: int, chunk: int, score: float) -> Passage:
        doc, start, end = self._passage_text(chunk)
        return Passage(
            rank=rank,
            score=round(float(score), 4),
            text=doc.text[start:end],
            doc_id=doc.doc_id,
            title=doc.title,
            source=doc.source,
            published=doc.published,
            char_start=start,
            char_end=end,
        )

    # -- answers ---------------------------------------------------------------------------

    def _sentence_candidates(self, retrieved: Retrieved) -> list[SentenceCandidate]:
        candidates: list[SentenceCandidate] = []
        chunk_ids = retrieved.chunk_ids[: self.config.answer_passages]
        for position, chunk in enumerate(chunk_ids):
            doc, start, end = self._passage_text(chunk)
            rows = self._chunk_sentences[chunk]
            if not rows.size:
                continue
            sims = retrieved.sentence_similarity[rows]
            prior = 1.0 - position / max(len(chunk_ids), 1)
            context = f"{doc.title}\n{doc.text[start:end]}"
            for row, sim in zip(rows.tolist(), sims.tolist(), strict=True):
                _, s_start, s_end = self.data.sentences[row].tolist()
                a, b = max(s_start, start), min(s_end, end)
                if b > a:
                    candidates.append(
                        SentenceCandidate(position, a, b, doc.text[a:b], context, float(sim), prior)
                    )
        return candidates

    def evidence(self, retrieved: Retrieved) -> tuple[SentenceCandidate, float, Evidence] | None:
        """The best answer candidate, its score and the evidence the abstention model reads."""
        candidates = self._sentence_candidates(retrieved)
        if not candidates:
            return None
        terms, question = retrieved.terms, retrieved.question
        scored = sorted(
            ((score(features(c, question, terms), self.config), c) for c in candidates),
            key=lambda pair: -pair[0],
        )
        best_score, best = scored[0]
        runner_up = scored[1][0] if len(scored) > 1 else 0.0
        evidence = Evidence(
            score=best_score,
            similarity=best.similarity,
            support=coverage(terms.tokens, best.passage_text, terms.weights),
            focus_support=coverage(terms.focus, best.passage_text, terms.weights),
            margin=best_score - runner_up,
            lexical_share=terms.lexical_share,
            english=0.0 if has_cjk(question) else 1.0,
            has_focus=1.0 if terms.focus else 0.0,
        )
        return best, best_score, evidence

    def answer(self, retrieved: Retrieved) -> AskResult:
        """Extract the answer span from retrieved passages (cheap, no model call)."""
        found = self.evidence(retrieved)
        answer: Answer | None = None
        passages = retrieved.passages
        model = self.abstention
        if found is not None and not (model is not None and model.abstains(found[2])):
            best, best_score, _ = found
            chunk = retrieved.chunk_ids[best.passage_index]
            doc, _, _ = self._passage_text(chunk)
            answer = Answer(
                text=best.text,
                doc_id=doc.doc_id,
                title=doc.title,
                source=doc.source,
                published=doc.published,
                char_start=best.char_start,
                char_end=best.char_end,
                passage_rank=best.passage_index + 1,
                score=round(best_score, 4),
            )
            passages = [self._highlight(p, answer) for p in passages]
        took = (time.perf_counter() - retrieved.started) * 1000
        return AskResult(retrieved.question, answer, passages, round(took, 2))

    @staticmethod
    def _highlight(passage: Passage, answer: Answer) -> Passage:
        inside = (
            passage.doc_id == answer.doc_id
            and passage.char_start <= answer.char_start
            and answer.char_end <= passage.char_end
        )
        return (
            replace(passage, highlight=Span(answer.char_start, answer.char_end))
            if inside
            else passage
        )

    def ask(
        self,
        question: str,
        top_k: int = 5,
        *,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> AskResult:
        """Ranked passages and an extractive answer (None when the corpus does not say).

        `collections=None` searches every collection in one merged ranking; a filter that
        matches no document gives no passages and no answer."""
        return self.answer(self.retrieve(question, top_k, collections=collections, filters=filters))

    def search(
        self,
        query: str,
        top_k: int = 5,
        *,
        collections: Sequence[str] | None = None,
        filters: Filters | None = None,
    ) -> list[Passage]:
        """Ranked passages only (no answer extraction)."""
        return self.retrieve(query, top_k, collections=collections, filters=filters).passages

    # -- documents -------------------------------------------------------------------------

    def documents(self, collection: str | None = None) -> list[DocumentSummary]:
        """Every live document (of `collection`, if given), in index order."""
        catalog = self.catalog
        return [
            DocumentSummary(d.doc_id, d.title, d.source, d.published, len(d.text), n, c)
            for d, n, c, alive in zip(
                self.data.documents,
                self._doc_passages,
                catalog.collections,
                catalog.alive.tolist(),
                strict=True,
            )
            if alive and (collection is None or c == collection)
        ]

    def collections(self) -> list[str]:
        """Every collection of the view (some may be empty), by name."""
        return sorted(self.catalog.names)

    def collection_of(self, doc_id: str) -> str:
        """The collection of a live document; raises DocumentNotFoundError."""
        self.document(doc_id)
        return self.catalog.collections[self._doc_rows[doc_id]]

    def metadata_of(self, doc_id: str) -> Mapping[str, str]:
        """The metadata of a live document; raises DocumentNotFoundError."""
        self.document(doc_id)
        return self.catalog.metadata[self._doc_rows[doc_id]]

    def document(self, doc_id: str) -> Document:
        """One document with its text; raises DocumentNotFoundError."""
        row = self._doc_rows.get(doc_id)
        if row is None:
            raise DocumentNotFoundError(doc_id)
        return self.data.documents[row]

    def n_passages_of(self, doc_id: str) -> int:
        """Number of passages of one document."""
        return self._doc_passages[self._doc_rows[doc_id]] if doc_id in self._doc_rows else 0


def allowed_documents_of_sentences(
    allowed_chunks_mask: np.ndarray, data: IndexData, n_sentences: int
) -> np.ndarray:
    """Bool per sentence: its document has an allowed passage (a sentence follows its
    document; every document with sentences has passages)."""
    n_docs = len(data.documents)
    doc_allowed = np.zeros(n_docs, dtype=bool)
    doc_allowed[data.chunks[allowed_chunks_mask, 0]] = True
    return doc_allowed[data.sentences[:n_sentences, 0]]
